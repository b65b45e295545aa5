#include "broker/storage/group_log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/batch_header.h"
#include "broker/storage/group_log_internal.h"

namespace chronik::storage {
namespace {

using internal::AddRecord;
using internal::ChunkReader;
using internal::IgnoreNotFound;

// In a partition log only normal entries with a payload are Kafka batches; the
// Raft core's empty entries (a new leader's first entry) and membership
// changes take no offsets.
bool CarriesBatch(const Entry& entry) {
  return entry.type == 0 && !entry.data.empty();
}

absl::string_view Payload(const Entry& entry) {
  return absl::string_view(entry.data.data(), entry.data.size());
}

}  // namespace

namespace internal {

void AddRecord(GroupLog::Segment& seg, uint64_t pos,
               const format::RecordHeader& header, bool force_point,
               uint64_t index_interval_bytes) {
  const bool new_term = seg.points.empty() || header.term != seg.last_term;
  const bool far = !seg.points.empty() &&
                   pos - seg.points.back().position >= index_interval_bytes;
  if (force_point || new_term || far) {
    seg.points.push_back(
        GroupLog::IndexPoint{.index = header.index,
                             .term = header.term,
                             .offset = seg.next_offset,
                             .position = pos,
                             .max_timestamp_before_ms = seg.max_timestamp_ms});
  }
  seg.last_index = header.index;
  seg.last_term = header.term;
  if (header.offset_count > 0) {
    seg.next_offset = header.offset_base + header.offset_count;
  }
  seg.max_timestamp_ms =
      std::max(seg.max_timestamp_ms, header.max_timestamp_ms);
  if (seg.first_timestamp_ms < 0) {
    seg.first_timestamp_ms = header.max_timestamp_ms;
  }
  seg.end_position = pos + kRecordHeaderBytes + header.payload_bytes;
}

}  // namespace internal

GroupLog::GroupLog(env::Disk* disk, std::string dir, const LogOptions& options)
    : disk_(disk), dir_(std::move(dir)), options_(options) {
  CHRONIK_CHECK(disk_ != nullptr);
  CHRONIK_CHECK_GT(options_.segment_max_bytes,
                   kSegmentHeaderBytes + kRecordHeaderBytes);
  CHRONIK_CHECK_GT(options_.index_interval_bytes, 0u);
  CHRONIK_CHECK_GT(options_.read_chunk_bytes, 0u);
}

GroupLog::~GroupLog() = default;

std::unique_ptr<GroupLog::Segment> GroupLog::EmptySegment(
    uint64_t first_index, uint64_t prev_term, uint64_t first_offset,
    uint32_t flags) const {
  auto seg = std::make_unique<Segment>();
  seg->name = format::SegmentName(first_index);
  seg->path = env::JoinPath(dir_, seg->name);
  seg->header = format::SegmentHeader{.flags = flags,
                                      .first_index = first_index,
                                      .prev_term = prev_term,
                                      .first_offset = first_offset};
  seg->last_index = first_index - 1;
  seg->last_term = prev_term;
  seg->next_offset = first_offset;
  seg->end_position = kSegmentHeaderBytes;
  return seg;
}

absl::Status GroupLog::CreateSegment(uint64_t first_index, uint64_t prev_term,
                                     uint64_t first_offset, uint32_t flags) {
  std::unique_ptr<Segment> seg =
      EmptySegment(first_index, prev_term, first_offset, flags);
  absl::StatusOr<std::unique_ptr<env::File>> file = disk_->Create(seg->path);
  if (!file.ok()) return file.status();
  seg->file = std::move(*file);
  seg->file->AdviseAppendOnlyLog();
  dir_dirty_ = true;
  if (absl::Status s =
          seg->file->Append(format::EncodeSegmentHeader(seg->header));
      !s.ok()) {
    return s;
  }
  MarkDirty(*seg);
  segments_.push_back(std::move(seg));
  return absl::OkStatus();
}

absl::Status GroupLog::Roll() {
  if (absl::Status s = WritePending(); !s.ok()) return s;
  Segment& old = active();
  // The sealed segment is synced before the next one exists: any later
  // directory sync (a snapshot, a truncation) may make the new file durable,
  // and a durable segment must never follow one whose tail could still be lost.
  if (old.dirty) {
    if (absl::Status s = old.file->Sync(); !s.ok()) return Fail(s);
    ++fsyncs_;
    old.dirty = false;
  }
  old.sealed = true;
  if (absl::Status s = WriteIndexFile(old); !s.ok()) return Fail(s);
  if (absl::Status s = CreateSegment(old.last_index + 1, old.last_term,
                                     old.next_offset, /*flags=*/0);
      !s.ok()) {
    return Fail(s);
  }
  return absl::OkStatus();
}

absl::Status GroupLog::RollIfFull(uint64_t record_bytes) {
  const uint64_t max_bytes =
      roll_bytes_ > 0 ? roll_bytes_ : options_.segment_max_bytes;
  if (active().end_position + record_bytes > max_bytes &&
      active().last_index >= active().header.first_index) {
    return Roll();
  }
  return absl::OkStatus();
}

absl::Status GroupLog::RemoveSegmentFiles(const Segment& seg) {
  if (absl::Status s = IgnoreNotFound(disk_->Remove(seg.path)); !s.ok()) {
    return s;
  }
  if (absl::Status s = IgnoreNotFound(disk_->Remove(
          env::JoinPath(dir_, format::IndexName(seg.header.first_index))));
      !s.ok()) {
    return s;
  }
  return IgnoreNotFound(disk_->Remove(
      env::JoinPath(dir_, format::ActiveIndexName(seg.header.first_index))));
}

absl::Status GroupLog::Fail(absl::Status status) {
  CHRONIK_CHECK(!status.ok());
  if (failed_.ok()) failed_ = status;
  return status;
}

uint64_t GroupLog::first_index() const {
  return segments_.front()->header.first_index;
}

uint64_t GroupLog::last_index() const { return active().last_index; }

uint64_t GroupLog::next_offset() const { return active().next_offset; }

uint64_t GroupLog::size_bytes() const {
  uint64_t total = 0;
  for (const auto& seg : segments_) total += seg->end_position;
  return total;
}

size_t GroupLog::SegmentPos(uint64_t index) const {
  CHRONIK_CHECK_GE(index, first_index());
  auto it =
      std::upper_bound(segments_.begin(), segments_.end(), index,
                       [](uint64_t i, const std::unique_ptr<Segment>& seg) {
                         return i < seg->header.first_index;
                       });
  CHRONIK_CHECK(it != segments_.begin());
  return static_cast<size_t>(it - segments_.begin()) - 1;
}

GroupLog::Segment& GroupLog::SegmentFor(uint64_t index) {
  return *segments_[SegmentPos(index)];
}

const Damage* GroupLog::DamageAt(uint64_t index) const {
  for (const Damage& d : damage_) {
    if (d.first_index <= index && index <= d.last_index) return &d;
  }
  return nullptr;
}

absl::Status GroupLog::CheckDamage(uint64_t index) const {
  if (const Damage* d = DamageAt(index)) {
    return absl::DataLossError(
        absl::StrCat("entry ", index, " is damaged: ", d->reason, " in ",
                     d->file, " at position ", d->position, " (entries ",
                     d->first_index, "..", d->last_index, " refused)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> GroupLog::Term(uint64_t index) const {
  if (!failed_.ok()) return failed_;
  if (index + 1 < first_index() || index > last_index()) {
    return absl::OutOfRangeError(absl::StrCat("no term for index ", index,
                                              ", log holds ", first_index(),
                                              "..", last_index()));
  }
  if (index + 1 == first_index()) {
    if (!segments_.front()->header_ok) return CheckDamage(first_index());
    return segments_.front()->header.prev_term;
  }
  if (absl::Status s = CheckDamage(index); !s.ok()) return s;
  const Segment& seg = *segments_[SegmentPos(index)];
  auto it = std::upper_bound(
      seg.points.begin(), seg.points.end(), index,
      [](uint64_t i, const IndexPoint& point) { return i < point.index; });
  CHRONIK_CHECK(it != seg.points.begin()) << "no index point for " << index;
  return std::prev(it)->term;
}

absl::StatusOr<GroupLog::Located> GroupLog::Locate(Segment& seg,
                                                   uint64_t index) {
  auto it = std::upper_bound(
      seg.points.begin(), seg.points.end(), index,
      [](uint64_t i, const IndexPoint& point) { return i < point.index; });
  if (it == seg.points.begin()) {
    return absl::DataLossError(
        absl::StrCat("no index point for entry ", index, " in ", seg.path));
  }
  const IndexPoint& point = *std::prev(it);
  Located at{point.position, point.offset};
  ChunkReader reader(seg.file.get(), seg.file->Size(), 16 << 10);
  for (uint64_t i = point.index; i < index; ++i) {
    absl::StatusOr<absl::string_view> head =
        reader.Get(at.position, kRecordHeaderBytes);
    if (!head.ok()) return Fail(head.status());
    std::optional<format::RecordHeader> header =
        format::DecodeRecordHeader(*head);
    if (!header || header->index != i) {
      return absl::DataLossError(absl::StrCat("bad record header in ", seg.path,
                                              " at position ", at.position));
    }
    if (header->offset_count > 0) {
      at.next_offset = header->offset_base + header->offset_count;
    }
    at.position += kRecordHeaderBytes + header->payload_bytes;
  }
  return at;
}

absl::Status GroupLog::Append(absl::Span<Entry> entries) {
  if (!failed_.ok()) return failed_;
  if (entries.empty()) return absl::OkStatus();
  const uint64_t first = entries[0].index;
  if (first < first_index() || first > last_index() + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("append at ", first, " does not fit log ", first_index(),
                     "..", last_index()));
  }
  absl::StatusOr<uint64_t> prev_term = Term(first - 1);
  if (!prev_term.ok()) return prev_term.status();
  std::vector<BatchOffsets::Info> infos(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    CHRONIK_CHECK_EQ(entries[i].index, first + i) << "entries not consecutive";
    CHRONIK_CHECK_GE(entries[i].term, i == 0 ? *prev_term : entries[i - 1].term)
        << "term decreases at index " << entries[i].index;
    if (entries[i].data.size() > format::kMaxPayloadBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "entry ", entries[i].index, " has ", entries[i].data.size(),
          " bytes, max ", format::kMaxPayloadBytes));
    }
    if (options_.batch_offsets != nullptr && CarriesBatch(entries[i])) {
      absl::StatusOr<BatchOffsets::Info> info =
          options_.batch_offsets->Inspect(Payload(entries[i]));
      if (!info.ok()) return info.status();
      infos[i] = *info;
    }
  }
  if (first <= last_index()) {
    if (absl::Status s = TruncateSuffix(first - 1); !s.ok()) return s;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& entry = entries[i];
    if (absl::Status s = RollIfFull(kRecordHeaderBytes + entry.data.size());
        !s.ok()) {
      return s;
    }
    Segment& seg = active();
    format::RecordHeader header;
    header.index = entry.index;
    header.term = entry.term;
    header.type = entry.type;
    // Control entries (offset count 0) are stored as they are.
    const bool batch = options_.batch_offsets != nullptr &&
                       CarriesBatch(entry) && infos[i].offset_count > 0;
    if (batch) {
      entry.offset_base = seg.next_offset;
      entry.offset_count = infos[i].offset_count;
      header.offset_base = entry.offset_base;
      header.offset_count = entry.offset_count;
      header.max_timestamp_ms = infos[i].max_timestamp_ms;
      // Its own CRC was checked on arrival and covers its data.
      if (options_.batch_offsets->BatchesCarryCheckedCrc()) {
        header.flags = format::kRecordFlagBatchCrc;
      }
    }
    header.payload_bytes = static_cast<uint32_t>(entry.data.size());
    const uint64_t pos = seg.end_position;
    BufferRecord(header, entry, batch);
    AddRecord(seg, pos, header, /*force_point=*/false,
              options_.index_interval_bytes);
    MarkDirty(seg);
    if (pending_.size() >= options_.write_buffer_bytes) {
      if (absl::Status s = WritePending(); !s.ok()) return s;
    }
  }
  DebugCheck();
  return absl::OkStatus();
}

// The payload goes to the write buffer with one copy, or none: a large
// batch whose own CRC covers its data is copied only up to the end of its
// header (where it gets its base offset and the record CRC ends) and the
// rest spliced in from the entry's shared buffer. Not while the tail log
// takes the record: it copies the record anyway, and the records it covers
// stay buffered long (up to tail_wal_buffer_bytes over all groups) where a
// splice would keep a whole request's buffer alive.
void GroupLog::BufferRecord(const format::RecordHeader& header,
                            const Entry& entry, bool batch) {
  static_assert(kSplicedBatchHeadBytes >= kafka::kBatchHeaderBytes);
  static_assert(kSplicedBatchHeadBytes >= format::kBatchCrcCoveredFrom);
  const absl::string_view payload = Payload(entry);
  const bool splice = batch && wal_tap_ == nullptr &&
                      (header.flags & format::kRecordFlagBatchCrc) != 0 &&
                      payload.size() >= kSpliceMinPayloadBytes;
  const absl::string_view copied =
      splice ? payload.substr(0, kSplicedBatchHeadBytes) : payload;
  const absl::string_view tail = payload.substr(copied.size());
  std::string& owned = pending_.owned();
  const size_t start = format::BeginRecord(header, copied, &owned,
                                           /*payload_tail_bytes=*/tail.size());
  if (batch) {
    options_.batch_offsets->AssignBaseOffset(
        entry.offset_base, entry.term,
        absl::MakeSpan(owned).subspan(start + kRecordHeaderBytes,
                                      copied.size()));
  }
  format::SealRecord(start, &owned, tail);
  if (splice) {
    pending_.Splice(entry.data, tail);
    spliced_payload_bytes_ += tail.size();
  }
  if (wal_tap_ != nullptr) wal_tap_->append(owned, start);
}

absl::Status GroupLog::TruncateSuffix(uint64_t last_kept) {
  if (!failed_.ok()) return failed_;
  if (last_kept >= last_index()) return absl::OkStatus();
  if (last_kept + 1 < first_index()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot truncate to ", last_kept, ": log starts at ", first_index()));
  }
  if (absl::Status s = WritePending(); !s.ok()) return s;
  size_t k = SegmentPos(last_kept + 1);
  // A segment with an unreadable header cannot be cut inside: drop it whole,
  // the previous segment ends exactly at last_kept.
  if (!segments_[k]->header_ok) {
    if (k == 0) {
      return absl::DataLossError(absl::StrCat(
          "cannot truncate into unreadable segment ", segments_[k]->path));
    }
    --k;
    CHRONIK_CHECK_EQ(segments_[k]->last_index, last_kept);
  }
  Segment& seg = *segments_[k];
  uint64_t cut = kSegmentHeaderBytes;
  uint64_t next_offset = seg.header.first_offset;
  if (last_kept >= seg.header.first_index) {
    absl::StatusOr<Located> at = Locate(seg, last_kept);
    if (!at.ok()) return at.status();
    char head[kRecordHeaderBytes];
    absl::StatusOr<size_t> n =
        seg.file->ReadAt(at->position, sizeof(head), head);
    if (!n.ok()) return Fail(n.status());
    std::optional<format::RecordHeader> header =
        format::DecodeRecordHeader(absl::string_view(head, *n));
    if (!header || header->index != last_kept) {
      return absl::DataLossError(absl::StrCat("bad record header in ", seg.path,
                                              " at position ", at->position));
    }
    cut = at->position + kRecordHeaderBytes + header->payload_bytes;
    next_offset = header->offset_count > 0
                      ? header->offset_base + header->offset_count
                      : at->next_offset;
  }
  // Later segments must be durably gone before this one is cut and appended to
  // again, or a crash could bring back a stale segment after new entries.
  bool removed = false;
  while (segments_.size() > k + 1) {
    if (absl::Status s = RemoveSegmentFiles(*segments_.back()); !s.ok()) {
      return Fail(s);
    }
    segments_.pop_back();
    removed = true;
  }
  if (seg.sealed) {
    if (absl::Status s = IgnoreNotFound(disk_->Remove(
            env::JoinPath(dir_, format::IndexName(seg.header.first_index))));
        !s.ok()) {
      return Fail(s);
    }
    seg.sealed = false;
    removed = true;
  }
  if (removed) {
    if (absl::Status s = disk_->SyncDir(dir_); !s.ok()) return Fail(s);
    dir_dirty_ = false;
  }
  if (absl::Status s = seg.file->Truncate(cut); !s.ok()) return Fail(s);
  MarkDirty(seg);
  seg.damaged_tail = false;
  while (!seg.points.empty() && seg.points.back().position >= cut) {
    seg.points.pop_back();
  }
  seg.end_position = cut;
  seg.last_index = last_kept;
  seg.last_term =
      seg.points.empty() ? seg.header.prev_term : seg.points.back().term;
  seg.next_offset = next_offset;
  std::erase_if(damage_,
                [&](const Damage& d) { return d.first_index > last_kept; });
  DebugCheck();
  return absl::OkStatus();
}

absl::Status GroupLog::RemovePrefix(uint64_t up_to_index) {
  if (!failed_.ok()) return failed_;
  while (segments_.size() > 1 && segments_.front()->last_index <= up_to_index) {
    if (absl::Status s = RemoveSegmentFiles(*segments_.front()); !s.ok()) {
      return Fail(s);
    }
    segments_.erase(segments_.begin());
    dir_dirty_ = true;
  }
  std::erase_if(damage_,
                [&](const Damage& d) { return d.last_index < first_index(); });
  DebugCheck();
  return absl::OkStatus();
}

std::optional<GroupLog::RetentionCutPoint> GroupLog::RetentionCut(
    const RetentionLimits& limits) const {
  if (!failed_.ok()) return std::nullopt;
  uint64_t total = size_bytes();
  std::optional<RetentionCutPoint> cut;
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    const Segment& seg = *segments_[i];
    if (seg.last_index > limits.max_removable_index) break;
    const bool by_time =
        limits.retention_ms >= 0 && seg.max_timestamp_ms >= 0 &&
        limits.now_ms - seg.max_timestamp_ms > limits.retention_ms;
    const bool by_size = limits.retention_bytes >= 0 &&
                         total - seg.end_position >=
                             static_cast<uint64_t>(limits.retention_bytes);
    const bool below_start =
        limits.log_start_offset >= 0 &&
        seg.next_offset <= static_cast<uint64_t>(limits.log_start_offset);
    if (!by_time && !by_size && !below_start) break;
    total -= seg.end_position;
    cut = RetentionCutPoint{seg.last_index, seg.last_term, seg.next_offset,
                            static_cast<int>(i + 1)};
  }
  return cut;
}

