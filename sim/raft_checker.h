// Safety checkers for a simulated Raft cluster and the client history it
// serves, fed with observations at every step of a run (not only at the end).
//
// What it checks, and how each is made incremental:
// - Election safety: at most one leader per term (a map term -> leader).
// - Log matching: every log the nodes write is mirrored as a chain of prefix
//   hashes (chain[i] = H(chain[i-1], term_i, data_i)). Two logs with an entry
//   of the same index and term must have equal chains there, i.e. identical
//   prefixes: one global map (index, term) -> chain catches any violation the
//   moment the second log is written.
// - Commit safety, nothing committed is lost: the committed prefix is one
//   global chain; every commit index a node reports must agree with it and may
//   extend it. A node's commit index never moves backwards within one
//   incarnation.
// - Leader completeness: when a node becomes leader of term T, its log holds
//   every entry known to be committed in a term before T (a commit reported by
//   a node at term t happened in a term <= t; a leader of an older term may
//   legitimately lag).
// - The rules behind them, checked where they are easy to see: a leader only
//   commits by counting an entry of its own term; a vote is durable before it
//   is granted.
// - State machine safety: no two nodes apply different entries at one index,
//   and no node applies an entry beyond its own commit index.
// - Client history (the replicated state machine is an append-only log of
//   operations, deduplicated by operation id): the state machines agree at
//   every offset; an acknowledged operation sits at the offset it was
//   acknowledged with; if A was acknowledged before B was invoked then A's
//   offset is smaller (real-time order); a read returning (length, last op)
//   saw a prefix of the final log that holds every operation acknowledged
//   before the read began and nothing invoked after it ended; at the end,
//   every acknowledged operation is in the final log exactly once.
// The first violation is kept (failure()); later observations are still
// accepted. Not thread-safe. Memory is bounded by the run's length (one entry
// per log index and operation).
//
// CheckingObserver feeds the Raft-level observations from a node's
// replication::RaftHost (its observer interface): the log as queued to storage
// and as recovered, commit indexes, leadership, what is durable.
#ifndef CHRONIK_SIM_RAFT_CHECKER_H_
#define CHRONIK_SIM_RAFT_CHECKER_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "broker/replication/raft_host_observer.h"
#include "raft/types.h"
#include "sim/time.h"

namespace chronik::sim {

// A client operation's identity: (client, sequence number) packed by the
// workload.
using OpId = uint64_t;
inline constexpr OpId kNoOp = 0;

class RaftChecker {
 public:
  explicit RaftChecker(int num_nodes);

  // --- Raft level ---
  // `node` is leader in `term` (call whenever observed; repeats are fine).
  void OnLeader(int node, raft::Term term);
  // `node` wrote `entries` to its log (truncating from entries[0].index first).
  void OnLogAppend(int node, absl::Span<const raft::Entry> entries);
  // `node` restarted with exactly this log (what survived on its disk; more
  // may follow through OnLogAppend).
  void OnLogRecovered(int node, const std::vector<raft::Entry>& log);
  // `node` (in incarnation `incarnation`, at `term`) reports commit index
  // `commit`; the entries up to it are in the log last given through
  // OnLogAppend/OnLogRecovered.
  void OnCommit(int node, uint64_t incarnation, raft::Term term,
                raft::Index commit);
  // `node`, leader of `term` since before this step, advanced its commit index
  // to `commit` (an entry of its log as last given through OnLogAppend). A
  // leader may only commit by counting replicas of an entry of its own term
  // (Raft, section 5.4.2).
  void OnLeaderCommit(int node, raft::Term term, raft::Index commit);
  // `node` sends a vote granted to `candidate` in `term`; `durable` is the hard
  // state its disk holds at that moment. A vote must be durable before it is
  // granted (or a later term: the node then never votes in `term` again).
  void OnVoteGranted(int node, raft::Term term, raft::NodeId candidate,
                     const raft::HardState& durable);
  // `node` applies `entry` while its commit index is `node_commit`.
  void OnApply(int node, const raft::Entry& entry, raft::Index node_commit);

