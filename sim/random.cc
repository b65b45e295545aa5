#include "sim/random.h"

#include "base/check.h"

namespace chronik::sim {
namespace {

uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t SplitMix64(uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Fnv1a64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

uint64_t StreamSeed(uint64_t seed, std::string_view name) {
  // Mix the seed first so that seeds 1 and 2 do not give related streams.
  uint64_t state = seed;
  uint64_t mixed = SplitMix64(state);
  state = mixed ^ Fnv1a64(name);
  return SplitMix64(state);
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& word : s_) word = SplitMix64(state);
}

uint64_t Rng::Next() {
  const uint64_t result = RotateLeft(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = RotateLeft(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t bound) {
  CHRONIK_CHECK_GT(bound, 0u);
  // Reject the top partial bucket so every value is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  constexpr int kMaxDraws = 1000;  // the chance of needing >1 draw is < 1/2
  for (int draw = 0; draw < kMaxDraws; ++draw) {
    const uint64_t value = Next();
    if (value < limit) return value % bound;
  }
  CHRONIK_CHECK(false) << "rejection sampling did not terminate";
  return 0;
}

int64_t Rng::Between(int64_t low, int64_t high) {
  CHRONIK_CHECK_LE(low, high);
  const uint64_t span =
      static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  if (span == UINT64_MAX) return static_cast<int64_t>(Next());
  return static_cast<int64_t>(static_cast<uint64_t>(low) + Below(span + 1));
}

double Rng::Unit() {
  return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0);
}

bool Rng::Chance(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return Unit() < p;
}

}  // namespace chronik::sim
