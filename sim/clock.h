// A node's local clock in the simulated world: drifts and jumps relative to
// global simulated time.
//
// local(global) = anchor_local + (global - anchor_global) * (1e6 + drift_ppm) /
// 1e6. Changing the drift or jumping re-anchors the clock at the current global
// time, so the local clock is continuous except across an explicit jump. Drift
// is bounded by kMaxDriftPpm (a clock running backwards or stopping is a jump,
// not a drift). Value type; not thread-safe.
#ifndef CHRONIK_SIM_CLOCK_H_
#define CHRONIK_SIM_CLOCK_H_

#include <cstdint>

#include "sim/time.h"

namespace chronik::sim {

class NodeClock {
 public:
  static constexpr int64_t kMaxDriftPpm = 500000;  // at most 50% fast or slow

  NodeClock() = default;
  NodeClock(Nanos global_now, int64_t drift_ppm) {
    SetDrift(global_now, drift_ppm);
  }

  // The node's reading of its clock at global time `global`.
  Nanos Local(Nanos global) const;
  // Global time that passes while this clock advances by `local_delay` (>= 0),
  // rounded up so a timer never fires early by its own clock.
  Nanos GlobalDelay(Nanos local_delay) const;

  void SetDrift(Nanos global_now, int64_t drift_ppm);
  // The local clock jumps by `delta` (either sign) at global time `global_now`.
  void Jump(Nanos global_now, Nanos delta);

  int64_t drift_ppm() const { return drift_ppm_; }

 private:
  Nanos anchor_global_ = 0;
  Nanos anchor_local_ = 0;
  int64_t drift_ppm_ = 0;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_CLOCK_H_
