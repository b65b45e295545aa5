// PartitionReplica and log start entries (DeleteRecords): applied in log
// order with the batches, the log start only moves forward, the leader's
// pending entry completes with the log start after it, and a snapshot's
// offset is a log start too.
#include "broker/server/partition_replica.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/storage/batch_offsets.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

raft::Entry BatchEntry(raft::Index index, raft::Term term, int records) {
  std::vector<kafka::Record> batch;
  for (int i = 0; i < records; ++i) {
    kafka::Record record;
    record.offset_delta = i;
    record.value = absl::StrCat("v", i);
    batch.push_back(record);
  }
  raft::Entry entry;
  entry.index = index;
  entry.term = term;
  entry.data = raft::Bytes::Own(
      *kafka::BuildRecordBatch(kafka::RecordBatchSpec{}, batch));
  return entry;
}

raft::Entry LogStartEntry(raft::Index index, raft::Term term, int64_t offset) {
  raft::Entry entry;
  entry.index = index;
  entry.term = term;
  entry.data = raft::Bytes::Own(storage::EncodeLogStartEntry(offset));
  return entry;
}

TEST(PartitionReplicaTest, LogStartEntriesMoveTheLogStartForwardOnly) {
  PartitionReplica replica("t", 0, 1, /*self=*/1);
  replica.Apply(BatchEntry(1, 1, 5));
  replica.Apply(BatchEntry(2, 1, 5));
  EXPECT_EQ(replica.log_start(), 0);
  replica.Apply(LogStartEntry(3, 1, 7));
  EXPECT_EQ(replica.log_start(), 7);
  EXPECT_EQ(replica.high_watermark(), 10) << "it takes no offsets";
  replica.Apply(LogStartEntry(4, 1, 3));
  EXPECT_EQ(replica.log_start(), 7) << "an older request moves nothing";
  replica.Apply(BatchEntry(5, 1, 2));
  EXPECT_EQ(replica.high_watermark(), 12);
  replica.Apply(LogStartEntry(6, 1, 12));
  EXPECT_EQ(replica.log_start(), 12);
  // A snapshot starts the log at its offset.
  ASSERT_TRUE(
      replica.RestoreSnapshot(20, 1, 30, replica.SnapshotImage(6, 12)).ok());
  EXPECT_EQ(replica.log_start(), 30);
}

TEST(PartitionReplicaTest, PendingLogStartCompletesWithTheLogStart) {
  PartitionReplica replica("t", 0, 1, /*self=*/1);
  replica.OnLeaderChange(1, 2);
  replica.Apply(BatchEntry(1, 2, 4));
  ASSERT_TRUE(replica.leader_ready());
  std::vector<std::pair<int16_t, int64_t>> done;
  auto record = [&](int16_t error, int64_t offset) {
    done.emplace_back(error, offset);
  };
  replica.AddPendingLogStart(2, 2, record);
  replica.AddPendingLogStart(2, 3, record);
  replica.Apply(LogStartEntry(2, 2, 3));
  replica.Apply(LogStartEntry(3, 2, 1));
  EXPECT_EQ(done, (std::vector<std::pair<int16_t, int64_t>>{{0, 3}, {0, 3}}));
  // Another term's entry at the index: the proposal was lost.
  replica.AddPendingLogStart(2, 4, record);
  replica.Apply(LogStartEntry(4, 3, 4));
  EXPECT_EQ(done.back(),
            std::make_pair(kafka::error::kNotLeaderOrFollower, int64_t{-1}));
}

raft::Entry EmptyEntry(raft::Index index, raft::Term term) {
  raft::Entry entry;
  entry.index = index;
  entry.term = term;
  return entry;
}

// Every applied entry's term is a leader epoch starting at the next offset
// then; a leader's empty first entry starts its epoch.
TEST(PartitionReplicaTest, LeaderEpochsFollowTheAppliedLog) {
  PartitionReplica replica("t", 0, 1, /*self=*/1);
  replica.Apply(EmptyEntry(1, 1));
  replica.Apply(BatchEntry(2, 1, 5));
  replica.Apply(EmptyEntry(3, 3));  // term 2 elected no leader that wrote
  replica.Apply(BatchEntry(4, 3, 5));
  replica.Apply(EmptyEntry(5, 4));  // term 4 wrote nothing: 5 starts there
  replica.Apply(EmptyEntry(6, 5));
  replica.Apply(BatchEntry(7, 5, 2));
  EXPECT_EQ(replica.EndOffsetForEpoch(1), (partition::EpochEnd{1, 5}));
  EXPECT_EQ(replica.EndOffsetForEpoch(2), (partition::EpochEnd{1, 5}));
  EXPECT_EQ(replica.EndOffsetForEpoch(3), (partition::EpochEnd{3, 10}));
  EXPECT_EQ(replica.EndOffsetForEpoch(4), (partition::EpochEnd{3, 10}));
  EXPECT_EQ(replica.EndOffsetForEpoch(5), (partition::EpochEnd{5, 12}));
  EXPECT_EQ(replica.EndOffsetForEpoch(6), (partition::EpochEnd{-1, -1}));
  // DeleteRecords to 7: epoch 1's data is gone.
  replica.Apply(LogStartEntry(8, 5, 7));
  EXPECT_EQ(replica.epochs().earliest(), (partition::EpochStart{3, 7}));
  EXPECT_EQ(replica.EndOffsetForEpoch(1), (partition::EpochEnd{1, 7}));
  // A snapshot at index 20 (term 6) whose next offset is 30.
  ASSERT_TRUE(
      replica.RestoreSnapshot(20, 6, 30, replica.SnapshotImage(8, 12)).ok());
  EXPECT_EQ(replica.epochs().earliest(), (partition::EpochStart{6, 30}));
  EXPECT_EQ(replica.EndOffsetForEpoch(6), (partition::EpochEnd{6, 30}));
  EXPECT_EQ(replica.EndOffsetForEpoch(5), (partition::EpochEnd{5, 30}));
}

