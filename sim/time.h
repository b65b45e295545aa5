// Simulated time for the deterministic simulator.
//
// All simulated time is an integer count of nanoseconds since the start of a
// run (`Nanos`). Integers, not doubles, so that arithmetic is exact and
// identical on every machine; ties between events at one instant are broken by
// the scheduler's sequence numbers, never by time resolution. Header-only, no
// state.
#ifndef CHRONIK_SIM_TIME_H_
#define CHRONIK_SIM_TIME_H_

#include <cstdint>
#include <string>

namespace chronik::sim {

using Nanos = int64_t;

inline constexpr Nanos kMicrosecond = 1000;
inline constexpr Nanos kMillisecond = 1000 * kMicrosecond;
inline constexpr Nanos kSecond = 1000 * kMillisecond;

// "12.345678s": seconds with microsecond precision, for traces and headers.
std::string FormatTime(Nanos t);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_TIME_H_
