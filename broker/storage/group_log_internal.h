// Internals shared by GroupLog's source files (group_log.cc,
// group_log_recovery.cc, group_log_invariants.cc): the in-memory state of one
// segment, chunked positional reads and the bookkeeping of one record.
// Nothing outside GroupLog includes this.
#ifndef CHRONIK_BROKER_STORAGE_GROUP_LOG_INTERNAL_H_
#define CHRONIK_BROKER_STORAGE_GROUP_LOG_INTERNAL_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/check.h"
#include "base/shared_bytes.h"
#include "broker/env/disk.h"
#include "broker/storage/format.h"
#include "broker/storage/group_log.h"

namespace chronik::storage {

using format::kRecordHeaderBytes;
using format::kSegmentHeaderBytes;

struct GroupLog::Segment {
  std::string name;
  std::string path;
  format::SegmentHeader header;
  bool header_ok =
      true;  // false: unreadable header, the whole segment is damage
  bool damaged_tail =
      false;                // a bad record with nothing valid after it (sealed)
  uint64_t last_index = 0;  // header.first_index - 1 when empty
  uint64_t last_term = 0;   // term of the last entry, or header.prev_term
  uint64_t end_position = kSegmentHeaderBytes;
  uint64_t next_offset = 0;  // next Kafka offset after the last entry
  int64_t max_timestamp_ms = -1;
  int64_t first_timestamp_ms = -1;  // of its first batch (segment.ms)
  std::vector<IndexPoint> points;
  std::unique_ptr<env::File> file;
  bool dirty = false;      // has writes or truncates not yet synced
  uint64_t dirty_seq = 0;  // GroupLog's write sequence at its last change
  bool sealed = false;     // rolled; has (or had) an index file
};

namespace internal {

// Positional reads in chunks: Get(pos, n) returns [pos, pos + n) clipped to
// `limit`, valid until the next call. A read that refills the chunk reads
// `chunk_bytes`, or less when the caller expects to need only `expect_bytes`
// from `pos` (never less than `n`).
class ChunkReader {
 public:
  ChunkReader(const env::File* file, uint64_t limit, size_t chunk_bytes)
      : file_(file), limit_(limit), chunk_bytes_(chunk_bytes) {}

  absl::StatusOr<absl::string_view> Get(uint64_t pos, size_t n,
                                        uint64_t expect_bytes = ~uint64_t{0}) {
    if (pos >= limit_) return absl::string_view();
    n = static_cast<size_t>(std::min<uint64_t>(n, limit_ - pos));
    if (pos < start_ || pos + n > start_ + size_) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(
          std::max<uint64_t>(n, std::min<uint64_t>(chunk_bytes_, expect_bytes)),
          limit_ - pos));
      // Slices (Share) of the last chunk keep it: read into a new one. Not
      // zero-filled: only the bytes read are ever looked at.
      if (buffer_ == nullptr || buffer_.use_count() > 1 || capacity_ < want) {
        buffer_ = std::make_shared_for_overwrite<char[]>(want);
        capacity_ = want;
      }
      size_ = 0;
      absl::StatusOr<size_t> got = file_->ReadAt(pos, want, buffer_.get());
      if (!got.ok()) return got.status();
      size_ = *got;
      start_ = pos;
    }
    const size_t offset = static_cast<size_t>(pos - start_);
    return absl::string_view(buffer_.get() + offset,
                             std::min(n, size_ - offset));
  }
  // `part` (a view Get returned since the last read) as a slice sharing the
  // chunk: no copy; the chunk stays alive while the slice does.
  SharedBytes Share(absl::string_view part) const {
    CHRONIK_CHECK(part.empty() ||
                  (part.data() >= buffer_.get() &&
                   part.data() + part.size() <= buffer_.get() + size_));
    return SharedBytes::Owned(buffer_,
                              std::string_view(part.data(), part.size()));
  }

 private:
  const env::File* const file_;
  const uint64_t limit_;
  const size_t chunk_bytes_;
  std::shared_ptr<char[]> buffer_;
  size_t capacity_ = 0;  // bytes buffer_ holds room for
  size_t size_ = 0;      // bytes of it read (from start_)
  uint64_t start_ = 0;
};

inline absl::Status IgnoreNotFound(absl::Status status) {
  return absl::IsNotFound(status) ? absl::OkStatus() : status;
}

// Records one entry at `pos` in the segment's bookkeeping and sparse index: a
// point at the first record, at each term change, and every
// `index_interval_bytes`.
void AddRecord(GroupLog::Segment& seg, uint64_t pos,
               const format::RecordHeader& header, bool force_point,
               uint64_t index_interval_bytes);

// Index files are at most this big (a larger one is not read).
inline constexpr uint64_t kMaxIndexFileBytes = 256ull << 20;
// A whole small file (index files); NotFound when missing.
absl::StatusOr<std::string> ReadSmallFile(env::Disk& disk,
                                          absl::string_view path);

// A decoded index file (.idx or .aidx; format.h): its points and trailer.
struct DecodedIndex {
  std::vector<GroupLog::IndexPoint> points = {};
  uint64_t segment_size = 0;
  uint64_t last_index = 0;
  uint64_t next_offset = 0;
  int64_t max_timestamp_ms = -1;
};
// nullopt when the magic, version, sizes or CRC are wrong, or the points do
// not fit a segment starting at `first_index`.
std::optional<DecodedIndex> DecodeIndex(absl::string_view bytes,
                                        uint64_t first_index);
std::string EncodeIndex(const GroupLog::Segment& seg);

}  // namespace internal
}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_GROUP_LOG_INTERNAL_H_
