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

}  // namespace chronik::sim
