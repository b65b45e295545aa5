#include "sim/broker_faults.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

constexpr Nanos kPhase = 20 * kSecond;

TEST(BrokerFaultsTest, EveryKindHasAUniqueNameThatParsesBack) {
  std::set<std::string> names;
  for (int k = 0; k < kBrokerFaultKinds; ++k) {
    const auto kind = static_cast<BrokerFaultKind>(k);
    const std::string name(BrokerFaultName(kind));
    EXPECT_TRUE(names.insert(name).second) << name;
    absl::StatusOr<BrokerFaultKind> parsed = ParseBrokerFaultKind(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_FALSE(ParseBrokerFaultKind("meteor").ok());
}

TEST(BrokerFaultsTest, PlansAreSequentialWithinThePhaseAndDeterministic) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const auto plan = MakeBrokerFaultPlan(seed, 3, 4, kPhase);
    EXPECT_EQ(plan, MakeBrokerFaultPlan(seed, 3, 4, kPhase));
    Nanos previous_end = 0;
    for (const BrokerFault& fault : plan) {
      EXPECT_GE(fault.start, previous_end) << DescribeBrokerFault(fault);
      EXPECT_GT(fault.duration, 0);
      EXPECT_LE(fault.start + fault.duration, kPhase);
      EXPECT_TRUE(fault.node >= 0 && fault.node < 3);
      EXPECT_TRUE(fault.partition >= 0 && fault.partition < 4);
      previous_end = fault.start + fault.duration;
    }
  }
}

TEST(BrokerFaultsTest, SwarmVariesTheMixAndEveryKindIsDrawnSomewhere) {
  std::set<BrokerFaultKind> seen;
  std::set<size_t> mix_sizes;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    const auto swarm = ChooseBrokerSwarm(seed);
    ASSERT_FALSE(swarm.empty());
    mix_sizes.insert(swarm.size());
    const std::set<BrokerFaultKind> on(swarm.begin(), swarm.end());
    for (const BrokerFault& fault : MakeBrokerFaultPlan(seed, 3, 3, kPhase)) {
      EXPECT_EQ(on.count(fault.kind), 1u) << DescribeBrokerFault(fault);
      seen.insert(fault.kind);
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kBrokerFaultKinds));
  EXPECT_GT(mix_sizes.size(), 5u);
}

TEST(BrokerFaultsTest, TextFormRoundTrips) {
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    const auto plan = MakeBrokerFaultPlan(seed, 5, 8, kPhase);
    const std::string text = FormatBrokerFaultPlan(plan);
    absl::StatusOr<std::vector<BrokerFault>> parsed =
        ParseBrokerFaultPlan(text, 5, 8);
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
    EXPECT_EQ(*parsed, plan) << text;
  }
  EXPECT_TRUE(ParseBrokerFaultPlan("none", 3, 3)->empty());
  EXPECT_TRUE(ParseBrokerFaultPlan("", 3, 3)->empty());
}

TEST(BrokerFaultsTest, BadTextNamesTheItemAndTheProblem) {
  auto bad = ParseBrokerFaultPlan("crash@1000:4:0:300000:0", 3, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("node 4 is not in 1..3"),
            std::string::npos)
      << bad.status();
  bad = ParseBrokerFaultPlan("crash@1000:1:0:300000:0;meteor@1:1:0:1:0", 3, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("meteor"), std::string::npos);
  bad = ParseBrokerFaultPlan("loss@1000:1:0:300000:2000", 3, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("value 2000 of loss"),
            std::string::npos)
      << bad.status();
  EXPECT_FALSE(ParseBrokerFaultPlan("crash@x:1:0:1:0", 3, 3).ok());
  EXPECT_FALSE(ParseBrokerFaultPlan("crash@1:1:0:0:0", 3, 3).ok());
}

TEST(BrokerFaultsTest, DescriptionNamesKindTargetValueAndDuration) {
  BrokerFault fault;
  fault.kind = BrokerFaultKind::kDiskErrors;
  fault.start = 2 * kSecond;
  fault.duration = kSecond;
  fault.node = 1;
  fault.value = 25;
  const std::string text = DescribeBrokerFault(fault);
  EXPECT_NE(text.find("disk_errors n2 25 per mille, for "), std::string::npos)
      << text;
  fault.kind = BrokerFaultKind::kCrash;
  EXPECT_NE(DescribeBrokerFault(fault).find("crash n2, restart after"),
            std::string::npos);
}

}  // namespace
}  // namespace chronik::sim
