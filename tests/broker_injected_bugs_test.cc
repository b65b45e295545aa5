// Shows that the broker scenario's checkers work: with each deliberately
// injected broker bug switched on (env::BrokerBugs, sim/broker_bugs.h), a
// fixed budget of seeds finds it, the failure names the checker rule expected
// to catch it, and the correct broker passes the very seed that exposed it.
// The first four are the seed system's failures (../shared/seed): a metadata
// group of one per node, registration not forwarded, a derived port equal to
// a neighbour's, auto-creation retried without bound.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/broker_bugs.h"
#include "sim/broker_scenario.h"

namespace chronik::sim {
namespace {

constexpr uint64_t kSeedBudget = 200;

struct BugCase {
  const char* name;  // as --bug names it
  // The failure must contain one of these (the rule that caught it).
  std::vector<const char*> expected;
};

class BrokerInjectedBugTest : public ::testing::TestWithParam<BugCase> {};

bool Contains(const std::string& text, const std::vector<const char*>& any) {
  for (const char* word : any) {
    if (text.find(word) != std::string::npos) return true;
  }
  return false;
}

TEST_P(BrokerInjectedBugTest, FoundWithinBudgetAndCorrectBrokerPassesThatSeed) {
  const BugCase& bug = GetParam();
  for (uint64_t seed = 1; seed <= kSeedBudget; ++seed) {
    BrokerScenarioOptions options;
    options.seed = seed;
    ASSERT_EQ(TakeBrokerBugs(bug.name, &options), "") << bug.name;
    BrokerScenarioResult buggy = RunBrokerScenario(options);
    if (buggy.passed) continue;
    std::printf("%s: found at seed %llu: %s\n", bug.name,
                static_cast<unsigned long long>(seed), buggy.failure.c_str());
    EXPECT_TRUE(Contains(buggy.failure, bug.expected)) << buggy.failure;
    BrokerScenarioOptions correct_options;
    correct_options.seed = seed;
    BrokerScenarioResult correct = RunBrokerScenario(correct_options);
    EXPECT_TRUE(correct.passed)
        << "the correct broker fails seed " << seed << ": " << correct.failure;
    return;
  }
  ADD_FAILURE() << bug.name << " was not found within " << kSeedBudget
                << " seeds";
}

INSTANTIATE_TEST_SUITE_P(
    Bugs, BrokerInjectedBugTest,
    ::testing::Values(
        BugCase{"metadata_group_of_one", {"TWO LEADERS"}},
        BugCase{"registration_not_forwarded",
                {"UNREGISTERED", "acknowledged no write"}},
        BugCase{"derived_http_port", {"EADDRINUSE"}},
        BugCase{"auto_create_every_request", {"CREATE FLOOD"}},
        BugCase{"ack_before_commit", {"LOST"}},
        BugCase{"skip_idempotence_check", {"DUPLICATE"}},
        BugCase{"no_leader_without_replica",
                {"names no leader", "acknowledged no write"}},
        BugCase{"commit_refused_while_preparing", {"COMMIT REFUSED"}},
        BugCase{"fetch_out_of_range_before_ready", {"OFFSET_OUT_OF_RANGE"}}),
    [](const ::testing::TestParamInfo<BugCase>& info) {
      return std::string(info.param.name);
    });

// Every bug the broker can inject is in the list above.
// A member that dies while a rebalance is being prepared is only noticed by
// its session expiring; without expiry the group waits the rebalance timeout
// and does not catch up within the liveness bound. Rare in a sweep (1 seed in
// 2,500), so the seed that exposes it is pinned with its fault plan.
TEST(BrokerInjectedBugPinnedTest, NoSessionExpiryWhilePreparing) {
  constexpr char kPlan[] =
      "pause@2942172:1:2:2776640:0;isolate@7113718:1:2:3038949:0;"
      "crash_in_fsync@11495789:3:2:580144:0;loss@13342418:3:0:2026091:77;"
      "client_partition@15795818:1:0:3235573:0";
  BrokerScenarioOptions options;
  options.seed = 1311;
  absl::StatusOr<std::vector<BrokerFault>> plan =
      ParseBrokerFaultPlan(kPlan, options.nodes, options.partitions);
  ASSERT_TRUE(plan.ok()) << plan.status();
  options.fault_plan = *plan;
  BrokerScenarioOptions correct_options = options;
  ASSERT_EQ(TakeBrokerBugs("no_session_expiry_while_preparing", &options), "");
  BrokerScenarioResult buggy = RunBrokerScenario(options);
  EXPECT_FALSE(buggy.passed);
  EXPECT_NE(buggy.failure.find("did not catch up"), std::string::npos)
      << buggy.failure;
  BrokerScenarioResult correct = RunBrokerScenario(correct_options);
  EXPECT_TRUE(correct.passed) << correct.failure;
}

TEST(BrokerInjectedBugListTest, CoversEveryBrokerBug) {
  // Every bug but the pinned one has a BugCase above.
  EXPECT_EQ(BrokerBugNames().size(), 10u);
}

}  // namespace
}  // namespace chronik::sim
