#include "broker/partition/leader_epochs.h"

#include "gtest/gtest.h"

namespace chronik::partition {
namespace {

// Epoch 1 wrote offsets 0-9, epoch 3 10-24, epoch 5 from 25 on.
LeaderEpochs ThreeEpochs() {
  LeaderEpochs epochs;
  epochs.Assign(1, 0);
  epochs.Assign(1, 4);  // later entries of the same epoch change nothing
  epochs.Assign(3, 10);
  epochs.Assign(5, 25);
  return epochs;
}

TEST(LeaderEpochsTest, EndOffsetsAsKafkasLeaderAnswers) {
  const LeaderEpochs epochs = ThreeEpochs();
  // The latest epoch ends at the log end.
  EXPECT_EQ(epochs.EndOffsetFor(5, 40), (EpochEnd{5, 40}));
  // A known epoch ends where the next one starts.
  EXPECT_EQ(epochs.EndOffsetFor(1, 40), (EpochEnd{1, 10}));
  EXPECT_EQ(epochs.EndOffsetFor(3, 40), (EpochEnd{3, 25}));
  // An epoch with no data here: the largest epoch below it, and where the
  // next one starts.
  EXPECT_EQ(epochs.EndOffsetFor(2, 40), (EpochEnd{1, 10}));
  EXPECT_EQ(epochs.EndOffsetFor(4, 40), (EpochEnd{3, 25}));
  // Older than every epoch: the requested one, ending where the log's first
  // epoch starts.
  EXPECT_EQ(epochs.EndOffsetFor(0, 40), (EpochEnd{0, 0}));
  // Newer than every epoch, or undefined: undefined.
  EXPECT_EQ(epochs.EndOffsetFor(6, 40), (EpochEnd{-1, -1}));
  EXPECT_EQ(epochs.EndOffsetFor(-1, 40), (EpochEnd{-1, -1}));
  EXPECT_EQ(LeaderEpochs().EndOffsetFor(1, 0), (EpochEnd{-1, -1}));
}

TEST(LeaderEpochsTest, EpochForOffset) {
  const LeaderEpochs epochs = ThreeEpochs();
  EXPECT_EQ(epochs.EpochForOffset(0), 1);
  EXPECT_EQ(epochs.EpochForOffset(9), 1);
  EXPECT_EQ(epochs.EpochForOffset(10), 3);
  EXPECT_EQ(epochs.EpochForOffset(1000), 5);
  LeaderEpochs later;
  later.Assign(2, 7);
  EXPECT_EQ(later.EpochForOffset(6), -1);
}

TEST(LeaderEpochsTest, AnEpochThatWroteNothingIsDropped) {
  LeaderEpochs epochs = ThreeEpochs();
  // Epoch 7's leader appended one empty entry at 30; epoch 8 starts there.
  epochs.Assign(7, 30);
  epochs.Assign(8, 30);
  EXPECT_EQ(epochs.size(), 4u);
  EXPECT_EQ(epochs.EndOffsetFor(7, 50), (EpochEnd{5, 30}));
  EXPECT_EQ(epochs.EndOffsetFor(5, 50), (EpochEnd{5, 30}));
}

TEST(LeaderEpochsTest, TruncateFromStartMovesTheEpochHoldingTheNewStart) {
  LeaderEpochs epochs = ThreeEpochs();
  epochs.TruncateFromStart(12);
  EXPECT_EQ(epochs.earliest(), (EpochStart{3, 12}));
  EXPECT_EQ(epochs.EndOffsetFor(1, 40), (EpochEnd{1, 12}));
  EXPECT_EQ(epochs.EndOffsetFor(3, 40), (EpochEnd{3, 25}));
  // A start exactly at an epoch's start keeps that epoch.
  epochs.TruncateFromStart(25);
  EXPECT_EQ(epochs.earliest(), (EpochStart{5, 25}));
  EXPECT_EQ(epochs.size(), 1u);
  // Below the first start: nothing changes.
  epochs.TruncateFromStart(3);
  EXPECT_EQ(epochs.earliest(), (EpochStart{5, 25}));
}

TEST(LeaderEpochsTest, ResetIsWhatTruncatingAtTheSnapshotGives) {
  // A replica that applied everything and truncated at 12 and one that
  // installed a snapshot there (its last entry of epoch 3) and applied the
  // rest agree.
  LeaderEpochs applied = ThreeEpochs();
  applied.TruncateFromStart(12);
  LeaderEpochs installed;
  installed.Reset(3, 12);
  installed.Assign(3, 12);
  installed.Assign(5, 25);
  EXPECT_EQ(installed.earliest(), applied.earliest());
  EXPECT_EQ(installed.latest(), applied.latest());
  for (int32_t e = 0; e <= 6; ++e) {
    EXPECT_EQ(installed.EndOffsetFor(e, 40), applied.EndOffsetFor(e, 40)) << e;
  }
}

TEST(LeaderEpochsTest, BoundedKeepingTheNewest) {
  LeaderEpochs epochs;
  for (int32_t e = 1; e <= static_cast<int32_t>(kMaxLeaderEpochs) + 10; ++e) {
    epochs.Assign(e, e * 10);
  }
  EXPECT_EQ(epochs.size(), kMaxLeaderEpochs);
  EXPECT_EQ(epochs.earliest(), (EpochStart{11, 110}));
  // The end of a dropped epoch is still right: the next kept one's start.
  EXPECT_EQ(epochs.EndOffsetFor(10, 1 << 20), (EpochEnd{10, 110}));
}

TEST(LeaderEpochsDeathTest, EpochsNeverDecrease) {
  LeaderEpochs epochs = ThreeEpochs();
  EXPECT_DEATH(epochs.Assign(4, 30), "leader epochs decrease");
}

}  // namespace
}  // namespace chronik::partition
