#include "tools/sim/sim_cli.h"

#include <string>

#include "base/check.h"
#include "gtest/gtest.h"

namespace chronik::sim::cli {
namespace {

absl::StatusOr<CliOptions> Parse(const std::string& scenario = "raft",
                                 int nodes = 3, const std::string& bugs = "",
                                 const std::string& schedule = "",
                                 double seconds = 30,
                                 double fault_seconds = 20) {
  return ParseCliOptions(scenario, nodes, bugs, true, schedule, -1, seconds,
                         fault_seconds);
}

TEST(SimCliTest, DefaultsAreValid) {
  absl::StatusOr<CliOptions> cli = Parse();
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->nodes, 3);
  EXPECT_EQ(cli->run_length, 30 * kSecond);
  EXPECT_EQ(cli->fault_phase, 20 * kSecond);
  EXPECT_FALSE(cli->schedule.has_value());
}

TEST(SimCliTest, BadArgumentsAreClearErrors) {
  EXPECT_NE(Parse("kafka").status().message().find("unknown scenario"),
            std::string::npos);
  EXPECT_NE(Parse("raft", 4).status().message().find("3 or 5"),
            std::string::npos);
  EXPECT_NE(Parse("raft", 3, "typo").status().message().find("unknown bug"),
            std::string::npos);
  EXPECT_NE(
      Parse("raft", 3, "", "crash@1").status().message().find("--schedule"),
      std::string::npos);
  EXPECT_FALSE(Parse("raft", 3, "", "", 0).ok());
  EXPECT_FALSE(Parse("raft", 3, "", "", 10, 10).ok());
  // A fault after the fault phase cannot be replayed.
  EXPECT_FALSE(Parse("raft", 3, "", "crash@25000000:0:-1:1000:0").ok());
}

TEST(SimCliTest, BugsByName) {
  absl::StatusOr<raft::InjectedBugs> bugs =
      ParseBugs("grant_two_votes, apply_before_commit");
  ASSERT_TRUE(bugs.ok());
  EXPECT_TRUE(bugs->grant_two_votes_per_term);
  EXPECT_TRUE(bugs->apply_before_commit);
  EXPECT_FALSE(bugs->commit_old_term_by_counting);
  EXPECT_FALSE(bugs->answer_vote_before_persisting);
  EXPECT_TRUE(ParseBugs("commit_old_term")->commit_old_term_by_counting);
  EXPECT_TRUE(ParseBugs("vote_before_persist")->answer_vote_before_persisting);
}

TEST(SimCliTest, ReplayCommandCarriesEveryNonDefaultFlag) {
  absl::StatusOr<CliOptions> cli = Parse("raft", 5, "commit_old_term");
  ASSERT_TRUE(cli.ok());
  cli->clients = 0;
  EXPECT_EQ(ReplayCommand(*cli, 42, nullptr),
            "bazel run -c opt //tools:sim -- --scenario=raft --seed=42 "
            "--nodes=5 --bug=commit_old_term --clients=0");
  ShrinkResult shrunk;
  shrunk.schedule = {Fault{kSecond, FaultKind::kCrash, 1, -1, kSecond, 0}};
  shrunk.max_ops = 7;
  EXPECT_EQ(
      ReplayCommand(*cli, 42, &shrunk),
      "bazel run -c opt //tools:sim -- --scenario=raft --seed=42 "
      "--nodes=5 --bug=commit_old_term "
      "--schedule='crash@1000000:1:-1:1000000:0' --max_ops=7 --clients=0");
}

TEST(SimCliTest, HeaderNamesSeedCommitAndFaults) {
  absl::StatusOr<CliOptions> cli = Parse();
  ASSERT_TRUE(cli.ok());
  cli->commit = "abc123";
  FaultPlan plan;
  plan.swarm = "crash x1";
  plan.schedule = {Fault{kSecond, FaultKind::kCrash, 1, -1, kSecond, 0}};
  const std::string header = FormatHeader(*cli, 42, plan);
  EXPECT_NE(header.find("seed=42"), std::string::npos);
  EXPECT_NE(header.find("commit=abc123"), std::string::npos);
  EXPECT_NE(header.find("faults: crash x1"), std::string::npos);
  EXPECT_NE(header.find("1.000000s crash n1 for 1.000000s"), std::string::npos);
}

// Short runs keep the shrinking test fast; the bug shows within them.
CliOptions ShortRuns(const std::string& bugs) {
  absl::StatusOr<CliOptions> cli = Parse("raft", 3, bugs, "", 10, 4);
  CHRONIK_CHECK(cli.ok());
  return *cli;
}

TEST(SimCliTest, ShrinkReducesAFailingRunAndTheResultStillFails) {
  const CliOptions cli = ShortRuns("apply_before_commit");
  ShrinkResult shrunk = Shrink(cli, 3, [](const std::string&) {});
  ASSERT_TRUE(shrunk.failed);
  EXPECT_LE(shrunk.schedule.size(), shrunk.original_faults);
  EXPECT_LE(shrunk.max_ops, shrunk.original_ops);
  EXPECT_LE(shrunk.runs, kMaxShrinkRuns + 3);
  // The bug needs no fault at all to show: everything is removed.
  EXPECT_TRUE(shrunk.schedule.empty());
  RaftScenarioOptions replay = MakeOptions(cli, 3);
  replay.schedule = shrunk.schedule;
  replay.max_ops = shrunk.max_ops;
  RaftScenarioResult result = RunRaftScenario(replay);
  EXPECT_FALSE(result.passed);
  EXPECT_EQ(result.failure, shrunk.failure);
}

TEST(SimCliTest, ShrinkOfAPassingSeedReportsNothing) {
  ShrinkResult shrunk = Shrink(ShortRuns(""), 3, [](const std::string&) {});
  EXPECT_FALSE(shrunk.failed);
  EXPECT_EQ(shrunk.runs, 1);
}

}  // namespace
}  // namespace chronik::sim::cli
