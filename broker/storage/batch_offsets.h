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
// Control entries: besides batches, a partition log holds entries that take
// no Kafka offsets. Inspect describes one with an offset count of 0 and the
// log stores it as it is (no base offset, kNoOffset in its record header).
// The one kind so far is the log start entry (DeleteRecords): the partition's
// log starts at Kafka offset X from that entry on, for every replica that
// applies it (broker/server/partition_replica.h). Layout: the 16 ASCII bytes
// kLogStartEntryTag, then X as a little-endian u64: 24 bytes, shorter than
// any v2 batch (61 bytes of header at least), so never taken for one; a
// client cannot produce one (Produce validates every batch).
//
// KafkaV2BatchOffsets is the implementation for Kafka v2 batches and the
// control entries. Implementations are stateless and thread-safe.
//
// LeaderEpochOfTerm: a Raft term as a Kafka leader epoch (int32; terms that
// large never occur, the cap only keeps the value in range).
#ifndef CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_
#define CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace chronik::storage {

class BatchOffsets {
 public:
  struct Info {
    // Offsets the batch covers (>= 1); 0: a control entry (no offsets).
    uint32_t offset_count = 0;
    int64_t max_timestamp_ms = -1;  // -1 when unknown
  };
  virtual ~BatchOffsets() = default;

  // Validates the payload as a batch (or a control entry) and describes it.
  // InvalidArgument when malformed.
  virtual absl::StatusOr<Info> Inspect(absl::string_view payload) const = 0;

  // Writes `base_offset` into `batch`, the log's own copy of a payload that
  // passed Inspect (in its write buffer: the entry's shared payload is never
  // modified), and the leader epoch of the entry's Raft `term` (Kafka's
  // partition leader epoch is the term of the leader that appended the
  // batch: every replica stores the same epoch, as it stores the same
  // offsets). The size never changes and the batch's own checksum must stay
  // valid. With BatchesCarryCheckedCrc, `batch` may be only the copy of the
  // batch's first bytes, at least its Kafka v2 header (kafka::
  // kBatchHeaderBytes): GroupLog splices the rest in uncopied, so this
  // touches nothing past the header.
  virtual void AssignBaseOffset(uint64_t base_offset, uint64_t term,
                                absl::Span<char> batch) const = 0;

  // True when every batch (offset count > 0) is a Kafka v2 batch whose own
  // CRC was checked before it reached the log: the log's record CRC then
  // leaves the batch's data to that CRC (format::kRecordFlagBatchCrc).
  virtual bool BatchesCarryCheckedCrc() const { return false; }
};

// Kafka record batch v2 (magic 2), read and written through the header's one
// owner, broker/kafka/batch_header.h: validates size, magic and batch length,
// takes the offset count from last_offset_delta and the max timestamp.
class KafkaV2BatchOffsets final : public BatchOffsets {
 public:
  absl::StatusOr<Info> Inspect(absl::string_view payload) const override;
  void AssignBaseOffset(uint64_t base_offset, uint64_t term,
                        absl::Span<char> batch) const override;
  // Produce checks every batch's CRC (kafka::ParseRecordBatch); followers
  // store the leader's entries; compaction writes batches with their CRC.
  bool BatchesCarryCheckedCrc() const override { return true; }
};

constexpr int32_t LeaderEpochOfTerm(uint64_t term) {
  return term > static_cast<uint64_t>(INT32_MAX) ? INT32_MAX
                                                 : static_cast<int32_t>(term);
}

inline constexpr char kLogStartEntryTag[] = "CHRONIK_LOGSTART";
inline constexpr size_t kLogStartEntryTagBytes = sizeof(kLogStartEntryTag) - 1;
inline constexpr size_t kLogStartEntryBytes = kLogStartEntryTagBytes + 8;

// The payload of a log start entry at Kafka offset `offset` (>= 0).
std::string EncodeLogStartEntry(int64_t offset);
// The offset of a log start entry; nullopt when `payload` is not one.
std::optional<int64_t> DecodeLogStartEntry(absl::string_view payload);

}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_BATCH_OFFSETS_H_
