#include "sim/scheduler.h"

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
  CHRONIK_CHECK_LT(queue_.size(), max_pending_events_)
      << "event queue overflow: the scenario schedules without bound";
  const EventId id = next_id_++;
  queue_.push(Event{time, id, std::move(fn)});
  return id;
}

void Scheduler::Cancel(EventId id) {
  CHRONIK_CHECK_LT(id, next_id_);
  cancelled_.insert(id);
}

bool Scheduler::Step() {
  while (!queue_.empty()) {
    // priority_queue::top is const; the closure is moved out before pop.
    Event event = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    if (!cancelled_.empty() && cancelled_.erase(event.id) > 0) continue;
    CHRONIK_CHECK_GE(event.time, now_);
    now_ = event.time;
    ++events_run_;
    trace_->Fold(static_cast<uint64_t>(event.time));
    trace_->Fold(event.id);
    event.fn();
    return true;
  }
  return false;
}

bool Scheduler::RunUntil(Nanos deadline) {
  CHRONIK_CHECK_GE(deadline, now_);
  while (!queue_.empty() && queue_.top().time <= deadline) {
    if (trace_->stop_requested()) return false;
    Step();
  }
  if (trace_->stop_requested()) return false;
  now_ = deadline;
  return true;
}

}  // namespace chronik::sim
