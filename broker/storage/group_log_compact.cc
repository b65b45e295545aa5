// GroupLog (group_log.h): log compaction's side of the log: segment
// summaries, rewriting a sealed segment crash-safely, and rolls by time and
// per-topic size.
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/check.h"
#include "broker/storage/group_log.h"
#include "broker/storage/group_log_internal.h"

namespace chronik::storage {
namespace {

using internal::AddRecord;
using internal::IgnoreNotFound;

inline constexpr char kCleanedSuffix[] = ".cleaned";
// The cleaner checkpoint: one line of text, the magic word, a space, the
// offset the last compaction pass cleaned up to in decimal, a newline
// ("chronik-cleaned 1234\n"). Replaced atomically through kCheckpointTmp.
// Recovery ignores both names (they are no segment names); a leftover
// temporary file is overwritten by the next write.
inline constexpr char kCleanerCheckpointName[] = "cleaner-checkpoint";
inline constexpr char kCheckpointTmp[] = "cleaner-checkpoint.tmp";
inline constexpr char kCheckpointMagic[] = "chronik-cleaned ";
inline constexpr size_t kCheckpointMaxBytes = 64;

absl::string_view PayloadOf(const Entry& entry) {
  return absl::string_view(entry.data.data(), entry.data.size());
}

}  // namespace

std::vector<GroupLog::SegmentSummary> GroupLog::Segments() const {
  std::vector<SegmentSummary> out;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& seg = *segments_[i];
    out.push_back(SegmentSummary{.first_index = seg.header.first_index,
                                 .last_index = seg.last_index,
                                 .first_offset = seg.header.first_offset,
                                 .next_offset = seg.next_offset,
                                 .bytes = seg.end_position,
                                 .active = i + 1 == segments_.size(),
                                 .damaged = HasDamageIn(seg)});
  }
  return out;
}

void GroupLog::SetRollLimits(uint64_t max_bytes, int64_t roll_ms) {
  const uint64_t floor = kSegmentHeaderBytes + kRecordHeaderBytes + 1;
  roll_bytes_ = max_bytes == 0 ? 0 : std::max(max_bytes, floor);
  roll_ms_ = roll_ms;
}

absl::StatusOr<bool> GroupLog::RollIfOlder(int64_t now_ms) {
  if (!failed_.ok()) return failed_;
  const Segment& seg = active();
  if (roll_ms_ <= 0 || seg.last_index < seg.header.first_index ||
      seg.first_timestamp_ms < 0 ||
      now_ms - seg.first_timestamp_ms < roll_ms_) {
    return false;
  }
  if (absl::Status s = Roll(); !s.ok()) return s;
  DebugCheck();
  return true;
}

absl::Status GroupLog::BuildRewrite(const Segment& old,
                                    absl::Span<const Entry> entries,
                                    Segment* seg, std::string* bytes) const {
  const uint64_t first_index = old.header.first_index;
  seg->name = old.name;
  seg->path = old.path;
  seg->header = old.header;
  seg->last_index = first_index - 1;
  seg->last_term = old.header.prev_term;
  seg->next_offset = old.header.first_offset;
  seg->sealed = true;
  *bytes = format::EncodeSegmentHeader(old.header);
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    format::RecordHeader header;
    header.index = entry.index;
    header.term = entry.term;
    header.type = entry.type;
    header.offset_base = entry.offset_base;
    header.offset_count = entry.offset_count;
    header.payload_bytes = static_cast<uint32_t>(entry.data.size());
    if (entry.offset_count > 0) {
      CHRONIK_CHECK(options_.batch_offsets != nullptr);
      absl::StatusOr<BatchOffsets::Info> info =
          options_.batch_offsets->Inspect(PayloadOf(entry));
      if (!info.ok()) return info.status();
      if (info->offset_count != entry.offset_count) {
        return absl::InvalidArgumentError(absl::StrCat(
            "rewritten entry ", entry.index, " covers ", info->offset_count,
            " offsets, the stored one ", entry.offset_count));
      }
      header.max_timestamp_ms = info->max_timestamp_ms;
    }
    if (entry.index != first_index + i ||
        (entry.offset_count > 0 && entry.offset_base != seg->next_offset)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rewritten entry ", entry.index, " does not fit ", old.path));
    }
    AddRecord(*seg, bytes->size(), header, /*force_point=*/i == 0,
              options_.index_interval_bytes);
    format::AppendRecord(header, PayloadOf(entry), bytes);
  }
  if (seg->last_index != old.last_index || seg->last_term != old.last_term ||
      seg->next_offset != old.next_offset) {
    return absl::InvalidArgumentError(
        absl::StrCat("rewritten entries do not end where ", old.path, " does"));
  }
  CHRONIK_CHECK_EQ(seg->end_position, bytes->size());
  return absl::OkStatus();
}

