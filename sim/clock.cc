#include "sim/clock.h"

#include "base/check.h"

namespace chronik::sim {
namespace {
constexpr int64_t kPpm = 1000000;
}

Nanos NodeClock::Local(Nanos global) const {
  const int64_t elapsed = global - anchor_global_;
  int64_t scaled;
  // 64-bit arithmetic covers runs of about an hour and a half; beyond, 128-bit.
  if (!__builtin_mul_overflow(elapsed, kPpm + drift_ppm_, &scaled)) {
    return anchor_local_ + scaled / kPpm;
  }
  return anchor_local_ + static_cast<Nanos>(static_cast<__int128>(elapsed) *
                                            (kPpm + drift_ppm_) / kPpm);
}

Nanos NodeClock::GlobalDelay(Nanos local_delay) const {
  CHRONIK_CHECK_GE(local_delay, 0);
  const int64_t rate = kPpm + drift_ppm_;
  int64_t scaled;
  if (!__builtin_mul_overflow(local_delay, kPpm, &scaled) &&
      scaled <= INT64_MAX - rate) {
    return (scaled + rate - 1) / rate;
  }
  const __int128 wide = static_cast<__int128>(local_delay) * kPpm;
  return static_cast<Nanos>((wide + rate - 1) / rate);
}

void NodeClock::SetDrift(Nanos global_now, int64_t drift_ppm) {
  CHRONIK_CHECK_LE(drift_ppm, kMaxDriftPpm);
  CHRONIK_CHECK_GE(drift_ppm, -kMaxDriftPpm);
  anchor_local_ = Local(global_now);
  anchor_global_ = global_now;
  drift_ppm_ = drift_ppm;
}

void NodeClock::Jump(Nanos global_now, Nanos delta) {
  anchor_local_ = Local(global_now) + delta;
  anchor_global_ = global_now;
}

}  // namespace chronik::sim
