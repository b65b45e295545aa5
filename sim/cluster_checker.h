// The cluster checker of the broker scenario: invariants of the cluster as a
// whole, judged online from what the brokers report (their Raft hosts'
// observers, the clients' Metadata answers, the peer messages the network
// carries; registration is the leader audit's, broker_world_clients.cc), naming
// the first violation with its time and node:
//   TWO LEADERS   two nodes lead one Raft group (the metadata group or a
//                 partition's) in the same term;
//   CREATE FLOOD  a broker asks the metadata leader to create one topic more
//                 than kMaxCreateRequestsPerWindow times within
//                 kCreateRequestWindow (auto-creation retried without bound);
//   FENCING       the controller's Metadata still lists a broker that has
//                 been down for longer than the session timeout (plus
//                 slack) while the world was calm: the same controller led,
//                 a majority of nodes ran, no fault disturbed them;
//   ISR           the controller's Metadata keeps a down replica in the ISR
//                 of a partition for longer than replica.lag.time.max.ms
//                 (plus slack) while the world was calm, the partition's
//                 leader (as the controller names it) ran and kept it, and
//                 a majority of its replicas ran; during a move (KIP-455)
//                 a majority of the old voters (replicas minus adding) and
//                 of the new (replicas minus removing) ran, as a Raft joint
//                 configuration needs both, and a move whose sets are not
//                 known yet is not judged;
//   PREFERRED LEADER  with leader balancing on (a check interval, no
//                 imbalance tolerated), the leader the brokers agree on at
//                 the final audit is not the partition's preferred replica
//                 (its first) although every node has run, undisturbed,
//                 for longer than kRejoinSlack plus two check intervals
//                 (plus clock drift).
// Plain value type; knows nothing of the broker's logic.
#ifndef CHRONIK_SIM_CLUSTER_CHECKER_H_
#define CHRONIK_SIM_CLUSTER_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "raft/types.h"
#include "sim/time.h"

namespace chronik::sim {

class ClusterChecker {
 public:
  // A broker retries a creation at most once per second (its forward retry
  // interval); two in one window allow for a retry racing a new request.
  static constexpr int kMaxCreateRequestsPerWindow = 2;
  static constexpr Nanos kCreateRequestWindow = 1 * kSecond;
  // What a fence may take beyond the session timeout to show in the
  // controller's Metadata (proposal, commit, apply).
  static constexpr Nanos kFenceSlack = 1 * kSecond;
  // What an ISR change may take beyond the lag time to show in the
  // controller's Metadata in a calm world: the leader's next sample (every
  // tick), its report, its commit and apply (a few round trips and fsyncs).
  static constexpr Nanos kIsrSlack = 1 * kSecond;
  // What a node back after the heal may take to rejoin the ISR and see it
  // committed (recovery, catching up, the leader's report) before its
  // balancer's next check may count.
  static constexpr Nanos kRejoinSlack = 5 * kSecond;

  // `node` (0-based) sees itself leader of `group` in `term`.
  void OnLeader(Nanos now, int node, uint64_t group, raft::Term term);
  // `node` sends the metadata leader a request to create `topic`.
  void OnCreateRequest(Nanos now, int node, const std::string& topic);

  // Fencing. The nodes' processes: `node` went down (crash, stop, exit) or
  // came up.
  void OnNodeDown(Nanos now, int node);
  void OnNodeUp(Nanos now, int node);
  // A fault that may delay or hide what the controller hears (network,
  // clocks, pauses, disks) starts or ends; while one is on nothing is judged.
  void OnDisturbance(Nanos now, bool on);
  // `controller` (0-based), which names itself controller, answered
  // Metadata listing `listed` (0-based); `session_timeout` is the brokers'.
  void OnControllerMetadata(Nanos now, int controller,
                            const std::vector<int>& listed,
                            Nanos session_timeout);

  // `controller` (0-based), which names itself controller, answered
  // Metadata naming, for one partition of the scenario's topic, `leader`
  // (0-based, -1: none), its `replicas` and its `isr` (0-based);
  // `replica_lag` is the brokers' replica.lag.time.max.ms. A move in
  // progress, as ListPartitionReassignments names it: the replicas being
  // added and removed (0-based, members of `replicas`), or `move_unknown`
  // while a move may be in progress whose sets are not known yet.
  struct PartitionView {
    int partition = 0;
    int leader = -1;
    std::vector<int> replicas;
    std::vector<int> isr;
    std::vector<int> adding;
    std::vector<int> removing;
    bool move_unknown = false;
  };
  void OnControllerPartition(Nanos now, int controller,
                             const PartitionView& view, Nanos replica_lag);

  // The final leader audit on a run with leader balancing every
  // `interval`: the brokers agree that partition p is led by `leaders[p]`,
  // whose preferred replica is `preferred[p]` (0-based). True when judged
  // (every leader preferred, or the PREFERRED LEADER violation recorded);
  // false when it is too early to tell (the audit asks again).
  bool OnBalancedAudit(Nanos now, const std::vector<int>& leaders,
                       const std::vector<int>& preferred, Nanos interval);

  // The first violation, if any.
  const std::optional<std::string>& violation() const { return violation_; }

 private:
  void Violate(std::string what);

  std::map<std::pair<uint64_t, raft::Term>, int> leaders_;  // -> node
  // (node, topic) -> times of its recent create requests (within a window).
  std::map<std::pair<int, std::string>, std::vector<Nanos>> creates_;
  std::optional<std::string> violation_;
  // Fencing.
  std::map<int, Nanos> down_since_;             // node -> when it went down
  std::map<int, Nanos> metadata_leader_since_;  // node -> its last election
  Nanos last_change_ = 0;  // of any node's process or of a disturbance
  bool disturbed_ = false;
  int nodes_up_ = 0;
  int nodes_ = 0;  // seen so far (every node starts at 0)
  // ISR: partition -> (leader the controller names, since when it does).
  std::map<int, std::pair<int, Nanos>> partition_leader_since_;
  // The calm period the controller's view is judged in (-1: not calm).
  Nanos CalmSince(int controller) const;
  // Whether a majority of `nodes` ran (none of an empty set).
  bool MajorityUp(const std::vector<int>& nodes) const;
  // Whether a majority of each of the partition's voter sets ran.
  bool VotersUp(const PartitionView& view) const;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_CLUSTER_CHECKER_H_
