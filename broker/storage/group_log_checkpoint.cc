// GroupLog (group_log.h): the encoding of sparse index files (.idx of sealed
// segments, .aidx of the active one) and the active index a replay
// checkpoint writes (format.h has the layout and when it is trusted).
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
#include "broker/storage/group_log.h"
#include "broker/storage/group_log_internal.h"

namespace chronik::storage {
namespace internal {

absl::StatusOr<std::string> ReadSmallFile(env::Disk& disk,
                                          absl::string_view path) {
  absl::StatusOr<std::unique_ptr<env::File>> file = disk.Open(path);
  if (!file.ok()) return file.status();
  const uint64_t size = (*file)->Size();
  if (size > kMaxIndexFileBytes) {
    return absl::DataLossError(absl::StrCat(path, ": ", size, " bytes"));
  }
  std::string bytes(size, '\0');
  absl::StatusOr<size_t> n = (*file)->ReadAt(0, size, bytes.data());
  if (!n.ok()) return n.status();
  if (*n != size) return absl::DataLossError(absl::StrCat(path, ": short"));
  return bytes;
}

std::optional<DecodedIndex> DecodeIndex(absl::string_view bytes,
                                        uint64_t first_index) {
  const uint64_t size = bytes.size();
  if (size < format::kIndexHeaderBytes + format::kIndexTrailerBytes) {
    return std::nullopt;
  }
  const char* p = bytes.data();
  if (bytes.substr(0, 8) != absl::string_view(format::kIndexMagic, 8) ||
      format::GetU32(p + 8) != format::kIndexFormatVersion) {
    return std::nullopt;
  }
  const uint64_t count = format::GetU32(p + 12);
  if (size != format::kIndexHeaderBytes + count * format::kIndexPointBytes +
                  format::kIndexTrailerBytes) {
    return std::nullopt;
  }
  const char* trailer = p + size - format::kIndexTrailerBytes;
  if (format::GetU32(trailer + 32) != crc32c::Value(p, trailer + 32 - p)) {
    return std::nullopt;
  }
  DecodedIndex index;
  index.segment_size = format::GetU64(trailer);
  index.last_index = format::GetU64(trailer + 8);
  index.next_offset = format::GetU64(trailer + 16);
  index.max_timestamp_ms = static_cast<int64_t>(format::GetU64(trailer + 24));
  if (index.last_index + 1 < first_index) return std::nullopt;
  index.points.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const char* q =
        p + format::kIndexHeaderBytes + i * format::kIndexPointBytes;
    index.points.push_back(
        GroupLog::IndexPoint{.index = format::GetU64(q),
                             .term = format::GetU64(q + 8),
                             .offset = format::GetU64(q + 16),
                             .position = format::GetU64(q + 24),
                             .max_timestamp_before_ms =
                                 static_cast<int64_t>(format::GetU64(q + 32))});
  }
  const bool empty = index.last_index + 1 == first_index;
  if (empty != index.points.empty()) return std::nullopt;
  if (!empty && (index.points.front().index != first_index ||
                 index.points.back().index > index.last_index ||
                 index.points.back().position >= index.segment_size)) {
    return std::nullopt;
  }
  return index;
}

std::string EncodeIndex(const GroupLog::Segment& seg) {
  std::string bytes(format::kIndexMagic, 8);
  format::PutU32(&bytes, format::kIndexFormatVersion);
  format::PutU32(&bytes, static_cast<uint32_t>(seg.points.size()));
  for (const GroupLog::IndexPoint& point : seg.points) {
    format::PutU64(&bytes, point.index);
    format::PutU64(&bytes, point.term);
    format::PutU64(&bytes, point.offset);
    format::PutU64(&bytes, point.position);
    format::PutU64(&bytes,
                   static_cast<uint64_t>(point.max_timestamp_before_ms));
  }
  format::PutU64(&bytes, seg.end_position);
  format::PutU64(&bytes, seg.last_index);
  format::PutU64(&bytes, seg.next_offset);
  format::PutU64(&bytes, static_cast<uint64_t>(seg.max_timestamp_ms));
  format::PutU32(&bytes, crc32c::Value(bytes));
  format::PutU32(&bytes, 0);
  return bytes;
}

}  // namespace internal

absl::Status GroupLog::WriteActiveIndex() {
  if (!failed_.ok()) return failed_;
  const Segment& seg = active();
  if (needs_sync() || !seg.header_ok || HasDamageIn(seg)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir_, ": no active index while unsynced or damaged"));
  }
  absl::StatusOr<std::unique_ptr<env::File>> file = disk_->Create(
      env::JoinPath(dir_, format::ActiveIndexName(seg.header.first_index)));
  if (!file.ok()) return file.status();
  return (*file)->Append(internal::EncodeIndex(seg));
}

absl::Status GroupLog::RemoveStaleActiveIndexes(
    const std::vector<std::string>& names) {
  const std::string keep = format::ActiveIndexName(active().header.first_index);
  for (const std::string& name : names) {
    if (!absl::EndsWith(name, format::kActiveIndexSuffix) || name == keep) {
      continue;
    }
    absl::Status s = disk_->Remove(env::JoinPath(dir_, name));
    if (!s.ok() && !absl::IsNotFound(s)) return s;
  }
  return absl::OkStatus();
}

}  // namespace chronik::storage
