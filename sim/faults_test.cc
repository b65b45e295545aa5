#include "sim/faults.h"

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

TEST(FaultsTest, SwarmChoiceIsAFunctionOfTheSeed) {
  EXPECT_EQ(ChooseSwarm(5).Describe(), ChooseSwarm(5).Describe());
  int distinct = 0;
  for (uint64_t seed = 1; seed < 20; ++seed) {
    distinct +=
        ChooseSwarm(seed).Describe() != ChooseSwarm(seed + 1).Describe();
  }
  EXPECT_GT(distinct, 15);
}

TEST(FaultsTest, SwarmTurnsKindsOnAndOff) {
  int on = 0, total = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SwarmChoice choice = ChooseSwarm(seed);
    for (int k = 0; k < kFaultKinds; ++k) {
      on += choice.enabled[k];
      ++total;
      EXPECT_EQ(choice.enabled[k], choice.count[k] > 0);
    }
  }
  EXPECT_GT(on, total / 3);
  EXPECT_LT(on, 2 * total / 3);
}

TEST(FaultsTest, DisablingOneKindDoesNotMoveTheOthers) {
  SwarmChoice choice = ChooseSwarm(11);
  choice.enabled.fill(true);
  choice.count.fill(2);
  std::vector<Fault> all = GenerateSchedule(11, choice, 3, 20 * kSecond);
  choice.enabled[static_cast<int>(FaultKind::kCrash)] = false;
  std::vector<Fault> fewer = GenerateSchedule(11, choice, 3, 20 * kSecond);
  std::vector<Fault> expected;
  for (const Fault& f : all) {
    if (f.kind != FaultKind::kCrash) expected.push_back(f);
  }
  EXPECT_EQ(fewer, expected);
}

TEST(FaultsTest, ScheduleIsSortedAndWithinThePhase) {
  SwarmChoice choice;
  choice.enabled.fill(true);
  choice.count.fill(3);
  std::vector<Fault> faults = GenerateSchedule(3, choice, 5, 10 * kSecond);
  ASSERT_EQ(faults.size(), 3u * kFaultKinds);
  for (size_t i = 0; i < faults.size(); ++i) {
    EXPECT_GE(faults[i].at, 0);
    EXPECT_LT(faults[i].at, 10 * kSecond);
    EXPECT_LT(faults[i].node, 5);
    if (i > 0) {
      EXPECT_LE(faults[i - 1].at, faults[i].at);
    }
  }
}

TEST(FaultsTest, TextFormRoundTrips) {
  SwarmChoice choice;
  choice.enabled.fill(true);
  choice.count.fill(1);
  std::vector<Fault> faults = GenerateSchedule(8, choice, 3, 10 * kSecond);
  // Generated times are whole microseconds, so the text form is exact.
  const std::string text = FormatSchedule(faults);
  absl::StatusOr<std::vector<Fault>> parsed = ParseSchedule(text, 3);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, faults);
  EXPECT_TRUE(ParseSchedule("", 3)->empty());
}

TEST(FaultsTest, BadTextIsAnError) {
  EXPECT_FALSE(ParseSchedule("meteor@1:0:-1:0:0", 3).ok());
  EXPECT_FALSE(ParseSchedule("crash@1:0:-1", 3).ok());
  EXPECT_FALSE(ParseSchedule("crash@x:0:-1:0:0", 3).ok());
  EXPECT_FALSE(ParseSchedule("crash@1:7:-1:0:0", 3).ok());
  EXPECT_FALSE(ParseSchedule("crash", 3).ok());
}

}  // namespace
}  // namespace chronik::sim
