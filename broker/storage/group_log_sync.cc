// GroupLog's write-out and sync (group_log.h: Durability), and the verbatim
// append of stored records that node-wide tail-log replay uses
// (AppendStoredTail; log_store_wal.cc).
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/storage/group_log.h"
#include "broker/storage/group_log_internal.h"

namespace chronik::storage {

absl::Status GroupLog::WritePending() {
  if (pending_.empty()) return absl::OkStatus();
  Segment& seg = active();
  CHRONIK_CHECK_EQ(seg.file->Size() + pending_.size(), seg.end_position);
  if (absl::Status s = pending_.WriteTo(*seg.file); !s.ok()) return Fail(s);
  return absl::OkStatus();
}

bool GroupLog::needs_sync() const {
  if (!pending_.empty() || dir_dirty_ || !unsynced_index_files_.empty()) {
    return true;
  }
  for (const auto& seg : segments_) {
    if (seg->dirty) return true;
  }
  return false;
}

void GroupLog::MarkDirty(Segment& seg) {
  seg.dirty = true;
  seg.dirty_seq = ++write_seq_;
}

absl::Status GroupLog::Sync() {
  std::vector<env::File*> files;
  uint64_t sync_point = 0;
  if (absl::Status s = PrepareSync(&files, &sync_point); !s.ok()) return s;
  absl::Status synced;
  for (env::File* file : files) {
    synced = file->Sync();
    if (!synced.ok()) break;
  }
  return FinishSync(synced, sync_point);
}

absl::Status GroupLog::PrepareSync(std::vector<env::File*>* files,
                                   uint64_t* sync_point) {
  if (!failed_.ok()) return failed_;
  if (absl::Status s = WritePending(); !s.ok()) return s;
  // Rolls sync the segment they seal, so the files here are independent: any
  // order.
  for (const auto& seg : segments_) {
    if (seg->dirty) files->push_back(seg->file.get());
  }
  // An index file goes to one sync only: the sync that took it closes it.
  for (UnsyncedIndex& index : unsynced_index_files_) {
    if (index.handed) continue;
    index.handed = true;
    files->push_back(index.file.get());
  }
  *sync_point = write_seq_;
  return absl::OkStatus();
}

absl::Status GroupLog::FinishSync(absl::Status sync_status,
                                  uint64_t sync_point) {
  if (!failed_.ok()) return failed_;
  if (!sync_status.ok()) return Fail(sync_status);
  // What changed after PrepareSync (a flush begun while this one synced)
  // stays to sync.
  for (const auto& seg : segments_) {
    if (!seg->dirty || seg->dirty_seq > sync_point) continue;
    ++fsyncs_;
    seg->dirty = false;
  }
  const size_t before = unsynced_index_files_.size();
  std::erase_if(unsynced_index_files_, [&](const UnsyncedIndex& index) {
    return index.handed && index.seq <= sync_point;
  });
  fsyncs_ += before - unsynced_index_files_.size();
  if (dir_dirty_) {
    if (absl::Status s = disk_->SyncDir(dir_); !s.ok()) return Fail(s);
    dir_dirty_ = false;
  }
  DebugCheck();
  return absl::OkStatus();
}

namespace {

struct StoredRecord {
  format::RecordHeader header;
  absl::string_view bytes;  // header and payload
};

absl::StatusOr<std::vector<StoredRecord>> ParseStoredRecords(
    absl::string_view records) {
  std::vector<StoredRecord> out;
  while (!records.empty()) {
    std::optional<format::RecordHeader> header =
        format::DecodeRecordHeader(records);
    const uint64_t size =
        header ? format::kRecordHeaderBytes + header->payload_bytes : 0;
    if (!header || size > records.size() ||
        (!out.empty() && header->index != out.back().header.index + 1)) {
      return absl::DataLossError("tail log block: malformed records");
    }
    out.push_back(StoredRecord{*header, records.substr(0, size)});
    records.remove_prefix(size);
  }
  return out;
}

}  // namespace

absl::Status GroupLog::AppendStoredTail(uint64_t prev_term,
                                        absl::string_view records,
                                        TailReplay* replay) {
  if (!failed_.ok()) return failed_;
  absl::StatusOr<std::vector<StoredRecord>> parsed =
      ParseStoredRecords(records);
  if (!parsed.ok()) return parsed.status();
  size_t k = 0;  // the first record not compacted away
  while (k < parsed->size() && (*parsed)[k].header.index < first_index()) {
    prev_term = (*parsed)[k++].header.term;
  }
  if (k == parsed->size()) return absl::OkStatus();
  // What the log already holds of the block may be in the page cache only (a
  // process that was killed wrote it): the Sync after the replay must cover
  // it before the tail log restarts.
  for (const auto& seg : segments_) {
    if (seg->file != nullptr && seg->last_index >= (*parsed)[k].header.index) {
      MarkDirty(*seg);
    }
  }
  // The log must agree with the block from the entry before its first kept
  // record up to its own end: then the block's remaining records extend it.
  const uint64_t first = (*parsed)[k].header.index;
  const uint64_t shared_end =
      std::min(last_index(), parsed->back().header.index);
  bool agrees = first <= last_index() + 1;
  for (uint64_t i = first - 1; agrees && i <= shared_end; ++i) {
    const uint64_t want =
        i + 1 == first ? prev_term : (*parsed)[k + i - first].header.term;
    absl::StatusOr<uint64_t> term = Term(i);
    agrees = term.ok() && *term == want;
  }
  if (!agrees) {
    ++replay->blocks_skipped;
    return absl::OkStatus();
  }
  for (; k < parsed->size(); ++k) {
    const StoredRecord& record = (*parsed)[k];
    if (record.header.index <= last_index()) continue;
    if (absl::Status s = RollIfFull(record.bytes.size()); !s.ok()) return s;
    Segment& seg = active();
    if (record.header.offset_count > 0 &&
        record.header.offset_base != seg.next_offset) {
      return absl::DataLossError(absl::StrCat(
          "tail log record ", record.header.index, " has offset ",
          record.header.offset_base, ", log continues at ", seg.next_offset));
    }
    const uint64_t pos = seg.end_position;
    pending_.owned().append(record.bytes.data(), record.bytes.size());
    internal::AddRecord(seg, pos, record.header, /*force_point=*/false,
                        options_.index_interval_bytes);
    MarkDirty(seg);
    ++replay->entries_appended;
    if (pending_.size() >= options_.write_buffer_bytes) {
      if (absl::Status s = WritePending(); !s.ok()) return s;
    }
  }
  DebugCheck();
  return absl::OkStatus();
}

}  // namespace chronik::storage
