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
      replica.RestoreSnapshot(20, 30, replica.SnapshotImage(6, 12)).ok());
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

TEST(PartitionReplicaDeathTest, LogStartBeyondTheLogEndIsABrokenInvariant) {
  PartitionReplica replica("t", 0, 1, /*self=*/1);
  replica.Apply(BatchEntry(1, 1, 5));
  EXPECT_DEATH(replica.Apply(LogStartEntry(2, 1, 6)), "beyond the log end");
}

}  // namespace
}  // namespace chronik::broker
