// GroupLog (group_log.h): opening and recovery (listing, scanning and
// indexing segments, cutting torn tails, reporting damage) and the sparse
// index files of sealed segments.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/crc32c.h"
#include "broker/storage/group_log.h"
#include "broker/storage/group_log_internal.h"

namespace chronik::storage {
namespace {

using internal::AddRecord;
using internal::ChunkReader;
using internal::IgnoreNotFound;

struct Found {
  uint64_t position;
  format::RecordHeader header;
};

// The record at `pos` if it is the one recovery expects there: decodable, index
// `expected`, term >= `min_term`, inside the file, right Kafka offset, CRC
// good.
absl::StatusOr<std::optional<format::RecordHeader>> ValidRecordAt(
    ChunkReader& reader, uint64_t pos, uint64_t limit, uint64_t expected,
    uint64_t min_term, std::optional<uint64_t> next_offset) {
  absl::StatusOr<absl::string_view> head = reader.Get(pos, kRecordHeaderBytes);
  if (!head.ok()) return head.status();
  std::optional<format::RecordHeader> header =
      format::DecodeRecordHeader(*head);
  if (!header || header->index != expected || header->term < min_term) {
    return std::nullopt;
  }
  const uint64_t end = pos + kRecordHeaderBytes + header->payload_bytes;
  if (end > limit) return std::nullopt;
  if (header->offset_count > 0 && next_offset.has_value() &&
      header->offset_base != *next_offset) {
    return std::nullopt;
  }
  absl::StatusOr<absl::string_view> record =
      reader.Get(pos, kRecordHeaderBytes + header->payload_bytes);
  if (!record.ok()) return record.status();
  if (record->size() != end - pos ||
      !format::RecordChecksumOk(record->substr(0, kRecordHeaderBytes),
                                record->substr(kRecordHeaderBytes))) {
    return std::nullopt;
  }
  return header;
}

// After a bad record at `from - 1`: the first position in [from, limit) holding
// a valid record with an index above `expected` (entries were lost in between).
// A false match needs a 32-bit CRC collision on top of matching index and term.
absl::StatusOr<std::optional<Found>> FindNextValid(ChunkReader& reader,
                                                   uint64_t from,
                                                   uint64_t limit,
                                                   uint64_t expected,
                                                   uint64_t min_term) {
  const uint64_t max_index = expected + (limit - from) / kRecordHeaderBytes + 1;
  for (uint64_t pos = from; pos + kRecordHeaderBytes <= limit; ++pos) {
    absl::StatusOr<absl::string_view> head =
        reader.Get(pos, kRecordHeaderBytes);
    if (!head.ok()) return head.status();
    std::optional<format::RecordHeader> header =
        format::DecodeRecordHeader(*head);
    if (!header || header->index <= expected || header->index > max_index ||
        header->term < min_term) {
      continue;
    }
    absl::StatusOr<std::optional<format::RecordHeader>> valid = ValidRecordAt(
        reader, pos, limit, header->index, min_term, std::nullopt);
    if (!valid.ok()) return valid.status();
    if (valid->has_value()) return Found{pos, **valid};
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GroupLog>> GroupLog::Open(
    env::Disk* disk, std::string dir, const LogOptions& options,
    RecoveryReport* report) {
  CHRONIK_CHECK(report != nullptr);
  std::unique_ptr<GroupLog> log(new GroupLog(disk, std::move(dir), options));
  bool synced = false;  // the directory and its entries are durable
  if (options.store_synced) {
    absl::StatusOr<bool> exists = disk->Exists(log->dir_);
    if (!exists.ok()) return exists.status();
    synced = *exists;
  }
  if (!synced) {
    if (absl::Status s = disk->CreateDir(log->dir_); !s.ok()) return s;
    if (absl::Status s = disk->SyncDir(env::ParentDir(log->dir_)); !s.ok()) {
      return s;
    }
    // Make what the directory lists durable before trusting it: an earlier
    // incarnation may have created a segment and failed (EIO) before
    // syncing the directory, and nothing else would sync it again (found by
    // the simulator: a later crash lost the whole log under a durable
    // commit).
    if (absl::Status s = disk->SyncDir(log->dir_); !s.ok()) return s;
  }
  if (absl::Status s = log->Recover(report); !s.ok()) return s;
  log->DebugCheck();
  return log;
}

absl::Status GroupLog::Recover(RecoveryReport* report) {
  std::vector<std::string> names;
  if (absl::Status s = ListSegments(report, &names); !s.ok()) return s;
  if (segments_.empty()) {
    if (absl::Status s = CreateSegment(1, 0, 0, format::kSegmentFlagBase);
        !s.ok()) {
      return Fail(s);
    }
    return Sync();
  }
  if (absl::Status s = LoadSegments(report); !s.ok()) return s;
  if (absl::Status s = ChainSegments(); !s.ok()) return s;
  if (absl::Status s = RemoveStaleActiveIndexes(names); !s.ok()) return s;
  report->damage = damage_;
  // The last segment is the active one: appends go there, so it has no index
  // file.
  // Its removal is made durable below: a stale index coming back after the
  // segment changed could otherwise match the segment's size by chance.
  Segment& last = active();
  absl::Status removed = disk_->Remove(
      env::JoinPath(dir_, format::IndexName(last.header.first_index)));
  if (removed.ok()) {
    dir_dirty_ = true;
  } else if (!absl::IsNotFound(removed)) {
    return removed;
  }
  last.sealed = false;
  CHRONIK_CHECK_EQ(last.file->Size(), last.end_position);
  return dir_dirty_ ? Sync() : absl::OkStatus();
}

// Pass 1: opens every segment and reads its header; drops torn creations at
// the end and leftovers before the last base segment.
absl::Status GroupLog::ListSegments(RecoveryReport* report,
                                    std::vector<std::string>* listed) {
  absl::StatusOr<std::vector<std::string>> names = disk_->List(dir_);
  if (!names.ok()) return names.status();
  *listed = *names;
  if (absl::Status s = RemoveCleanedLeftovers(*names, report); !s.ok()) {
    return s;
  }
  for (const std::string& name : *names) {
    std::optional<uint64_t> first = format::ParseSegmentName(name);
    if (!first) continue;
    auto seg = std::make_unique<Segment>();
    seg->name = name;
    seg->path = env::JoinPath(dir_, name);
    absl::StatusOr<std::unique_ptr<env::File>> file = disk_->Open(seg->path);
    if (!file.ok()) return file.status();
    seg->file = std::move(*file);
    seg->file->AdviseAppendOnlyLog();
    char head[kSegmentHeaderBytes];
    absl::StatusOr<size_t> n = seg->file->ReadAt(0, sizeof(head), head);
    if (!n.ok()) return n.status();
    std::optional<format::SegmentHeader> header =
        format::DecodeSegmentHeader(absl::string_view(head, *n));
    if (header && header->first_index == *first) {
      seg->header = *header;
    } else {
      seg->header_ok = false;
      seg->header.first_index = *first;
    }
    segments_.push_back(std::move(seg));
  }
  // A segment whose creation was torn (bad header, nothing after it) is
  // removed. A bad header with records after it is damage the log cannot work
  // around (the active segment's header anchors its terms and offsets): refuse
  // to open.
  while (!segments_.empty() && !segments_.back()->header_ok) {
    if (segments_.back()->file->Size() > kSegmentHeaderBytes) {
      return absl::DataLossError(absl::StrCat(
          "segment header damaged in ", segments_.back()->path,
          " at position 0; the group must be restored from a replica"));
    }
    report->files_removed.push_back(segments_.back()->path);
    if (absl::Status s = RemoveSegmentFiles(*segments_.back()); !s.ok())
      return s;
    segments_.pop_back();
    dir_dirty_ = true;
  }
  // Segments before the last base segment are leftovers of a reset (snapshot
  // install).
  for (size_t i = segments_.size(); i-- > 1;) {
    if (!segments_[i]->header_ok ||
        !(segments_[i]->header.flags & format::kSegmentFlagBase)) {
      continue;
    }
    for (size_t j = 0; j < i; ++j) {
      report->files_removed.push_back(segments_[j]->path);
      if (absl::Status s = RemoveSegmentFiles(*segments_[j]); !s.ok()) return s;
    }
    segments_.erase(segments_.begin(), segments_.begin() + i);
    dir_dirty_ = true;
    break;
  }
  return absl::OkStatus();
}

// Pass 2: loads each segment's index file, or scans it.
absl::Status GroupLog::LoadSegments(RecoveryReport* report) {
  report->segments = segments_.size();
  for (size_t i = 0; i < segments_.size(); ++i) {
    Segment& seg = *segments_[i];
    const bool is_last = i + 1 == segments_.size();
    seg.last_index = seg.header.first_index - 1;
    seg.last_term = seg.header.prev_term;
    seg.next_offset = seg.header.first_offset;
    if (!seg.header_ok) {
      seg.sealed = true;
      damage_.push_back(Damage{seg.path, 0, seg.header.first_index, 0,
                               "segment header unreadable"});
      seg.damaged_tail = true;
      continue;
    }
    if (!is_last && LoadIndexFile(seg)) continue;
    if (is_last) {
      absl::StatusOr<bool> loaded = LoadActiveIndex(seg, report);
      if (!loaded.ok()) return loaded.status();
      if (!*loaded) {  // scan it all
        seg.points.clear();
        seg.end_position = kSegmentHeaderBytes;
        seg.first_timestamp_ms = -1;
      }
    }
    if (absl::Status s = ScanSegment(seg, is_last, report); !s.ok()) return s;
    if (!is_last) {
      seg.sealed = true;
      report->indexes_rebuilt++;
      if (absl::Status s = WriteIndexFile(seg); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Pass 3: the segments must chain; fixes up the end of damaged segments.
absl::Status GroupLog::ChainSegments() {
  for (size_t i = 1; i < segments_.size(); ++i) {
    Segment& prev = *segments_[i - 1];
    const Segment& cur = *segments_[i];
    if (prev.damaged_tail) {
      prev.last_index = cur.header.first_index - 1;
      for (Damage& d : damage_) {
        if (d.file == prev.path && d.last_index == 0)
          d.last_index = prev.last_index;
      }
      continue;
    }
    if (cur.header.first_index > prev.last_index + 1) {
      damage_.push_back(Damage{cur.path, 0, prev.last_index + 1,
                               cur.header.first_index - 1,
                               "entries missing before this segment"});
    } else if (cur.header.first_index <= prev.last_index) {
      return absl::DataLossError(absl::StrCat(
          "segments overlap: ", prev.path, " ends at ", prev.last_index, ", ",
          cur.path, " starts at ", cur.header.first_index));
    }
  }
  std::sort(damage_.begin(), damage_.end(),
            [](const Damage& a, const Damage& b) {
              return a.first_index < b.first_index;
            });
  return absl::OkStatus();
}

absl::Status GroupLog::ScanSegment(Segment& seg, bool is_last,
                                   RecoveryReport* report) {
  // From the segment's start, or after what its active index covered.
  report->segments_scanned++;
  uint64_t size = seg.file->Size();
  ChunkReader reader(seg.file.get(), size, options_.read_chunk_bytes);
  uint64_t pos = seg.end_position;
  const uint64_t scan_start = pos;
  bool force_point = seg.points.empty();
  std::optional<uint64_t> next_offset = seg.next_offset;
  while (pos < size) {
    absl::StatusOr<std::optional<format::RecordHeader>> record = ValidRecordAt(
        reader, pos, size, seg.last_index + 1, seg.last_term, next_offset);
    if (!record.ok()) return record.status();
    if (record->has_value()) {
      AddRecord(seg, pos, **record, force_point, options_.index_interval_bytes);
      force_point = false;
      next_offset = seg.next_offset;
      pos = seg.end_position;
      continue;
    }
    absl::StatusOr<std::optional<Found>> next =
        FindNextValid(reader, pos + 1, size, seg.last_index + 1, seg.last_term);
    if (!next.ok()) return next.status();
    if (!next->has_value() && is_last) {
      // A torn write at the tail: never acknowledged as durable, cut it.
      if (absl::Status s = seg.file->Truncate(pos); !s.ok()) return s;
      if (absl::Status s = seg.file->Sync(); !s.ok()) return s;
      report->torn_bytes_cut += size - pos;
      size = pos;
      break;
    }
    if (!next->has_value()) {
      damage_.push_back(Damage{seg.path, pos, seg.last_index + 1, 0,
                               "bad record; no valid record after it"});
      seg.damaged_tail = true;
      break;
    }
    const Found& found = **next;
    damage_.push_back(Damage{seg.path, pos, seg.last_index + 1,
                             found.header.index - 1,
                             "bad record in the middle of the log"});
    if (found.header.offset_count > 0)
      seg.next_offset = found.header.offset_base;
    AddRecord(seg, found.position, found.header, /*force_point=*/true,
              options_.index_interval_bytes);
    next_offset = seg.next_offset;
    pos = seg.end_position;
  }
  report->record_bytes_scanned += std::min(pos, size) - scan_start;
  if (!seg.damaged_tail)
    seg.end_position = std::max<uint64_t>(pos, kSegmentHeaderBytes);
  if (seg.damaged_tail) seg.end_position = size;
  return absl::OkStatus();
}

bool GroupLog::LoadIndexFile(Segment& seg) {
  absl::StatusOr<std::string> bytes = internal::ReadSmallFile(
      *disk_, env::JoinPath(dir_, format::IndexName(seg.header.first_index)));
  if (!bytes.ok()) return false;
  std::optional<internal::DecodedIndex> index =
      internal::DecodeIndex(*bytes, seg.header.first_index);
  if (!index || index->segment_size != seg.file->Size()) {
    return false;  // stale: the segment changed after the index was written
  }
  const bool empty = index->points.empty();
  seg.points = std::move(index->points);
  seg.last_index = index->last_index;
  seg.last_term = empty ? seg.header.prev_term : seg.points.back().term;
  seg.next_offset = index->next_offset;
  seg.max_timestamp_ms = index->max_timestamp_ms;
  seg.end_position = index->segment_size;
  seg.sealed = true;
  return true;
}

absl::StatusOr<bool> GroupLog::LoadActiveIndex(Segment& seg,
                                               RecoveryReport* report) {
  absl::StatusOr<std::string> bytes = internal::ReadSmallFile(
      *disk_,
      env::JoinPath(dir_, format::ActiveIndexName(seg.header.first_index)));
  if (!bytes.ok()) return false;
  std::optional<internal::DecodedIndex> index =
      internal::DecodeIndex(*bytes, seg.header.first_index);
  if (!index || index->segment_size > seg.file->Size() ||
      index->segment_size < kSegmentHeaderBytes) {
    return false;
  }
  // Check the records from the last point to the index's end: they must be
  // the ones it describes (see format.h for why the rest then is too).
  uint64_t pos = kSegmentHeaderBytes;
  uint64_t expected = seg.header.first_index;
  uint64_t term = seg.header.prev_term;
  uint64_t next_offset = seg.header.first_offset;
  if (!index->points.empty()) {
    const IndexPoint& back = index->points.back();
    pos = back.position;
    expected = back.index;
    term = back.term;
    next_offset = back.offset;
  }
  // Reads about what it checks (one index interval), not read_chunk_bytes.
  ChunkReader reader(
      seg.file.get(), index->segment_size,
      std::min<uint64_t>(options_.read_chunk_bytes,
                         options_.index_interval_bytes + kRecordHeaderBytes));
  while (pos < index->segment_size) {
    absl::StatusOr<std::optional<format::RecordHeader>> record = ValidRecordAt(
        reader, pos, index->segment_size, expected, term, next_offset);
    if (!record.ok()) return record.status();
    if (!record->has_value()) return false;
    const format::RecordHeader& header = **record;
    if (!index->points.empty() && expected == index->points.back().index &&
        header.term != term) {
      return false;
    }
    report->record_bytes_scanned += kRecordHeaderBytes + header.payload_bytes;
    pos += kRecordHeaderBytes + header.payload_bytes;
    term = header.term;
    if (header.offset_count > 0) {
      next_offset = header.offset_base + header.offset_count;
    }
    ++expected;
  }
  if (pos != index->segment_size || expected != index->last_index + 1 ||
      next_offset != index->next_offset) {
    return false;
  }
  if (!index->points.empty()) {
    // segment.ms rolls by the first batch's timestamp: its header will do.
    char head[kRecordHeaderBytes];
    absl::StatusOr<size_t> n =
        seg.file->ReadAt(kSegmentHeaderBytes, sizeof(head), head);
    if (!n.ok()) return n.status();
    std::optional<format::RecordHeader> first =
        format::DecodeRecordHeader(absl::string_view(head, *n));
    if (!first || first->index != seg.header.first_index) return false;
    if (first->max_timestamp_ms >= 0) {
      seg.first_timestamp_ms = first->max_timestamp_ms;
    }
  }
  seg.points = std::move(index->points);
  seg.last_index = index->last_index;
  seg.last_term = term;
  seg.next_offset = index->next_offset;
  seg.max_timestamp_ms = index->max_timestamp_ms;
  seg.end_position = index->segment_size;
  report->active_index_used = true;
  return true;
}

absl::Status GroupLog::WriteIndexFile(const Segment& seg) {
  const std::string bytes = internal::EncodeIndex(seg);
  // Synced with the next Sync so it is usually there after a crash; a lost or
  // torn index is detected anyway (CRC, segment size) and rebuilt by a scan.
  absl::StatusOr<std::unique_ptr<env::File>> file = disk_->Create(
      env::JoinPath(dir_, format::IndexName(seg.header.first_index)));
  if (!file.ok()) return file.status();
  dir_dirty_ = true;
  if (absl::Status s = (*file)->Append(bytes); !s.ok()) return s;
  unsynced_index_files_.push_back(UnsyncedIndex{
      .seq = ++write_seq_, .handed = false, .file = std::move(*file)});
  return absl::OkStatus();
}

}  // namespace chronik::storage
