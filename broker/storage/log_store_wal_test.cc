// LogStore with its tail log (tail_wal.h): one file synced per flush, replay
// of what the segments lost, barriers, checkpoints. crash_test runs the
// randomized crash model with the tail log on as well.
#include <random>

#include "broker/storage/log_store.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

using testing::MakeEntries;

class LogStoreWalTest : public ::testing::Test {
 protected:
  LogStoreWalTest()
      : rng_(5),
        disk_(sim::SimDiskOptions{.torn_write_probability = 0}, rng_) {}

  void OpenStore(std::vector<uint64_t> groups) {
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(&disk_, "data", options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    for (uint64_t id : groups) {
      absl::StatusOr<GroupStorage*> g = store_->OpenGroup(id, LogOptions{});
      ASSERT_TRUE(g.ok()) << g.status();
    }
  }

  void Append(uint64_t group, uint64_t first, uint64_t count, uint64_t term) {
    ASSERT_TRUE(store_
                    ->Enqueue(PersistRequest{
                        .group_id = group,
                        .entries = MakeEntries(first, count, term, 100)})
                    .ok());
  }

  void FlushOk() {
    for (const Completion& c : store_->Flush()) {
      ASSERT_TRUE(c.status.ok()) << c.group_id << ": " << c.status;
    }
  }

  void Crash() {
    store_.reset();
    disk_.Crash();
  }

  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  StoreOptions options_{.tail_wal_bytes = 1 << 20, .tail_wal_min_groups = 1};
  std::unique_ptr<LogStore> store_;
};

TEST_F(LogStoreWalTest, AFlushOfManyGroupsSyncsOneFile) {
  std::vector<uint64_t> groups;
  for (uint64_t g = 1; g <= 100; ++g) groups.push_back(g);
  OpenStore(groups);
  for (uint64_t g : groups) Append(g, 1, 3, 1);
  FlushPlan plan = store_->BeginFlush();
  EXPECT_EQ(plan.files_to_sync.size(), 1u);
  std::vector<absl::Status> results;
  for (env::File* f : plan.files_to_sync) results.push_back(f->Sync());
  std::vector<Completion> done = store_->FinishFlush(std::move(plan), results);
  ASSERT_EQ(done.size(), 100u);
  for (const Completion& c : done) {
    EXPECT_TRUE(c.status.ok());
    EXPECT_EQ(c.durable_index, 3u);
  }
  EXPECT_EQ(store_->stats().log_fsyncs, 0u);
  EXPECT_EQ(store_->stats().wal_frames, 1u);
}

TEST_F(LogStoreWalTest, FlushesOfFewerGroupsThanTheMinimumSyncTheirSegments) {
  options_.tail_wal_min_groups = 3;
  OpenStore({1, 2, 3});
  Append(1, 1, 2, 1);
  Append(2, 1, 2, 1);
  FlushOk();  // two groups: their own segment files
  EXPECT_EQ(store_->stats().wal_frames, 0u);
  EXPECT_EQ(store_->stats().log_fsyncs, 2u);
  Append(1, 3, 2, 1);
  Append(2, 3, 2, 1);
  Append(3, 1, 2, 1);
  FlushOk();  // three: one frame
  EXPECT_EQ(store_->stats().wal_frames, 1u);
  EXPECT_EQ(store_->stats().log_fsyncs, 2u);
  Crash();
  OpenStore({1, 2, 3});
  EXPECT_EQ(store_->group(1)->last_index(), 4u);
  EXPECT_EQ(store_->group(3)->last_index(), 2u);
}

TEST_F(LogStoreWalTest, AppendsTheSegmentsLostAreReplayedFromTheTailLog) {
  OpenStore({1, 2});
  for (uint64_t round = 0; round < 5; ++round) {
    Append(1, round * 4 + 1, 4, 1);
    Append(2, round * 2 + 1, 2, 1);
    FlushOk();
  }
  Crash();  // the segments were never synced: the power cut loses them
  OpenStore({1, 2});
  EXPECT_GT(store_->stats().wal_entries_replayed, 0u);  // what was lost
  EXPECT_EQ(store_->group(1)->last_index(), 20u);
  EXPECT_EQ(store_->group(2)->last_index(), 10u);
  std::vector<Entry> got;
  ASSERT_TRUE(store_->group(1)->Entries(1, 21, ~0ull, &got).ok());
  EXPECT_EQ(got, MakeEntries(1, 20, 1, 100));
  // Replayed and synced: a second power cut loses nothing either.
  Crash();
  OpenStore({1, 2});
  EXPECT_EQ(store_->stats().wal_entries_replayed, 0u);
  EXPECT_EQ(store_->group(1)->last_index(), 20u);
}

// Covered appends wait in the groups' write buffers: WriteBehind writes them
// out, while the frame syncs, once they hold tail_wal_buffer_bytes; a driver
// that never calls it is bounded by BeginFlush at twice that. Reads see them;
// a killed process loses them from memory and the replay brings them back.
TEST_F(LogStoreWalTest, CoveredAppendsWaitInWriteBuffersWithinTheBudget) {
  constexpr uint64_t kGroups = 10, kRounds = 60;
  options_.tail_wal_buffer_bytes = 16 << 10;
  std::vector<uint64_t> groups;
  for (uint64_t g = 1; g <= kGroups; ++g) groups.push_back(g);
  OpenStore(groups);
  uint64_t most_buffered = 0, round_bytes = 0;
  for (uint64_t round = 0; round < kRounds; ++round) {
    for (uint64_t g : groups) Append(g, round * 2 + 1, 2, 1);
    const bool write_behind = round < kRounds / 2;
    FlushPlan plan = store_->BeginFlush();
    ASSERT_EQ(plan.files_to_sync.size(), 1u) << "round " << round;
    if (round == 0) round_bytes = store_->tail_wal_buffered_bytes();
    most_buffered = std::max(most_buffered, store_->tail_wal_buffered_bytes());
    EXPECT_GE(store_->stats().wal_buffered_bytes,
              store_->tail_wal_buffered_bytes());
    if (write_behind) {
      store_->WriteBehind();
      EXPECT_LT(store_->tail_wal_buffered_bytes(), 16u << 10);
    } else {
      EXPECT_LT(store_->tail_wal_buffered_bytes(), (32u << 10) + round_bytes);
    }
    std::vector<absl::Status> results;
    for (env::File* f : plan.files_to_sync) results.push_back(f->Sync());
    for (const Completion& c : store_->FinishFlush(std::move(plan), results)) {
      ASSERT_TRUE(c.status.ok()) << c.status;
    }
  }
  EXPECT_GT(most_buffered, 8u << 10);  // they did wait
  EXPECT_EQ(store_->stats().log_fsyncs, 0u);
  std::vector<Entry> got;
  ASSERT_TRUE(store_->group(3)->Entries(1, kRounds * 2 + 1, ~0ull, &got).ok());
  EXPECT_EQ(got, MakeEntries(1, kRounds * 2, 1, 100));
  // Killed (no power cut): what was still buffered is gone with the process.
  ASSERT_GT(store_->tail_wal_buffered_bytes(), 0u);
  store_.reset();
  OpenStore(groups);
  EXPECT_GT(store_->stats().wal_entries_replayed, 0u);
  for (uint64_t g : groups) {
    EXPECT_EQ(store_->group(g)->last_index(), kRounds * 2) << "group " << g;
  }
}

TEST(LogStoreWalKillTest, WhatAKilledProcessLeftUnsyncedIsSyncedByTheReplay) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    sim::SimDisk disk(sim::SimDiskOptions{.torn_write_probability = 0}, rng);
    auto open = [&] {
      std::unique_ptr<LogStore> store = *LogStore::Open(
          &disk, "",
          StoreOptions{.tail_wal_bytes = 1 << 20, .tail_wal_min_groups = 1});
      EXPECT_TRUE(store->OpenGroup(1, LogOptions{}).ok());
      return store;
    };
    std::unique_ptr<LogStore> store = open();
    for (uint64_t i = 1; i <= 40; i += 4) {
      ASSERT_TRUE(store
                      ->Enqueue(PersistRequest{
                          .group_id = 1, .entries = MakeEntries(i, 4, 1, 200)})
                      .ok());
      for (const Completion& c : store->Flush()) ASSERT_TRUE(c.status.ok());
    }
    // Killed: the segment writes stay in the page cache, not durable. The
    // replay finds the entries there and the log restarts...
    store.reset();
    store = open();
    ASSERT_EQ(store->group(1)->last_index(), 40u) << "seed " << seed;
    // ...so a power cut now must not lose them.
    store.reset();
    disk.Crash();
    store = open();
    EXPECT_EQ(store->group(1)->last_index(), 40u) << "seed " << seed;
  }
}

