// Kafka record batches (message format v2, magic 2): parse, validate,
// iterate, build.
//
// Purpose: the broker validates each batch a producer sends, assigns its base
// offset and stores the bytes unchanged; consumers get the same bytes back.
// Tests and the simulator's clients build batches here.
//
// The fixed 61-byte batch header (layout, readers, the writers for fields the
// broker rewrites) is owned by batch_header.h; after it come the records.
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
#include "broker/kafka/batch_header.h"
#include "broker/kafka/compression.h"

namespace chronik::kafka {

// Default cap on the bytes one batch may decompress to.
inline constexpr size_t kDefaultMaxDecompressedBatchBytes = 64 * 1024 * 1024;

// One validated batch inside a caller's buffer.
struct RecordBatchView {
  BatchHeader header;
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
