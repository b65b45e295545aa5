// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014; the constants are those of Vigna's reference code): the
// one seeded generator of deterministic code, and its finalizer.
//
// `Mix(z)` is the finalizer: a bijection on 64-bit values that spreads every
// input bit over the whole output (used alone to derive decorrelated seeds,
// e.g. one per Raft group from a node's seed). `SplitMix64` is the generator:
// its state advances by the golden-ratio increment `kGamma` and each output is
// Mix(state). The sequence for a seed is fixed forever: simulator seeds,
// golden transcripts and fuzz corpora depend on it, so never change a
// constant here.
//
// Pure, header-only, no state beyond the object; not thread-safe (one object
// per user).
#ifndef CHRONIK_BASE_SPLITMIX64_H_
#define CHRONIK_BASE_SPLITMIX64_H_

#include <cstdint>

namespace chronik::splitmix64 {

// 2^64 / golden ratio, odd: the generator's increment.
inline constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;

// The finalizer (Stafford's "Mix13" variant).
constexpr uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace chronik::splitmix64

namespace chronik {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return splitmix64::Mix(state_ += splitmix64::kGamma); }

 private:
  uint64_t state_;
};

}  // namespace chronik

#endif  // CHRONIK_BASE_SPLITMIX64_H_
