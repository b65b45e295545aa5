// Replay checkpoints in storage: the active segment's index (.aidx) that
// lets an open skip scanning the segment, the replay checkpoint file and the
// clean-stop marker (format.h). Each is used only when valid; a damaged or
// stale one falls back to what recovery did without it.
#include <random>

#include "broker/storage/format.h"
#include "broker/storage/group_log.h"
#include "broker/storage/log_store.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

using testing::MakeEntries;
using testing::PayloadFor;

class CheckpointTest : public ::testing::Test {
 protected:
  CheckpointTest() : rng_(7), disk_(sim::SimDiskOptions{}, rng_) {}

  std::unique_ptr<GroupLog> OpenLog(RecoveryReport* report) {
    absl::StatusOr<std::unique_ptr<GroupLog>> log =
        GroupLog::Open(&disk_, "g", options_, report);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  void Append(GroupLog& log, uint64_t first, uint64_t count, uint64_t term) {
    std::vector<Entry> entries = MakeEntries(first, count, term, 100);
    ASSERT_TRUE(log.Append(absl::MakeSpan(entries)).ok());
    ASSERT_TRUE(log.Sync().ok());
  }

  void ExpectEntries(GroupLog& log, uint64_t last,
                     const std::function<uint64_t(uint64_t)>& term_of) {
    ASSERT_EQ(log.last_index(), last);
    std::vector<Entry> got;
    ASSERT_TRUE(log.Read(1, last + 1, ~uint64_t{0}, &got).ok());
    ASSERT_EQ(got.size(), last);
    for (const Entry& e : got) {
      EXPECT_EQ(e.term, term_of(e.index));
      EXPECT_EQ(e.data.view().substr(0, 10),
                PayloadFor(e.index, term_of(e.index)).substr(0, 10));
    }
  }

  std::string ActiveIndexPath() { return "g/" + format::ActiveIndexName(1); }

  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  // One segment (the active one) and many index points.
  LogOptions options_{.segment_max_bytes = 1 << 20,
                      .index_interval_bytes = 512};
};

TEST_F(CheckpointTest, ActiveIndexSkipsTheScanOfWhatItCovers) {
  uint64_t full_scan = 0;
  {
    RecoveryReport report;
    std::unique_ptr<GroupLog> log = OpenLog(&report);
    Append(*log, 1, 200, 1);
    ASSERT_TRUE(log->WriteActiveIndex().ok());
    Append(*log, 201, 10, 2);  // after the checkpoint: scanned
  }
  {
    RecoveryReport report;
    std::unique_ptr<GroupLog> log = OpenLog(&report);
    EXPECT_TRUE(report.active_index_used);
    ExpectEntries(*log, 210, [](uint64_t i) { return i <= 200 ? 1 : 2; });
    // The tail, plus the records after the index's last point (checked).
    EXPECT_GT(report.record_bytes_scanned, 10u * 148);
    EXPECT_LT(report.record_bytes_scanned, 10u * 148 + 2 * 512 + 300);
    // Appends go on after it.
    Append(*log, 211, 5, 2);
    ASSERT_TRUE(log->WriteActiveIndex().ok());
  }
  {
    ASSERT_TRUE(disk_.Remove(ActiveIndexPath()).ok());
    RecoveryReport report;
    std::unique_ptr<GroupLog> log = OpenLog(&report);
    EXPECT_FALSE(report.active_index_used);
    full_scan = report.record_bytes_scanned;
    EXPECT_EQ(full_scan, 215u * 148);
    ExpectEntries(*log, 215, [](uint64_t i) { return i <= 200 ? 1 : 2; });
  }
}

TEST_F(CheckpointTest, DamagedActiveIndexFallsBackToAScan) {
  {
    RecoveryReport report;
    std::unique_ptr<GroupLog> log = OpenLog(&report);
    Append(*log, 1, 100, 1);
    ASSERT_TRUE(log->WriteActiveIndex().ok());
  }
  ASSERT_TRUE(disk_.CorruptByte(ActiveIndexPath(), 40, 0x10).ok());
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  EXPECT_FALSE(report.active_index_used);
  EXPECT_EQ(report.record_bytes_scanned, 100u * 148);
  ExpectEntries(*log, 100, [](uint64_t) { return 1; });
}

TEST_F(CheckpointTest, StaleActiveIndexAfterATruncationIsNotTrusted) {
  {
    RecoveryReport report;
    std::unique_ptr<GroupLog> log = OpenLog(&report);
    Append(*log, 1, 100, 1);
    ASSERT_TRUE(log->WriteActiveIndex().ok());
    // A follower's conflicting suffix: 51.. are replaced by term 2 entries,
    // to the same length.
    std::vector<Entry> entries = MakeEntries(51, 50, 2, 100);
    ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
    ASSERT_TRUE(log->Sync().ok());
  }
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  EXPECT_FALSE(report.active_index_used);
  ExpectEntries(*log, 100, [](uint64_t i) { return i <= 50 ? 1 : 2; });
}

TEST_F(CheckpointTest, ActiveIndexIsNotWrittenOverUnsyncedData) {
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  std::vector<Entry> entries = MakeEntries(1, 10, 1, 100);
  ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(log->WriteActiveIndex()));
  EXPECT_FALSE(*disk_.Exists(ActiveIndexPath()));
}

