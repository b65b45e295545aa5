// The discrete-event scheduler at the heart of the simulator.
//
// One thread, one global simulated clock (`now()`), a queue of events ordered
// by (time, sequence number). The sequence number is assigned when an event is
// scheduled, so events at one instant run in the order they were scheduled:
// ties are broken deterministically, never by container or pointer order.
// Running an event advances `now()` to its time and folds (time, sequence) into
// the trace hash.
//
// Events are closures. Cancelling is lazy (the event stays queued and is
// skipped). The queue is bounded by `max_pending_events`: exceeding it is a
// broken invariant of the scenario (an event storm), not an environment error.
// Not thread-safe.
#ifndef CHRONIK_SIM_SCHEDULER_H_
#define CHRONIK_SIM_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "sim/time.h"
#include "sim/trace.h"

namespace chronik::sim {

class Scheduler {
 public:
  using EventId = uint64_t;
  static constexpr size_t kDefaultMaxPendingEvents = 1 << 20;

  explicit Scheduler(Trace* trace,
                     size_t max_pending_events = kDefaultMaxPendingEvents);

  Nanos now() const { return now_; }

  // Schedules `fn` at absolute time `time` (>= now()).
  EventId At(Nanos time, std::function<void()> fn);
  // Schedules `fn` `delay` (>= 0) after now().
  EventId After(Nanos delay, std::function<void()> fn) {
    return At(now_ + delay, std::move(fn));
  }
  // The event will not run. Cancelling an event that already ran is a no-op.
  void Cancel(EventId id);

  // Runs the next event; false when the queue is empty.
  bool Step();
  // Runs every event with time <= `deadline`, then sets now() to `deadline`.
  // Returns early (false) if the trace asks to stop.
  bool RunUntil(Nanos deadline);

  // Time of the earliest queued event (which may be cancelled); now() when
  // empty.
  Nanos next_time() const { return heap_.empty() ? now_ : heap_.front().time; }

  uint64_t events_run() const { return events_run_; }
  size_t pending() const { return heap_.size(); }

 private:
  // The queue orders small keys; the closures stay put in a slab so that heap
  // moves copy 24 bytes, not a std::function.
  struct Key {
    Nanos time;
    EventId id;  // also the sequence number
    uint32_t slot;
  };
  struct Later {
    bool operator()(const Key& a, const Key& b) const {
      return a.time != b.time ? a.time > b.time : a.id > b.id;
    }
  };

  Trace* trace_;
  size_t max_pending_events_;
  Nanos now_ = 0;
  EventId next_id_ = 1;
  uint64_t events_run_ = 0;
  std::vector<Key> heap_;  // a binary heap under Later
  std::vector<std::function<void()>> slots_;
  std::vector<uint32_t> free_slots_;
  absl::flat_hash_set<EventId> cancelled_;  // only looked up, never iterated
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_SCHEDULER_H_