absl::StatusOr<int> GroupLog::ApplyRetention(const RetentionLimits& limits) {
  if (!failed_.ok()) return failed_;
  const std::optional<RetentionCutPoint> cut = RetentionCut(limits);
  if (!cut.has_value()) return 0;
  if (absl::Status s = RemovePrefix(cut->index); !s.ok()) return s;
  return cut->segments;
}

absl::Status GroupLog::Reset(uint64_t index, uint64_t term,
                             uint64_t next_offset) {
  if (!failed_.ok()) return failed_;
  pending_.Clear();
  for (const auto& seg : segments_) {
    if (absl::Status s = RemoveSegmentFiles(*seg); !s.ok()) return Fail(s);
  }
  segments_.clear();
  damage_.clear();
  if (absl::Status s =
          CreateSegment(index + 1, term, next_offset, format::kSegmentFlagBase);
      !s.ok()) {
    // The log is failed (every operation answers its error) but its bounds
    // stay readable: a segment without a file describes the empty log it was
    // being reset to (the sim's seed 160 with 5 nodes read them after an EIO
    // here and found no segment at all).
    segments_.push_back(
        EmptySegment(index + 1, term, next_offset, format::kSegmentFlagBase));
    return Fail(s);
  }
  // One directory sync switches from the old segments to the new empty one.
  return Sync();
}

