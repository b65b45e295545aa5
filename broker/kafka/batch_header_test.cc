#include "broker/kafka/batch_header.h"

#include <string>

#include "base/check.h"
#include "base/crc32c.h"
#include "broker/kafka/record_batch.h"
#include "gtest/gtest.h"

namespace chronik::kafka {
namespace {

std::string SampleBatch() {
  RecordBatchSpec spec;
  spec.base_offset = 7;
  spec.partition_leader_epoch = 3;
  spec.base_timestamp = 1'700'000'000'000;
  spec.producer_id = 42;
  spec.producer_epoch = 5;
  spec.base_sequence = 100;
  std::vector<Record> records(3);
  for (int i = 0; i < 3; ++i) {
    records[i].offset_delta = i;
    records[i].timestamp_delta = 10 * i;
    records[i].value = std::string(8, static_cast<char>('a' + i));
  }
  absl::StatusOr<std::string> batch = BuildRecordBatch(spec, records);
  CHRONIK_CHECK(batch.ok());
  return *batch;
}

TEST(BatchHeaderTest, ReadsEveryFixedField) {
  const std::string batch = SampleBatch();
  const BatchHeader h = ReadBatchHeader(batch);
  EXPECT_EQ(h.base_offset, 7);
  EXPECT_EQ(static_cast<size_t>(h.batch_length) + kBatchLogOverheadBytes,
            batch.size());
  EXPECT_EQ(h.partition_leader_epoch, 3);
  EXPECT_EQ(h.magic, kMagicV2);
  EXPECT_EQ(h.crc, crc32c::Value(absl::string_view(batch).substr(21)));
  EXPECT_EQ(h.attributes, 0);
  EXPECT_EQ(h.last_offset_delta, 2);
  EXPECT_EQ(h.base_timestamp, 1'700'000'000'000);
  EXPECT_EQ(h.max_timestamp, 1'700'000'000'020);
  EXPECT_EQ(h.producer_id, 42);
  EXPECT_EQ(h.producer_epoch, 5);
  EXPECT_EQ(h.base_sequence, 100);
  EXPECT_EQ(h.record_count, 3);
  // The same as the validating parser sees.
  absl::StatusOr<RecordBatchView> view = ParseRecordBatch(batch);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->header, h);
}

TEST(BatchHeaderTest, WriteThenReadRoundTrips) {
  BatchHeader h;
  h.base_offset = -2;
  h.batch_length = 0x01020304;
  h.partition_leader_epoch = -1;
  h.crc = 0xfedcba98;
  h.attributes = 0x0013;
  h.last_offset_delta = 0x7fffffff;
  h.base_timestamp = -1;
  h.max_timestamp = 0x0102030405060708;
  h.producer_id = 0x1122334455667788;
  h.producer_epoch = -3;
  h.base_sequence = 0x55aa55aa;
  h.record_count = 9;
  std::string bytes(kBatchHeaderBytes, '\0');
  WriteBatchHeader(h, absl::MakeSpan(bytes));
  EXPECT_EQ(ReadBatchHeader(bytes), h);
  // Big-endian, at the documented positions.
  EXPECT_EQ(bytes.substr(batch_field::kBatchLength.pos, 4),
            std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(static_cast<uint8_t>(bytes[batch_field::kAttributes.pos + 1]),
            0x13);
}

TEST(BatchHeaderTest, BrokerWritesKeepTheBatchValid) {
  std::string batch = SampleBatch();
  WriteBaseOffset(absl::MakeSpan(batch), 1'000'000);
  WritePartitionLeaderEpoch(absl::MakeSpan(batch), 11);
  absl::StatusOr<RecordBatchView> view = ParseRecordBatch(batch);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->header.base_offset, 1'000'000);
  EXPECT_EQ(view->header.partition_leader_epoch, 11);

  WriteLogAppendTime(absl::MakeSpan(batch), 1'800'000'000'000);
  view = ParseRecordBatch(batch);
  ASSERT_TRUE(view.ok()) << view.status();  // the CRC was recomputed
  EXPECT_TRUE(view->header.is_log_append_time());
  EXPECT_EQ(view->header.max_timestamp, 1'800'000'000'000);
  EXPECT_EQ(view->header.compression(), Compression::kNone);
  EXPECT_TRUE(DecodeRecords(*view).ok());
}

TEST(BatchHeaderDeathTest, ShortInputOrOtherMagicCrash) {
  const std::string batch = SampleBatch();
  EXPECT_DEATH(ReadBatchHeader(absl::string_view(batch).substr(0, 60)),
               "kBatchHeaderBytes");
  std::string legacy = batch;
  legacy[batch_field::kMagic.pos] = 1;
  EXPECT_DEATH(WriteBaseOffset(absl::MakeSpan(legacy), 1), "kMagicV2");
}

}  // namespace
}  // namespace chronik::kafka
