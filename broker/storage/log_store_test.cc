#include "broker/storage/log_store.h"

#include <random>

#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

using testing::MakeEntries;

class LogStoreTest : public ::testing::Test {
 protected:
  LogStoreTest() : rng_(9), disk_(sim::SimDiskOptions{}, rng_) {}

  std::unique_ptr<LogStore> OpenStore(std::vector<uint64_t> groups) {
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(&disk_, "data", options_);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    for (uint64_t id : groups) {
      absl::StatusOr<GroupStorage*> g = (*store)->OpenGroup(id, log_options_);
      EXPECT_TRUE(g.ok()) << g.status();
    }
    return std::move(*store);
  }

  PersistRequest Request(uint64_t group, uint64_t first, uint64_t count,
                         uint64_t term) {
    return PersistRequest{.group_id = group,
                          .entries = MakeEntries(first, count, term, 50)};
  }

  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  StoreOptions options_;
  LogOptions log_options_{.segment_max_bytes = 8192};
};

TEST_F(LogStoreTest, OneFlushCoversManyAppendsOfManyGroups) {
  std::unique_ptr<LogStore> store = OpenStore({1, 2, 3});
  for (uint64_t round = 0; round < 10; ++round) {
    for (uint64_t g = 1; g <= 3; ++g) {
      ASSERT_TRUE(store->Enqueue(Request(g, round * 2 + 1, 2, 1)).ok());
    }
  }
  EXPECT_EQ(store->queued_requests(), 30u);
  std::vector<Completion> done = store->Flush();
  ASSERT_EQ(done.size(), 3u);
  for (uint64_t g = 1; g <= 3; ++g) {
    EXPECT_EQ(done[g - 1].group_id, g);
    EXPECT_TRUE(done[g - 1].status.ok());
    EXPECT_EQ(done[g - 1].durable_index, 20u);
    EXPECT_EQ(done[g - 1].durable_term, 1u);
  }
  EXPECT_EQ(store->stats().appends, 30u);
  EXPECT_EQ(store->stats().log_fsyncs, 3u);  // one per group, not per append
  EXPECT_EQ(store->queued_requests(), 0u);
  EXPECT_TRUE(store->Flush().empty());
}

TEST_F(LogStoreTest, HardStatesSurviveACrashAtomically) {
  {
    std::unique_ptr<LogStore> store = OpenStore({1, 2});
    PersistRequest r = Request(1, 1, 3, 2);
    r.hard_state = HardState{.term = 2, .vote = 7, .commit = 3};
    ASSERT_TRUE(store->Enqueue(std::move(r)).ok());
    ASSERT_TRUE(
        store
            ->Enqueue(PersistRequest{
                .group_id = 2, .hard_state = HardState{.term = 5, .vote = 1}})
            .ok());
    std::vector<Completion> done = store->Flush();
    ASSERT_EQ(done.size(), 2u);
    EXPECT_EQ(done[0].hard_state,
              (HardState{.term = 2, .vote = 7, .commit = 3}));
    EXPECT_EQ(store->stats().hard_state_writes,
              1u);  // one write for both groups
    // An unflushed change is not durable.
    ASSERT_TRUE(
        store
            ->Enqueue(PersistRequest{
                .group_id = 2, .hard_state = HardState{.term = 6, .vote = 2}})
            .ok());
  }
  disk_.Crash();
  std::unique_ptr<LogStore> store = OpenStore({1, 2});
  EXPECT_EQ(store->group(1)->hard_state(),
            (HardState{.term = 2, .vote = 7, .commit = 3}));
  EXPECT_EQ(store->group(2)->hard_state(), (HardState{.term = 5, .vote = 1}));
  EXPECT_EQ(store->group(1)->last_index(), 3u);
}

TEST_F(LogStoreTest, SnapshotInstallReplacesTheLog) {
  {
    std::unique_ptr<LogStore> store = OpenStore({4});
    ASSERT_TRUE(store->Enqueue(Request(4, 1, 50, 1)).ok());
    store->Flush();
    PersistRequest install{
        .group_id = 4,
        .snapshot =
            Snapshot{
                .meta = {.index = 100, .term = 3, .conf_state = "voters:1,2,3"},
                .data = "state machine bytes"},
        .entries = MakeEntries(101, 5, 3)};
    ASSERT_TRUE(store->Enqueue(std::move(install)).ok());
    std::vector<Completion> done = store->Flush();
    ASSERT_EQ(done.size(), 1u);
    ASSERT_TRUE(done[0].status.ok()) << done[0].status;
    EXPECT_EQ(done[0].snapshot_index, 100u);
    EXPECT_EQ(done[0].durable_index, 105u);
  }
  disk_.Crash();
  std::unique_ptr<LogStore> store = OpenStore({4});
  GroupStorage& g = *store->group(4);
  EXPECT_EQ(g.first_index(), 101u);
  EXPECT_EQ(g.last_index(), 105u);
  EXPECT_EQ(*g.Term(100), 3u);
  EXPECT_EQ(g.snapshot_meta().conf_state, "voters:1,2,3");
  absl::StatusOr<Snapshot> snap = g.LoadSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->data, "state machine bytes");
  std::vector<Entry> got;
  EXPECT_FALSE(g.Entries(50, 60, 1000, &got).ok());
  ASSERT_TRUE(g.Entries(101, 106, 1 << 20, &got).ok());
  EXPECT_EQ(got.size(), 5u);
}

