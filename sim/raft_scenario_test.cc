// Targeted runs of the Raft scenario with hand-written fault schedules: each
// fault kind reaches the world and the cluster survives it (the seed sweeps in
// tests/ run random mixes; these show the plumbing of one fault at a time).
#include "sim/raft_scenario.h"

#include <string>
#include <vector>

#include "base/check.h"
#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

RaftScenarioResult RunWith(const std::string& schedule, int nodes = 3) {
  RaftScenarioOptions options;
  options.seed = 11;
  options.num_nodes = nodes;
  options.fault_phase = 6 * kSecond;
  options.run_length = 12 * kSecond;
  absl::StatusOr<std::vector<Fault>> faults = ParseSchedule(schedule, nodes);
  CHRONIK_CHECK(faults.ok()) << faults.status();
  options.schedule = *faults;
  return RunRaftScenario(options);
}

TEST(RaftScenarioTest, NoFaultsElectsOneLeaderAndServesClients) {
  RaftScenarioResult result = RunWith("");
  EXPECT_TRUE(result.passed) << result.failure;
  EXPECT_EQ(result.leaders_elected, 1u);
  EXPECT_EQ(result.crashes, 0u);
  EXPECT_GT(result.ops_acked, 100u);
  EXPECT_GT(result.reads_checked, 50u);
  EXPECT_GE(result.recovered_after_heal, 0);
}

TEST(RaftScenarioTest, CrashesRestartFromDisk) {
  // Crash every node once, one after another, and power-cut one mid-write.
  RaftScenarioResult result = RunWith(
      "crash@1000000:0:-1:300000:0;crash@2000000:1:-1:300000:0;"
      "crash@3000000:2:-1:300000:0;crash_in_fsync@4000000:0:-1:200000:0");
  EXPECT_TRUE(result.passed) << result.failure;
  EXPECT_EQ(result.crashes, 4u);
  EXPECT_GT(result.leaders_elected, 1u);
}

TEST(RaftScenarioTest, CrashingTheLeaderForcesAnElection) {
  RaftScenarioResult result = RunWith("crash_leader@2000000:-1:-1:1000000:0");
  EXPECT_TRUE(result.passed) << result.failure;
  EXPECT_EQ(result.crashes, 1u);
  EXPECT_GE(result.leaders_elected, 2u);
}

TEST(RaftScenarioTest, SquattedPortsDelayStartsAndRestarts) {
  RaftScenarioResult result = RunWith(
      "squat_at_start@0:1:-1:500000:0;crash_squat@2000000:2:-1:200000:800000");
  EXPECT_TRUE(result.passed) << result.failure;
  // n1 retries every 100 ms for 500 ms; n2's port is held 800 ms past its
  // restart.
  EXPECT_GE(result.bind_failures, 9u);
}

TEST(RaftScenarioTest, PartitionsAndNetworkFaultsHeal) {
  RaftScenarioResult result = RunWith(
      // Every node is isolated in turn, so the leader is too at some point.
      "isolate@500000:0:-1:800000:0;isolate@1500000:1:-1:800000:0;"
      "isolate@2500000:2:-1:800000:0;isolate@3500000:3:-1:800000:0;"
      "isolate@4500000:4:-1:800000:0;partition@1000000:-1:-1:1500000:3;"
      "asymmetric@1000000:2:0:2000000:0;clog@2500000:0:2:1000000:0;"
      "loss@0:-1:-1:5000000:100;duplicate@0:-1:-1:5000000:100;"
      "reorder@0:-1:-1:5000000:0;slow_links@0:-1:-1:5000000:200",
      5);
  EXPECT_TRUE(result.passed) << result.failure;
  EXPECT_GT(result.leaders_elected, 1u);
}

TEST(RaftScenarioTest, ClockAndProcessFaults) {
  RaftScenarioResult result = RunWith(
      "clock_drift@500000:0:-1:0:300000;clock_jump@1500000:1:-1:0:2000000;"
      "clock_jump@2500000:2:-1:0:-1500000;pause@3000000:0:-1:1500000:0;"
      "stop@3500000:1:-1:500000:0;slow_fsync@1000000:2:-1:2000000:50");
  EXPECT_TRUE(result.passed) << result.failure;
}

TEST(RaftScenarioTest, DiskFaultsRestartTheNodeAndItRecovers) {
  RaftScenarioResult result = RunWith(
      "disk_errors@1000000:0:-1:1000000:300;disk_full@3000000:1:-1:500000:0;"
      "corrupt_sectors@0:2:-1:0:1000;crash_in_fsync@4000000:2:-1:100000:0");
  EXPECT_TRUE(result.passed) << result.failure;
  EXPECT_GE(result.crashes, 2u);  // the failed disks and the power cut
}

TEST(RaftScenarioTest, LivenessFailureIsReported) {
  // A node paused past the end of the run can never catch up: the seed fails
  // on liveness, naming the node.
  RaftScenarioOptions options;
  options.seed = 11;
  options.fault_phase = 6 * kSecond;
  options.run_length = 8 * kSecond;
  options.schedule = *ParseSchedule("pause@5000000:1:-1:10000000:0", 3);
  RaftScenarioResult result = RunRaftScenario(options);
  EXPECT_FALSE(result.passed);
  EXPECT_NE(result.failure.find("liveness"), std::string::npos)
      << result.failure;
  EXPECT_NE(result.failure.find("n1 is paused"), std::string::npos)
      << result.failure;
}

}  // namespace
}  // namespace chronik::sim
