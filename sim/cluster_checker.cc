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

void ClusterChecker::OnControllerMetadata(Nanos now, int controller,
                                          const std::vector<int>& listed,
                                          Nanos session_timeout) {
  auto led = metadata_leader_since_.find(controller);
  if (disturbed_ || led == metadata_leader_since_.end() ||
      2 * nodes_up_ <= nodes_) {
    return;
  }
  // Ticks drift up to 25% slow; the fence must commit and apply.
  const Nanos bound = session_timeout + session_timeout / 4 + kFenceSlack;
  const Nanos calm_since = std::max(last_change_, led->second);
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

}  // namespace chronik::sim
