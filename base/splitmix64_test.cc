#include "base/splitmix64.h"

#include "gtest/gtest.h"

namespace chronik {
namespace {

// Values of Vigna's reference splitmix64.c: the sequence must never change
// (simulator seeds and golden transcripts depend on it).
TEST(SplitMix64Test, MatchesTheReferenceSequence) {
  SplitMix64 rng(0);
  EXPECT_EQ(rng.Next(), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(rng.Next(), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(rng.Next(), 0x06C45D188009454Full);
}

TEST(SplitMix64Test, GeneratorIsMixOfTheAdvancingState) {
  SplitMix64 rng(12345);
  EXPECT_EQ(rng.Next(), splitmix64::Mix(12345 + splitmix64::kGamma));
  EXPECT_EQ(rng.Next(), splitmix64::Mix(12345 + 2 * splitmix64::kGamma));
  static_assert(splitmix64::Mix(0) == 0);
}

}  // namespace
}  // namespace chronik
