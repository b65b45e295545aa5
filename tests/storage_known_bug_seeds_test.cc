// Seeds on which the simulator finds a bug in the storage layer
// (broker/storage), not yet fixed there; tagged "manual" until it is, then move
// them into raft_regression_seeds_test.
//
// The bug: a node's first start hits EIO on SyncDir of its group directory
// while the segment file is being created (disk_errors fault). The start fails
// and is retried; the retry finds the segment file in the live namespace and
// uses it, but nothing ever syncs the group directory again, so the segment's
// directory entry is never durable. The log is then appended and fsynced (file
// data durable) and the hard state file, whose directory is synced, records
// commits. A later crash drops the undurable directory entry: the node restarts
// with its commit index beyond an empty log and RawNode::Restart refuses
// ("commit 36 beyond last index 0"). GroupLog::Open (or Recover) should sync
// its own directory before trusting what it listed.
#include <cstdint>

#include "gtest/gtest.h"
#include "sim/raft_scenario.h"

namespace chronik::sim {
namespace {

class StorageKnownBugSeedsTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(StorageKnownBugSeedsTest, Passes) {
  RaftScenarioOptions options;
  options.seed = GetParam();
  RaftScenarioResult result = RunRaftScenario(options);
  EXPECT_TRUE(result.passed) << result.failure;
}

INSTANTIATE_TEST_SUITE_P(UnsyncedGroupDirectory, StorageKnownBugSeedsTest,
                         ::testing::Values(95, 293));

}  // namespace
}  // namespace chronik::sim
