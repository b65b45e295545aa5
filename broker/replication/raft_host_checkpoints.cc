// RaftHost (raft_host.h): replay checkpoints, written from the driver's
// tick and at a clean stop, and used by recovery instead of replaying the
// whole log through the applier.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/replication/raft_host.h"
#include "broker/storage/raft_entry.h"
#include "raft/conf_state.h"

namespace chronik::replication {

absl::Status GroupApplier::RestoreCheckpoint(GroupId group_id,
                                             raft::Index index,
                                             raft::Term /*term*/,
                                             absl::string_view /*image*/) {
  return absl::UnimplementedError(
      absl::StrCat("group ", group_id, ": the applier cannot restore ",
                   "a checkpoint (at ", index, ")"));
}

absl::StatusOr<raft::Index> RaftHost::RecoverCheckpoint(Group& group) {
  const GroupId id = group.spec.group_id;
  const raft::Index snapshot = group.storage->snapshot_meta().index;
  const std::optional<storage::ReplayCheckpoint>& stored =
      group.storage->checkpoint();
  if (!stored.has_value() || stored->index <= snapshot) {
    if (group.storage->checkpoint_rejected()) ++checkpoint_stats_.rejected;
    return snapshot;
  }
  const storage::ReplayCheckpoint& c = *stored;
  bool usable =
      c.index <= group.storage->last_index() && c.conf_index <= c.index;
  if (usable) {
    absl::StatusOr<uint64_t> term = group.storage->Term(c.index);
    usable = term.ok() && *term == c.term;
  }
  absl::StatusOr<raft::ConfState> conf =
      c.conf_state.empty() ? raft::ConfState{.voters = group.spec.voters}
                           : raft::DecodeConfState(c.conf_state);
  usable =
      usable && conf.ok() &&
      group.spec.applier->RestoreCheckpoint(id, c.index, c.term, c.image).ok();
  if (!usable) {
    ++checkpoint_stats_.rejected;
    return snapshot;
  }
  ++checkpoint_stats_.used;
  group.conf = *conf;
  group.conf_index = c.conf_index;
  group.learned = group.learned || c.learned;
  group.applied_index = c.index;
  group.applied_term = c.term;
  group.checkpoint_index = c.index;
  group.checkpoint_tick = ticks_;
  if (options_.observer == nullptr) return c.index;
  // The observer hears of every stored entry, as without a checkpoint.
  for (raft::Index lo = snapshot + 1; lo <= c.index;) {
    std::vector<storage::Entry> read;
    absl::Status s = group.storage->Entries(
        lo, c.index + 1, options_.max_replay_bytes_per_read, &read);
    if (!s.ok()) return s;
    CHRONIK_CHECK(!read.empty());
    std::vector<raft::Entry> entries;
    entries.reserve(read.size());
    for (storage::Entry& entry : read) {
      entries.push_back(storage::ToRaftEntry(std::move(entry)));
    }
    options_.observer->OnRecoveredEntries(id, entries);
    lo = entries.back().index + 1;
  }
  return c.index;
}

bool RaftHost::CheckpointDue(const Group& group) const {
  if (group.applied_index <=
      std::max(group.checkpoint_index, group.snapshot_index)) {
    return false;
  }
  const bool by_bytes =
      options_.checkpoints.bytes > 0 &&
      group.bytes_since_checkpoint >= options_.checkpoints.bytes;
  const bool by_time =
      options_.checkpoints.interval_ticks > 0 &&
      ticks_ - group.checkpoint_tick >= options_.checkpoints.interval_ticks;
  return by_bytes || by_time;
}

absl::Status RaftHost::Checkpoint(Group& group) {
  const GroupId id = group.spec.group_id;
  if (failed_.count(id) > 0 || group.storage->failed() ||
      group.applied_index <=
          std::max(group.checkpoint_index, group.snapshot_index) ||
      (group.spec.joining && !group.learned)) {
    return absl::OkStatus();
  }
  for (const PendingPersist& pending : group.pending) {
    if (pending.install.has_value()) return absl::OkStatus();
  }
  std::optional<std::string> image = group.spec.applier->CheckpointImage(id);
  if (!image.has_value()) return absl::OkStatus();
  storage::ReplayCheckpoint checkpoint;
  checkpoint.index = group.applied_index;
  checkpoint.term = group.applied_term;
  checkpoint.conf_index = group.conf_index;
  checkpoint.learned = group.learned;
  checkpoint.conf_state = raft::EncodeConfState(group.conf);
  checkpoint.image = std::move(*image);
  if (absl::Status s = store_->WriteCheckpoint(id, checkpoint); !s.ok()) {
    return s;
  }
  ++checkpoint_stats_.written;
  group.checkpoint_index = group.applied_index;
  group.bytes_since_checkpoint = 0;
  group.checkpoint_tick = ticks_;
  return absl::OkStatus();
}

bool RaftHost::AnyCheckpointDue() const {
  for (const GroupId id : checkpoint_candidates_) {
    auto found = groups_.find(id);
    if (found != groups_.end() && CheckpointDue(found->second)) return true;
  }
  return false;
}

size_t RaftHost::WriteDueCheckpoints(size_t max_groups) {
  if (max_groups == 0 || checkpoint_candidates_.empty()) return 0;
  if (flush_in_flight()) {
    // Under a steady load a flush is in flight at every tick: ask for a
    // moment without one (Process writes them then).
    if (!checkpoints_waiting_ && AnyCheckpointDue()) {
      checkpoints_waiting_ = true;
      RequestQuietStore();
    }
    return 0;
  }
  size_t written = 0;
  // Only groups that applied something since their last checkpoint can be
  // due (CountApplied adds them; a group is dropped here once it is not):
  // the round robin visits those, not every group.
  const size_t candidates = checkpoint_candidates_.size();
  auto it = checkpoint_candidates_.upper_bound(checkpoint_cursor_);
  // At most one round over the candidates.
  for (size_t visited = 0; visited < candidates && written < max_groups;
       ++visited) {
    if (it == checkpoint_candidates_.end()) {
      it = checkpoint_candidates_.begin();
    }
    const GroupId id = *it;
    checkpoint_cursor_ = id;
    auto found = groups_.find(id);
    if (found == groups_.end() ||
        found->second.applied_index <= std::max(found->second.checkpoint_index,
                                                found->second.snapshot_index)) {
      it = checkpoint_candidates_.erase(it);  // nothing new to checkpoint
      continue;
    }
    ++it;
    Group& group = found->second;
    if (!CheckpointDue(group)) continue;
    const uint64_t before = checkpoint_stats_.written;
    if (Checkpoint(group).ok() && checkpoint_stats_.written > before) {
      ++written;
    }
  }
  return written;
}

absl::Status RaftHost::WriteAllCheckpoints() {
  CHRONIK_CHECK(!flush_in_flight());
  absl::Status first;
  for (auto& [id, group] : groups_) {
    absl::Status s = Checkpoint(group);
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

absl::Status RaftHost::StopCleanly() {
  if (flush_in_flight() || store_->queued_requests() > 0) {
    return absl::FailedPreconditionError(
        "clean stop with storage work in flight or queued");
  }
  if (absl::Status s = WriteAllCheckpoints(); !s.ok()) return s;
  return store_->MarkCleanStop();
}

}  // namespace chronik::replication
