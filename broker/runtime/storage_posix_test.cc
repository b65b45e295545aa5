// The storage layer on the real file system (PosixDisk in $TEST_TMPDIR): group
// commit, reopen, truncation, snapshot install, index rebuild and a flipped
// byte on disk.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "broker/runtime/parallel_sync.h"
#include "broker/runtime/posix_disk.h"
#include "broker/storage/log_store.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

using storage::Completion;
using storage::Entry;
using storage::GroupStorage;
using storage::LogStore;
using storage::PersistRequest;

std::string FreshDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir =
      absl::StrCat(base != nullptr ? base : "/tmp", "/", name, "_", ::getpid());
  EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
  return dir;
}

storage::LogOptions SmallSegments() {
  return storage::LogOptions{.segment_max_bytes = 16 << 10,
                             .index_interval_bytes = 1024};
}

std::unique_ptr<LogStore> Open(PosixDisk& disk, std::vector<uint64_t> groups) {
  absl::StatusOr<std::unique_ptr<LogStore>> store =
      LogStore::Open(&disk, "store", storage::StoreOptions{});
  EXPECT_TRUE(store.ok()) << store.status();
  for (uint64_t g : groups) {
    absl::StatusOr<GroupStorage*> group =
        (*store)->OpenGroup(g, SmallSegments());
    EXPECT_TRUE(group.ok()) << group.status();
  }
  return std::move(*store);
}

void ExpectLog(GroupStorage& g, uint64_t lo, uint64_t hi, uint64_t term) {
  std::vector<Entry> got;
  for (uint64_t i = lo; i < hi;) {
    got.clear();
    absl::Status s = g.Entries(i, hi, 64 << 10, &got);
    ASSERT_TRUE(s.ok()) << s;
    for (const Entry& e : got) {
      ASSERT_EQ(e.index, i);
      ASSERT_EQ(e.term, term);
      ASSERT_EQ(e.data.view(), storage::testing::PayloadFor(i, term, 500));
      ++i;
    }
  }
}

// Appends `rounds` flushes of 1,000 entries of 500 B to group 1 from index
// `*next`, each flush synced as in production.
void AppendFlushes(LogStore& store, int rounds, uint64_t* next) {
  for (int round = 0; round < rounds; ++round) {
    ASSERT_TRUE(
        store
            .Enqueue(PersistRequest{
                .group_id = 1,
                .entries = storage::testing::MakeEntries(*next, 1000, 1, 500),
                .hard_state = storage::HardState{.term = 1}})
            .ok());
    storage::FlushPlan plan = store.BeginFlush();
    std::vector<absl::Status> results = SyncInParallel(plan.files_to_sync, 1);
    for (const Completion& c : store.FinishFlush(std::move(plan), results)) {
      ASSERT_TRUE(c.status.ok()) << c.status;
    }
    *next += 1000;
  }
}

TEST(StoragePosixTest, SegmentsDropTheirSyncedBytesBehindFromThePageCache) {
  PosixDisk disk(FreshDir("storage_drop_behind"),
                 /*drop_behind_bytes=*/1 << 20);
  auto open = [&disk] {
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(&disk, "store", storage::StoreOptions{});
    EXPECT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((*store)->OpenGroup(1, storage::LogOptions{}).ok());
    return std::move(*store);
  };
  uint64_t next = 1;
  {
    std::unique_ptr<LogStore> store = open();
    AppendFlushes(*store, 10, &next);  // about 5 MiB in one segment
    EXPECT_GE(disk.dropped_behind_bytes(), 2u << 20);
    ExpectLog(*store->group(1), 1, next, 1);
  }
  // A segment opened at start (the active one) drops behind as well.
  const uint64_t before_restart = disk.dropped_behind_bytes();
  std::unique_ptr<LogStore> store = open();
  AppendFlushes(*store, 10, &next);
  EXPECT_GT(disk.dropped_behind_bytes(), before_restart);
  ExpectLog(*store->group(1), 1, next, 1);
}