TEST_F(LogStoreWalTest, ADeletedGroupsBlocksAreNotReplayedIntoItsSuccessor) {
  OpenStore({7});
  Append(7, 1, 5, 1);
  FlushOk();
  ASSERT_TRUE(store_->DeleteGroup(7).ok());
  ASSERT_TRUE(store_->OpenGroup(7, LogOptions{}).ok());  // a new, empty log
  EXPECT_EQ(store_->stats().wal_barriers, 1u);
  Crash();
  OpenStore({7});
  EXPECT_EQ(store_->group(7)->last_index(), 0u);
}

TEST_F(LogStoreWalTest, ACheckpointSyncsEveryCoveredGroupAndRestartsTheLog) {
  options_.tail_wal_bytes = kTailWalMinBytes;
  OpenStore({1, 2});
  Append(2, 1, 3, 1);
  FlushOk();
  uint64_t index = 1;
  while (store_->stats().wal_checkpoints == 0) {
    Append(1, index, 4, 1);
    index += 4;
    FlushOk();
    ASSERT_LT(index, 1000u) << "no checkpoint";
  }
  const uint64_t synced_before = disk_.stats().syncs;
  Crash();
  OpenStore({1, 2});
  EXPECT_GT(synced_before, 0u);
  EXPECT_EQ(store_->group(1)->last_index(), index - 1);
  // Group 2 had no request in the checkpoint flush; it was synced by it.
  EXPECT_EQ(store_->group(2)->last_index(), 3u);
}

