// BatchOffsets: the hook that lets a partition's Raft log be its Kafka log.
//
// For partition groups each Raft entry's payload is one Kafka record batch
// (v2). The log assigns the batch its base offset when the entry is appended
// (the next free Kafka offset of the partition) by writing it into the payload,
// and learns from the batch how many offsets it covers and its max timestamp
// (for retention by time). In a v2 batch the base offset (bytes 0..7) is
// outside the batch CRC (which covers attributes to the end), so assigning it
// keeps the batch valid without recomputing anything: data is written once, in
// the form consumers fetch.
//
// KafkaV2BatchOffsets reads the few fixed-position fields it needs; the Kafka
// codec (broker/kafka/) may supply its own implementation. Implementations are
// stateless and thread-safe.
#ifndef CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_
#define CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

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

  // Writes `base_offset` into the batch in place. The size never changes and
  // the batch's own checksum must stay valid. `payload` passed Inspect.
  virtual void AssignBaseOffset(uint64_t base_offset,
                                std::string& payload) const = 0;
};

// Kafka record batch v2 (magic 2). Fields used, big-endian as Kafka writes
// them: base offset int64 @0, batch length int32 @8 (= size - 12), magic int8
// @16, last offset delta int32 @23, max timestamp int64 @35; the header is 61
// bytes.
class KafkaV2BatchOffsets final : public BatchOffsets {
 public:
  static constexpr size_t kBatchHeaderBytes = 61;
  static constexpr size_t kBaseOffsetPos = 0;
  static constexpr size_t kBatchLengthPos = 8;
  static constexpr size_t kMagicPos = 16;
  static constexpr size_t kLastOffsetDeltaPos = 23;
  static constexpr size_t kMaxTimestampPos = 35;

  absl::StatusOr<Info> Inspect(absl::string_view payload) const override;
  void AssignBaseOffset(uint64_t base_offset,
                        std::string& payload) const override;
};

}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_
