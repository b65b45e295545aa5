// The cluster checker of the broker scenario: invariants of the cluster as a
// whole, judged online from what the brokers report (their Raft hosts'
// observers, the clients' Metadata answers, the peer messages the network
// carries; registration is the leader audit's, broker_world_clients.cc), naming
// the first violation with its time and node:
//   TWO LEADERS   two nodes lead one Raft group (the metadata group or a
//                 partition's) in the same term;
//   CREATE FLOOD  a broker asks the metadata leader to create one topic more
//                 than kMaxCreateRequestsPerWindow times within
//                 kCreateRequestWindow (auto-creation retried without bound).
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

  // `node` (0-based) sees itself leader of `group` in `term`.
  void OnLeader(Nanos now, int node, uint64_t group, raft::Term term);
  // `node` sends the metadata leader a request to create `topic`.
  void OnCreateRequest(Nanos now, int node, const std::string& topic);

  // The first violation, if any.
  const std::optional<std::string>& violation() const { return violation_; }

 private:
  void Violate(std::string what);

  std::map<std::pair<uint64_t, raft::Term>, int> leaders_;  // -> node
  // (node, topic) -> times of its recent create requests (within a window).
  std::map<std::pair<int, std::string>, std::vector<Nanos>> creates_;
  std::optional<std::string> violation_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_CLUSTER_CHECKER_H_