  // --- State machine and client level ---
  // `node`'s state machine appended `op` at `offset` (0-based).
  void OnStateMachineAppend(int node, uint64_t offset, OpId op);
  void OnInvoke(OpId op, Nanos time);
  // The client got an acknowledgement that `op` is at `offset`.
  void OnAck(OpId op, uint64_t offset, Nanos time);
  // A read invoked at `invoked` returned at `completed` with the log's length
  // and its last operation (kNoOp when empty).
  void OnRead(Nanos invoked, Nanos completed, uint64_t length, OpId last);
  // End of run: `final_log` is the state machine of a caught-up node.
  void OnFinal(const std::vector<OpId>& final_log);

  bool ok() const { return failure_.empty(); }
  const std::string& failure() const { return failure_; }
  raft::Index committed_index() const { return committed_.size(); }
  uint64_t acked_ops() const { return acks_.size(); }
  uint64_t reads_checked() const { return reads_checked_; }

 private:
  struct AppliedEntry {
    raft::Term term;
    uint64_t data_hash;
  };
  void Fail(std::string message);
  static uint64_t EntryHash(uint64_t previous, const raft::Entry& entry);
  void RecordChain(int node, raft::Index first);
  // Largest offset among operations acknowledged strictly before `time`, or
  // -1 when there is none.
  int64_t MaxAckedOffsetBefore(Nanos time) const;

  int num_nodes_;
  std::string failure_;
  std::map<raft::Term, int> leaders_;
  // chains_[node][i] = prefix hash of node's log through index i + 1.
  std::vector<std::vector<uint64_t>> chains_;
  std::vector<std::vector<raft::Term>> terms_;
  absl::flat_hash_map<std::pair<raft::Index, raft::Term>, uint64_t> chain_at_;
  // The committed prefix as a chain: [i] for index i + 1.
  std::vector<uint64_t> committed_;
  // Term at which a commit was reported -> largest index reported at that term.
  std::map<raft::Term, raft::Index> commit_by_term_;
  std::vector<std::pair<uint64_t, raft::Index>> commit_seen_;  // per node
  std::vector<AppliedEntry> applied_;  // [i] for index i + 1
  std::vector<OpId> sm_log_;           // agreed state machine log
  absl::flat_hash_map<OpId, Nanos> invoked_;
  absl::flat_hash_map<OpId, uint64_t> acks_;  // op -> offset
  // Acknowledgements in time order with the running maximum of offsets.
  std::vector<std::pair<Nanos, int64_t>> ack_max_;
  uint64_t reads_checked_ = 0;
};

// One node's RaftHost observations (one Raft group), fed to a RaftChecker.
// Lives across the node's restarts: OnRecover starts a new process's view.
class CheckingObserver : public replication::RaftHostObserver {
 public:
  // `rule_checks`: also check the commit rule (see RaftChecker).
  CheckingObserver(RaftChecker* checker, int node, bool rule_checks);

  // The node's process `incarnation` runs, its group recovered (after
  // AddGroup): reports the recovered commit index.
  void Started(uint64_t incarnation);
  // The commit index the node's core last reported (the recovered one at
  // first).
  raft::Index commit() const { return commit_; }
  // The hard state the node's disk holds.
  const raft::HardState& durable() const { return durable_; }

  void OnRecover(replication::GroupId group_id,
                 const replication::RecoveredGroup& recovered) override;
  void OnRecoveredEntries(replication::GroupId group_id,
                          absl::Span<const raft::Entry> entries) override;
  void OnAppend(replication::GroupId group_id,
                absl::Span<const raft::Entry> entries) override;
  void OnCommit(replication::GroupId group_id, raft::Term term,
                raft::Index commit) override;
  void OnRoleChange(replication::GroupId group_id,
                    const replication::RoleState& role) override;
  void OnDurable(replication::GroupId group_id,
                 const replication::DurableState& durable) override;

 private:
  RaftChecker* const checker_;
  const int node_;
  const bool rule_checks_;
  uint64_t incarnation_ = 0;
  raft::Index commit_ = 0;
  raft::HardState durable_;
  bool leader_ = false;  // as of the last role change
  raft::Term term_ = 0;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_RAFT_CHECKER_H_
