// LogStore (log_store.h): replay checkpoints and the clean-stop marker
// (format.h has both formats and when they are trusted).
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/crc32c.h"
#include "broker/storage/format.h"
#include "broker/storage/log_store.h"

namespace chronik::storage {

std::string EncodeReplayCheckpoint(const ReplayCheckpoint& checkpoint) {
  std::string out(format::kReplayCheckpointMagic, 8);
  format::PutU32(&out, format::kReplayCheckpointVersion);
  format::PutU32(&out,
                 checkpoint.learned ? format::kReplayCheckpointLearned : 0);
  format::PutU64(&out, checkpoint.index);
  format::PutU64(&out, checkpoint.term);
  format::PutU64(&out, checkpoint.conf_index);
  format::PutU32(&out, static_cast<uint32_t>(checkpoint.conf_state.size()));
  format::PutU32(&out, static_cast<uint32_t>(checkpoint.image.size()));
  CHRONIK_CHECK_EQ(out.size(), format::kReplayCheckpointHeaderBytes);
  out += checkpoint.conf_state;
  out += checkpoint.image;
  format::PutU32(&out, crc32c::Value(out));
  return out;
}

absl::StatusOr<ReplayCheckpoint> DecodeReplayCheckpoint(
    absl::string_view bytes) {
  const size_t header = format::kReplayCheckpointHeaderBytes;
  if (bytes.size() < header + 4 ||
      bytes.substr(0, 8) !=
          absl::string_view(format::kReplayCheckpointMagic, 8)) {
    return absl::DataLossError("replay checkpoint: bad magic or size");
  }
  const char* p = bytes.data();
  const uint64_t conf_bytes = format::GetU32(p + 40);
  const uint64_t image_bytes = format::GetU32(p + 44);
  if (format::GetU32(p + 8) != format::kReplayCheckpointVersion ||
      bytes.size() != header + conf_bytes + image_bytes + 4) {
    return absl::DataLossError("replay checkpoint: bad version or length");
  }
  const size_t body = bytes.size() - 4;
  if (format::GetU32(p + body) != crc32c::Value(p, body)) {
    return absl::DataLossError("replay checkpoint: bad CRC");
  }
  ReplayCheckpoint checkpoint;
  checkpoint.learned =
      (format::GetU32(p + 12) & format::kReplayCheckpointLearned) != 0;
  checkpoint.index = format::GetU64(p + 16);
  checkpoint.term = format::GetU64(p + 24);
  checkpoint.conf_index = format::GetU64(p + 32);
  checkpoint.conf_state = std::string(bytes.substr(header, conf_bytes));
  checkpoint.image =
      std::string(bytes.substr(header + conf_bytes, image_bytes));
  return checkpoint;
}

void LogStore::LoadCheckpoint(GroupStorage& group) {
  absl::StatusOr<std::string> bytes = ReadWholeFile(
      *disk_, env::JoinPath(group.dir_, format::kReplayCheckpointFile));
  if (!bytes.ok()) {
    group.checkpoint_rejected_ = !absl::IsNotFound(bytes.status());
    return;
  }
  absl::StatusOr<ReplayCheckpoint> checkpoint = DecodeReplayCheckpoint(*bytes);
  if (!checkpoint.ok()) {
    group.checkpoint_rejected_ = true;
    return;
  }
  group.checkpoint_ = std::move(*checkpoint);
}

absl::Status LogStore::WriteCheckpoint(uint64_t group_id,
                                       const ReplayCheckpoint& checkpoint) {
  CHRONIK_CHECK_EQ(flushes_in_flight_, 0u);
  GroupStorage* g = group(group_id);
  if (g == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", group_id, " is not open"));
  }
  if (!g->failed_.ok()) return g->failed_;
  absl::StatusOr<std::unique_ptr<env::File>> file =
      disk_->Create(env::JoinPath(g->dir_, format::kReplayCheckpointFile));
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(EncodeReplayCheckpoint(checkpoint));
      !s.ok()) {
    return s;
  }
  stats_.checkpoints_written++;
  absl::Status s = g->log_->WriteActiveIndex();
  return absl::IsFailedPrecondition(s) ? absl::OkStatus() : s;
}

absl::Status LogStore::MarkCleanStop() {
  CHRONIK_CHECK_EQ(flushes_in_flight_, 0u);
  if (!queue_.empty()) {
    return absl::FailedPreconditionError("clean stop with queued requests");
  }
  if (absl::Status s = CheckpointNow(); !s.ok()) return s;
  for (const auto& [id, group] : groups_) {
    if (!group->failed_.ok() || group->log_->needs_sync()) {
      return absl::FailedPreconditionError(
          absl::StrCat("clean stop: group ", id, " failed or unsynced"));
    }
  }
  absl::StatusOr<std::unique_ptr<env::File>> file =
      disk_->Create(env::JoinPath(root_, format::kCleanStopFile));
  if (!file.ok()) return file.status();
  if (absl::Status s =
          (*file)->Append(absl::string_view(format::kCleanStopMagic, 8));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  return disk_->SyncDir(root_);
}

absl::Status LogStore::SyncAtOpen() {
  const std::string marker = env::JoinPath(root_, format::kCleanStopFile);
  absl::StatusOr<bool> clean = disk_->Exists(marker);
  if (!clean.ok()) return clean.status();
  if (*clean) {
    // Gone durably before anything else is written: a crash of this
    // process must not leave a marker that vouches for its writes.
    if (absl::Status s = disk_->Remove(marker); !s.ok()) return s;
    if (absl::Status s = disk_->SyncDir(root_); !s.ok()) return s;
    synced_at_open_ = true;
    opened_after_clean_stop_ = true;
    return absl::OkStatus();
  }
  absl::Status s = disk_->SyncAll();
  if (absl::IsUnimplemented(s)) return absl::OkStatus();  // per group
  if (!s.ok()) return s;
  synced_at_open_ = true;
  return absl::OkStatus();
}

}  // namespace chronik::storage
