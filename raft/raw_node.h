// RawNode: one Raft group's consensus state machine, a pure step function.
//
// What it is for: everything replicated in chronik (the metadata group and
// every partition) runs on this core, under the production driver
// (broker/runtime/) and under the simulator (sim/). It does no IO, reads no
// clock, starts no threads, keeps no global state; randomness (election
// timeout jitter) comes only from Config::random_seed. Same inputs in the same
// order => byte-identical outputs.
//
// How a driver uses it (one thread per RawNode; the object is not
// thread-safe, and it owns everything it holds):
//   inputs:  Step(message) for each received message; Tick() at a fixed
//            cadence; Propose, ProposeConfChange, ReadIndex,
//            TransferLeadership, Campaign, SetCampaignAllowed; and the
//            completion inputs
//            OnPersisted, OnApplied, OnLogRead, OnSnapshotTaken.
//   outputs: when HasReady(), GetReady() hands over (and forgets) a Ready.
//   restart: RawNode::Restart(config, what storage recovered).
//
// THE PERSISTENCE CONTRACT (what must be durable before which messages go out)
//   1. The storage work of Readies is done in the order the Readies were
//      produced. Within one Ready: first `snapshot` (if set), then `entries`
//      (the first entry's index may be <= the last index written before: the
//      driver truncates the stored log from there, then appends), then
//      `hard_state` (if set).
//   2. `messages` may be sent at once, before that storage work is durable.
//      They never claim anything that is not durable: the leader's appends
//      and heartbeats (a leader replicates entries while its own write is in
//      flight), vote requests, probes, rejections and heartbeat replies.
//   3. `messages_after_persist` may be sent only once ALL storage work of this
//      Ready (and of every earlier one) is durable. They claim durable state:
//      vote responses (the term and vote are persisted before answering) and
//      append/snapshot acknowledgements (a follower acks entries only once
//      they are durable).
//   4. Once this Ready's storage work (and every earlier Ready's) is durable,
//      the driver calls OnPersisted(ready.persist_ack), in Ready order, also
//      for a Ready without storage work of its own. Only then does a leader
//      count itself as holding its new entries, and only then does a candidate
//      count its own vote. Committed entries are handed out for apply only once
//      they are durable locally.
//   5. `committed_entries` are applied in order; the driver reports progress
//      with OnApplied(index). Conf change entries take effect in the core when
//      OnApplied covers them (then `conf_state` appears in a Ready: persist it
//      with the applied index, Restart needs it). A `snapshot` in a Ready is
//      installed in the state machine; OnApplied(snapshot index) reports that.
//   6. `log_reads` ask for older entries the core no longer holds in memory
//      (for a follower that lags); the driver reads them from storage
//      asynchronously and answers with OnLogRead. Local progress never waits
//      for them.
//
// Memory: the core holds every entry not yet durable or not yet applied, plus
// a bounded recent tail (Config::max_log_tail_entries) for followers that lag
// a little; older entries live only in the driver's storage. An idle group
// costs about 2 KB plus that tail, and has no timers (ticks come from the
// driver). Heartbeats are plain messages (kHeartbeat / kHeartbeatResponse)
// that a driver running many groups may coalesce per peer. Messages carry no
// group id: the driver adds it at the edge.
#ifndef CHRONIK_RAFT_RAW_NODE_H_
#define CHRONIK_RAFT_RAW_NODE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "raft/types.h"

namespace chronik::raft {

// TEST-ONLY. Deliberate safety bugs the simulator (sim/) switches on to prove
// that its checkers catch each one. Production configs must leave all of them
// false.
struct InjectedBugs {
  // Grants a vote to any candidate of the current term, even after voting for
  // another one (breaks election safety).
  bool grant_two_votes_per_term = false;
  // Commits an entry of an earlier term once a majority holds it (the Raft
  // paper's figure 8 bug).
  bool commit_old_term_by_counting = false;
  // Sends vote responses before the term and vote are durable (moves them from
  // messages_after_persist to messages).
  bool answer_vote_before_persisting = false;
  // Hands out durable but not yet committed entries for apply.
  bool apply_before_commit = false;
};

enum class ReadOnlyOption : uint8_t {
  kSafe,   // ReadIndex confirms leadership with a heartbeat round to a quorum
  kLease,  // relies on CheckQuorum's leader lease (needs check_quorum); no
           // round trip
};

// A one-line description of a state transition (role/term/leader/config
// changes).
using TransitionLogger = std::function<void(std::string_view line)>;

struct Config {
  NodeId id = kNoNode;
  // Initial membership of a new group (every member must be created with the
  // same lists). Ignored when restarting from recovered state.
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;

