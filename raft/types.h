// Plain data types of the chronik Raft core (raft/): log entries, messages,
// hard state, membership, snapshots, read states and status snapshots.
//
// They mirror proto/raft.proto field for field; the production driver converts
// at the process edge (broker/runtime/), the simulator passes them around
// directly. Entry payloads are `Bytes`: a reference-counted, immutable byte
// buffer, so one proposal's payload is stored once and shared by the leader's
// log, every append message to every follower and every hop (copying an Entry
// copies a pointer, never the bytes).
//
// Thread-safety: values; a `Bytes` may be read from several threads (its buffer
// is immutable), but the types carry no synchronization of their own.
#ifndef CHRONIK_RAFT_TYPES_H_
#define CHRONIK_RAFT_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/shared_bytes.h"

namespace chronik::raft {

using NodeId = uint64_t;  // 0 means "none"
using Term = uint64_t;
using Index = uint64_t;

inline constexpr NodeId kNoNode = 0;

// Immutable, shared byte buffer (or a slice of one). Cheap to copy (one
// refcount increment). See base/shared_bytes.h.
using Bytes = SharedBytes;

enum class EntryType : uint8_t {
  kNormal = 0,      // application data
  kConfChange = 1,  // an encoded ConfChange (see EncodeConfChange)
};

struct Entry {
  Term term = 0;
  Index index = 0;
  EntryType type = EntryType::kNormal;
  Bytes data;
};

// What must be durable before a node answers votes or acknowledges appends.
struct HardState {
  Term term = 0;
  NodeId vote = kNoNode;  // voted for in `term`
  Index commit = 0;
  friend bool operator==(const HardState&, const HardState&) = default;
};

// Membership. While joint, `voters_outgoing` is non-empty and every decision
// needs a majority of `voters` and of `voters_outgoing`. `learners_next` are
// voters of the outgoing config that become learners when the joint config is
// left. Lists are sorted.
struct ConfState {
  std::vector<NodeId> voters = {};
  std::vector<NodeId> learners = {};
  std::vector<NodeId> voters_outgoing = {};
  std::vector<NodeId> learners_next = {};
  bool auto_leave = false;
  friend bool operator==(const ConfState&, const ConfState&) = default;
};

enum class ConfChangeType : uint8_t {
  kAddVoter = 0,
  kRemoveNode = 1,
  kAddLearner = 2,
};

struct ConfChangeSingle {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node_id = kNoNode;
  friend bool operator==(const ConfChangeSingle&,
                         const ConfChangeSingle&) = default;
};

// One or more membership changes applied together. Exactly one change with
// `joint == false` is a simple change (one step). More than one change, or
// `joint == true`, enters a joint configuration that the leader leaves
// automatically once it is applied. An empty `changes` list is the request to
// leave the joint config.
struct ConfChange {
  std::vector<ConfChangeSingle> changes;
  bool joint = false;
  Bytes context;
};

// Payload encoding of ConfChange inside an Entry of type kConfChange: a version
// byte 1, a flags byte (bit 0 = joint), a 4-byte little-endian change count,
// then per change one type byte and an 8-byte little-endian node id, then the
// context bytes to the end.
// A membership change names at most this many nodes (bounds decoding).
inline constexpr uint32_t kMaxConfChangeItems = 1024;
Bytes EncodeConfChange(const ConfChange& change);
absl::StatusOr<ConfChange> DecodeConfChange(std::string_view data);

struct SnapshotMetadata {
  ConfState conf_state;
  Index index = 0;
  Term term = 0;
};

struct Snapshot {
  SnapshotMetadata metadata;
  Bytes data;  // the application's state machine image, opaque to the core
  bool empty() const { return metadata.index == 0; }
};

enum class MessageType : uint8_t {
  kUnspecified = 0,
  kAppend = 1,
  kAppendResponse = 2,
  kVote = 3,
  kVoteResponse = 4,
  kPreVote = 5,
  kPreVoteResponse = 6,
  kHeartbeat = 7,
  kHeartbeatResponse = 8,
  kSnapshot = 9,
  kTimeoutNow = 10,
  kReadIndex = 11,
  kReadIndexResponse = 12,
  kTransferLeader = 13,   // reserved (transfer is an API call on the leader)
  kForwardProposal = 14,  // reserved (drivers forward proposals themselves)
  // Quiescence (Config::quiesce): a follower woken by anything but its
  // leader asks its (maybe quiesced) leader to resume heartbeats.
  kWake = 15,
  // Not a core message: a driver's node-level liveness beacon (one per peer
  // node per heartbeat interval, whatever the number of groups; `index` is
  // the sender's incarnation). RawNode::Step rejects it.
  kNodeHeartbeat = 16,
};

const char* MessageTypeName(MessageType type);

// One flat message for every exchange; fields a type does not use stay zero.
// The Raft group id is not part of the core's message: a driver adds it at the
// edge.
struct Message {
  MessageType type = MessageType::kUnspecified;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Term term = 0;
  Term log_term = 0;  // append: term at `index`; vote: term of the last entry
  Index index = 0;    // append: index before `entries`; vote: last index
  std::vector<Entry> entries;
  Index commit = 0;
  std::shared_ptr<const Snapshot>
      snapshot;  // kSnapshot only; shared, never copied
  bool reject = false;
  Index reject_hint = 0;  // follower's hint for fast backtracking
  Term hint_term = 0;     // term at reject_hint on the follower
  Bytes context;  // ReadIndex request context; "transfer" on forced votes
  // kHeartbeat: the leader quiesces the group (Config::quiesce): a caught-up
  // follower stops its election timer until something wakes it.
  bool quiesce = false;
};

// A linearizable read point: once the application has applied `index`, it may
// serve the read identified by `context`.
struct ReadState {
  Index index = 0;
  Bytes context;
};

enum class Role : uint8_t { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role role);

enum class ProgressState : uint8_t { kProbe, kReplicate, kSnapshot };
const char* ProgressStateName(ProgressState state);

// The leader's view of one peer, as reported by Status().
struct ProgressStatus {
  NodeId id = kNoNode;
  Index match = 0;
  Index next = 0;
  ProgressState state = ProgressState::kProbe;
  bool is_learner = false;
  bool recent_active = false;
  size_t inflight_msgs = 0;
  uint64_t inflight_bytes = 0;
  Index pending_snapshot = 0;
  bool log_read_pending = false;  // waiting for OnLogRead of older entries
};

struct NodeStatus {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  HardState hard_state;
  NodeId leader = kNoNode;
  Index applied = 0;
  Index persisted = 0;
  Index last_index = 0;
  Index snapshot_index = 0;
  NodeId transferee = kNoNode;
  ConfState conf_state;
  std::vector<ProgressStatus> progress;  // leader only, sorted by id
  // Since this replica was created or restarted: campaigns it began because
  // no leader was heard for its election timeout, and times it stepped down
  // as leader because no quorum was active (CheckQuorum).
  uint64_t election_timeouts = 0;
  uint64_t quorum_step_downs = 0;
  std::string ToString() const;
};

// Short readable forms used by logs and interaction transcripts.
std::string DescribeEntry(const Entry& entry);
std::string DescribeMessage(const Message& message);
std::string DescribeHardState(const HardState& hard_state);
std::string DescribeConfState(const ConfState& conf_state);

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_TYPES_H_
