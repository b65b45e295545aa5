// Seeds on which the simulator found bugs, kept as regression tests with the
// exact configuration that exposed them.
//
// Liveness, found in the Raft core and fixed there: when a partition, an
// asymmetric block or loss swallowed a follower's appends or their
// acknowledgements for long enough to fill the leader's inflight window
// (Config::max_inflight_msgs), the leader stopped sending appends to that
// follower for good: heartbeat responses reached it again after the heal, but
// did not restart replication through the full window, so the follower never
// caught up and the liveness check failed 10 s after the heal. The seeds ran
// with the in-memory storage model (StorageBacking::kMemory), as then.
#include <cstdint>

#include "gtest/gtest.h"
#include "sim/raft_scenario.h"

namespace chronik::sim {
namespace {

struct KnownSeed {
  int nodes;
  uint64_t seed;
};

class RaftRegressionSeedsTest : public ::testing::TestWithParam<KnownSeed> {};

TEST_P(RaftRegressionSeedsTest, Passes) {
  RaftScenarioOptions options;
  options.num_nodes = GetParam().nodes;
  options.seed = GetParam().seed;
  options.storage = StorageBacking::kMemory;
  RaftScenarioResult result = RunRaftScenario(options);
  EXPECT_TRUE(result.passed) << result.failure;
}

INSTANTIATE_TEST_SUITE_P(FullInflightWindow, RaftRegressionSeedsTest,
                         ::testing::Values(KnownSeed{3, 59}, KnownSeed{3, 93},
                                           KnownSeed{3, 139}, KnownSeed{3, 165},
                                           KnownSeed{3, 182}, KnownSeed{3, 198},
                                           KnownSeed{3, 203}, KnownSeed{5, 9},
                                           KnownSeed{5, 29}, KnownSeed{5, 59}));

}  // namespace
}  // namespace chronik::sim