  // A follower starts an election after a random timeout in
  // [election_timeout_ticks, 2 * election_timeout_ticks).
  int election_timeout_ticks = 10;
  int heartbeat_timeout_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  // Quiescence: an idle leader (every member holds its whole log and knows it
  // is committed; nothing proposed, in flight, read, transferred or changing
  // membership; every follower heard from recently) sends one last heartbeat
  // marked `quiesce` and stops ticking; a caught-up follower told so stops
  // its election timer too. Any input but a heartbeat response wakes the
  // group. The driver must then watch the members' liveness itself (one
  // heartbeat per node pair, not per group) and call Wake when a member's
  // node has been silent for an election timeout: see RawNode::Wake.
  bool quiesce = false;
  // The node is being added to a running group with an empty log (or has
  // not yet learned the group's membership since): the initial membership
  // above is only the base the log's conf changes apply to, not proof that
  // it is a member. It neither campaigns nor votes until it applies a conf
  // change naming it or installs a snapshot.
  bool joining = false;

  // Flow control towards each follower in replicate state.
  size_t max_inflight_msgs = 256;
  uint64_t max_inflight_bytes = 32 << 20;  // 0 = no byte limit
  uint64_t max_entries_bytes_per_msg = 1 << 20;
  // Proposals are refused while the leader's uncommitted payload exceeds this
  // (0 = no limit). One proposal is always accepted when nothing is
  // uncommitted.
  uint64_t max_uncommitted_entries_bytes = 0;
  // Bound on the payload bytes of committed_entries in one Ready (at least one
  // entry).
  uint64_t max_committed_bytes_per_ready = 64 << 20;
  // Applied-and-durable entries kept in memory for followers that lag a little.
  size_t max_log_tail_entries = 4096;
  // ... and at most this many payload bytes of them (0 = no byte bound), so a
  // group of large entries (1 MiB Kafka batches) stays small in memory.
  uint64_t max_log_tail_bytes = 64 << 20;
  // ReadIndex requests waiting for confirmation; beyond this they are refused.
  size_t max_pending_read_requests = 4096;

  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  uint64_t random_seed = 0;  // the core's only source of randomness

  InjectedBugs injected_bugs;          // TEST-ONLY, see above
  TransitionLogger transition_logger;  // may be empty
};

// What the driver recovered from storage when a node restarts.
struct RecoveredState {
  HardState hard_state;
  SnapshotMetadata snapshot;  // index 0 when there is none
  Bytes snapshot_data;  // the snapshot's image, sent to far-behind followers
  // Index of the last entry the state machine applied (>= snapshot.index), and
  // the membership in effect at that point (from the last ConfState the core
  // reported in a Ready, or the snapshot's).
  Index applied = 0;
  ConfState conf_state;
  // A contiguous tail of the log ending at the last stored entry. It must
  // either start at snapshot.index + 1, or start at an index <= applied (the
  // first entry then only anchors the term at that index). Everything after
  // `applied` must be in it.
  std::vector<Entry> entries;
};

// Asks the driver for stored entries with index in [lo, hi] (inclusive), on
// behalf of follower `to`. The answer is a contiguous prefix of that range: at
// least min(2, hi - lo + 1) entries (the first one often only anchors the term
// of the entry before what is sent), then more while the payload of all entries
// returned stays within max_bytes.
struct LogRead {
  NodeId to = kNoNode;
  Index lo = 0;
  Index hi = 0;
  uint64_t max_bytes = 0;
};

// What the driver reports back once a Ready's storage work is durable.
struct PersistAck {
  Term log_term = 0;  // term and index of the last entry (or snapshot) written
  Index log_index = 0;  // 0 when the Ready wrote no entries
  HardState
      hard_state;  // the hard state written (or the last one written before)
};

// Work handed from the core to the driver. See the persistence contract above.
struct Ready {
  std::optional<Snapshot>
      snapshot;                // to persist, then install in the state machine
  std::vector<Entry> entries;  // to append to stable storage
  std::optional<HardState>
      hard_state;                 // to persist (changed since the last Ready)
  std::vector<Message> messages;  // may be sent now
  std::vector<Message> messages_after_persist;  // only after the storage work
  std::vector<Entry>
      committed_entries;  // to apply in order (durable and committed)
  std::vector<ReadState> read_states;
  std::vector<LogRead> log_reads;
  std::optional<ConfState>
      conf_state;          // membership changed (persist with applied)
  PersistAck persist_ack;  // pass to OnPersisted once durable
  bool HasStorageWork() const {
    return snapshot.has_value() || !entries.empty() || hard_state.has_value();
  }
};

class Raft;  // the implementation (raft/raft.h)

class RawNode {
 public:
  // A new group member with an empty log, membership from
  // config.voters/learners.
  explicit RawNode(const Config& config);
  // A restarted member; returns an error if `recovered` is inconsistent.
  static absl::StatusOr<std::unique_ptr<RawNode>> Restart(
      const Config& config, const RecoveredState& recovered);
  ~RawNode();
  RawNode(RawNode&&) noexcept;
  RawNode& operator=(RawNode&&) noexcept;

