// The fixed 61-byte header of a Kafka record batch (message format v2,
// magic 2): the one place that knows where each field sits.
//
// Layout (big-endian; byte positions from the start of the batch):
//
//   pos size field
//    0   8   base_offset             } not covered by the CRC: the broker
//    8   4   batch_length            } assigns offsets and the leader epoch
//   12   4   partition_leader_epoch  } in place without recomputing it
//   16   1   magic (2)
//   17   4   crc: CRC-32C (unsigned) of bytes 21..end of the batch
//   21   2   attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy,
//            3 lz4, 4 zstd), bit 3 timestamp type (1 = LogAppendTime),
//            bit 4 transactional, bit 5 control batch
//   23   4   last_offset_delta (offsets taken = last_offset_delta + 1)
//   27   8   base_timestamp (ms)
//   35   8   max_timestamp (ms)
//   43   8   producer_id (-1: none)
//   51   2   producer_epoch
//   53   4   base_sequence
//   57   4   record_count
//   61       records (compressed as a whole when the codec is not none)
//
// batch_length counts the bytes after itself, so a batch is 12 +
// batch_length bytes. Older formats (magic 0 and 1) keep their magic at the
// same byte 16, which is how they are recognized and refused. Each field's
// position and size is a `BatchField` in `batch_field::` below (the
// static_asserts in the .cc prove they tile the header); nothing else in
// chronik spells a position.
//
// Readers and writers here do not validate: ReadBatchHeader needs at least
// kBatchHeaderBytes (it CHECKs) and the writers a batch that was parsed or
// built as magic 2. Validation (lengths, CRC, counts) is ParseRecordBatch in
// record_batch.h. Pure functions; thread-safe.
#ifndef CHRONIK_BROKER_KAFKA_BATCH_HEADER_H_
#define CHRONIK_BROKER_KAFKA_BATCH_HEADER_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "broker/kafka/compression.h"

namespace chronik::kafka {

// Where one fixed field of the header lies.
struct BatchField {
  size_t pos;
  size_t size;
  constexpr size_t end() const { return pos + size; }
};

namespace batch_field {
inline constexpr BatchField kBaseOffset{0, 8};
inline constexpr BatchField kBatchLength{8, 4};
inline constexpr BatchField kPartitionLeaderEpoch{12, 4};
inline constexpr BatchField kMagic{16, 1};
inline constexpr BatchField kCrc{17, 4};
inline constexpr BatchField kAttributes{21, 2};
inline constexpr BatchField kLastOffsetDelta{23, 4};
inline constexpr BatchField kBaseTimestamp{27, 8};
inline constexpr BatchField kMaxTimestamp{35, 8};
inline constexpr BatchField kProducerId{43, 8};
inline constexpr BatchField kProducerEpoch{51, 2};
inline constexpr BatchField kBaseSequence{53, 4};
inline constexpr BatchField kRecordCount{57, 4};
}  // namespace batch_field

inline constexpr size_t kBatchHeaderBytes = batch_field::kRecordCount.end();
// base_offset + batch_length: the bytes before the length-counted part.
inline constexpr size_t kBatchLogOverheadBytes =
    batch_field::kBatchLength.end();
// The CRC covers the batch from here to its end.
inline constexpr size_t kBatchCrcStart = batch_field::kAttributes.pos;
inline constexpr int8_t kMagicV2 = 2;

inline constexpr int16_t kAttributeCompressionMask = 0x07;
inline constexpr int16_t kAttributeLogAppendTime = 0x08;
inline constexpr int16_t kAttributeTransactional = 0x10;
inline constexpr int16_t kAttributeControl = 0x20;

// Every fixed field of a v2 batch header.
struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  Compression compression() const {
    return static_cast<Compression>(attributes & kAttributeCompressionMask);
  }
  bool is_log_append_time() const {
    return (attributes & kAttributeLogAppendTime) != 0;
  }
  bool is_transactional() const {
    return (attributes & kAttributeTransactional) != 0;
  }
  bool is_control() const { return (attributes & kAttributeControl) != 0; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  bool operator==(const BatchHeader&) const = default;
};

// Reads every fixed field from the first kBatchHeaderBytes of `batch`
// (CHECKs that they are there; nothing is validated).
BatchHeader ReadBatchHeader(absl::string_view batch);

// Encodes `header` as kBatchHeaderBytes bytes (as given: batch_length and crc
// are not computed).
void WriteBatchHeader(const BatchHeader& header, absl::Span<char> out);

// The fields the broker rewrites in a stored batch. `batch` is a whole magic-2
// batch (CHECKed). Base offset and leader epoch lie outside the CRC, which
// stays valid untouched.
void WriteBaseOffset(absl::Span<char> batch, int64_t base_offset);
void WritePartitionLeaderEpoch(absl::Span<char> batch, int32_t epoch);
// LogAppendTime: marks the timestamp type and sets max_timestamp to the
// broker's append time. Both are covered by the CRC, so this recomputes it
// over the whole batch (O(size)).
void WriteLogAppendTime(absl::Span<char> batch, int64_t append_time_ms);

}  // namespace chronik::kafka

#endif  // CHRONIK_BROKER_KAFKA_BATCH_HEADER_H_