TEST_F(LogStoreTest, CrashBetweenSnapshotAndLogResetIsFinishedAtOpen) {
  {
    std::unique_ptr<LogStore> store = OpenStore({4});
    ASSERT_TRUE(store->Enqueue(Request(4, 1, 50, 1)).ok());
    store->Flush();
  }
  // The snapshot file made it, the log reset did not.
  ASSERT_TRUE(WriteFileAtomically(
                  disk_, "data/group-4", format::kSnapshotFile,
                  EncodeSnapshot(Snapshot{.meta = {.index = 80, .term = 2}}))
                  .ok());
  disk_.Crash();
  std::unique_ptr<LogStore> store = OpenStore({4});
  GroupStorage& g = *store->group(4);
  EXPECT_EQ(g.first_index(), 81u);
  EXPECT_EQ(g.last_index(), 80u);
  EXPECT_EQ(*g.Term(80), 2u);
}

TEST_F(LogStoreTest, LocalSnapshotCompactsButKeepsLaterEntries) {
  std::unique_ptr<LogStore> store = OpenStore({5});
  ASSERT_TRUE(store->Enqueue(Request(5, 1, 400, 1)).ok());
  store->Flush();
  ASSERT_TRUE(store
                  ->Enqueue(PersistRequest{
                      .group_id = 5,
                      .snapshot = Snapshot{.meta = {.index = 300, .term = 1}},
                      .snapshot_replaces_log = false})
                  .ok());
  std::vector<Completion> done = store->Flush();
  ASSERT_TRUE(done[0].status.ok());
  GroupStorage& g = *store->group(5);
  EXPECT_EQ(g.first_index(), 301u);
  EXPECT_EQ(g.last_index(), 400u);
  EXPECT_GT(g.log().first_index(), 1u);  // whole segments before 300 are gone
  std::vector<Entry> got;
  ASSERT_TRUE(g.Entries(301, 401, 1 << 20, &got).ok());
  EXPECT_EQ(got.size(), 100u);
  EXPECT_EQ(*g.Term(300), 1u);
}

