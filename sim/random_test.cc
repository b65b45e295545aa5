#include "sim/random.h"

#include <set>

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

TEST(RngTest, SameSeedSameSequence) {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(RngTest, DifferentSeedsDiffer) {
  Rng a(1), b(2);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += a.Next() == b.Next();
  EXPECT_EQ(equal, 0);
}

TEST(RngTest, StreamsAreIndependentOfEachOther) {
  // A stream's numbers depend only on (seed, name), not on other streams' use.
  Rng network = Rng::Stream(7, "network");
  Rng disk = Rng::Stream(7, "disk");
  for (int i = 0; i < 50; ++i) disk.Next();
  Rng network_again = Rng::Stream(7, "network");
  EXPECT_EQ(network.Next(), network_again.Next());
  EXPECT_NE(StreamSeed(7, "network"), StreamSeed(7, "disk"));
  EXPECT_NE(StreamSeed(7, "network"), StreamSeed(8, "network"));
}

TEST(RngTest, BoundsHold) {
  Rng rng(3);
  std::set<int64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    const int64_t v = rng.Between(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    seen.insert(v);
    ASSERT_LT(rng.Below(10), 10u);
    const double u = rng.Unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_FALSE(rng.Chance(0.0));
  EXPECT_TRUE(rng.Chance(1.0));
}

TEST(RngTest, ChanceIsRoughlyCalibrated) {
  Rng rng(9);
  int hits = 0;
  for (int i = 0; i < 10000; ++i) hits += rng.Chance(0.25);
  EXPECT_GT(hits, 2200);
  EXPECT_LT(hits, 2800);
}

}  // namespace
}  // namespace chronik::sim