// A replay checkpoint is the whole applied state: restoring it in a fresh
// replica and applying the rest gives what applying everything gives.
TEST(PartitionReplicaTest, CheckpointRestoresTheWholeAppliedState) {
  PartitionReplica replica("t", 0, 1, /*self=*/1);
  replica.Apply(EmptyEntry(1, 1));
  replica.Apply(BatchEntry(2, 1, 5));
  replica.Apply(EmptyEntry(3, 3));
  replica.Apply(BatchEntry(4, 3, 5));
  replica.Apply(LogStartEntry(5, 3, 7));
  const std::string image = replica.CheckpointImage();
  PartitionReplica restored("t", 0, 1, /*self=*/1);
  ASSERT_TRUE(restored.RestoreCheckpoint(5, 3, image).ok());
  for (PartitionReplica* r : {&replica, &restored}) {
    r->Apply(EmptyEntry(6, 5));
    r->Apply(BatchEntry(7, 5, 2));
  }
  EXPECT_EQ(restored.applied_index(), 7u);
  EXPECT_EQ(restored.high_watermark(), replica.high_watermark());
  EXPECT_EQ(restored.log_start(), 7) << "DeleteRecords' log start is kept";
  EXPECT_EQ(restored.epochs().All(), replica.epochs().All());
  for (int32_t epoch = 1; epoch <= 6; ++epoch) {
    EXPECT_EQ(restored.EndOffsetForEpoch(epoch),
              replica.EndOffsetForEpoch(epoch));
  }
  // A damaged image changes nothing.
  PartitionReplica fresh("t", 0, 1, /*self=*/1);
  EXPECT_FALSE(fresh.RestoreCheckpoint(5, 3, image.substr(0, 30)).ok());
  EXPECT_FALSE(fresh.RestoreCheckpoint(5, 3, "x" + image.substr(1)).ok());
  EXPECT_EQ(fresh.applied_index(), 0u);
  EXPECT_EQ(fresh.high_watermark(), 0);
}

TEST(PartitionReplicaTest, CurrentLeaderEpochIsTheKnownLeadersTerm) {
  PartitionReplica replica("t", 0, 1, /*self=*/1);
  EXPECT_EQ(replica.leader_epoch(), -1);
  EXPECT_EQ(replica.CheckLeaderEpoch(-1), kafka::error::kNone);
  EXPECT_EQ(replica.CheckLeaderEpoch(0), kafka::error::kUnknownLeaderEpoch);
  replica.OnLeaderChange(2, 4);
  EXPECT_EQ(replica.leader_epoch(), 4);
  // An election in progress (no leader) keeps the last leader's epoch.
  replica.OnLeaderChange(raft::kNoNode, 5);
  EXPECT_EQ(replica.leader_epoch(), 4);
  EXPECT_EQ(replica.CheckLeaderEpoch(4), kafka::error::kNone);
  EXPECT_EQ(replica.CheckLeaderEpoch(3), kafka::error::kFencedLeaderEpoch);
  EXPECT_EQ(replica.CheckLeaderEpoch(5), kafka::error::kUnknownLeaderEpoch);
  replica.OnLeaderChange(1, 6);
  EXPECT_EQ(replica.leader_epoch(), 6);
  EXPECT_EQ(replica.CheckLeaderEpoch(4), kafka::error::kFencedLeaderEpoch);
}

TEST(PartitionReplicaDeathTest, LogStartBeyondTheLogEndIsABrokenInvariant) {
  PartitionReplica replica("t", 0, 1, /*self=*/1);
  replica.Apply(BatchEntry(1, 1, 5));
  EXPECT_DEATH(replica.Apply(LogStartEntry(2, 1, 6)), "beyond the log end");
}

}  // namespace
}  // namespace chronik::broker