absl::Status GroupLog::RewriteSegment(uint64_t first_index,
                                      absl::Span<const Entry> entries) {
  if (!failed_.ok()) return failed_;
  const size_t at = SegmentPos(first_index);
  CHRONIK_CHECK_LT(at + 1, segments_.size())
      << "the active segment is never rewritten";
  const Segment& old = *segments_[at];
  CHRONIK_CHECK_EQ(old.header.first_index, first_index);
  CHRONIK_CHECK(old.sealed && !old.dirty) << old.path;
  if (HasDamageIn(old) || entries.size() != old.last_index - first_index + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot rewrite ", old.path, ": damaged or ",
                     entries.size(), " entries given"));
  }
  // The new segment, in memory first: same header, same entries and offsets.
  auto seg = std::make_unique<Segment>();
  std::string bytes;
  if (absl::Status s = BuildRewrite(old, entries, seg.get(), &bytes); !s.ok()) {
    return s;
  }
  // Written and durable under a name recovery ignores (and removes).
  const std::string tmp = absl::StrCat(old.path, kCleanedSuffix);
  if (absl::Status s = IgnoreNotFound(disk_->Remove(tmp)); !s.ok()) return s;
  {
    absl::StatusOr<std::unique_ptr<env::File>> file = disk_->Create(tmp);
    if (!file.ok()) return file.status();
    absl::Status s = (*file)->Append(bytes);
    if (s.ok()) s = (*file)->Sync();
    if (!s.ok()) {
      disk_->Remove(tmp).IgnoreError();
      return s;
    }
    ++fsyncs_;
  }
  // The old index first (a stale one must never describe the new file),
  // then the atomic switch, made durable before anything else happens.
  const std::string index = env::JoinPath(dir_, format::IndexName(first_index));
  if (absl::Status s = IgnoreNotFound(disk_->Remove(index)); !s.ok()) {
    return Fail(s);
  }
  // Nor an active index it had when it was the active segment.
  if (absl::Status s = IgnoreNotFound(disk_->Remove(
          env::JoinPath(dir_, format::ActiveIndexName(first_index))));
      !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = disk_->Rename(tmp, old.path); !s.ok()) return Fail(s);
  if (absl::Status s = disk_->SyncDir(dir_); !s.ok()) return Fail(s);
  absl::StatusOr<std::unique_ptr<env::File>> file = disk_->Open(old.path);
  if (!file.ok()) return Fail(file.status());
  seg->file = std::move(*file);
  if (absl::Status s = WriteIndexFile(*seg); !s.ok()) return Fail(s);
  segments_[at] = std::move(seg);
  DebugCheck();
  return absl::OkStatus();
}

absl::Status GroupLog::WriteCleanerCheckpoint(int64_t cleaned_offset) {
  if (!failed_.ok()) return failed_;
  const std::string tmp = env::JoinPath(dir_, kCheckpointTmp);
  if (absl::Status s = IgnoreNotFound(disk_->Remove(tmp)); !s.ok()) return s;
  {
    absl::StatusOr<std::unique_ptr<env::File>> file = disk_->Create(tmp);
    if (!file.ok()) return file.status();
    absl::Status s =
        (*file)->Append(absl::StrCat(kCheckpointMagic, cleaned_offset, "\n"));
    if (s.ok()) s = (*file)->Sync();
    if (!s.ok()) {
      disk_->Remove(tmp).IgnoreError();
      return s;
    }
    ++fsyncs_;
  }
  const std::string path = env::JoinPath(dir_, kCleanerCheckpointName);
  if (absl::Status s = disk_->Rename(tmp, path); !s.ok()) return s;
  return disk_->SyncDir(dir_);
}

int64_t GroupLog::ReadCleanerCheckpoint() const {
  absl::StatusOr<std::unique_ptr<env::File>> file =
      disk_->Open(env::JoinPath(dir_, kCleanerCheckpointName));
  if (!file.ok()) return 0;
  char buf[kCheckpointMaxBytes];
  absl::StatusOr<size_t> n = (*file)->ReadAt(0, sizeof(buf), buf);
  if (!n.ok()) return 0;
  absl::string_view text(buf, *n);
  int64_t offset = 0;
  if (!absl::ConsumePrefix(&text, kCheckpointMagic) ||
      !absl::ConsumeSuffix(&text, "\n") || !absl::SimpleAtoi(text, &offset) ||
      offset < 0) {
    return 0;
  }
  return offset;
}

absl::Status GroupLog::RemoveCleanedLeftovers(
    const std::vector<std::string>& names, RecoveryReport* report) {
  for (const std::string& name : names) {
    if (!absl::EndsWith(name, kCleanedSuffix)) continue;
    const std::string path = env::JoinPath(dir_, name);
    if (absl::Status s = IgnoreNotFound(disk_->Remove(path)); !s.ok()) {
      return s;
    }
    report->files_removed.push_back(path);
    dir_dirty_ = true;
  }
  return absl::OkStatus();
}

}  // namespace chronik::storage
