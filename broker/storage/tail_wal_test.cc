#include "broker/storage/tail_wal.h"

#include <random>

#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

class TailWalTest : public ::testing::Test {
 protected:
  TailWalTest()
      : rng_(3),
        disk_(sim::SimDiskOptions{.torn_write_probability = 0}, rng_) {}

  std::unique_ptr<TailWal> Open(std::vector<TailWalBlock>* blocks) {
    absl::StatusOr<std::unique_ptr<TailWal>> wal =
        TailWal::Open(&disk_, "tail.wal", kTailWalMinBytes, blocks);
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? std::move(*wal) : nullptr;
  }

  // A frame with one records block per group, `bytes` of filler each.
  static void AddBlocks(TailWal& wal, std::vector<uint64_t> groups,
                        size_t bytes) {
    for (uint64_t g : groups) {
      wal.BeginRecords(g, /*prev_term=*/g * 10)->append(bytes, 'a' + g);
      wal.EndRecords();
    }
  }

  void Crash(std::unique_ptr<TailWal>& wal) {
    wal.reset();
    disk_.Crash();
  }

  std::mt19937_64 rng_;
  sim::SimDisk disk_;
};

TEST_F(TailWalTest, SyncedFramesAreRecoveredInOrderAndUnsyncedOnesAreNot) {
  std::vector<TailWalBlock> blocks;
  std::unique_ptr<TailWal> wal = Open(&blocks);
  EXPECT_TRUE(blocks.empty());
  AddBlocks(*wal, {1, 2}, 100);
  ASSERT_TRUE(wal->WriteFrame().ok());
  AddBlocks(*wal, {2}, 50);
  ASSERT_TRUE(wal->WriteFrame().ok());
  ASSERT_TRUE(wal->file()->Sync().ok());
  AddBlocks(*wal, {3}, 70);  // written, never synced
  ASSERT_TRUE(wal->WriteFrame().ok());
  Crash(wal);

  wal = Open(&blocks);
  ASSERT_GE(blocks.size(), 3u);
  ASSERT_LE(blocks.size(), 4u);  // the unsynced frame may or may not survive
  EXPECT_EQ(blocks[0].group_id, 1u);
  EXPECT_EQ(blocks[0].prev_term, 10u);
  EXPECT_EQ(blocks[0].records, std::string(100, 'b'));
  EXPECT_EQ(blocks[1].group_id, 2u);
  EXPECT_EQ(blocks[2].group_id, 2u);
  EXPECT_EQ(blocks[2].records, std::string(50, 'c'));
}

TEST_F(TailWalTest, NewFramesFollowTheRecoveredOnesAndRestartForgetsThem) {
  std::vector<TailWalBlock> blocks;
  std::unique_ptr<TailWal> wal = Open(&blocks);
  AddBlocks(*wal, {1}, 10);
  ASSERT_TRUE(wal->WriteFrame().ok());
  ASSERT_TRUE(wal->file()->Sync().ok());
  Crash(wal);
  wal = Open(&blocks);
  ASSERT_EQ(blocks.size(), 1u);
  AddBlocks(*wal, {2}, 10);
  ASSERT_TRUE(wal->WriteBarrier(1).ok());
  ASSERT_TRUE(wal->WriteFrame().ok());
  ASSERT_TRUE(wal->file()->Sync().ok());
  Crash(wal);
  blocks.clear();
  wal = Open(&blocks);
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[1].kind, kBlockBarrier);
  EXPECT_EQ(blocks[1].group_id, 1u);
  EXPECT_EQ(blocks[2].group_id, 2u);

  ASSERT_TRUE(wal->Restart().ok());
  AddBlocks(*wal, {4}, 5);  // shorter than what was there: old frames remain
  ASSERT_TRUE(wal->WriteFrame().ok());
  ASSERT_TRUE(wal->file()->Sync().ok());
  Crash(wal);
  blocks.clear();
  wal = Open(&blocks);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].group_id, 4u);
}

TEST_F(TailWalTest, ATornHeaderLeavesThePreviousGeneration) {
  std::vector<TailWalBlock> blocks;
  std::unique_ptr<TailWal> wal = Open(&blocks);
  AddBlocks(*wal, {1}, 10);
  ASSERT_TRUE(wal->WriteFrame().ok());
  ASSERT_TRUE(wal->file()->Sync().ok());
  const uint64_t generation = wal->generation();
  // Generation+1's slot garbled, as a torn Restart would leave it.
  const uint64_t slot = ((generation + 1) % 2) * (kTailWalHeaderBytes / 2);
  ASSERT_TRUE(wal->file()->WriteAt(slot, "CHRNKWAL garbage").ok());
  ASSERT_TRUE(wal->file()->Sync().ok());
  Crash(wal);
  wal = Open(&blocks);
  EXPECT_EQ(wal->generation(), generation);
  ASSERT_EQ(blocks.size(), 1u);
}

TEST_F(TailWalTest, AFrameTooLargeForTheRoomLeftDoesNotFit) {
  std::vector<TailWalBlock> blocks;
  std::unique_ptr<TailWal> wal = Open(&blocks);
  AddBlocks(*wal, {1}, kTailWalMinBytes - kTailWalHeaderBytes - 100);
  EXPECT_TRUE(wal->FrameFits());
  ASSERT_TRUE(wal->WriteFrame().ok());
  AddBlocks(*wal, {1}, 100);
  EXPECT_FALSE(wal->FrameFits());
  EXPECT_TRUE(wal->BarrierFits());
  wal->DiscardFrame();
  EXPECT_TRUE(wal->frame_empty());
}

}  // namespace
}  // namespace chronik::storage
