#include "sim/clock.h"

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

TEST(NodeClockTest, NoDriftFollowsGlobalTime) {
  NodeClock clock;
  EXPECT_EQ(clock.Local(5 * kSecond), 5 * kSecond);
  EXPECT_EQ(clock.GlobalDelay(kMillisecond), kMillisecond);
}

TEST(NodeClockTest, DriftScalesElapsedTime) {
  NodeClock clock{0, 100000};  // 10% fast
  EXPECT_EQ(clock.Local(10 * kSecond), 11 * kSecond);
  // 11 local ms take 10 global ms.
  EXPECT_EQ(clock.GlobalDelay(11 * kMillisecond), 10 * kMillisecond);
  NodeClock slow(0, -500000);  // half speed
  EXPECT_EQ(slow.Local(2 * kSecond), kSecond);
  EXPECT_EQ(slow.GlobalDelay(kSecond), 2 * kSecond);
}

TEST(NodeClockTest, GlobalDelayNeverFiresEarly) {
  NodeClock clock{0, 333333};
  for (Nanos d : {Nanos{1}, Nanos{7}, Nanos{999}, 10 * kMillisecond}) {
    EXPECT_GE(clock.Local(clock.GlobalDelay(d)), d);
  }
}

TEST(NodeClockTest, DriftChangeIsContinuous) {
  NodeClock clock{0, 100000};
  const Nanos before = clock.Local(kSecond);
  clock.SetDrift(kSecond, -100000);
  EXPECT_EQ(clock.Local(kSecond), before);
  EXPECT_EQ(clock.Local(2 * kSecond), before + 900 * kMillisecond);
}

TEST(NodeClockTest, LongRunsDoNotOverflow) {
  // Beyond what 64-bit intermediate products hold (~1.5 h at 50% fast).
  NodeClock clock{0, 500000};
  const Nanos ten_days = 10 * 24 * 3600 * kSecond;
  EXPECT_EQ(clock.Local(ten_days), ten_days + ten_days / 2);
  EXPECT_EQ(clock.GlobalDelay(ten_days + ten_days / 2), ten_days);
}

TEST(NodeClockTest, JumpsMoveTheClockBothWays) {
  NodeClock clock;
  clock.Jump(kSecond, 5 * kSecond);
  EXPECT_EQ(clock.Local(kSecond), 6 * kSecond);
  clock.Jump(2 * kSecond, -4 * kSecond);
  EXPECT_EQ(clock.Local(2 * kSecond), 3 * kSecond);
}

}  // namespace
}  // namespace chronik::sim
