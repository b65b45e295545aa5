#include "broker/storage/raft_entry.h"

#include <random>

#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

TEST(RaftEntryTest, ConversionsShareThePayload) {
  const raft::Entry entry{.term = 3,
                          .index = 7,
                          .type = raft::EntryType::kConfChange,
                          .data = raft::Bytes::Copy("payload")};
  const Entry stored = FromRaftEntry(entry);
  EXPECT_EQ(stored.index, 7u);
  EXPECT_EQ(stored.term, 3u);
  EXPECT_EQ(stored.type, 1);
  EXPECT_TRUE(stored.data.SharesBufferWith(entry.data));
  EXPECT_EQ(stored.offset_count, 0u);

  const raft::Entry back = ToRaftEntry(stored);
  EXPECT_EQ(back.index, 7u);
  EXPECT_EQ(back.term, 3u);
  EXPECT_EQ(back.type, raft::EntryType::kConfChange);
  EXPECT_TRUE(back.data.SharesBufferWith(entry.data));

  const raft::HardState hs{.term = 4, .vote = 2, .commit = 9};
  EXPECT_EQ(ToRaftHardState(FromRaftHardState(hs)), hs);
}

// A produce batch goes from the Raft log to the write buffer without a copy
// in between; the offset the partition log assigns is written into its own
// stored copy, never into the buffer the Raft core (and every follower
// message) shares.
TEST(RaftEntryTest, PartitionLogNeverWritesIntoTheSharedPayload) {
  std::mt19937_64 rng(5);
  sim::SimDisk disk(sim::SimDiskOptions{}, rng);
  absl::StatusOr<std::unique_ptr<LogStore>> store =
      LogStore::Open(&disk, "data", StoreOptions{});
  ASSERT_TRUE(store.ok()) << store.status();
  KafkaV2BatchOffsets kafka;
  ASSERT_TRUE((*store)->OpenGroup(1, LogOptions{.batch_offsets = &kafka}).ok());

  std::vector<raft::Entry> raft_log;
  PersistRequest request{.group_id = 1};
  for (uint64_t i = 1; i <= 3; ++i) {
    raft_log.push_back(
        raft::Entry{.term = 1,
                    .index = i,
                    .data = raft::Bytes::Own(testing::MakeKafkaBatch(4, 100))});
    request.entries.push_back(FromRaftEntry(raft_log.back()));
    EXPECT_TRUE(
        request.entries.back().data.SharesBufferWith(raft_log.back().data));
  }
  ASSERT_TRUE((*store)->Enqueue(std::move(request)).ok());
  std::vector<Completion> done = (*store)->Flush();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_TRUE(done[0].status.ok()) << done[0].status;
  ASSERT_EQ(done[0].offsets.size(), 3u);
  EXPECT_EQ(done[0].offsets[2].offset_base, 8u);

  std::vector<Entry> read;
  ASSERT_TRUE((*store)->group(1)->Entries(1, 4, 1 << 20, &read).ok());
  ASSERT_EQ(read.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(testing::BatchBaseOffset(raft_log[i].data), 0u)
        << "the shared payload was modified";
    const absl::string_view stored = testing::View(read[i].data);
    EXPECT_EQ(testing::BatchBaseOffset(stored), 4 * i);
    EXPECT_TRUE(testing::KafkaBatchCrcOk(stored));
    EXPECT_EQ(ToRaftEntry(std::move(read[i])).index, i + 1);
  }
}

}  // namespace
}  // namespace chronik::storage
