// GroupLog::RewriteSegment (log compaction's segment swap), crash safety of
// the swap, and rolls by time.
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "broker/kafka/batch_header.h"
#include "broker/storage/group_log.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

constexpr uint32_t kRecords = 3;

class GroupLogCompactTest : public ::testing::Test {
 protected:
  GroupLogCompactTest() : rng_(7), disk_(sim::SimDiskOptions{}, rng_) {}

  std::unique_ptr<GroupLog> OpenLog() {
    RecoveryReport report;
    absl::StatusOr<std::unique_ptr<GroupLog>> log =
        GroupLog::Open(&disk_, "g", options_, &report);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  // `count` batches of kRecords offsets each, 200 bytes of body.
  void AppendBatches(GroupLog& log, uint64_t count) {
    std::vector<Entry> entries;
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t index = log.last_index() + 1 + i;
      entries.push_back(
          Entry{.index = index,
                .term = 1,
                .data = raft::Bytes::Own(testing::MakeKafkaBatch(
                    kRecords, static_cast<int64_t>(1000 + index), 200))});
    }
    ASSERT_TRUE(log.Append(absl::MakeSpan(entries)).ok());
    ASSERT_TRUE(log.Sync().ok());
  }

  // The entries of the first sealed segment with their batches shrunk (same
  // offsets, a shorter body): what a compaction pass hands the log.
  std::vector<Entry> Shrunk(GroupLog& log, uint64_t* first_index) {
    const GroupLog::SegmentSummary seg = log.Segments().front();
    EXPECT_FALSE(seg.active);
    *first_index = seg.first_index;
    std::vector<Entry> entries;
    EXPECT_TRUE(
        log.Read(seg.first_index, seg.last_index + 1, ~uint64_t{0}, &entries)
            .ok());
    for (Entry& e : entries) {
      std::string batch = testing::MakeKafkaBatch(
          kRecords, static_cast<int64_t>(1000 + e.index), 8);
      kafka::WriteBaseOffset(absl::MakeSpan(batch),
                             static_cast<int64_t>(e.offset_base));
      e.data = raft::Bytes::Own(std::move(batch));
    }
    return entries;
  }

  // Every entry of the log has its offsets, and the first segment's batches
  // are all old (`shrunk` false) or all new.
  void ExpectLog(GroupLog& log, uint64_t last_index, bool shrunk) {
    std::vector<Entry> got;
    ASSERT_TRUE(
        log.Read(log.first_index(), last_index + 1, ~uint64_t{0}, &got).ok());
    ASSERT_EQ(got.size(), last_index);
    const uint64_t first_end = log.Segments().front().last_index;
    for (const Entry& e : got) {
      EXPECT_EQ(e.offset_base, (e.index - 1) * kRecords);
      EXPECT_EQ(testing::BatchBaseOffset(e.data), e.offset_base);
      EXPECT_TRUE(testing::KafkaBatchCrcOk(e.data));
      const bool small = e.data.size() < kafka::kBatchHeaderBytes + 100;
      EXPECT_EQ(small, shrunk && e.index <= first_end) << e.index;
      absl::StatusOr<uint64_t> found = log.IndexForOffset(e.offset_base + 2);
      ASSERT_TRUE(found.ok());
      EXPECT_EQ(*found, e.index);
    }
  }

  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  KafkaV2BatchOffsets kafka_;
  LogOptions options_{.segment_max_bytes = 2048,
                      .index_interval_bytes = 512,
                      .batch_offsets = &kafka_};
};