TEST_F(LogStoreTest, QueueIsBounded) {
  options_.max_queued_requests = 2;
  std::unique_ptr<LogStore> store = OpenStore({1});
  ASSERT_TRUE(store->Enqueue(Request(1, 1, 1, 1)).ok());
  ASSERT_TRUE(store->Enqueue(Request(1, 2, 1, 1)).ok());
  EXPECT_EQ(store->Enqueue(Request(1, 3, 1, 1)).code(),
            absl::StatusCode::kResourceExhausted);
  store->Flush();
  EXPECT_TRUE(store->Enqueue(Request(1, 3, 1, 1)).ok());
  EXPECT_EQ(store->Enqueue(Request(9, 1, 1, 1)).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(LogStoreTest, FlushBatchIsBounded) {
  options_.max_flush_bytes = 1000;
  std::unique_ptr<LogStore> store = OpenStore({1});
  for (uint64_t i = 1; i <= 10; ++i) {
    ASSERT_TRUE(store->Enqueue(Request(1, i, 1, 1)).ok());  // ~170 bytes each
  }
  std::vector<Completion> done = store->Flush();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_LT(done[0].durable_index, 10u);
  EXPECT_GT(done[0].durable_index, 1u);
  while (store->queued_requests() > 0) done = store->Flush();
  EXPECT_EQ(done[0].durable_index, 10u);
}

TEST_F(LogStoreTest, SyncFailureFailsTheGroup) {
  std::unique_ptr<LogStore> store = OpenStore({1, 2});
  ASSERT_TRUE(store->Enqueue(Request(1, 1, 1, 1)).ok());
  ASSERT_TRUE(store->Enqueue(Request(2, 1, 1, 1)).ok());
  sim::SimDiskOptions failing = disk_.options();
  failing.sync_error_probability = 1.0;
  disk_.set_options(failing);
  std::vector<Completion> done = store->Flush();
  ASSERT_EQ(done.size(), 2u);
  for (const Completion& c : done) {
    EXPECT_EQ(c.status.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(c.durable_index, 0u);
  }
  EXPECT_TRUE(store->group(1)->failed());
  failing.sync_error_probability = 0;
  disk_.set_options(failing);
  // No retry of a failed fsync: the group stays failed until reopened.
  EXPECT_FALSE(store->Enqueue(Request(1, 2, 1, 1)).ok());
}

TEST_F(LogStoreTest, PartitionCompletionsCarryAssignedOffsets) {
  KafkaV2BatchOffsets kafka;
  log_options_.batch_offsets = &kafka;
  std::unique_ptr<LogStore> store = OpenStore({7});
  PersistRequest r{.group_id = 7};
  for (uint64_t i = 1; i <= 3; ++i) {
    r.entries.push_back(
        Entry{.index = i,
              .term = 1,
              .data = raft::Bytes::Own(testing::MakeKafkaBatch(10, 5))});
  }
  ASSERT_TRUE(store->Enqueue(std::move(r)).ok());
  std::vector<Completion> done = store->Flush();
  ASSERT_EQ(done[0].offsets.size(), 3u);
  EXPECT_EQ(done[0].offsets[2].index, 3u);
  EXPECT_EQ(done[0].offsets[2].offset_base, 20u);
  EXPECT_EQ(done[0].offsets[2].offset_count, 10u);
}

TEST(StorageFormatTest, SnapshotAndHardStateRoundTripAndDetectDamage) {
  Snapshot snap{
      .meta = {.index = 9, .term = 4, .next_offset = 77, .conf_state = "c"},
      .data = "payload"};
  std::string bytes = EncodeSnapshot(snap);
  absl::StatusOr<Snapshot> back = DecodeSnapshot(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->meta, snap.meta);
  EXPECT_EQ(back->data, snap.data);
  bytes[50] ^= 1;
  EXPECT_EQ(DecodeSnapshot(bytes).status().code(), absl::StatusCode::kDataLoss);
  std::map<uint64_t, HardState> states = {{1, {1, 2, 3}}, {8, {4, 5, 6}}};
  std::string hs = EncodeHardStates(states);
  EXPECT_EQ(*DecodeHardStates(hs), states);
  hs[20] ^= 1;
  EXPECT_FALSE(DecodeHardStates(hs).ok());
}

}  // namespace
}  // namespace chronik::storage

namespace chronik::storage {
namespace {

TEST_F(LogStoreTest, TwoPhaseFlushReportsOnlyAfterTheDriverSynced) {
  std::unique_ptr<LogStore> store = OpenStore({1, 2, 3});
  for (uint64_t g = 1; g <= 3; ++g) {
    ASSERT_TRUE(store->Enqueue(Request(g, 1, 4, 1)).ok());
  }
  FlushPlan plan = store->BeginFlush();
  ASSERT_EQ(plan.files_to_sync.size(), 3u);  // one segment per group
  // The driver syncs group 1 and 3; group 2's fsync fails.
  std::vector<absl::Status> results;
  for (size_t i = 0; i < plan.files_to_sync.size(); ++i) {
    results.push_back(i == 1 ? absl::UnavailableError("EIO")
                             : plan.files_to_sync[i]->Sync());
  }
  std::vector<Completion> done = store->FinishFlush(std::move(plan), results);
  ASSERT_EQ(done.size(), 3u);
  EXPECT_TRUE(done[0].status.ok());
  EXPECT_EQ(done[0].durable_index, 4u);
  EXPECT_EQ(done[1].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(store->group(2)->failed());
  EXPECT_TRUE(done[2].status.ok());
  EXPECT_EQ(store->stats().log_fsyncs, 2u);
}

}  // namespace
}  // namespace chronik::storage

namespace chronik::storage {
namespace {

TEST_F(LogStoreTest, DeleteGroupRemovesFilesAndHardState) {
  {
    std::unique_ptr<LogStore> store = OpenStore({1, 2});
    for (uint64_t g = 1; g <= 2; ++g) {
      PersistRequest r = Request(g, 1, 300, 1);
      r.hard_state = HardState{.term = 1, .vote = g};
      ASSERT_TRUE(store->Enqueue(std::move(r)).ok());
    }
    ASSERT_TRUE(store->Enqueue(Request(2, 301, 1, 1)).ok());
    EXPECT_EQ(store->DeleteGroup(2).code(),
              absl::StatusCode::kFailedPrecondition);  // queued work
    store->Flush();
    ASSERT_TRUE(store->DeleteGroup(2).ok());
    EXPECT_EQ(store->group(2), nullptr);
    EXPECT_FALSE(*disk_.Exists("data/group-2"));
    ASSERT_TRUE(store->DeleteGroup(2).ok());  // idempotent
  }
  disk_.Crash();
  std::unique_ptr<LogStore> store = OpenStore({1, 2});
  EXPECT_EQ(store->group(1)->last_index(), 300u);
  EXPECT_EQ(store->group(1)->hard_state().vote, 1u);
  EXPECT_EQ(store->group(2)->last_index(), 0u);  // a fresh, empty group
  EXPECT_EQ(store->group(2)->hard_state(), HardState{});
}

}  // namespace
}  // namespace chronik::storage
