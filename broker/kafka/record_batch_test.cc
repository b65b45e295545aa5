#include "broker/kafka/record_batch.h"

#include <string>
#include <vector>

#include "base/crc32c.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/wire.h"
#include "gtest/gtest.h"

namespace chronik::kafka {
namespace {

std::vector<Record> SampleRecords(int n) {
  std::vector<Record> records;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.offset_delta = i;
    r.timestamp_delta = i * 10;
    if (i % 3 != 0) r.key = "key-" + std::to_string(i);
    r.value = std::string(static_cast<size_t>(i * 5),
                          static_cast<char>('a' + i % 26));
    if (i % 2 == 0) {
      r.headers.push_back({"h", std::nullopt});
      r.headers.push_back({"trace", "abc"});
    }
    records.push_back(std::move(r));
  }
  return records;
}

TEST(RecordBatchTest, BuildParseDecodeWithEveryCodec) {
  for (Compression codec :
       {Compression::kNone, Compression::kGzip, Compression::kSnappy,
        Compression::kLz4, Compression::kZstd}) {
    SCOPED_TRACE(CompressionName(codec));
    RecordBatchSpec spec;
    spec.compression = codec;
    spec.base_timestamp = 1700000000000;
    spec.producer_id = 42;
    spec.producer_epoch = 3;
    spec.base_sequence = 100;
    const std::vector<Record> records = SampleRecords(20);
    absl::StatusOr<std::string> batch = BuildRecordBatch(spec, records);
    ASSERT_TRUE(batch.ok()) << batch.status();
    absl::StatusOr<RecordBatchView> view = ParseRecordBatch(*batch);
    ASSERT_TRUE(view.ok()) << view.status();
    const BatchHeader& h = view->header;
    EXPECT_EQ(h.magic, 2);
    EXPECT_EQ(h.compression(), codec);
    EXPECT_EQ(h.record_count, 20);
    EXPECT_EQ(h.last_offset_delta, 19);
    EXPECT_EQ(h.max_timestamp, spec.base_timestamp + 190);
    EXPECT_EQ(h.producer_id, 42);
    EXPECT_EQ(h.producer_epoch, 3);
    EXPECT_EQ(h.base_sequence, 100);
    EXPECT_EQ(view->bytes.size(), batch->size());
    absl::StatusOr<std::vector<Record>> decoded = DecodeRecords(*view);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, records);
  }
}

// A batch assembled by hand from the layout in record_batch.h, with the CRC
// computed independently: checks field offsets of the parser and builder.
TEST(RecordBatchTest, HandAssembledBatch) {
  Writer rec;           // one record: key null, value "v", no headers
  rec.WriteInt8(0);     // attributes
  rec.WriteVarlong(5);  // timestamp delta
  rec.WriteVarint(0);   // offset delta
  rec.WriteVarint(-1);  // key null
  rec.WriteVarint(1);   // value length
  rec.WriteRaw("v");
  rec.WriteVarint(0);  // headers
  Writer after_crc;
  after_crc.WriteInt16(0);     // attributes
  after_crc.WriteInt32(0);     // last offset delta
  after_crc.WriteInt64(1000);  // base timestamp
  after_crc.WriteInt64(1005);  // max timestamp
  after_crc.WriteInt64(-1);
  after_crc.WriteInt16(-1);
  after_crc.WriteInt32(-1);
  after_crc.WriteInt32(1);
  after_crc.WriteVarint(static_cast<int32_t>(rec.size()));
  after_crc.WriteRaw(rec.buffer());
  Writer batch;
  batch.WriteInt64(77);
  batch.WriteInt32(static_cast<int32_t>(4 + 1 + 4 + after_crc.size()));
  batch.WriteInt32(9);  // leader epoch
  batch.WriteInt8(2);
  batch.WriteUint32(crc32c::Value(after_crc.buffer()));
  batch.WriteRaw(after_crc.buffer());

  absl::StatusOr<RecordBatchView> view = ParseRecordBatch(batch.buffer());
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->header.base_offset, 77);
  EXPECT_EQ(view->header.partition_leader_epoch, 9);
  EXPECT_EQ(view->header.max_timestamp, 1005);
  absl::StatusOr<std::vector<Record>> records = DecodeRecords(*view);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ((*records)[0].timestamp_delta, 5);
  EXPECT_EQ((*records)[0].key, std::nullopt);
  EXPECT_EQ((*records)[0].value, "v");

  Record same;
  same.timestamp_delta = 5;
  same.value = "v";
  RecordBatchSpec spec;
  spec.base_offset = 77;
  spec.partition_leader_epoch = 9;
  spec.base_timestamp = 1000;
  absl::StatusOr<std::string> built = BuildRecordBatch(spec, {same});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(*built, batch.buffer());
}