TEST_F(GroupLogCompactTest, RewriteKeepsIndexesTermsAndOffsets) {
  std::unique_ptr<GroupLog> log = OpenLog();
  AppendBatches(*log, 30);
  ASSERT_GT(log->segment_count(), 2u);
  const uint64_t before = log->size_bytes();
  uint64_t first = 0;
  std::vector<Entry> entries = Shrunk(*log, &first);
  ASSERT_TRUE(log->RewriteSegment(first, entries).ok());
  EXPECT_LT(log->size_bytes(), before);
  ExpectLog(*log, 30, /*shrunk=*/true);
  AppendBatches(*log, 1);  // the log goes on
  log.reset();
  log = OpenLog();  // and recovery reads the new segment
  ExpectLog(*log, 31, /*shrunk=*/true);
}

TEST_F(GroupLogCompactTest, RefusesEntriesThatMoveOffsets) {
  std::unique_ptr<GroupLog> log = OpenLog();
  AppendBatches(*log, 30);
  uint64_t first = 0;
  std::vector<Entry> entries = Shrunk(*log, &first);
  entries[1].data = raft::Bytes::Own(testing::MakeKafkaBatch(kRecords - 1, 0));
  EXPECT_FALSE(log->RewriteSegment(first, entries).ok());
  ExpectLog(*log, 30, /*shrunk=*/false);
}

TEST_F(GroupLogCompactTest, ACrashAnywhereInTheSwapLeavesOldOrNew) {
  bool saw_old = false;
  bool saw_new = false;
  for (uint64_t ops = 0; ops < 12; ++ops) {
    disk_.Crash();
    if (*disk_.Exists("g")) {
      const std::vector<std::string> files = *disk_.List("g");
      for (const std::string& f : files) {
        ASSERT_TRUE(disk_.Remove(absl::StrCat("g/", f)).ok());
      }
    }
    std::unique_ptr<GroupLog> log = OpenLog();
    AppendBatches(*log, 30);
    uint64_t first = 0;
    std::vector<Entry> entries = Shrunk(*log, &first);
    disk_.FreezeAfterOps(ops);
    log->RewriteSegment(first, entries).IgnoreError();
    log.reset();
    disk_.Crash();
    log = OpenLog();
    ASSERT_NE(log, nullptr);
    const std::vector<std::string> files = *disk_.List("g");
    for (const std::string& f : files) {
      EXPECT_FALSE(absl::EndsWith(f, ".cleaned")) << f;
    }
    const bool shrunk = log->Segments().front().bytes < 1000;
    (shrunk ? saw_new : saw_old) = true;
    ExpectLog(*log, 30, shrunk);
    log.reset();
  }
  EXPECT_TRUE(saw_old);
  EXPECT_TRUE(saw_new);
}

TEST_F(GroupLogCompactTest, RecoveryRemovesALeftoverCleanedFile) {
  std::unique_ptr<GroupLog> log = OpenLog();
  AppendBatches(*log, 30);
  log.reset();
  // What a crash after the new segment was written, before the rename, can
  // leave on a file system that kept the directory entry.
  const std::string leftover = "g/log-00000000000000000001.seg.cleaned";
  ASSERT_TRUE((*disk_.Create(leftover))->Append("partial").ok());
  ASSERT_TRUE(disk_.SyncDir("g").ok());
  log = OpenLog();
  EXPECT_FALSE(*disk_.Exists(leftover));
  ExpectLog(*log, 30, /*shrunk=*/false);
}

TEST_F(GroupLogCompactTest, SegmentMsRollsTheActiveSegment) {
  std::unique_ptr<GroupLog> log = OpenLog();
  AppendBatches(*log, 2);  // timestamps 1001, 1002
  log->SetRollLimits(0, 500);
  EXPECT_FALSE(*log->RollIfOlder(1400));
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_TRUE(*log->RollIfOlder(1501));
  EXPECT_EQ(log->segment_count(), 2u);
  EXPECT_FALSE(*log->RollIfOlder(1'000'000));  // the new one is empty
  // segment.bytes overrides the log's size.
  log->SetRollLimits(600, 0);
  AppendBatches(*log, 4);
  EXPECT_GE(log->segment_count(), 4u);
}

}  // namespace
}  // namespace chronik::storage
