// BatchOffsets: the hook that lets a partition's Raft log be its Kafka log.
//
// For partition groups each Raft entry's payload is one Kafka record batch
// (v2). The log assigns the batch its base offset when the entry is appended
// (the next free Kafka offset of the partition) by writing it into its own
// copy of the payload (the one in its write buffer), and learns from the batch
// how many offsets it covers and its max timestamp (for retention by time). In
// a v2 batch the base offset (bytes 0..7) is outside the batch CRC (which
// covers attributes to the end), so assigning it keeps the batch valid without
// recomputing anything: data is written once, in the form consumers fetch.
//
// KafkaV2BatchOffsets is the implementation for Kafka v2 batches.
// Implementations are stateless and thread-safe.
#ifndef CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_
#define CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace chronik::storage {

class BatchOffsets {
 public:
  struct Info {
    uint32_t offset_count = 0;      // offsets the batch covers (>= 1)
    int64_t max_timestamp_ms = -1;  // -1 when unknown
  };
  virtual ~BatchOffsets() = default;

  // Validates the payload as a batch and describes it. InvalidArgument when
  // malformed.
  virtual absl::StatusOr<Info> Inspect(absl::string_view payload) const = 0;

  // Writes `base_offset` into `batch`, the log's own copy of a payload that
  // passed Inspect (in its write buffer: the entry's shared payload is never
  // modified). The size never changes and the batch's own checksum must stay
  // valid.
  virtual void AssignBaseOffset(uint64_t base_offset,
                                absl::Span<char> batch) const = 0;
};

// Kafka record batch v2 (magic 2), read and written through the header's one
// owner, broker/kafka/batch_header.h: validates size, magic and batch length,
// takes the offset count from last_offset_delta and the max timestamp.
class KafkaV2BatchOffsets final : public BatchOffsets {
 public:
  absl::StatusOr<Info> Inspect(absl::string_view payload) const override;
  void AssignBaseOffset(uint64_t base_offset,
                        absl::Span<char> batch) const override;
};

}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_
