#include "sim/cluster_checker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace chronik::sim {

void ClusterChecker::Violate(std::string what) {
  if (!violation_.has_value()) violation_ = std::move(what);
}

void ClusterChecker::OnLeader(Nanos now, int node, uint64_t group,
                              raft::Term term) {
  if (group == 0) metadata_leader_since_[node] = now;
  auto [it, inserted] = leaders_.emplace(std::make_pair(group, term), node);
  if (inserted || it->second == node) return;
  Violate(absl::StrCat("TWO LEADERS at ", FormatTime(now), ": n",
                       it->second + 1, " and n", node + 1, " both lead ",
                       group == 0 ? std::string("the metadata group")
                                  : absl::StrCat("group ", group),
                       " in term ", term));
}

void ClusterChecker::OnCreateRequest(Nanos now, int node,
                                     const std::string& topic) {
  std::vector<Nanos>& times = creates_[{node, topic}];
  times.erase(
      std::remove_if(times.begin(), times.end(),
                     [&](Nanos t) { return t + kCreateRequestWindow <= now; }),
      times.end());
  times.push_back(now);
  if (static_cast<int>(times.size()) <= kMaxCreateRequestsPerWindow) return;
  Violate(absl::StrCat("CREATE FLOOD at ", FormatTime(now), ": n", node + 1,
                       " asked ", times.size(), " times within ",
                       FormatTime(kCreateRequestWindow), " to create topic ",
                       topic));
}

void ClusterChecker::OnNodeDown(Nanos now, int node) {
  if (down_since_.count(node) != 0) return;
  down_since_[node] = now;
  --nodes_up_;
  last_change_ = now;
}

void ClusterChecker::OnNodeUp(Nanos now, int node) {
  nodes_ = std::max(nodes_, node + 1);
  down_since_.erase(node);
  ++nodes_up_;
  last_change_ = now;
}

void ClusterChecker::OnDisturbance(Nanos now, bool on) {
  disturbed_ = on;
  last_change_ = now;
}

Nanos ClusterChecker::CalmSince(int controller) const {
  auto led = metadata_leader_since_.find(controller);
  if (disturbed_ || led == metadata_leader_since_.end() ||
      2 * nodes_up_ <= nodes_) {
    return -1;
  }
  return std::max(last_change_, led->second);
}

void ClusterChecker::OnControllerMetadata(Nanos now, int controller,
                                          const std::vector<int>& listed,
                                          Nanos session_timeout) {
  const Nanos calm_since = CalmSince(controller);
  if (calm_since < 0) return;
  // Ticks drift up to 25% slow; the fence must commit and apply.
  const Nanos bound = session_timeout + session_timeout / 4 + kFenceSlack;
  for (int node : listed) {
    auto down = down_since_.find(node);
    if (down == down_since_.end()) continue;
    if (now - std::max(calm_since, down->second) <= bound) continue;
    Violate(absl::StrCat("FENCING at ", FormatTime(now), ": controller n",
                         controller + 1, " still lists n", node + 1,
                         ", down since ", FormatTime(down->second),
                         " (session timeout ", FormatTime(session_timeout),
                         ", calm since ", FormatTime(calm_since), ")"));
    return;
  }
}

void ClusterChecker::OnControllerPartition(Nanos now, int controller,
                                           const PartitionView& view,
                                           Nanos replica_lag) {
  auto [seen, inserted] = partition_leader_since_.emplace(
      view.partition, std::make_pair(view.leader, now));
  if (!inserted && seen->second.first != view.leader) {
    seen->second = {view.leader, now};
  }
  const Nanos calm_since = CalmSince(controller);
  if (calm_since < 0 || view.leader < 0 ||
      down_since_.count(view.leader) != 0) {
    return;
  }
  if (!VotersUp(view)) return;
  // The leader's ticks drift up to 25% slow; a new leader counts the ISR it
  // inherits as caught up when it starts (no later than the controller
  // first names it).
  const Nanos bound = replica_lag + replica_lag / 4 + kIsrSlack;
  const Nanos judged_since = std::max(calm_since, seen->second.second);
  for (int replica : view.isr) {
    auto down = down_since_.find(replica);
    if (down == down_since_.end()) continue;
    if (now - std::max(judged_since, down->second) <= bound) continue;
    Violate(absl::StrCat(
        "ISR at ", FormatTime(now), ": controller n", controller + 1,
        " keeps n", replica + 1, " in the ISR of partition ", view.partition,
        " (leader n", view.leader + 1, "), down since ",
        FormatTime(down->second), " (replica lag ", FormatTime(replica_lag),
        ", judged since ", FormatTime(judged_since), ")"));
    return;
  }
}

bool ClusterChecker::MajorityUp(const std::vector<int>& nodes) const {
  int up = 0;
  for (int node : nodes) up += down_since_.count(node) == 0 ? 1 : 0;
  return 2 * up > static_cast<int>(nodes.size());
}

bool ClusterChecker::VotersUp(const PartitionView& view) const {
  if (view.move_unknown) return false;
  auto minus = [&view](const std::vector<int>& out) {
    std::vector<int> kept;
    for (int replica : view.replicas) {
      if (std::find(out.begin(), out.end(), replica) == out.end()) {
        kept.push_back(replica);
      }
    }
    return kept;
  };
  // Without a move both are the replicas. A moving group may be in its old,
  // joint or new configuration: only both majorities elect in each.
  return MajorityUp(minus(view.adding)) && MajorityUp(minus(view.removing));
}

bool ClusterChecker::OnBalancedAudit(Nanos now, const std::vector<int>& leaders,
                                     const std::vector<int>& preferred,
                                     Nanos interval) {
  std::vector<int> off;
  for (size_t p = 0; p < leaders.size() && p < preferred.size(); ++p) {
    if (leaders[p] != preferred[p]) off.push_back(static_cast<int>(p));
  }
  if (off.empty()) return true;
  // Ticks drift up to 25% slow; a node's first check comes an interval after
  // it starts, a wish is acted on at the next.
  const Nanos bound = kRejoinSlack + 2 * (interval + interval / 4);
  if (disturbed_ || nodes_up_ < nodes_ || now - last_change_ <= bound) {
    return false;
  }
  const int p = off.front();
  Violate(absl::StrCat("PREFERRED LEADER at ", FormatTime(now), ": partition ",
                       p, " is led by n", leaders[p] + 1,
                       ", not its preferred replica n", preferred[p] + 1,
                       ", with leader balancing every ", FormatTime(interval),
                       " and every node up since ", FormatTime(last_change_),
                       " (", off.size(), " partitions off preferred)"));
  return true;
}

}  // namespace chronik::sim
