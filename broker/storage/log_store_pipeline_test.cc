// LogStore pipelining: a second flush begins while the first one syncs when
// it only appends (CanBeginFlush); flushes finish in order, each reporting
// what it made durable and no more.
#include <random>
#include <utility>
#include <vector>

#include "broker/storage/log_store.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

using testing::MakeEntries;

class LogStorePipelineTest : public ::testing::Test {
 protected:
  LogStorePipelineTest()
      : rng_(7),
        disk_(sim::SimDiskOptions{.torn_write_probability = 0}, rng_) {}

  void OpenStore() {
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(&disk_, "data", options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    for (uint64_t id = 1; id <= kGroups; ++id) {
      absl::StatusOr<GroupStorage*> g = store_->OpenGroup(id, LogOptions{});
      ASSERT_TRUE(g.ok()) << g.status();
    }
  }

  void Append(uint64_t group, uint64_t first, uint64_t count) {
    ASSERT_TRUE(store_
                    ->Enqueue(PersistRequest{
                        .group_id = group,
                        .entries = MakeEntries(first, count, 1, 100)})
                    .ok());
  }
  // Entries [first, first + count) for every group.
  void AppendAll(uint64_t first, uint64_t count) {
    for (uint64_t g = 1; g <= kGroups; ++g) Append(g, first, count);
  }

  static std::vector<absl::Status> Sync(const FlushPlan& plan) {
    std::vector<absl::Status> results;
    for (env::File* f : plan.files_to_sync) results.push_back(f->Sync());
    return results;
  }

  static constexpr uint64_t kGroups = 4;
  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  StoreOptions options_{.tail_wal_bytes = 1 << 20, .tail_wal_min_groups = 2};
  std::unique_ptr<LogStore> store_;
};

TEST_F(LogStorePipelineTest, EachFlushReportsOnlyWhatItMadeDurable) {
  OpenStore();
  AppendAll(1, 3);
  FlushPlan first = store_->BeginFlush();
  EXPECT_FALSE(store_->CanBeginFlush()) << "nothing queued";
  AppendAll(4, 2);
  ASSERT_TRUE(store_->CanBeginFlush());
  FlushPlan second = store_->BeginFlush();
  EXPECT_EQ(store_->flushes_in_flight(), 2u);
  ASSERT_EQ(second.files_to_sync.size(), 1u) << "only the tail log's file";
  AppendAll(6, 1);
  EXPECT_FALSE(store_->CanBeginFlush()) << "two in flight already";
  // The second flush extended the same groups: the first reports its own
  // appends only.
  for (const Completion& c :
       store_->FinishFlush(std::move(first), Sync(first))) {
    ASSERT_TRUE(c.status.ok()) << c.status;
    EXPECT_EQ(c.durable_index, 3u) << "group " << c.group_id;
  }
  for (const Completion& c :
       store_->FinishFlush(std::move(second), Sync(second))) {
    ASSERT_TRUE(c.status.ok()) << c.status;
    EXPECT_EQ(c.durable_index, 5u) << "group " << c.group_id;
  }
  EXPECT_EQ(store_->flushes_in_flight(), 0u);
  EXPECT_TRUE(store_->CanBeginFlush());
}

TEST_F(LogStorePipelineTest, OnlyCoveredAppendsOverlapAFlushInFlight) {
  OpenStore();
  AppendAll(1, 3);
  FlushPlan first = store_->BeginFlush();
  // A conflicting suffix (a barrier and a sync of its own) waits.
  Append(1, 3, 2);
  AppendAll(4, 1);
  EXPECT_FALSE(store_->CanBeginFlush()) << "a truncation";
  ASSERT_EQ(store_->FinishFlush(std::move(first), Sync(first)).size(), kGroups);
  EXPECT_TRUE(store_->CanBeginFlush()) << "nothing in flight";
  FlushPlan second = store_->BeginFlush();
  // A snapshot waits too.
  ASSERT_TRUE(store_
                  ->Enqueue(PersistRequest{
                      .group_id = 2,
                      .snapshot = Snapshot{.meta = {.index = 9, .term = 1},
                                           .data = "s"}})
                  .ok());
  EXPECT_FALSE(store_->CanBeginFlush()) << "a snapshot";
  ASSERT_EQ(store_->FinishFlush(std::move(second), Sync(second)).size(),
            kGroups);
}

// A group below tail_wal_min_groups syncs its own segment; the next flush
// may append to that segment while it syncs, and syncs it again.
TEST_F(LogStorePipelineTest, AFlushMayAppendToTheSegmentTheOneBeforeSyncs) {
  OpenStore();
  Append(1, 1, 3);
  FlushPlan first = store_->BeginFlush();
  ASSERT_FALSE(first.files_to_sync.empty()) << "its own segment";
  Append(1, 4, 2);
  ASSERT_TRUE(store_->CanBeginFlush());
  FlushPlan second = store_->BeginFlush();
  ASSERT_FALSE(second.files_to_sync.empty()) << "the same segment again";
  std::vector<Completion> done =
      store_->FinishFlush(std::move(first), Sync(first));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].durable_index, 3u);
  EXPECT_TRUE(store_->group(1)->log().needs_sync()) << "entries 4 and 5";
  done = store_->FinishFlush(std::move(second), Sync(second));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].durable_index, 5u);
  store_.reset();
  disk_.Crash();
  OpenStore();
  EXPECT_EQ(store_->group(1)->last_index(), 5u);
}

