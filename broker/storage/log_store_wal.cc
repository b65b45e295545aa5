// LogStore and its node-wide tail log (tail_wal.h): which flushes it covers,
// barriers, checkpoints, and the replay at Open.
#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/storage/format.h"
#include "broker/storage/log_store.h"

namespace chronik::storage {
namespace {

// A request the tail log can cover: it only extends the group's log.
bool ExtendsTail(const GroupLog& log, const PersistRequest& request) {
  return !request.snapshot.has_value() &&
         (request.entries.empty() ||
          request.entries.front().index == log.last_index() + 1);
}

}  // namespace

absl::Status LogStore::OpenTailWal() {
  const std::string path = env::JoinPath(root_, format::kTailWalFile);
  absl::StatusOr<bool> exists = disk_->Exists(path);
  if (!exists.ok()) return exists.status();
  if (options_.tail_wal_bytes == 0 && !*exists) return absl::OkStatus();
  std::vector<TailWalBlock> blocks;
  absl::StatusOr<std::unique_ptr<TailWal>> wal = TailWal::Open(
      disk_, path, std::max(options_.tail_wal_bytes, kTailWalMinBytes),
      &blocks);
  if (!wal.ok()) return wal.status();
  wal_ = std::move(*wal);
  if (!blocks.empty()) {
    if (absl::Status s = ReplayTailWal(blocks); !s.ok()) return s;
    // Everything it held is in the groups' synced logs now.
    if (absl::Status s = wal_->Restart(); !s.ok()) return s;
  }
  if (options_.tail_wal_bytes == 0) {
    // Configured off: the replayed log goes, durably.
    wal_.reset();
    if (absl::Status s = disk_->Remove(path); !s.ok()) return s;
    return disk_->SyncDir(root_);
  }
  return absl::OkStatus();
}

absl::Status LogStore::ReplayTailWal(const std::vector<TailWalBlock>& blocks) {
  // Per group, its blocks since its last barrier, in order.
  std::map<uint64_t, std::vector<const TailWalBlock*>> by_group;
  for (const TailWalBlock& block : blocks) {
    std::vector<const TailWalBlock*>& list = by_group[block.group_id];
    if (block.kind == kBlockBarrier) {
      list.clear();
    } else {
      list.push_back(&block);
    }
  }
  for (const auto& [id, list] : by_group) {
    if (list.empty()) continue;
    const std::string dir = env::JoinPath(root_, format::GroupDir(id));
    absl::StatusOr<bool> exists = disk_->Exists(dir);
    if (!exists.ok()) return exists.status();
    if (!*exists) continue;  // deleted: its barrier may not have been needed
    LogOptions options;
    options.store_synced = synced_at_open_;
    RecoveryReport report;
    absl::StatusOr<std::unique_ptr<GroupLog>> log =
        GroupLog::Open(disk_, dir, options, &report);
    if (!log.ok()) return log.status();
    GroupLog::TailReplay replay;
    for (const TailWalBlock* block : list) {
      if (absl::Status s = (*log)->AppendStoredTail(block->prev_term,
                                                    block->records, &replay);
          !s.ok()) {
        return absl::Status(s.code(), absl::StrCat("tail log replay, group ",
                                                   id, ": ", s.message()));
      }
    }
    if (absl::Status s = (*log)->Sync(); !s.ok()) return s;
    stats_.wal_entries_replayed += replay.entries_appended;
    stats_.wal_blocks_skipped += replay.blocks_skipped;
  }
  return absl::OkStatus();
}

absl::Status LogStore::ApplyRequest(GroupStorage& group,
                                    PersistRequest& request,
                                    Completion& completion, FlushPlan& plan) {
  if (wal_ == nullptr) return Apply(group, request, completion);
  const uint64_t id = group.group_id();
  GroupLog& log = *group.log_;
  if (!ExtendsTail(log, request)) {
    if (absl::Status s = LeaveTailWal(group, plan); !s.ok()) return s;
    return Apply(group, request, completion);
  }
  if (!plan.use_wal_ || plan.direct_.contains(id)) {
    // An append synced with the group's own files: later replay of its
    // older blocks only finds them agreeing.
    plan.direct_.insert(id);
    return Apply(group, request, completion);
  }
  if (request.entries.empty()) return Apply(group, request, completion);
  absl::StatusOr<uint64_t> prev_term = log.Term(log.last_index());
  if (!prev_term.ok()) return prev_term.status();
  const uint64_t buffered_before = log.buffered_bytes();
  log.set_wal_tap(wal_->BeginRecords(id, *prev_term));
  absl::Status s = Apply(group, request, completion);
  log.set_wal_tap(nullptr);
  wal_->EndRecords();
  // Counts what the buffer grew by; an append that wrote it out (at
  // write_buffer_bytes) left less than the bound already counts.
  if (log.buffered_bytes() > buffered_before) {
    stats_.wal_buffered_bytes += log.buffered_bytes() - buffered_before;
  }
  wal_dirty_.insert(id);
  wal_live_.insert(id);
  return s;
}

// The group's log is about to change otherwise than by an append: its blocks
// must not be replayed over it. Its segments are synced (they then hold what
// the blocks carry) and a barrier is written, both now.
absl::Status LogStore::LeaveTailWal(GroupStorage& group, FlushPlan& plan) {
  const uint64_t id = group.group_id();
  plan.direct_.insert(id);
  if (!wal_live_.contains(id)) return absl::OkStatus();
  if (!wal_->frame_empty()) {
    // This flush's earlier blocks go before the barrier; without room for
    // them, a checkpoint syncs them all and leaves nothing to forget.
    if (!wal_->FrameFits()) return CheckpointNow();
    if (absl::Status s = WriteFrame(plan); !s.ok()) return s;
  }
  if (absl::Status s = group.log_->Sync(); !s.ok()) return s;
  wal_dirty_.erase(id);
  return ForgetInTailWal(id);
}

absl::Status LogStore::ForgetInTailWal(uint64_t group_id) {
  if (wal_ == nullptr || !wal_live_.contains(group_id)) {
    return absl::OkStatus();
  }
  if (!wal_->BarrierFits()) return CheckpointNow();
  if (absl::Status s = wal_->WriteBarrier(group_id); !s.ok()) return s;
  stats_.wal_barriers++;
  wal_live_.erase(group_id);
  wal_dirty_.erase(group_id);
  return absl::OkStatus();
}

// Syncs every segment the tail log covers, now, and restarts the log. The
// frame being built is dropped: its groups are among those synced.
absl::Status LogStore::CheckpointNow() {
  if (wal_ == nullptr) return absl::OkStatus();
  for (uint64_t id : wal_dirty_) {
    auto it = groups_.find(id);
    CHRONIK_CHECK(it != groups_.end()) << "tail log covers closed group " << id;
    if (absl::Status s = it->second->log_->Sync(); !s.ok()) return s;
  }
  wal_->DiscardFrame();
  return RestartTailWal();
}

// Every segment the log covered is durable: a new generation, nothing live.
absl::Status LogStore::RestartTailWal() {
  if (absl::Status s = wal_->Restart(); !s.ok()) return s;
  wal_dirty_.clear();
  wal_live_.clear();
  stats_.wal_buffered_bytes = 0;  // the checkpoint wrote every buffer
  stats_.wal_checkpoints++;
  return absl::OkStatus();
}

// After the requests are applied: the frame is written (its file joins the
// plan), or, when it does not fit, dropped and the flush is a checkpoint.
void LogStore::PlanTailWal(FlushPlan& plan) {
  if (wal_ == nullptr) return;
  if (!wal_->frame_empty()) {
    if (wal_->FrameFits()) {
      if (absl::Status s = WriteFrame(plan); !s.ok()) {
        // Every group the frame covered (all but the direct ones) fails.
        for (auto& [id, completion] : plan.completions_) {
          if (!completion.status.ok() || plan.direct_.contains(id)) continue;
          groups_.at(id)->failed_ = s;
          completion.status = s;
        }
      }
    } else {
      wal_->DiscardFrame();
      plan.checkpoint_ = true;
    }
  }
  if (plan.checkpoint_) PlanCheckpointSyncs(plan);
}

// A checkpoint syncs every covered group's files (those with a request in
// the flush sync through PrepareGroupSync).
void LogStore::PlanCheckpointSyncs(FlushPlan& plan) {
  CHRONIK_CHECK(plan.checkpoint_);
  for (uint64_t id : wal_dirty_) {
    if (plan.completions_.contains(id)) continue;
    GroupStorage& group = *groups_.at(id);
    const size_t begin = plan.files_to_sync.size();
    if (absl::Status s = group.log_->PrepareSync(&plan.files_to_sync,
                                                 &plan.sync_points_[id]);
        !s.ok()) {
      group.failed_ = s;
      continue;
    }
    plan.checkpoint_ranges_[id] = {begin, plan.files_to_sync.size()};
  }
}

bool LogStore::TailLogCheckpointPossible() const {
  return wal_ != nullptr && !wal_dirty_.empty() && flushes_in_flight_ == 0 &&
         queue_.empty();
}

FlushPlan LogStore::BeginTailLogCheckpoint() {
  CHRONIK_CHECK(TailLogCheckpointPossible())
      << "a tail-log checkpoint with a flush in flight or requests queued";
  CHRONIK_CHECK(wal_->frame_empty()) << "a frame outside a flush";
  flushes_in_flight_++;
  stats_.flushes++;
  stats_.wal_idle_checkpoints++;
  FlushPlan plan;
  plan.checkpoint_ = true;
  PlanCheckpointSyncs(plan);
  checkpoint_in_flight_ = true;
  return plan;
}

// The covered groups' write buffers (PrepareGroupSync leaves them) are
// written to their segments, not synced, once together they hold
// `threshold_bytes`. A segment a flush in flight syncs may be written:
// that flush's sync point leaves the new bytes to a later sync. A group whose
// write fails fails, and so does its completion in `plan` if it has one.
void LogStore::WriteOutBuffered(uint64_t threshold_bytes, FlushPlan* plan) {
  if (wal_ == nullptr || stats_.wal_buffered_bytes < threshold_bytes) return;
  stats_.wal_buffered_bytes = 0;
  for (uint64_t id : wal_dirty_) {
    GroupStorage& group = *groups_.at(id);
    if (!group.failed_.ok()) continue;
    absl::Status s = group.log_->WriteOut();
    if (s.ok()) continue;
    group.failed_ = s;
    if (plan == nullptr) continue;
    if (auto it = plan->completions_.find(id); it != plan->completions_.end()) {
      it->second.status = s;
    }
  }
}

uint64_t LogStore::tail_wal_buffered_bytes() const {
  uint64_t bytes = 0;
  for (uint64_t id : wal_dirty_)
    bytes += groups_.at(id)->log_->buffered_bytes();
  return bytes;
}

void LogStore::WriteBehind() {
  CHRONIK_CHECK_GT(flushes_in_flight_, 0u) << "WriteBehind outside a flush";
  WriteOutBuffered(options_.tail_wal_buffer_bytes, nullptr);
}

// Writes the frame; the flush then syncs the log file (once, whoever wrote).
absl::Status LogStore::WriteFrame(FlushPlan& plan) {
  if (!plan.wal_file_index_.has_value()) {
    plan.wal_file_index_ = plan.files_to_sync.size();
    plan.files_to_sync.push_back(wal_->file());
  }
  stats_.wal_frames++;
  return wal_->WriteFrame();
}

// What the fsync of the tail log's file means for the groups `plan` covers.
// A failed one fails the log: the frames it wrote may be lost while a later
// fsync succeeds, and recovery stops at the first missing frame, so no later
// frame (a flush in flight behind this one included) may be acknowledged.
absl::Status LogStore::CoveredSyncResult(
    const FlushPlan& plan, absl::Span<const absl::Status> sync_results) {
  if (!plan.wal_file_index_.has_value()) return absl::OkStatus();
  const absl::Status& synced = sync_results[*plan.wal_file_index_];
  if (!synced.ok()) wal_->SyncFailed(synced);
  return wal_->status();
}

// A checkpoint restarts the log once every group it covered synced.
void LogStore::FinishTailWal(FlushPlan& plan,
                             absl::Span<const absl::Status> sync_results) {
  if (wal_ == nullptr || !plan.checkpoint_) return;
  bool all_synced = true;
  for (const auto& [id, range] : plan.checkpoint_ranges_) {
    absl::Status synced;
    for (size_t i = range.first; i < range.second && synced.ok(); ++i) {
      synced = sync_results[i];
    }
    if (absl::Status s =
            groups_.at(id)->log_->FinishSync(synced, plan.sync_points_.at(id));
        !s.ok()) {
      groups_.at(id)->failed_ = s;
    }
  }
  for (uint64_t id : wal_dirty_) {
    const GroupStorage& group = *groups_.at(id);
    all_synced = all_synced && group.failed_.ok() && !group.log_->needs_sync();
  }
  if (!all_synced) return;  // the log keeps covering them; no restart
  if (absl::Status s = RestartTailWal(); !s.ok()) {
    for (uint64_t id : wal_dirty_) groups_.at(id)->failed_ = s;
  }
}

}  // namespace chronik::storage