TEST_F(CheckpointTest, CrashLosingUnsyncedTailKeepsTheActiveIndexValid) {
  {
    RecoveryReport report;
    std::unique_ptr<GroupLog> log = OpenLog(&report);
    Append(*log, 1, 50, 1);
    ASSERT_TRUE(log->WriteActiveIndex().ok());
    ASSERT_TRUE(log->Sync().ok());
    std::vector<Entry> entries = MakeEntries(51, 20, 1, 100);
    ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());  // never synced
  }
  disk_.Crash();
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  ASSERT_GE(log->last_index(), 50u);
  ExpectEntries(*log, log->last_index(), [](uint64_t) { return 1; });
}

class StoreCheckpointTest : public CheckpointTest {
 protected:
  std::unique_ptr<LogStore> OpenStore() {
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(&disk_, "data", StoreOptions{});
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    EXPECT_TRUE((*store)->OpenGroup(3, options_).ok());
    return std::move(*store);
  }
  void AppendTo(LogStore& store, uint64_t first, uint64_t count) {
    ASSERT_TRUE(
        store
            .Enqueue(PersistRequest{
                .group_id = 3, .entries = MakeEntries(first, count, 1, 100)})
            .ok());
    for (const Completion& c : store.Flush()) ASSERT_TRUE(c.status.ok());
  }
  const ReplayCheckpoint kCheckpoint{.index = 40,
                                     .term = 1,
                                     .conf_index = 2,
                                     .learned = true,
                                     .conf_state = "conf",
                                     .image = "image bytes"};
};

TEST_F(StoreCheckpointTest, CheckpointRoundTripsAndCoversTheActiveSegment) {
  {
    std::unique_ptr<LogStore> store = OpenStore();
    AppendTo(*store, 1, 40);
    ASSERT_TRUE(store->WriteCheckpoint(3, kCheckpoint).ok());
    EXPECT_EQ(store->stats().checkpoints_written, 1u);
  }
  std::unique_ptr<LogStore> store = OpenStore();
  const GroupStorage* g = store->group(3);
  ASSERT_TRUE(g->checkpoint().has_value());
  EXPECT_EQ(*g->checkpoint(), kCheckpoint);
  EXPECT_FALSE(g->checkpoint_rejected());
  EXPECT_TRUE(g->recovery().active_index_used);
}

TEST_F(StoreCheckpointTest, DamagedCheckpointIsRejected) {
  {
    std::unique_ptr<LogStore> store = OpenStore();
    AppendTo(*store, 1, 40);
    ASSERT_TRUE(store->WriteCheckpoint(3, kCheckpoint).ok());
  }
  ASSERT_TRUE(disk_
                  .CorruptByte(std::string("data/") + format::GroupDir(3) +
                                   "/" + format::kReplayCheckpointFile,
                               20, 0x01)
                  .ok());
  std::unique_ptr<LogStore> store = OpenStore();
  EXPECT_FALSE(store->group(3)->checkpoint().has_value());
  EXPECT_TRUE(store->group(3)->checkpoint_rejected());
  EXPECT_EQ(store->group(3)->last_index(), 40u);
}

TEST_F(StoreCheckpointTest, CleanStopMarkerIsUsedOnceAndRemovedDurably) {
  {
    std::unique_ptr<LogStore> store = OpenStore();
    EXPECT_FALSE(store->opened_after_clean_stop());
    AppendTo(*store, 1, 10);
    ASSERT_TRUE(store->MarkCleanStop().ok());
  }
  {
    std::unique_ptr<LogStore> store = OpenStore();
    EXPECT_TRUE(store->opened_after_clean_stop());
    EXPECT_EQ(store->group(3)->last_index(), 10u);
    AppendTo(*store, 11, 5);
  }
  // The marker's removal was durable before anything else was written: a
  // crash now must not leave a marker vouching for the new writes.
  disk_.Crash();
  std::unique_ptr<LogStore> store = OpenStore();
  EXPECT_FALSE(store->opened_after_clean_stop());
  EXPECT_EQ(store->group(3)->last_index(), 15u);
}

TEST_F(StoreCheckpointTest, NoCleanStopWithQueuedWork) {
  std::unique_ptr<LogStore> store = OpenStore();
  ASSERT_TRUE(store
                  ->Enqueue(PersistRequest{.group_id = 3,
                                           .entries = MakeEntries(1, 2, 1)})
                  .ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store->MarkCleanStop()));
  store->Flush();
  EXPECT_TRUE(store->MarkCleanStop().ok());
}

}  // namespace
}  // namespace chronik::storage
