// Shows that the simulator's checkers work: with each deliberately injected bug
// switched on in the Raft core (raft::InjectedBugs), a fixed budget of seeds
// finds a violation, and the correct core passes the very seed that exposed it.
// Twice: with the rule checks (which see a broken rule the moment it happens)
// and with only the end-to-end properties (two leaders in a term, state
// machines that diverge), which must find the bug by its consequences.
// (commit_old_term is found by the commit rule; its end-to-end consequence, the
// Raft paper's figure 8, needs three diverging terms in a row and did not show
// within 800 seeds.)
#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "sim/raft_scenario.h"

namespace chronik::sim {
namespace {

constexpr uint64_t kSeedBudget = 200;

struct BugCase {
  const char* name;
  raft::InjectedBugs bugs;
  // Words the violation is expected to contain (which checker caught it).
  const char* expected;
  bool rule_checks = true;
};

raft::InjectedBugs Bugs(bool two_votes, bool old_term, bool vote_early,
                        bool apply_early) {
  raft::InjectedBugs bugs;
  bugs.grant_two_votes_per_term = two_votes;
  bugs.commit_old_term_by_counting = old_term;
  bugs.answer_vote_before_persisting = vote_early;
  bugs.apply_before_commit = apply_early;
  return bugs;
}

class InjectedBugTest : public ::testing::TestWithParam<BugCase> {};

TEST_P(InjectedBugTest, FoundWithinBudgetAndCorrectCorePassesThatSeed) {
  const BugCase& bug = GetParam();
  for (uint64_t seed = 1; seed <= kSeedBudget; ++seed) {
    RaftScenarioOptions options;
    options.seed = seed;
    options.bugs = bug.bugs;
    options.rule_checks = bug.rule_checks;
    RaftScenarioResult buggy = RunRaftScenario(options);
    if (buggy.passed || buggy.failure.find("liveness") == 0) continue;
    std::printf("%s%s: found at seed %llu: %s\n", bug.name,
                bug.rule_checks ? "" : " (end to end)",
                static_cast<unsigned long long>(seed), buggy.failure.c_str());
    EXPECT_NE(buggy.failure.find(bug.expected), std::string::npos)
        << buggy.failure;
    options.bugs = raft::InjectedBugs{};
    RaftScenarioResult correct = RunRaftScenario(options);
    EXPECT_TRUE(correct.passed)
        << "the correct core fails seed " << seed << ": " << correct.failure;
    return;
  }
  ADD_FAILURE() << bug.name << " was not found in " << kSeedBudget << " seeds";
}

INSTANTIATE_TEST_SUITE_P(
    Bugs, InjectedBugTest,
    ::testing::Values(
        BugCase{"grant_two_votes", Bugs(true, false, false, false),
                "election safety"},
        BugCase{"commit_old_term", Bugs(false, true, false, false),
                "commit rule"},
        BugCase{"vote_before_persist", Bugs(false, false, true, false),
                "before it is durable"},
        BugCase{"apply_before_commit", Bugs(false, false, false, true),
                "beyond its commit index"}),
    [](const ::testing::TestParamInfo<BugCase>& info) {
      return std::string(info.param.name);
    });

INSTANTIATE_TEST_SUITE_P(
    EndToEnd, InjectedBugTest,
    ::testing::Values(
        BugCase{"grant_two_votes", Bugs(true, false, false, false),
                "election safety", false},
        BugCase{"vote_before_persist", Bugs(false, false, true, false),
                "election safety", false},
        BugCase{"apply_before_commit", Bugs(false, false, false, true),
                "state machine safety", false}),
    [](const ::testing::TestParamInfo<BugCase>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace chronik::sim
