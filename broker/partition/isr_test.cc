#include "broker/partition/isr.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::partition {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kLag = 30'000;
constexpr int64_t kTick = 50;

// Leader 1 of replicas {1, 2, 3}, started at time 0 with ISR {1, 2, 3}.
class IsrTrackerTest : public ::testing::Test {
 protected:
  IsrTrackerTest() { tracker_.Start(5, 1, {1, 2, 3}, {}, 0); }
  IsrTracker tracker_;
};

TEST_F(IsrTrackerTest, AStoppedFollowerLeavesAfterTheLagTime) {
  // 3 keeps up; 2 stops at index 10 while the leader appends on.
  int64_t t = 0;
  for (uint64_t last = 10; t <= kLag; t += kTick, ++last) {
    tracker_.Observe(t, last, {{2, 10, false}, {3, last, true}});
  }
  EXPECT_THAT(tracker_.Isr(kLag, kLag), ElementsAre(1, 2, 3))
      << "2 was caught up at 0";
  EXPECT_THAT(tracker_.Isr(kLag + 1, kLag), ElementsAre(1, 3));
}

TEST_F(IsrTrackerTest, SilenceWithoutWritesStillCountsAsLag) {
  // No new entries: 2's match stays equal to the last index, but 2 is not
  // heard from (a dead follower of an idle partition).
  for (int64_t t = 0; t <= 2 * kLag; t += kTick) {
    tracker_.Observe(t, 10, {{2, 10, false}, {3, 10, true}});
  }
  EXPECT_THAT(tracker_.Isr(2 * kLag, kLag), ElementsAre(1, 3));
}

TEST_F(IsrTrackerTest, AFollowerThatCatchesUpRejoins) {
  tracker_.Observe(0, 10, {{2, 0, true}, {3, 10, true}});
  tracker_.Observe(kLag + 100, 500, {{2, 0, true}, {3, 500, true}});
  EXPECT_THAT(tracker_.Isr(kLag + 100, kLag), ElementsAre(1, 3));
  // 2 reaches the previous sample's last index (500) while the leader has
  // moved on to 520: caught up as of the previous sample.
  tracker_.Observe(kLag + 150, 520, {{2, 500, true}, {3, 520, true}});
  EXPECT_THAT(tracker_.Isr(kLag + 150, kLag), ElementsAre(1, 2, 3));
}

TEST_F(IsrTrackerTest, AFollowerAlwaysBehindUnderLoadLeaves) {
  // 2 is heard from but never reaches even the previous sample's last index.
  uint64_t last = 100;
  for (int64_t t = 0; t <= kLag + kTick; t += kTick, last += 100) {
    tracker_.Observe(t, last, {{2, last - 150, true}, {3, last, true}});
  }
  EXPECT_THAT(tracker_.Isr(kLag + kTick, kLag), ElementsAre(1, 3));
}

// A quiesced leader's ticks: Repeat stands for the same sample, as Observe
// would take it, and refuses what it cannot stand for.
TEST_F(IsrTrackerTest, RepeatStandsForASteadySample) {
  IsrTracker observed = tracker_;
  EXPECT_FALSE(tracker_.Repeat(0, 10)) << "no sample yet";
  tracker_.Observe(0, 10, {{2, 10, true}, {3, 10, true}}, /*steady=*/true);
  observed.Observe(0, 10, {{2, 10, true}, {3, 10, true}}, true);
  for (int64_t t = kTick; t <= 3 * kLag; t += kTick) {
    ASSERT_TRUE(tracker_.Repeat(t, 10)) << t;
    observed.Observe(t, 10, {{2, 10, true}, {3, 10, true}}, true);
    ASSERT_EQ(tracker_.Isr(t, kLag), observed.Isr(t, kLag)) << t;
  }
  EXPECT_THAT(tracker_.Isr(3 * kLag, kLag), ElementsAre(1, 2, 3));
  EXPECT_FALSE(tracker_.Repeat(3 * kLag + kTick, 11)) << "the log moved";
  // Not steady, or a follower behind or inactive: no repeat.
  tracker_.Observe(3 * kLag + kTick, 11, {{2, 11, true}, {3, 11, true}});
  EXPECT_FALSE(tracker_.Repeat(3 * kLag + 2 * kTick, 11));
  tracker_.Observe(3 * kLag + 2 * kTick, 11, {{2, 11, true}, {3, 11, false}},
                   true);
  EXPECT_FALSE(tracker_.Repeat(3 * kLag + 3 * kTick, 11));
  tracker_.Start(6, 1, {1, 2, 3}, {}, 3 * kLag + 3 * kTick);
  EXPECT_FALSE(tracker_.Repeat(3 * kLag + 4 * kTick, 11)) << "restarted";
}

