#include "broker/kafka/batch_header.h"

#include "base/check.h"
#include "base/crc32c.h"
#include "broker/kafka/wire.h"

namespace chronik::kafka {
namespace {

using namespace batch_field;  // NOLINT: the layout reads best unqualified

// The fields tile the header in order, without gaps or overlaps.
static_assert(kBaseOffset.pos == 0);
static_assert(kBatchLength.pos == kBaseOffset.end());
static_assert(kPartitionLeaderEpoch.pos == kBatchLength.end());
static_assert(kMagic.pos == kPartitionLeaderEpoch.end());
static_assert(kCrc.pos == kMagic.end());
static_assert(kAttributes.pos == kCrc.end());
static_assert(kLastOffsetDelta.pos == kAttributes.end());
static_assert(kBaseTimestamp.pos == kLastOffsetDelta.end());
static_assert(kMaxTimestamp.pos == kBaseTimestamp.end());
static_assert(kProducerId.pos == kMaxTimestamp.end());
static_assert(kProducerEpoch.pos == kProducerId.end());
static_assert(kBaseSequence.pos == kProducerEpoch.end());
static_assert(kRecordCount.pos == kBaseSequence.end());
static_assert(kBatchHeaderBytes == 61);
static_assert(kBatchLogOverheadBytes == 12);

uint64_t Get(absl::string_view batch, BatchField field) {
  const char* p = batch.data() + field.pos;
  switch (field.size) {
    case 1:
      return static_cast<uint8_t>(*p);
    case 2:
      return LoadBigEndian16(p);
    case 4:
      return LoadBigEndian32(p);
    default:
      CHRONIK_CHECK_EQ(field.size, 8u);
      return LoadBigEndian64(p);
  }
}

void Put(absl::Span<char> batch, BatchField field, uint64_t value) {
  CHRONIK_CHECK_LE(field.end(), batch.size());
  char* p = batch.data() + field.pos;
  switch (field.size) {
    case 1:
      *p = static_cast<char>(value);
      return;
    case 2:
      p[0] = static_cast<char>(value >> 8);
      p[1] = static_cast<char>(value);
      return;
    case 4:
      StoreBigEndian32(p, static_cast<uint32_t>(value));
      return;
    default:
      CHRONIK_CHECK_EQ(field.size, 8u);
      StoreBigEndian64(p, value);
  }
}

void CheckV2(absl::Span<const char> batch) {
  CHRONIK_CHECK_GE(batch.size(), kBatchHeaderBytes);
  CHRONIK_CHECK_EQ(static_cast<int8_t>(batch[kMagic.pos]), kMagicV2);
}

}  // namespace

BatchHeader ReadBatchHeader(absl::string_view batch) {
  CHRONIK_CHECK_GE(batch.size(), kBatchHeaderBytes);
  BatchHeader h;
  h.base_offset = static_cast<int64_t>(Get(batch, kBaseOffset));
  h.batch_length = static_cast<int32_t>(Get(batch, kBatchLength));
  h.partition_leader_epoch =
      static_cast<int32_t>(Get(batch, kPartitionLeaderEpoch));
  h.magic = static_cast<int8_t>(Get(batch, kMagic));
  h.crc = static_cast<uint32_t>(Get(batch, kCrc));
  h.attributes = static_cast<int16_t>(Get(batch, kAttributes));
  h.last_offset_delta = static_cast<int32_t>(Get(batch, kLastOffsetDelta));
  h.base_timestamp = static_cast<int64_t>(Get(batch, kBaseTimestamp));
  h.max_timestamp = static_cast<int64_t>(Get(batch, kMaxTimestamp));
  h.producer_id = static_cast<int64_t>(Get(batch, kProducerId));
  h.producer_epoch = static_cast<int16_t>(Get(batch, kProducerEpoch));
  h.base_sequence = static_cast<int32_t>(Get(batch, kBaseSequence));
  h.record_count = static_cast<int32_t>(Get(batch, kRecordCount));
  return h;
}

void WriteBatchHeader(const BatchHeader& h, absl::Span<char> out) {
  CHRONIK_CHECK_GE(out.size(), kBatchHeaderBytes);
  Put(out, kBaseOffset, static_cast<uint64_t>(h.base_offset));
  Put(out, kBatchLength, static_cast<uint32_t>(h.batch_length));
  Put(out, kPartitionLeaderEpoch,
      static_cast<uint32_t>(h.partition_leader_epoch));
  Put(out, kMagic, static_cast<uint8_t>(h.magic));
  Put(out, kCrc, h.crc);
  Put(out, kAttributes, static_cast<uint16_t>(h.attributes));
  Put(out, kLastOffsetDelta, static_cast<uint32_t>(h.last_offset_delta));
  Put(out, kBaseTimestamp, static_cast<uint64_t>(h.base_timestamp));
  Put(out, kMaxTimestamp, static_cast<uint64_t>(h.max_timestamp));
  Put(out, kProducerId, static_cast<uint64_t>(h.producer_id));
  Put(out, kProducerEpoch, static_cast<uint16_t>(h.producer_epoch));
  Put(out, kBaseSequence, static_cast<uint32_t>(h.base_sequence));
  Put(out, kRecordCount, static_cast<uint32_t>(h.record_count));
}

void WriteBaseOffset(absl::Span<char> batch, int64_t base_offset) {
  CheckV2(batch);
  Put(batch, kBaseOffset, static_cast<uint64_t>(base_offset));
}

void WritePartitionLeaderEpoch(absl::Span<char> batch, int32_t epoch) {
  CheckV2(batch);
  Put(batch, kPartitionLeaderEpoch, static_cast<uint32_t>(epoch));
}

void WriteLogAppendTime(absl::Span<char> batch, int64_t append_time_ms) {
  CheckV2(batch);
  const absl::string_view bytes(batch.data(), batch.size());
  const uint16_t attributes = static_cast<uint16_t>(Get(bytes, kAttributes));
  Put(batch, kAttributes, attributes | kAttributeLogAppendTime);
  Put(batch, kMaxTimestamp, static_cast<uint64_t>(append_time_ms));
  Put(batch, kCrc, crc32c::Value(bytes.substr(kBatchCrcStart)));
}

}  // namespace chronik::kafka
