#include "broker/partition/isr.h"

#include <algorithm>

#include "base/check.h"

namespace chronik::partition {

void IsrTracker::Start(uint64_t term, uint64_t self,
                       const std::vector<uint64_t>& replicas,
                       const std::vector<uint64_t>& committed_isr,
                       int64_t now_ms) {
  CHRONIK_CHECK(std::find(replicas.begin(), replicas.end(), self) !=
                replicas.end())
      << "node " << self << " leads a partition it is no replica of";
  term_ = term;
  self_ = self;
  replicas_ = replicas;
  std::sort(replicas_.begin(), replicas_.end());
  followers_.clear();
  caught_up_ms_.clear();
  for (uint64_t id : replicas) {
    if (id != self) followers_.push_back(id);
  }
  std::sort(followers_.begin(), followers_.end());
  const std::vector<uint64_t>& in_sync =
      committed_isr.empty() ? replicas : committed_isr;
  for (uint64_t id : followers_) {
    if (std::find(in_sync.begin(), in_sync.end(), id) != in_sync.end()) {
      caught_up_ms_[id] = now_ms;
    }
  }
  sampled_ = false;
  previous_last_index_ = 0;
  previous_sample_ms_ = now_ms;
  repeatable_ = false;
  holding_ = false;
}

bool IsrTracker::Repeat(int64_t now_ms, uint64_t last_index) {
  CHRONIK_CHECK(!holding_) << "a sample while holding";
  if (!repeatable_ || !sampled_ || last_index != previous_last_index_) {
    return false;
  }
  CHRONIK_CHECK_GE(now_ms, previous_sample_ms_) << "time went back";
  // What Observe does with the same sample: every follower listed is
  // caught up now.
  for (auto& [id, caught_up] : caught_up_ms_) {
    caught_up = std::max(caught_up, now_ms);
  }
  previous_sample_ms_ = now_ms;
  return true;
}

bool IsrTracker::Hold(int64_t now_ms, uint64_t last_index) {
  if (!Repeat(now_ms, last_index)) return false;
  holding_ = true;
  return true;
}

void IsrTracker::Release(int64_t last_sample_ms) {
  CHRONIK_CHECK(holding_) << "Release without Hold";
  holding_ = false;
  CHRONIK_CHECK(Repeat(last_sample_ms, previous_last_index_))
      << "a hold stands for steady samples";
}

void IsrTracker::Observe(int64_t now_ms, uint64_t last_index,
                         const std::vector<FollowerSample>& followers,
                         bool steady) {
  CHRONIK_CHECK(!holding_) << "a sample while holding";
  CHRONIK_CHECK_GE(now_ms, previous_sample_ms_) << "time went back";
  bool all_caught_up = true;
  size_t caught_up_now = 0;
  for (const FollowerSample& follower : followers) {
    if (!follower.active ||
        !std::binary_search(followers_.begin(), followers_.end(),
                            follower.id)) {
      continue;
    }
    int64_t caught_up = -1;
    if (follower.match >= last_index) {
      ++caught_up_now;
      caught_up = now_ms;
    } else if (sampled_ && follower.match >= previous_last_index_) {
      caught_up = previous_sample_ms_;
    }
    if (caught_up < 0) continue;
    auto [it, inserted] = caught_up_ms_.emplace(follower.id, caught_up);
    if (!inserted) it->second = std::max(it->second, caught_up);
  }
  for (const FollowerSample& follower : followers) {
    if (std::binary_search(followers_.begin(), followers_.end(), follower.id) &&
        (!follower.active || follower.match < last_index)) {
      all_caught_up = false;
    }
  }
  // Every entry of caught_up_ms_ was just set to now_ms (each follower
  // caught up has one; they are the same set when the counts agree).
  repeatable_ =
      steady && all_caught_up && caught_up_now == caught_up_ms_.size();
  sampled_ = true;
  previous_last_index_ = last_index;
  previous_sample_ms_ = now_ms;
}

std::vector<uint64_t> IsrTracker::Isr(int64_t now_ms,
                                      int64_t lag_max_ms) const {
  CHRONIK_CHECK_GT(term_, 0u) << "Isr() before Start()";
  std::vector<uint64_t> isr = {self_};
  for (const auto& [id, caught_up] : caught_up_ms_) {
    // Holding: caught up at every sample since (see Hold).
    if (holding_ || now_ms - caught_up <= lag_max_ms) isr.push_back(id);
  }
  std::sort(isr.begin(), isr.end());
  return isr;
}

}  // namespace chronik::partition