TEST(StoragePosixTest, GroupCommitReopenTruncateAndSnapshot) {
  PosixDisk disk(FreshDir("storage_posix"));
  {
    std::unique_ptr<LogStore> store = Open(disk, {1, 2, 3});
    for (uint64_t round = 0; round < 20; ++round) {
      for (uint64_t g = 1; g <= 3; ++g) {
        ASSERT_TRUE(store
                        ->Enqueue(PersistRequest{
                            .group_id = g,
                            .entries = storage::testing::MakeEntries(
                                round * 10 + 1, 10, 1, 500),
                            .hard_state =
                                storage::HardState{.term = 1, .commit = round}})
                        .ok());
      }
      // The production shape: the flush's fsyncs run on several threads.
      storage::FlushPlan plan = store->BeginFlush();
      std::vector<absl::Status> results = SyncInParallel(plan.files_to_sync, 4);
      std::vector<Completion> done =
          store->FinishFlush(std::move(plan), results);
      ASSERT_EQ(done.size(), 3u);
      for (const Completion& c : done) {
        ASSERT_TRUE(c.status.ok()) << c.status;
        EXPECT_EQ(c.durable_index, round * 10 + 10);
      }
    }
    EXPECT_EQ(store->stats().hard_state_writes, 20u);
    EXPECT_GT(store->group(1)->log().segment_count(), 3u);
  }
  {
    std::unique_ptr<LogStore> store = Open(disk, {1, 2, 3});
    for (uint64_t g = 1; g <= 3; ++g) {
      GroupStorage& group = *store->group(g);
      EXPECT_EQ(group.last_index(), 200u);
      EXPECT_EQ(group.hard_state().commit, 19u);
      EXPECT_EQ(group.recovery().segments_scanned, 1u);  // index files trusted
      ExpectLog(group, 1, 201, 1);
    }
    // Group 2: conflicting suffix from a new leader. Group 3: snapshot install.
    ASSERT_TRUE(
        store
            ->Enqueue(PersistRequest{
                .group_id = 2,
                .entries = storage::testing::MakeEntries(51, 5, 2, 500)})
            .ok());
    ASSERT_TRUE(store
                    ->Enqueue(PersistRequest{
                        .group_id = 3,
                        .snapshot = storage::Snapshot{.meta = {.index = 1000,
                                                               .term = 4},
                                                      .data = "snap"}})
                    .ok());
    for (const Completion& c : store->Flush())
      ASSERT_TRUE(c.status.ok()) << c.status;
  }
  {
    std::unique_ptr<LogStore> store = Open(disk, {1, 2, 3});
    ExpectLog(*store->group(2), 1, 51, 1);
    ExpectLog(*store->group(2), 51, 56, 2);
    EXPECT_EQ(store->group(2)->last_index(), 55u);
    EXPECT_EQ(store->group(3)->first_index(), 1001u);
    EXPECT_EQ(*store->group(3)->Term(1000), 4u);
  }
  // A flipped byte in a sealed segment of group 1, with its index removed so
  // the segment is scanned at open: reported with file and position, never
  // served.
  const std::string dir = disk.root() + "/store/group-1";
  const std::string segment = dir + "/" + storage::format::SegmentName(1);
  ASSERT_EQ(::unlink((dir + "/" + storage::format::IndexName(1)).c_str()), 0);
  const int fd = ::open(segment.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char byte;
  ASSERT_EQ(::pread(fd, &byte, 1, 3000), 1);
  byte ^= 0x20;
  ASSERT_EQ(::pwrite(fd, &byte, 1, 3000), 1);
  ::close(fd);
  std::unique_ptr<LogStore> store = Open(disk, {1});
  const storage::RecoveryReport& report = store->group(1)->recovery();
  ASSERT_EQ(report.damage.size(), 1u);
  EXPECT_EQ(report.damage[0].file,
            "store/group-1/" + storage::format::SegmentName(1));
  EXPECT_LE(report.damage[0].position, 3000u);
  std::vector<Entry> got;
  absl::Status s = store->group(1)->Entries(
      report.damage[0].first_index, report.damage[0].first_index + 1, 1, &got);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->group(1)->last_index(), 200u);
}

}  // namespace
}  // namespace chronik::runtime
