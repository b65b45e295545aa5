// Seeded randomness for the simulator: one 64-bit seed, many named sub-streams.
//
// Every random choice of a run comes from the run's seed through a named stream
// ("network", "disk", "faults", "workload", ...). A stream's seed is a hash of
// the run seed and the stream's name, so adding a new stream (a new fault kind)
// does not shift the numbers any other stream produces. The generator is
// xoshiro256** seeded through SplitMix64: fast, small, with well-understood
// statistics, and entirely defined here so results do not depend on the
// standard library's distributions.
//
// Rng is a value type; not thread-safe (the simulator is single-threaded).
#ifndef CHRONIK_SIM_RANDOM_H_
#define CHRONIK_SIM_RANDOM_H_

#include <cstdint>
#include <string_view>

namespace chronik::sim {

// One step of SplitMix64: advances `state` and returns a well-mixed 64-bit
// value.
uint64_t SplitMix64(uint64_t& state);

// FNV-1a over the bytes of `text`.
uint64_t Fnv1a64(std::string_view text);

// The seed of stream `name` within a run seeded with `seed`.
uint64_t StreamSeed(uint64_t seed, std::string_view name);

class Rng {
 public:
  explicit Rng(uint64_t seed);
  // The generator for stream `name` of run `seed`.
  static Rng Stream(uint64_t seed, std::string_view name) {
    return Rng(StreamSeed(seed, name));
  }

  uint64_t Next();

  // UniformRandomBitGenerator, so an Rng can be passed as absl::BitGenRef.
  using result_type = uint64_t;
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return UINT64_MAX; }
  uint64_t operator()() { return Next(); }
  // Uniform in [0, bound); bound > 0. Uses rejection so there is no modulo
  // bias.
  uint64_t Below(uint64_t bound);
  // Uniform in [low, high], inclusive; low <= high.
  int64_t Between(int64_t low, int64_t high);
  // Uniform in [0, 1) with 53 random bits.
  double Unit();
  // True with probability `p` (p <= 0: never, p >= 1: always, no draw either
  // way).
  bool Chance(double p);

 private:
  uint64_t s_[4];
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_RANDOM_H_