// The first flush syncs group 1's segment; the second covers group 1's next
// entries in the tail log, and the write-behind writes them to that segment
// while the first's fsync runs. The first's completion must not count them
// as synced: the checkpoint of the clean stop has to sync them before the
// tail log restarts, or a power cut loses them.
TEST_F(LogStorePipelineTest, WritesAfterASyncBeganStayToSync) {
  options_.tail_wal_buffer_bytes = 0;  // WriteBehind writes every time
  OpenStore();
  Append(1, 1, 3);  // alone: below the minimum, its own segment
  FlushPlan first = store_->BeginFlush();
  Append(1, 4, 2);
  Append(2, 1, 2);  // two groups: the tail log covers them
  ASSERT_TRUE(store_->CanBeginFlush());
  FlushPlan second = store_->BeginFlush();
  ASSERT_EQ(second.files_to_sync.size(), 1u) << "the tail log's file";
  store_->WriteBehind();  // group 1's entries 4 and 5 into its segment
  ASSERT_EQ(store_->FinishFlush(std::move(first), Sync(first)).size(), 1u);
  EXPECT_TRUE(store_->group(1)->log().needs_sync())
      << "the write-behind came after the first flush's sync began";
  ASSERT_EQ(store_->FinishFlush(std::move(second), Sync(second)).size(), 2u);
  ASSERT_TRUE(store_->MarkCleanStop().ok());
  store_.reset();
  disk_.Crash();
  OpenStore();
  EXPECT_EQ(store_->group(1)->last_index(), 5u);
  EXPECT_EQ(store_->group(2)->last_index(), 2u);
}

TEST_F(LogStorePipelineTest, TooFewGroupsForTheTailLogStillOverlap) {
  OpenStore();
  AppendAll(1, 2);
  FlushPlan covered = store_->BeginFlush();
  Append(3, 3, 1);  // one group: its own segment, not the tail log
  EXPECT_TRUE(store_->CanBeginFlush());
  FlushPlan direct = store_->BeginFlush();
  ASSERT_EQ(store_->FinishFlush(std::move(covered), Sync(covered)).size(),
            kGroups);
  std::vector<Completion> done =
      store_->FinishFlush(std::move(direct), Sync(direct));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].durable_index, 3u);
}

TEST_F(LogStorePipelineTest, OneInFlightWhenConfiguredSo) {
  options_.max_flushes_in_flight = 1;
  OpenStore();
  AppendAll(1, 1);
  FlushPlan first = store_->BeginFlush();
  AppendAll(2, 1);
  EXPECT_FALSE(store_->CanBeginFlush());
  ASSERT_EQ(store_->FinishFlush(std::move(first), Sync(first)).size(), kGroups);
}

// The first flush's fsync of the tail log fails: its frame may be lost while
// the second's fsync succeeds, and recovery stops at the first missing frame,
// so the second flush must not report its appends durable either.
TEST_F(LogStorePipelineTest, AFailedTailLogSyncFailsTheFlushBehindIt) {
  OpenStore();
  // Different groups in each, so that only the tail log links them.
  Append(1, 1, 2);
  Append(2, 1, 2);
  FlushPlan first = store_->BeginFlush();
  Append(3, 1, 2);
  Append(4, 1, 2);
  ASSERT_TRUE(store_->CanBeginFlush());
  FlushPlan second = store_->BeginFlush();
  std::vector<absl::Status> failed(first.files_to_sync.size(),
                                   absl::UnavailableError("EIO"));
  for (const Completion& c : store_->FinishFlush(std::move(first), failed)) {
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.durable_index, 0u);
  }
  for (const Completion& c :
       store_->FinishFlush(std::move(second), Sync(second))) {
    EXPECT_FALSE(c.status.ok())
        << "group " << c.group_id << " reported durable behind a lost frame";
  }
}

// A crash with the second flush applied but not synced: the first flush's
// appends come back, whatever the disk kept of the second.
TEST_F(LogStorePipelineTest, ACrashBetweenTheTwoKeepsTheFirst) {
  OpenStore();
  AppendAll(1, 3);
  FlushPlan first = store_->BeginFlush();
  AppendAll(4, 3);
  FlushPlan second = store_->BeginFlush();
  ASSERT_EQ(store_->FinishFlush(std::move(first), Sync(first)).size(), kGroups);
  (void)second;  // never synced
  store_.reset();
  disk_.Crash();
  OpenStore();
  for (uint64_t g = 1; g <= kGroups; ++g) {
    EXPECT_GE(store_->group(g)->last_index(), 3u) << "group " << g;
    std::vector<Entry> got;
    ASSERT_TRUE(store_->group(g)->Entries(1, 4, ~0ull, &got).ok());
    EXPECT_EQ(got, MakeEntries(1, 3, 1, 100));
  }
}

}  // namespace
}  // namespace chronik::storage