TEST(RecordBatchTest, WriteBaseOffsetKeepsTheCrcValid) {
  absl::StatusOr<std::string> batch =
      BuildRecordBatch(RecordBatchSpec{}, SampleRecords(3));
  ASSERT_TRUE(batch.ok());
  const std::string crc_before = batch->substr(batch_field::kCrc.pos, 4);
  WriteBaseOffset(absl::MakeSpan(*batch), 123456789);
  WritePartitionLeaderEpoch(absl::MakeSpan(*batch), 17);
  EXPECT_EQ(batch->substr(batch_field::kCrc.pos, 4), crc_before);
  absl::StatusOr<RecordBatchView> view = ParseRecordBatch(*batch);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->header.base_offset, 123456789);
  EXPECT_EQ(view->header.partition_leader_epoch, 17);
  EXPECT_EQ(view->header.last_offset(), 123456789 + 2);
}

TEST(RecordBatchTest, CorruptionIsDetectedWithTheRightCode) {
  absl::StatusOr<std::string> batch =
      BuildRecordBatch(RecordBatchSpec{}, SampleRecords(4));
  ASSERT_TRUE(batch.ok());
  std::string flipped = *batch;
  flipped[kBatchHeaderBytes + 3] ^= 1;
  absl::Status crc = ParseRecordBatch(flipped).status();
  EXPECT_EQ(crc.code(), absl::StatusCode::kDataLoss) << crc;
  EXPECT_EQ(ProduceErrorCode(crc), error::kCorruptMessage);

  absl::Status truncated =
      ParseRecordBatch(absl::string_view(*batch).substr(0, batch->size() - 1))
          .status();
  EXPECT_EQ(truncated.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(truncated.message().find("truncated"), std::string::npos);
  EXPECT_EQ(ProduceErrorCode(truncated), error::kInvalidRecord);

  std::string legacy = *batch;
  legacy[batch_field::kMagic.pos] = 1;
  absl::Status magic = ParseRecordBatch(legacy).status();
  EXPECT_EQ(magic.code(), absl::StatusCode::kFailedPrecondition) << magic;
  EXPECT_EQ(ProduceErrorCode(magic), error::kUnsupportedForMessageFormat);
}

TEST(RecordBatchTest, RecordCountMismatchIsRejected) {
  absl::StatusOr<std::string> batch =
      BuildRecordBatch(RecordBatchSpec{}, SampleRecords(4));
  ASSERT_TRUE(batch.ok());
  // Claim 3 records (fix the CRC so only the count is wrong).
  std::string fewer = *batch;
  StoreBigEndian32(fewer.data() + batch_field::kRecordCount.pos, 3);
  StoreBigEndian32(
      fewer.data() + batch_field::kCrc.pos,
      crc32c::Value(absl::string_view(fewer).substr(kBatchCrcStart)));
  absl::StatusOr<RecordBatchView> view = ParseRecordBatch(fewer);
  ASSERT_TRUE(view.ok()) << view.status();
  absl::Status status = DecodeRecords(*view).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("after the last"), std::string::npos)
      << status;
}

TEST(RecordBatchTest, ParseManyBatchesAndPartialTail) {
  std::string all;
  for (int i = 0; i < 3; ++i) {
    RecordBatchSpec spec;
    spec.base_offset = i * 10;
    absl::StatusOr<std::string> batch =
        BuildRecordBatch(spec, SampleRecords(2));
    ASSERT_TRUE(batch.ok());
    all += *batch;
  }
  absl::StatusOr<std::vector<RecordBatchView>> batches =
      ParseRecordBatches(all);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 3u);
  EXPECT_EQ((*batches)[2].header.base_offset, 20);
  const std::string cut = all.substr(0, all.size() - 5);
  EXPECT_FALSE(ParseRecordBatches(cut).ok());
  absl::StatusOr<std::vector<RecordBatchView>> partial =
      ParseRecordBatches(cut, /*allow_partial_tail=*/true);
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_EQ(partial->size(), 2u);
}

TEST(RecordBatchTest, EveryTruncationAndBitFlipFailsCleanly) {
  RecordBatchSpec spec;
  spec.compression = Compression::kLz4;
  absl::StatusOr<std::string> batch = BuildRecordBatch(spec, SampleRecords(5));
  ASSERT_TRUE(batch.ok());
  for (size_t n = 0; n < batch->size(); ++n) {
    EXPECT_FALSE(ParseRecordBatch(batch->substr(0, n)).ok()) << n;
  }
  for (size_t i = 0; i < batch->size(); ++i) {
    std::string flipped = *batch;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
    absl::StatusOr<RecordBatchView> view = ParseRecordBatch(flipped);
    if (view.ok()) {
      // Only base offset and leader epoch are outside the CRC.
      EXPECT_LT(i, batch_field::kMagic.pos) << i;
      EXPECT_TRUE(DecodeRecords(*view).ok());
    }
  }
}

}  // namespace
}  // namespace chronik::kafka