  // Inputs.
  void Tick();
  // Messages addressed to another node or with term 0 are rejected with an
  // error.
  absl::Status Step(const Message& message);
  absl::Status Step(Message&& message);
  // Errors: FailedPrecondition "not leader (leader=N)" on a non-leader (N may
  // be 0), Unavailable while transferring leadership or above
  // max_uncommitted_entries_bytes.
  absl::Status Propose(Bytes data);
  absl::Status ProposeConfChange(const ConfChange& change);
  // Requests a linearizable read; a ReadState with `context` appears in a later
  // Ready.
  absl::Status ReadIndex(Bytes context);
  absl::Status TransferLeadership(NodeId transferee);
  void Campaign();  // starts an election now (PreVote first when enabled)
  // Whether this node may start elections (default true). With false it
  // never campaigns: not on its election timeout, not on Campaign(), not on
  // a leader's TimeoutNow; a (pre-)candidate steps down to follower at once.
  // It still votes, replicates and, if leader, stays leader (a broker that is
  // shutting down hands its leadership over and must not take it back).
  void SetCampaignAllowed(bool allowed);
  // Quiescence (Config::quiesce). Wakes the group: it ticks again. `silent`:
  // members whose node the driver has not heard from for an election
  // timeout. A follower whose leader is among them takes the leader's lease
  // as expired (it grants votes and campaigns after its randomized timeout);
  // a leader counts them inactive and steps down at once when that leaves no
  // active quorum (what CheckQuorum would have done had it been ticking). A
  // follower otherwise asks its leader to wake (kWake). `restarted`: members
  // whose node restarted (a leader's only): counted inactive too, without the
  // step-down, so the leader keeps heartbeating until each answers and does
  // not quiesce again on its progress from before the restart (the restarted
  // node may create the group only after the first heartbeat came).
  void Wake(const std::vector<NodeId>& silent,
            const std::vector<NodeId>& restarted = {});
  bool quiesced() const;

  // Completion inputs (see the persistence contract).
  void OnPersisted(const PersistAck& ack);
  void OnApplied(Index index);
  // `entries`: what storage holds of [read.lo, read.hi] (a prefix, contiguous).
  // An error or an empty result means compacted: the core sends a snapshot
  // instead.
  void OnLogRead(const LogRead& read,
                 absl::StatusOr<std::vector<Entry>> entries);
  // The application took a snapshot of its state machine at the currently
  // applied index; the core keeps it to send to far-behind followers and drops
  // older entries. The driver may then delete stored entries up to that index.
  absl::Status OnSnapshotTaken(Index index, Bytes data);
  // The same for a driver whose storage dropped entries the core may no
  // longer hold in memory (a partition's retention removing old segments):
  // the driver names the term and membership at metadata.index from its
  // storage; where memory still knows them they must agree (else an error).
  // metadata.index must be applied and newer than the current snapshot.
  absl::Status OnLogCompacted(const SnapshotMetadata& metadata, Bytes data);

  // Outputs.
  bool HasReady() const;
  Ready GetReady();

  NodeStatus Status() const;
  NodeId id() const;
  bool is_leader() const;
  NodeId leader() const;
  // Cheap accessors for drivers (Status() builds a full snapshot).
  Term term() const;
  Index last_index() const;

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);
  std::unique_ptr<Raft> raft_;
};

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_RAW_NODE_H_
