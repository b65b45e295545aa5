#include "sim/scheduler.h"

#include <algorithm>

#include "base/check.h"

namespace chronik::sim {

Scheduler::Scheduler(Trace* trace, size_t max_pending_events)
    : trace_(trace), max_pending_events_(max_pending_events) {
  CHRONIK_CHECK(trace_ != nullptr);
  CHRONIK_CHECK_GT(max_pending_events_, 0u);
}

Scheduler::EventId Scheduler::At(Nanos time, std::function<void()> fn) {
  CHRONIK_CHECK_GE(time, now_) << "cannot schedule in the past";
  CHRONIK_CHECK(fn != nullptr);
  CHRONIK_CHECK_LT(heap_.size(), max_pending_events_)
      << "event queue overflow: the scenario schedules without bound";
  const EventId id = next_id_++;
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(std::move(fn));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = std::move(fn);
  }
  heap_.push_back(Key{time, id, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later());
  return id;
}

void Scheduler::Cancel(EventId id) {
  CHRONIK_CHECK_LT(id, next_id_);
  cancelled_.insert(id);
}

bool Scheduler::Step() {
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), Later());
    const Key key = heap_.back();
    heap_.pop_back();
    std::function<void()> fn = std::move(slots_[key.slot]);
    slots_[key.slot] = nullptr;
    free_slots_.push_back(key.slot);
    if (!cancelled_.empty() && cancelled_.erase(key.id) > 0) continue;
    CHRONIK_CHECK_GE(key.time, now_);
    now_ = key.time;
    ++events_run_;
    trace_->Fold(static_cast<uint64_t>(key.time));
    trace_->Fold(key.id);
    fn();
    return true;
  }
  return false;
}

bool Scheduler::RunUntil(Nanos deadline) {
  CHRONIK_CHECK_GE(deadline, now_);
  while (!heap_.empty() && heap_.front().time <= deadline) {
    if (trace_->stop_requested()) return false;
    Step();
  }
  if (trace_->stop_requested()) return false;
  now_ = deadline;
  return true;
}

}  // namespace chronik::sim
