// GroupLog::CheckInvariants: passes on real logs (it also runs after every
// mutation in this build) and catches each kind of corrupted state, dying
// with the rule's message.
#include <random>
#include <utility>

#include "broker/storage/group_log.h"
#include "broker/storage/group_log_internal.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {

// Test-only access to a log's segments (a friend of GroupLog).
class GroupLogTestPeer {
 public:
  static GroupLog::Segment& segment(GroupLog& log, size_t i) {
    return *log.segments_.at(i);
  }
  static size_t segments(const GroupLog& log) { return log.segments_.size(); }
};

namespace {

using Peer = GroupLogTestPeer;

class GroupLogInvariantsTest : public ::testing::Test {
 protected:
  GroupLogInvariantsTest() : rng_(7), disk_(sim::SimDiskOptions{}, rng_) {}

  // A log of 200 entries in several segments, terms 1 and 2.
  std::unique_ptr<GroupLog> MakeLog() {
    RecoveryReport report;
    absl::StatusOr<std::unique_ptr<GroupLog>> log =
        GroupLog::Open(&disk_, "g", options_, &report);
    EXPECT_TRUE(log.ok()) << log.status();
    std::vector<Entry> first = testing::MakeEntries(1, 120, 1, 40);
    std::vector<Entry> second = testing::MakeEntries(121, 80, 2, 40);
    EXPECT_TRUE((*log)->Append(absl::MakeSpan(first)).ok());
    EXPECT_TRUE((*log)->Append(absl::MakeSpan(second)).ok());
    EXPECT_TRUE((*log)->Sync().ok());
    EXPECT_GE(Peer::segments(**log), 3u);
    return std::move(*log);
  }

  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  LogOptions options_{.segment_max_bytes = 4096, .index_interval_bytes = 512};
};

TEST_F(GroupLogInvariantsTest, RealLogsPass) {
  std::unique_ptr<GroupLog> log = MakeLog();
  log->CheckInvariants();
  ASSERT_TRUE(log->TruncateSuffix(150).ok());
  ASSERT_TRUE(log->RemovePrefix(60).ok());
  log->CheckInvariants();
  log.reset();
  RecoveryReport report;
  absl::StatusOr<std::unique_ptr<GroupLog>> reopened =
      GroupLog::Open(&disk_, "g", options_, &report);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  (*reopened)->CheckInvariants();
}

TEST_F(GroupLogInvariantsTest, SegmentsContiguous) {
  std::unique_ptr<GroupLog> log = MakeLog();
  EXPECT_DEATH(
      {
        Peer::segment(*log, 1).last_index -= 1;  // its last entry vanished
        log->CheckInvariants();
      },
      "missing between segments are not reported as damage");
  EXPECT_DEATH(
      {
        Peer::segment(*log, 0).last_index += 1;
        log->CheckInvariants();
      },
      "segments overlap");
  EXPECT_DEATH(
      {
        Peer::segment(*log, 1).next_offset += 1;
        log->CheckInvariants();
      },
      "Kafka offsets decrease across segments");
}

TEST_F(GroupLogInvariantsTest, IndexBoundsAndSizes) {
  std::unique_ptr<GroupLog> log = MakeLog();
  EXPECT_DEATH(
      {
        GroupLog::Segment& seg = Peer::segment(*log, 0);
        seg.last_index = seg.header.first_index - 2;
        log->CheckInvariants();
      },
      "segment ends before it starts");
  EXPECT_DEATH(
      {
        Peer::segment(*log, 0).end_position -= 1;
        log->CheckInvariants();
      },
      "sealed segment size");
  EXPECT_DEATH(
      {
        const size_t last = Peer::segments(*log) - 1;
        Peer::segment(*log, last).end_position += 10;
        log->CheckInvariants();
      },
      "active segment size");
  EXPECT_DEATH(
      {
        Peer::segment(*log, 0).sealed = false;
        log->CheckInvariants();
      },
      "only the active \\(last\\) segment is unsealed");
}

TEST_F(GroupLogInvariantsTest, SparseIndexSorted) {
  std::unique_ptr<GroupLog> log = MakeLog();
  GroupLog::Segment& seg = Peer::segment(*log, 0);
  ASSERT_GE(seg.points.size(), 3u);
  EXPECT_DEATH(
      {
        std::swap(seg.points[1], seg.points[2]);
        log->CheckInvariants();
      },
      "sparse index out of order at point 2");
  EXPECT_DEATH(
      {
        seg.points.back().position = seg.end_position;
        log->CheckInvariants();
      },
      "outside its segment");
  EXPECT_DEATH(
      {
        seg.points.erase(seg.points.begin());
        log->CheckInvariants();
      },
      "sparse index must start at the first record");
}

}  // namespace
}  // namespace chronik::storage
