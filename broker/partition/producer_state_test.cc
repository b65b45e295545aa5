#include "broker/partition/producer_state.h"

#include "gtest/gtest.h"

namespace chronik::partition {
namespace {

using Verdict = ProducerCheck::Verdict;

ProducerBatch Batch(int64_t pid, int16_t epoch, int32_t seq, int32_t count,
                    int64_t offset = 0, uint64_t index = 0) {
  return ProducerBatch{pid, epoch, seq, count, offset, index};
}

TEST(ProducerStateTest, SequencesContinueDuplicatesAndGapsAreCaught) {
  ProducerStateTable table;
  ProducerBatch first = Batch(7, 0, 0, 3, 100, 1);
  ASSERT_EQ(table.Check(first).verdict, Verdict::kAppend);
  table.Record(first);
  ProducerBatch second = Batch(7, 0, 3, 2, 103, 2);
  ASSERT_EQ(table.Check(second).verdict, Verdict::kAppend);
  table.Record(second);

  ProducerCheck duplicate = table.Check(Batch(7, 0, 0, 3));
  EXPECT_EQ(duplicate.verdict, Verdict::kDuplicate);
  EXPECT_EQ(duplicate.original.base_offset, 100);
  EXPECT_EQ(table.Check(Batch(7, 0, 3, 2)).original.base_offset, 103);

  ProducerCheck gap = table.Check(Batch(7, 0, 6, 1));
  EXPECT_EQ(gap.verdict, Verdict::kReject);
  EXPECT_EQ(gap.error_code, kafka::error::kOutOfOrderSequenceNumber);
  EXPECT_EQ(table.Check(Batch(7, 0, 5, 1)).verdict, Verdict::kAppend);
}

TEST(ProducerStateTest, OnlyTheLastFiveBatchesAreRemembered) {
  ProducerStateTable table;
  for (int i = 0; i < 6; ++i) table.Record(Batch(1, 0, i, 1, i, i + 1));
  EXPECT_EQ(table.Check(Batch(1, 0, 1, 1)).verdict, Verdict::kDuplicate);
  EXPECT_EQ(table.Check(Batch(1, 0, 0, 1)).verdict, Verdict::kReject)
      << "out of the window: neither duplicate nor next";
}

TEST(ProducerStateTest, EpochsFenceAndRestartSequences) {
  ProducerStateTable table;
  table.Record(Batch(1, 3, 0, 5, 0, 1));
  EXPECT_EQ(table.Check(Batch(1, 2, 5, 1)).error_code,
            kafka::error::kInvalidProducerEpoch);
  EXPECT_EQ(table.Check(Batch(1, 4, 0, 1)).verdict, Verdict::kAppend);
  EXPECT_EQ(table.Check(Batch(1, 4, 9, 1)).error_code,
            kafka::error::kOutOfOrderSequenceNumber);
  table.Record(Batch(1, 4, 0, 1, 5, 2));
  EXPECT_EQ(table.Check(Batch(1, 4, 0, 1)).verdict, Verdict::kDuplicate);
  EXPECT_EQ(table.Check(Batch(1, 3, 5, 1)).verdict, Verdict::kReject);
}

ProducerBatch Marker(int64_t pid, int16_t epoch, uint64_t index) {
  return ProducerBatch{.producer_id = pid,
                       .producer_epoch = epoch,
                       .raft_index = index,
                       .control = true};
}

TEST(ProducerStateTest, AMarkerFencesAProducerWithNoDataHere) {
  // The coordinator aborted a timed-out transaction with epoch 5 on a
  // partition the producer (epoch 4) had added but not written to yet.
  ProducerStateTable table;
  table.Record(Marker(9, 5, 3));
  EXPECT_EQ(table.Check(Batch(9, 4, 0, 1)).error_code,
            kafka::error::kInvalidProducerEpoch);
  EXPECT_EQ(table.Check(Batch(9, 5, 0, 1)).verdict, Verdict::kAppend);
  // A snapshot at the marker carries the fence.
  std::vector<ProducerBatch> image = table.BatchesUpTo(3);
  ASSERT_EQ(image.size(), 1u);
  ProducerStateTable restored;
  for (const ProducerBatch& b : image) restored.Record(b);
  EXPECT_EQ(restored.Check(Batch(9, 4, 0, 1)).error_code,
            kafka::error::kInvalidProducerEpoch);
  EXPECT_TRUE(table.BatchesUpTo(2).empty()) << "the marker is after the cut";
}

TEST(ProducerStateTest, SequenceWrapsAtInt32Max) {
  ProducerStateTable table;
  table.Record(Batch(1, 0, 2147483646, 2, 0, 1));  // ..46, ..47
  EXPECT_EQ(table.Check(Batch(1, 0, 0, 1)).verdict, Verdict::kAppend);
}

TEST(ProducerStateTest, NonIdempotentBatchesAreNotTracked) {
  ProducerStateTable table;
  table.Record(Batch(-1, -1, -1, 10));
  EXPECT_EQ(table.producer_count(), 0u);
  EXPECT_EQ(table.Check(Batch(-1, -1, -1, 10)).verdict, Verdict::kAppend);
}

TEST(ProducerStateTest, TableIsBoundedByForgettingTheStalestProducer) {
  ProducerStateTable table;
  for (size_t i = 0; i <= kMaxProducersPerPartition; ++i) {
    table.Record(Batch(static_cast<int64_t>(i), 0, 0, 1, 0, i + 1));
  }
  EXPECT_EQ(table.producer_count(), kMaxProducersPerPartition);
  // Producer 0 wrote first and was forgotten: its duplicate is not detected.
  EXPECT_EQ(table.Check(Batch(0, 0, 0, 1)).verdict, Verdict::kAppend);
  EXPECT_EQ(table.Check(Batch(1, 0, 0, 1)).verdict, Verdict::kDuplicate);
}

}  // namespace
}  // namespace chronik::partition
