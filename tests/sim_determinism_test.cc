// Determinism of the simulator within one process: the same seed run twice
// gives the same trace hash and the same figures; different seeds give
// different hashes; tracing does not change the hash.
// (sim_determinism_two_processes_test.sh checks the same across two processes
// of the tools:sim binary.)
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/raft_scenario.h"

namespace chronik::sim {
namespace {

// Shorter runs than the sweep's: determinism shows in any prefix of a run.
RaftScenarioOptions Short(uint64_t seed) {
  RaftScenarioOptions options;
  options.seed = seed;
  options.fault_phase = 6 * kSecond;
  options.run_length = 10 * kSecond;
  return options;
}

RaftScenarioResult RunSeed(uint64_t seed, int nodes = 3) {
  RaftScenarioOptions options = Short(seed);
  options.seed = seed;
  options.num_nodes = nodes;
  return RunRaftScenario(options);
}

TEST(SimDeterminismTest, SameSeedSameHashInOneProcess) {
  for (uint64_t seed : {1, 7, 42}) {
    RaftScenarioResult a = RunSeed(seed);
    RaftScenarioResult b = RunSeed(seed);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.trace_events, b.trace_events);
    EXPECT_EQ(a.scheduler_events, b.scheduler_events);
    EXPECT_EQ(a.ops_acked, b.ops_acked);
    EXPECT_EQ(a.failure, b.failure);
  }
  EXPECT_EQ(RunSeed(9, 5).trace_hash, RunSeed(9, 5).trace_hash);
}

TEST(SimDeterminismTest, DifferentSeedsDifferentHashes) {
  std::set<uint64_t> hashes;
  for (uint64_t seed = 1; seed <= 10; ++seed)
    hashes.insert(RunSeed(seed).trace_hash);
  EXPECT_EQ(hashes.size(), 10u);
}

TEST(SimDeterminismTest, TracingDoesNotChangeTheHash) {
  RaftScenarioOptions options = Short(5);
  std::vector<std::string> lines;
  options.printer = [&lines](std::string_view line) {
    lines.emplace_back(line);
  };
  RaftScenarioResult traced = RunRaftScenario(options);
  EXPECT_EQ(traced.trace_hash, RunSeed(5).trace_hash);
  EXPECT_EQ(lines.size(), traced.trace_events);
}

TEST(SimDeterminismTest, UntilStopsAtTheNamedEvent) {
  RaftScenarioOptions options = Short(5);
  options.stop_kind = "role";
  RaftScenarioResult result = RunRaftScenario(options);
  EXPECT_TRUE(result.stopped);
  EXPECT_FALSE(result.passed);
  EXPECT_LT(result.simulated, kSecond);
  options.stop_kind.clear();
  options.stop_event = 100;
  EXPECT_EQ(RunRaftScenario(options).trace_events, 100u);
}

TEST(SimDeterminismTest, GivenScheduleReplaysTheGeneratedOne) {
  // Replaying a seed with its own schedule passed explicitly (what --schedule
  // does) is the same run.
  RaftScenarioOptions options = Short(3);
  RaftScenarioResult original = RunRaftScenario(options);
  options.schedule = PlanFaults(options).schedule;
  EXPECT_EQ(RunRaftScenario(options).trace_hash, original.trace_hash);
}

}  // namespace
}  // namespace chronik::sim
