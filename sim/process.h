// The lifecycle of one simulated node process: running, paused, crashed or
// stopped.
//
// Every start gives the process a new incarnation number. Events a node
// schedules for itself (timer ticks, fsync completions, deliveries) carry the
// incarnation they were scheduled in and are dropped when it no longer matches:
// a crash or stop makes all of the old process's pending work vanish, as it
// would with a real process. A pause (a long GC stall) keeps the incarnation;
// work arriving while paused is deferred to the end of the pause by the caller
// (see DeferUntil). Value type; not thread-safe.
#ifndef CHRONIK_SIM_PROCESS_H_
#define CHRONIK_SIM_PROCESS_H_

#include <algorithm>
#include <cstdint>

#include "base/check.h"
#include "sim/time.h"

namespace chronik::sim {

enum class ProcessState { kDown, kRunning, kCrashed, kStopped };

class Process {
 public:
  ProcessState state() const { return state_; }
  uint64_t incarnation() const { return incarnation_; }
  bool running() const { return state_ == ProcessState::kRunning; }

  // True when work scheduled under `incarnation` should still run.
  bool Current(uint64_t incarnation) const {
    return running() && incarnation == incarnation_;
  }

  void Start() {
    CHRONIK_CHECK(state_ != ProcessState::kRunning) << "already running";
    state_ = ProcessState::kRunning;
    ++incarnation_;
    paused_until_ = 0;
  }
  // Crash: volatile state is gone; the caller discards it and unsynced disk
  // data.
  void Crash() {
    CHRONIK_CHECK(running());
    state_ = ProcessState::kCrashed;
  }
  // Clean stop: the caller flushes what it must before calling.
  void Stop() {
    CHRONIK_CHECK(running());
    state_ = ProcessState::kStopped;
  }
  void Pause(Nanos until) {
    CHRONIK_CHECK(running());
    paused_until_ = std::max(paused_until_, until);
  }
  bool Paused(Nanos now) const { return running() && now < paused_until_; }
  // When work arriving at `now` may run: now, or the end of a pause.
  Nanos DeferUntil(Nanos now) const { return std::max(now, paused_until_); }

 private:
  ProcessState state_ = ProcessState::kDown;
  uint64_t incarnation_ = 0;
  Nanos paused_until_ = 0;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_PROCESS_H_
