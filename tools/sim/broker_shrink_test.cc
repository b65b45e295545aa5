#include "tools/sim/broker_shrink.h"

#include <string>

#include "gtest/gtest.h"
#include "sim/broker_bugs.h"

namespace chronik::sim::cli {
namespace {

int Clients(const BrokerRunShape& shape) {
  return shape.producers + shape.group_members;
}

Nanos FaultTime(const BrokerRunShape& shape) {
  Nanos total = 0;
  for (const BrokerFault& fault : shape.plan) total += fault.duration;
  return total;
}

TEST(BrokerShrinkTest, FailureRuleIsTheHeadBeforeTheColon) {
  EXPECT_EQ(FailureRule("LOST: partition 2 offset 107 value p1-151"), "LOST");
  EXPECT_EQ(FailureRule("INCONSISTENT OFFSET: p1-3 acknowledged at 4"),
            "INCONSISTENT OFFSET");
  EXPECT_EQ(FailureRule("never settles"), "never settles");
}

TEST(BrokerShrinkTest, ShapeSetsWorkloadAndKeepsPartitionFaultsInRange) {
  BrokerScenarioOptions options;
  BrokerRunShape shape;
  BrokerFault fault;
  fault.kind = BrokerFaultKind::kCrashPartitionLeader;
  fault.partition = 2;
  shape.plan = {fault};
  shape.producers = 1;
  shape.group_members = 0;
  shape.partitions = 2;
  const BrokerScenarioOptions shaped = WithShape(options, shape);
  EXPECT_EQ(shaped.producers, 1);
  EXPECT_EQ(shaped.group_members, 0);
  EXPECT_EQ(shaped.partitions, 2);
  ASSERT_TRUE(shaped.fault_plan.has_value());
  ASSERT_EQ(shaped.fault_plan->size(), 1u);
  EXPECT_EQ((*shaped.fault_plan)[0].partition, 0);
  const std::string replay = BrokerReplayCommand(options, "x", &shape);
  for (const char* part :
       {"--scenario=broker", "--seed=1", "--bug=x", "--schedule='",
        "--producers=1", "--group_members=0", "--partitions=2"}) {
    EXPECT_NE(replay.find(part), std::string::npos) << part << ": " << replay;
  }
}

// A seed the injected broker bug makes fail, shrunk within a small budget:
// the reduced run, re-run here, fails by the same rule, has no more faults
// and clients than the original, and strictly less of something.
TEST(BrokerShrinkTest, ShrinksAnInjectedBugSeedKeepingItsRule) {
  BrokerScenarioOptions options;
  ASSERT_TRUE(TakeBrokerBugs("ack_before_commit", &options).empty());
  BrokerScenarioResult found;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    options.seed = seed;
    found = RunBrokerScenario(options);
    if (!found.passed) break;
  }
  ASSERT_FALSE(found.passed) << "ack_before_commit failed no seed in 1..30";
  const std::string rule = FailureRule(found.failure);

  BrokerShrinkResult shrunk = ShrinkBrokerRun(
      options, [](const std::string&) {}, /*max_runs=*/25);
  ASSERT_TRUE(shrunk.failed);
  EXPECT_EQ(shrunk.rule, rule);
  EXPECT_EQ(shrunk.original_failure, found.failure);
  EXPECT_LE(shrunk.runs, 25);
  EXPECT_EQ(shrunk.original.plan.size(), found.fault_plan.size());

  const BrokerScenarioResult replayed =
      RunBrokerScenario(WithShape(options, shrunk.reduced));
  ASSERT_FALSE(replayed.passed);
  EXPECT_EQ(FailureRule(replayed.failure), rule) << replayed.failure;
  EXPECT_EQ(replayed.failure, shrunk.failure);

  EXPECT_LE(shrunk.reduced.plan.size(), shrunk.original.plan.size());
  EXPECT_LE(Clients(shrunk.reduced), Clients(shrunk.original));
  EXPECT_LE(shrunk.reduced.partitions, shrunk.original.partitions);
  EXPECT_TRUE(shrunk.reduced.plan.size() < shrunk.original.plan.size() ||
              Clients(shrunk.reduced) < Clients(shrunk.original) ||
              shrunk.reduced.partitions < shrunk.original.partitions ||
              FaultTime(shrunk.reduced) < FaultTime(shrunk.original))
      << "nothing was reduced";
}

TEST(BrokerShrinkTest, APassingSeedIsNotShrunk) {
  BrokerScenarioOptions options;
  options.seed = 1;
  const BrokerShrinkResult shrunk = ShrinkBrokerRun(
      options, [](const std::string&) {}, 10);
  EXPECT_FALSE(shrunk.failed);
  EXPECT_EQ(shrunk.runs, 1);
}

}  // namespace
}  // namespace chronik::sim::cli
