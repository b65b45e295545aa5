// Raft: the implementation behind RawNode (raw_node.h has the public contract).
// One instance is one member of one Raft group. Internal to raft/;
// single-threaded.
#ifndef CHRONIK_RAFT_RAFT_H_
#define CHRONIK_RAFT_RAFT_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/splitmix64.h"
#include "raft/progress.h"
#include "raft/raft_log.h"
#include "raft/raw_node.h"
#include "raft/types.h"

namespace chronik::raft {

// Context of a vote request sent on a leadership transfer: receivers grant it
// even inside a leader lease.
inline constexpr std::string_view kTransferContext = "transfer";

class Raft {
 public:
  explicit Raft(const Config& config);
  absl::Status Restore(const RecoveredState& recovered);

  void Tick();
  absl::Status Step(Message&& m);
  absl::Status Propose(Bytes data);
  absl::Status ProposeConfChange(const ConfChange& change);
  absl::Status ReadIndex(Bytes context);
  absl::Status TransferLeadership(NodeId transferee);
  void Campaign();
  void SetCampaignAllowed(bool allowed);
  void Wake(const std::vector<NodeId>& silent,
            const std::vector<NodeId>& restarted);
  bool quiesced() const { return quiesced_; }

  void OnPersisted(const PersistAck& ack);
  void OnApplied(Index index);
  void OnLogRead(const LogRead& read,
                 absl::StatusOr<std::vector<Entry>> entries);
  absl::Status OnSnapshotTaken(Index index, Bytes data);
  absl::Status OnLogCompacted(const SnapshotMetadata& metadata, Bytes data);

  bool HasReady() const;
  Ready GetReady();
  NodeStatus Status() const;

  // Crashes (CHRONIK_CHECK, naming the rule) when the state breaks an
  // invariant: log cursors, term/vote/leader consistency, role-specific state,
  // membership and the leader's progress set. O(members + pending messages
  // and reads), never O(log). RawNode runs it after every input in builds
  // without NDEBUG (tests, fastbuild); -c opt never calls it.
  void CheckInvariants() const;

  NodeId id() const { return id_; }
  Role role() const { return role_; }
  NodeId leader() const { return lead_; }
  Term term() const { return term_; }
  Index last_index() const { return log_.last_index(); }

 private:
  friend class RaftTestPeer;  // test-only access (invariants_test.cc)

  enum class CampaignKind : uint8_t { kPreElection, kElection, kTransfer };
  struct ReadRequest {
    Bytes context;
    NodeId from;  // id_ for local requests
    Index index;
    uint64_t seq;
    std::vector<NodeId> acks;  // sorted
  };

  // Roles.
  void BecomeFollower(Term term, NodeId lead);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void ResetTerm(Term term);
  void ResetRandomizedElectionTimeout();
  void Hup(CampaignKind kind);
  void TallyVotes();
  bool Promotable() const;
  bool HasUnappliedConfChange() const;
  void Transition(const std::string& what);

  // Message handling.
  void StepVoteRequest(const Message& m);
  void StepLeader(Message&& m);
  void StepCandidate(Message&& m);
  void StepFollower(Message&& m);
  void HandleAppend(Message&& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  void HandleAppendResponse(const Message& m);
  void HandleHeartbeatResponse(const Message& m);
  void Send(Message m);
  void SendAfterPersist(Message m);

  // Leader replication.
  void BroadcastAppend(bool send_if_empty);
  bool SendAppend(NodeId to, Progress& pr, bool send_if_empty);
  void SendSnapshot(NodeId to, Progress& pr);
  void SendEmptyAppend(NodeId to, const Progress& pr);
  void SendHeartbeat(NodeId to, Progress& pr, const Bytes& context,
                     bool quiesce);
  void BroadcastHeartbeat(bool quiesce = false);
  void SendTimeoutNow(NodeId to);
  bool MaybeCommit();
  bool QuorumActive();
  bool QuorumRecentlyActive() const;  // QuorumActive without the reset
  bool AppendLeaderEntry(EntryType type, Bytes data);
  void AbortTransfer();

  // Quiescence (raft_quiesce.cc).
  bool CanQuiesce() const;
  // A message arrives at a quiesced node: wake (and ask the leader to).
  void WakeOnMessage(const Message& m);
  void Unquiesce() { quiesced_ = false; }
  void SendWakeToLeader();

  // Reads.
  // Returns false when the request was refused (too many pending).
  bool HandleReadRequest(NodeId from, Bytes context);
  void ReleaseRead(const ReadRequest& request);
  void ReleasePendingReads();
  bool CommittedInTerm() const;

  // Membership.
  void ApplyConfChange(Index index, const ConfChange& change);
  void RebuildProgress();
  absl::Status CheckConfChange(const ConfChange& change) const;
  bool IsVoter(NodeId id) const;
  void MaybeAutoLeave();
  void MaybeCompactMemory();
  std::optional<ConfState> ConfStateAt(Index index) const;

  // Invariants (raft_invariants.cc), by concern.
  void CheckLogInvariants() const;
  void CheckRoleInvariants() const;
  void CheckConfInvariants() const;
  void CheckProgressInvariants() const;
  void CheckPendingInvariants() const;

  Config config_;
  NodeId id_;
  Term term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId lead_ = kNoNode;
  Role role_ = Role::kFollower;
  bool joining_ = false;  // Config::joining, until the membership is learned
  RaftLog log_;
  ConfState conf_;
  std::map<NodeId, Progress> progress_;  // every member but self
  std::map<NodeId, bool> votes_;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  uint64_t election_timeouts_ = 0;  // NodeStatus::election_timeouts
  uint64_t quorum_step_downs_ = 0;  // NodeStatus::quorum_step_downs
  NodeId lead_transferee_ = kNoNode;
  Index pending_conf_index_ = 0;
  uint64_t uncommitted_bytes_ = 0;
  bool self_vote_durable_ = false;
  bool campaign_allowed_ = true;  // SetCampaignAllowed
  bool quiesced_ = false;         // Config::quiesce: timers stopped
  SplitMix64 rng_;                // the core's only randomness

  // Reads (leader).
  // Small FIFOs kept as vectors: an idle group allocates nothing for them (a
  // std::deque allocates on construction).
  std::vector<ReadRequest> read_queue_;
  std::vector<std::pair<NodeId, Bytes>> reads_before_commit_;
  uint64_t read_seq_ = 0;

  // Snapshot kept for far-behind followers, and the membership history it
  // needs.
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<std::pair<Index, ConfState>> conf_history_;  // (applied at, conf)
  std::vector<std::pair<Index, ConfChange>> handed_conf_changes_;

  // Pending outputs.
  std::vector<Message> messages_;
  std::vector<Message> messages_after_persist_;
  std::vector<ReadState> read_states_;
  std::vector<LogRead> log_reads_;
  std::optional<Snapshot> snapshot_to_persist_;
  std::optional<ConfState> conf_changed_;
  HardState emitted_hard_state_;
  bool broadcast_pending_ = false;
  bool broadcast_commit_ = false;
  bool heartbeat_pending_ = false;  // read requests await a heartbeat round
};

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_RAFT_H_
