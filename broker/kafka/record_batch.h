// Kafka record batches (message format v2, magic 2): parse, validate,
// iterate, assign offsets, build.
//
// Purpose: the broker validates each batch a producer sends, assigns its base
// offset and stores the bytes unchanged; consumers get the same bytes back.
// Tests and the simulator's clients build batches here.
//
// Batch layout (big-endian; byte offsets from the batch start):
//    0 int64  base_offset             } not covered by the CRC, so the broker
//    8 int32  batch_length            } can assign offsets and the leader
//   12 int32  partition_leader_epoch  } epoch without recomputing it
//   16 int8   magic (2)
//   17 uint32 crc: CRC-32C of bytes 21..end (attributes to the last record)
//   21 int16  attributes: bits 0-2 compression (0 none, 1 gzip, 2 snappy,
//             3 lz4, 4 zstd), bit 3 timestamp type (1 = log append time),
//             bit 4 transactional, bit 5 control batch
//   23 int32  last_offset_delta
//   27 int64  base_timestamp
//   35 int64  max_timestamp
//   43 int64  producer_id
//   51 int16  producer_epoch
//   53 int32  base_sequence
//   57 int32  record_count
//   61        records (compressed as a whole when the codec is not none)
// batch_length counts the bytes after itself: total size = 12 + batch_length.
// Each record: varint length (bytes after it), int8 attributes, varlong
// timestamp_delta, varint offset_delta, varint key length (-1 null) + key,
// varint value length (-1 null) + value, varint header count, then per
// header varint key length + key, varint value length (-1 null) + value.
// Older formats (magic 0 and 1, "message sets") carry their magic at the same
// byte 16; they are recognized and rejected (see ProduceErrorCode).
//
// Errors: every malformed input gives a Status naming what is wrong: bad
// lengths or counts kInvalidArgument, CRC mismatch kDataLoss, magic 0/1
// kFailedPrecondition, unknown codec kUnimplemented. Parsing never reads out
// of bounds and never allocates from an unchecked count. Thread-safety: pure
// functions; views borrow the caller's bytes.
#ifndef CHRONIK_BROKER_KAFKA_RECORD_BATCH_H_
#define CHRONIK_BROKER_KAFKA_RECORD_BATCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "broker/kafka/compression.h"

namespace chronik::kafka {

inline constexpr size_t kBatchHeaderBytes = 61;
// base_offset + batch_length: the part before the length-counted bytes.
inline constexpr size_t kBatchLogOverheadBytes = 12;
inline constexpr size_t kBatchMagicOffset = 16;
inline constexpr size_t kBatchCrcOffset = 17;
inline constexpr size_t kBatchAttributesOffset = 21;
inline constexpr size_t kBatchLeaderEpochOffset = 12;
inline constexpr int8_t kMagicV2 = 2;

inline constexpr int16_t kAttributeCompressionMask = 0x07;
inline constexpr int16_t kAttributeLogAppendTime = 0x08;
inline constexpr int16_t kAttributeTransactional = 0x10;
inline constexpr int16_t kAttributeControl = 0x20;

// Default cap on the bytes one batch may decompress to.
inline constexpr size_t kDefaultMaxDecompressedBatchBytes = 64 * 1024 * 1024;

struct RecordBatchHeader {
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
  bool is_transactional() const {
    return (attributes & kAttributeTransactional) != 0;
  }
  bool is_control() const { return (attributes & kAttributeControl) != 0; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  bool operator==(const RecordBatchHeader&) const = default;
};

// One validated batch inside a caller's buffer.
struct RecordBatchView {
  RecordBatchHeader header;
  absl::string_view bytes;    // the whole batch, 12 + batch_length bytes
  absl::string_view records;  // bytes after the header (maybe compressed)
};

struct RecordHeader {
  std::string key;
  std::optional<std::string> value;
  bool operator==(const RecordHeader&) const = default;
};

struct Record {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;
  bool operator==(const Record&) const = default;
};

// Parses and validates the batch at the start of `data` (which may hold more
// bytes after it): magic, lengths, CRC-32C, record count vs. size, offset
// delta vs. count. Does not decompress.
absl::StatusOr<RecordBatchView> ParseRecordBatch(absl::string_view data);

// Splits a Produce/Fetch `records` field into its batches, validating each.
// Fails on a partial trailing batch (Fetch responses may end with one; use
// `allow_partial_tail` to stop silently there).
absl::StatusOr<std::vector<RecordBatchView>> ParseRecordBatches(
    absl::string_view data, bool allow_partial_tail = false);

// Decompresses (if needed) and decodes every record of `batch`, checking that
// the count matches the header, each record's length is exact, and offset
// deltas stay within last_offset_delta.
absl::StatusOr<std::vector<Record>> DecodeRecords(
    const RecordBatchView& batch,
    size_t max_decompressed_bytes = kDefaultMaxDecompressedBatchBytes);

// Overwrites base_offset (and, below, partition_leader_epoch) of the batch
// starting at `batch`, which must hold a parsed batch. Neither field is
// covered by the CRC, which stays valid.
void AssignBaseOffset(char* batch, int64_t base_offset);
void AssignPartitionLeaderEpoch(char* batch, int32_t epoch);

struct RecordBatchSpec {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  Compression compression = Compression::kNone;
  bool log_append_time = false;
  bool transactional = false;
  bool control = false;
  int64_t base_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

// Builds a batch holding `records` (at least one). Offset deltas are taken
// from the records as given (normally 0..n-1); max_timestamp is
// base_timestamp + the largest timestamp_delta.
absl::StatusOr<std::string> BuildRecordBatch(const RecordBatchSpec& spec,
                                             absl::Span<const Record> records);

// Kafka error code for a batch rejected with `status` in a Produce request:
// kFailedPrecondition (magic 0/1) UNSUPPORTED_FOR_MESSAGE_FORMAT (43),
// kDataLoss (CRC or compressed data corrupt) CORRUPT_MESSAGE (2),
// kUnimplemented (unknown codec) UNSUPPORTED_COMPRESSION_TYPE (76),
// everything else INVALID_RECORD (87).
int16_t ProduceErrorCode(const absl::Status& status);

}  // namespace chronik::kafka

#endif  // CHRONIK_BROKER_KAFKA_RECORD_BATCH_H_