// A hold stands for Repeat at every tick until it is released: the ISR it
// reports meanwhile, and after the release, is what repeating gives.
TEST_F(IsrTrackerTest, HoldStandsForEveryLaterSampleUntilReleased) {
  IsrTracker repeated = tracker_;
  EXPECT_FALSE(tracker_.Hold(0, 10)) << "no sample yet";
  for (IsrTracker* t : {&tracker_, &repeated}) {
    t->Observe(0, 10, {{2, 10, true}, {3, 10, true}}, /*steady=*/true);
  }
  ASSERT_TRUE(tracker_.Hold(kTick, 10));
  EXPECT_TRUE(tracker_.holding());
  const int64_t last_tick = 3 * kLag;
  for (int64_t t = kTick; t <= last_tick; t += kTick) {
    ASSERT_TRUE(repeated.Repeat(t, 10));
    ASSERT_EQ(tracker_.Isr(t, kLag), repeated.Isr(t, kLag)) << t;
  }
  EXPECT_THAT(tracker_.Isr(last_tick, kLag), ElementsAre(1, 2, 3))
      << "a held follower does not age out";
  // Woken: the log moved and follower 3 stopped; both see it leave the ISR
  // once the lag passed since the last sample the hold stood for.
  tracker_.Release(last_tick);
  EXPECT_FALSE(tracker_.holding());
  for (int64_t t = last_tick + kTick; t <= last_tick + 2 * kLag; t += kTick) {
    for (IsrTracker* tr : {&tracker_, &repeated}) {
      tr->Observe(t, 11, {{2, 11, true}, {3, 10, false}});
    }
    ASSERT_EQ(tracker_.Isr(t, kLag), repeated.Isr(t, kLag)) << t;
  }
  EXPECT_THAT(tracker_.Isr(last_tick + 2 * kLag, kLag), ElementsAre(1, 2));
  EXPECT_FALSE(tracker_.Hold(last_tick + 2 * kLag + kTick, 11)) << "not steady";
}

TEST(IsrTrackerStartTest, ANewLeaderStartsFromTheCommittedIsr) {
  IsrTracker tracker;
  tracker.Start(7, 2, {1, 2, 3}, {2, 3}, 1'000);
  EXPECT_EQ(tracker.term(), 7u);
  EXPECT_THAT(tracker.Isr(1'000, kLag), ElementsAre(2, 3))
      << "1 was out of sync under the previous leader";
  // Progress right after an election: match 0 until the first responses.
  tracker.Observe(1'050, 40, {{1, 0, true}, {3, 0, true}});
  EXPECT_THAT(tracker.Isr(1'050, kLag), ElementsAre(2, 3));
  tracker.Observe(1'100, 40, {{1, 40, true}, {3, 40, true}});
  EXPECT_THAT(tracker.Isr(1'100, kLag), ElementsAre(1, 2, 3));
  // Followers that are not replicas never count.
  tracker.Observe(1'150, 40, {{9, 40, true}});
  EXPECT_THAT(tracker.Isr(1'150, kLag), ElementsAre(1, 2, 3));
}

}  // namespace
}  // namespace chronik::partition