absl::Status GroupLog::Read(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                            std::vector<Entry>* out, ReadMode mode,
                            ReadLimit limit) {
  if (!failed_.ok()) return failed_;
  if (lo > hi || lo < first_index() || hi > last_index() + 1) {
    return absl::OutOfRangeError(absl::StrCat("read ", lo, "..", hi,
                                              " outside log ", first_index(),
                                              "..", last_index()));
  }
  if (lo == hi) return absl::OkStatus();
  if (absl::Status s = CheckDamage(lo); !s.ok()) return s;
  for (const Damage& d : damage_) {
    if (lo < d.first_index && d.first_index < hi) hi = d.first_index;
  }
  if (absl::Status s = WritePending(); !s.ok()) return s;
  // A bounded read reads about max_bytes of payload, plus the headers of its
  // entries and of the next one (this slack, else one more small read).
  constexpr uint64_t kHeaderSlackBytes = 16 << 10;
  const bool bounded = limit != ReadLimit::kPastMax;
  const uint64_t slack = bounded ? kHeaderSlackBytes : 0;
  uint64_t bytes = 0;
  uint64_t index = lo;
  while (index < hi) {
    Segment& seg = SegmentFor(index);
    absl::StatusOr<Located> at = Locate(seg, index);
    if (!at.ok()) return at.status();
    ChunkReader reader(
        seg.file.get(), seg.file->Size(),
        std::max<uint64_t>(options_.read_chunk_bytes,
                           std::min<uint64_t>(max_bytes, 16 << 20) + slack));
    uint64_t pos = at->position;
    while (index < hi && index <= seg.last_index) {
      const uint64_t expect =
          bounded ? max_bytes - bytes + slack : ~uint64_t{0};
      absl::StatusOr<absl::string_view> head =
          reader.Get(pos, kRecordHeaderBytes, expect);
      if (!head.ok()) return Fail(head.status());
      std::optional<format::RecordHeader> header =
          format::DecodeRecordHeader(*head);
      bool ok = header.has_value() && header->index == index;
      if (ok && bounded && bytes + header->payload_bytes > max_bytes &&
          (limit == ReadLimit::kWithinMax || index > lo)) {
        return absl::OkStatus();  // it would cross max_bytes: left unread
      }
      absl::string_view record;
      if (ok) {
        absl::StatusOr<absl::string_view> got =
            reader.Get(pos, kRecordHeaderBytes + header->payload_bytes, expect);
        if (!got.ok()) return Fail(got.status());
        record = *got;
        ok = record.size() == kRecordHeaderBytes + header->payload_bytes &&
             format::RecordChecksumOk(record.substr(0, kRecordHeaderBytes),
                                      record.substr(kRecordHeaderBytes));
      }
      if (!ok) {
        // Found at read time: remember it so the entry is never served.
        damage_.push_back(Damage{seg.path, pos, index, index,
                                 "checksum failure found by a read"});
        if (index > lo) return absl::OkStatus();  // serve what precedes it
        return CheckDamage(index);
      }
      Entry& entry = out->emplace_back();
      entry.index = header->index;
      entry.term = header->term;
      entry.type = header->type;
      const absl::string_view payload = record.substr(kRecordHeaderBytes);
      entry.data = mode == ReadMode::kShare
                       ? reader.Share(payload)
                       : raft::Bytes::Copy(
                             std::string_view(payload.data(), payload.size()));
      entry.offset_base = header->offset_base;
      entry.offset_count = header->offset_count;
      bytes += header->payload_bytes;
      pos += record.size();
      ++index;
      if (bytes >= max_bytes) return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> GroupLog::IndexForTimestamp(
    int64_t timestamp_ms) const {
  if (!failed_.ok()) return failed_;
  for (const auto& seg : segments_) {
    if (seg->last_index < seg->header.first_index ||
        seg->max_timestamp_ms < timestamp_ms) {
      continue;  // empty, or every record in it is older
    }
    // The last point before which every record is older.
    auto point = std::partition_point(
        seg->points.begin(), seg->points.end(), [&](const IndexPoint& p) {
          return p.max_timestamp_before_ms < timestamp_ms;
        });
    CHRONIK_CHECK(point != seg->points.begin())
        << seg->path << ": first index point has an earlier record";
    return std::prev(point)->index;
  }
  return absl::NotFoundError(
      absl::StrCat("no record at or after timestamp ", timestamp_ms));
}

absl::StatusOr<uint64_t> GroupLog::IndexForOffset(uint64_t offset) {
  if (!failed_.ok()) return failed_;
  if (offset >= next_offset() || last_index() < first_index()) {
    return absl::NotFoundError(absl::StrCat("offset ", offset, " not in log"));
  }
  auto it =
      std::upper_bound(segments_.begin(), segments_.end(), offset,
                       [](uint64_t o, const std::unique_ptr<Segment>& seg) {
                         return o < seg->header.first_offset;
                       });
  if (it == segments_.begin()) {
    return absl::NotFoundError(
        absl::StrCat("offset ", offset, " is before the log start"));
  }
  // Segments without entries hold no offsets: step back to one that does.
  while (it != segments_.begin() &&
         (*std::prev(it))->last_index < (*std::prev(it))->header.first_index) {
    --it;
  }
  if (it == segments_.begin()) {
    return absl::NotFoundError(absl::StrCat("offset ", offset, " not in log"));
  }
  Segment& seg = **std::prev(it);
  if (absl::Status s = WritePending(); !s.ok()) return s;
  auto point = std::upper_bound(
      seg.points.begin(), seg.points.end(), offset,
      [](uint64_t o, const IndexPoint& p) { return o < p.offset; });
  if (point == seg.points.begin()) {
    return absl::NotFoundError(absl::StrCat("offset ", offset, " not in log"));
  }
  --point;
  ChunkReader reader(seg.file.get(), seg.file->Size(), 16 << 10);
  uint64_t pos = point->position;
  for (uint64_t index = point->index; index <= seg.last_index; ++index) {
    if (absl::Status s = CheckDamage(index); !s.ok()) return s;
    absl::StatusOr<absl::string_view> head =
        reader.Get(pos, kRecordHeaderBytes);
    if (!head.ok()) return Fail(head.status());
    std::optional<format::RecordHeader> header =
        format::DecodeRecordHeader(*head);
    if (!header || header->index != index) {
      return absl::DataLossError(absl::StrCat("bad record header in ", seg.path,
                                              " at position ", pos));
    }
    if (header->offset_count > 0 &&
        offset < header->offset_base + header->offset_count) {
      return index;
    }
    pos += kRecordHeaderBytes + header->payload_bytes;
  }
  return absl::NotFoundError(absl::StrCat("offset ", offset, " not in log"));
}
}  // namespace chronik::storage