TEST_F(LogStoreWalTest, AnIdleCheckpointSyncsTheCoveredSegmentsAlone) {
  OpenStore({1, 2, 3});
  EXPECT_FALSE(store_->TailLogCheckpointPossible()) << "nothing covered";
  for (uint64_t g = 1; g <= 3; ++g) Append(g, 1, 5, 1);
  FlushOk();
  ASSERT_TRUE(store_->TailLogCheckpointPossible());
  for (uint64_t g = 1; g <= 3; ++g) {
    ASSERT_TRUE(store_->group(g)->log().needs_sync()) << "covered, unsynced";
  }
  FlushPlan plan = store_->BeginTailLogCheckpoint();
  EXPECT_GE(plan.files_to_sync.size(), 3u) << "every covered segment";
  EXPECT_FALSE(store_->TailLogCheckpointPossible()) << "one in flight";
  Append(1, 6, 1, 1);
  EXPECT_FALSE(store_->CanBeginFlush()) << "nothing overlaps a checkpoint";
  std::vector<absl::Status> results;
  for (env::File* f : plan.files_to_sync) results.push_back(f->Sync());
  EXPECT_TRUE(store_->FinishFlush(std::move(plan), results).empty());
  EXPECT_EQ(store_->stats().wal_checkpoints, 1u);
  EXPECT_EQ(store_->stats().wal_idle_checkpoints, 1u);
  for (uint64_t g = 1; g <= 3; ++g) {
    EXPECT_FALSE(store_->group(g)->log().needs_sync()) << g;
  }
  EXPECT_FALSE(store_->TailLogCheckpointPossible()) << "requests queued";
  FlushOk();
  Crash();
  OpenStore({1, 2, 3});
  EXPECT_EQ(store_->group(1)->last_index(), 6u);
  EXPECT_EQ(store_->group(2)->last_index(), 5u);
  EXPECT_EQ(store_->group(3)->last_index(), 5u);
}

TEST_F(LogStoreWalTest, TurnedOffTheTailLogIsReplayedOnceAndRemoved) {
  OpenStore({1});
  Append(1, 1, 6, 1);
  FlushOk();
  Crash();
  options_.tail_wal_bytes = 0;
  OpenStore({1});
  EXPECT_EQ(store_->group(1)->last_index(), 6u);
  EXPECT_FALSE(*disk_.Exists("data/tail.wal"));
  Append(1, 7, 2, 1);
  FlushOk();
  EXPECT_EQ(store_->stats().log_fsyncs, 1u);
}

}  // namespace
}  // namespace chronik::storage
