// RaftHost (raft_host.h): snapshots of groups' state machines, compaction of
// their logs, installation of a leader's snapshot, and recovery from the
// stored snapshot.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/replication/raft_host.h"
#include "broker/storage/format.h"
#include "raft/conf_state.h"

namespace chronik::replication {

std::string GroupApplier::TakeSnapshot(GroupId group_id) {
  CHRONIK_CHECK(false) << "group " << group_id
                       << " has a snapshot policy but its applier cannot "
                          "take snapshots";
  return {};
}

absl::Status GroupApplier::RestoreSnapshot(GroupId group_id,
                                           const SnapshotImage& image) {
  return absl::UnimplementedError(
      absl::StrCat("group ", group_id, ": the applier cannot install ",
                   "a snapshot (at ", image.index, ")"));
}

raft::Bytes FrameSnapshot(uint64_t next_offset, absl::string_view image) {
  std::string framed;
  framed.reserve(kSnapshotFrameBytes + image.size());
  storage::format::PutU64(&framed, next_offset);
  CHRONIK_CHECK_EQ(framed.size(), kSnapshotFrameBytes);
  framed.append(image.data(), image.size());
  return raft::Bytes::Own(std::move(framed));
}

absl::StatusOr<SnapshotImage> UnframeSnapshot(const raft::Snapshot& snapshot) {
  const raft::Bytes& data = snapshot.data;
  if (data.size() < kSnapshotFrameBytes) {
    return absl::DataLossError(
        absl::StrCat("snapshot at ", snapshot.metadata.index, " has ",
                     data.size(), " bytes, less than its frame"));
  }
  SnapshotImage image;
  image.index = snapshot.metadata.index;
  image.term = snapshot.metadata.term;
  image.next_offset = storage::format::GetU64(data.data());
  image.data = absl::string_view(data.data() + kSnapshotFrameBytes,
                                 data.size() - kSnapshotFrameBytes);
  return image;
}

absl::Status RaftHost::RecoverSnapshot(Group& group,
                                       raft::RecoveredState* recovered) {
  const GroupId id = group.spec.group_id;
  const storage::SnapshotMeta& meta = group.storage->snapshot_meta();
  absl::StatusOr<raft::ConfState> conf = StoredMembership(group, meta);
  if (!conf.ok()) return conf.status();
  group.conf = *conf;
  group.conf_index = meta.index;
  recovered->snapshot.conf_state = *conf;
  recovered->conf_state = *conf;
  if (meta.index == 0) return absl::OkStatus();
  group.learned = true;  // a joining node compacts only once it learned
  absl::StatusOr<storage::Snapshot> stored = group.storage->LoadSnapshot();
  if (!stored.ok()) return stored.status();
  CHRONIK_CHECK(stored->meta == meta) << "group " << id;
  SnapshotImage image{meta.index, meta.term, meta.next_offset, stored->data};
  if (absl::Status s = group.spec.applier->RestoreSnapshot(id, image);
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("group ", id, ": snapshot at ",
                                               meta.index, ": ", s.message()));
  }
  recovered->snapshot.index = meta.index;
  recovered->snapshot.term = meta.term;
  recovered->snapshot_data = FrameSnapshot(meta.next_offset, stored->data);
  group.applied_index = meta.index;
  group.applied_term = meta.term;
  group.snapshot_index = meta.index;
  return absl::OkStatus();
}

void RaftHost::CountApplied(Group& group, const raft::Entry& entry) {
  CHRONIK_CHECK_GT(entry.index, group.applied_index)
      << "group " << group.spec.group_id << " applied out of order";
  group.applied_index = entry.index;
  group.applied_term = entry.term;
  ++group.entries_since_snapshot;
  group.bytes_since_snapshot += entry.data.size();
  group.bytes_since_checkpoint += entry.data.size();
  checkpoint_candidates_.insert(group.spec.group_id);
}

void RaftHost::MaybeSnapshot(Group& group) {
  const SnapshotPolicy& policy = group.spec.snapshot_policy;
  if (!policy.enabled()) return;
  const bool by_entries = policy.max_entries > 0 &&
                          group.entries_since_snapshot >= policy.max_entries;
  const bool by_bytes =
      policy.max_bytes > 0 && group.bytes_since_snapshot >= policy.max_bytes;
  if (!by_entries && !by_bytes) return;
  absl::Status s = SnapshotApplied(group);
  // A full storage queue or an install in progress: the next apply tries
  // again.
  CHRONIK_CHECK(s.ok() || absl::IsResourceExhausted(s) ||
                absl::IsFailedPrecondition(s))
      << "group " << group.spec.group_id << ": " << s;
}

absl::Status RaftHost::SnapshotApplied(Group& group) {
  if (group.applied_index <= group.snapshot_index) return absl::OkStatus();
  const std::string image =
      group.spec.applier->TakeSnapshot(group.spec.group_id);
  const SnapshotImage at{group.applied_index, group.applied_term, 0, image};
  return Compact(group, at);
}

absl::Status RaftHost::SnapshotNow(GroupId group_id) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("raft group ", group_id, " is not running here"));
  }
  if (!it->second.spec.snapshot_policy.enabled()) {
    return absl::FailedPreconditionError(
        absl::StrCat("raft group ", group_id, " has no snapshot policy"));
  }
  Activate(group_id);
  return SnapshotApplied(it->second);
}

absl::Status RaftHost::CompactLog(GroupId group_id,
                                  const SnapshotImage& image) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("raft group ", group_id, " is not running here"));
  }
  Group& group = it->second;
  Activate(group_id);
  if (image.index > group.applied_index) {
    return absl::InvalidArgumentError(
        absl::StrCat("group ", group_id, ": compaction at ", image.index,
                     " beyond applied ", group.applied_index));
  }
  absl::StatusOr<uint64_t> term = group.storage->Term(image.index);
  if (!term.ok()) return term.status();
  if (*term != image.term) {
    return absl::InvalidArgumentError(
        absl::StrCat("group ", group_id, ": compaction at ", image.index,
                     " names term ", image.term, ", storage has ", *term));
  }
  return Compact(group, image);
}

absl::Status RaftHost::Compact(Group& group, const SnapshotImage& image) {
  const GroupId id = group.spec.group_id;
  CHRONIK_CHECK_GT(image.index, 0u);
  CHRONIK_CHECK_LE(image.index, group.applied_index);
  if (image.index <= group.snapshot_index) {
    return absl::InvalidArgumentError(
        absl::StrCat("group ", id, ": snapshot at ", image.index,
                     " not newer than ", group.snapshot_index));
  }
  // Not while a leader's snapshot is being installed (storage and the core
  // are ahead of the applier), nor behind the core's own snapshot.
  for (const PendingPersist& pending : group.pending) {
    if (pending.install.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("group ", id, ": compaction during a snapshot install"));
    }
  }
  if (group.spec.joining && !group.learned) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", id,
                     ": compaction before this joining node knows the "
                     "membership"));
  }
  if (image.index < group.conf_index) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", id, ": compaction at ", image.index,
                     " before the membership change at ", group.conf_index));
  }
  const raft::NodeStatus status = group.node->Status();
  if (image.index <= status.snapshot_index || image.index > status.applied) {
    return absl::FailedPreconditionError(absl::StrCat(
        "group ", id, ": compaction at ", image.index, " (core snapshot ",
        status.snapshot_index, ", applied ", status.applied, ")"));
  }
  storage::PersistRequest request;
  request.group_id = id;
  request.snapshot = storage::Snapshot{
      storage::SnapshotMeta{image.index, image.term, image.next_offset,
                            raft::EncodeConfState(group.conf)},
      std::string(image.data)};
  request.snapshot_replaces_log = false;
  if (absl::Status s = store_->Enqueue(std::move(request)); !s.ok()) {
    if (!absl::IsResourceExhausted(s)) Fail(id, s);
    return s;
  }
  ++enqueued_;
  raft::SnapshotMetadata metadata;
  metadata.index = image.index;
  metadata.term = image.term;
  metadata.conf_state = group.conf;  // no change applied after the index
  // The core agrees: the index is applied and newer, term and membership
  // match what it knows (the checks above make that so).
  absl::Status taken = group.node->OnLogCompacted(
      metadata, FrameSnapshot(image.next_offset, image.data));
  CHRONIK_CHECK(taken.ok()) << "group " << id << ": " << taken;
  group.snapshot_index = image.index;
  group.entries_since_snapshot = 0;
  group.bytes_since_snapshot = 0;
  ++snapshot_stats_.taken;
  if (options_.observer != nullptr) {
    options_.observer->OnSnapshotTaken(id, image.index);
  }
  return absl::OkStatus();
}

bool RaftHost::PrepareInstall(Group& group, const raft::Snapshot& snapshot,
                              storage::PersistRequest* request) {
  const GroupId id = group.spec.group_id;
  CHRONIK_CHECK_GT(snapshot.metadata.index, group.applied_index)
      << "group " << id << ": installing a snapshot it has applied";
  absl::StatusOr<SnapshotImage> image = UnframeSnapshot(snapshot);
  if (!image.ok()) {
    Fail(id, image.status());
    return false;
  }
  request->snapshot = storage::Snapshot{
      storage::SnapshotMeta{
          image->index, image->term, image->next_offset,
          raft::EncodeConfState(snapshot.metadata.conf_state)},
      std::string(image->data)};
  return true;
}

bool RaftHost::FinishInstall(Group& group, const raft::Snapshot& snapshot) {
  const GroupId id = group.spec.group_id;
  absl::StatusOr<SnapshotImage> image = UnframeSnapshot(snapshot);
  CHRONIK_CHECK(image.ok()) << "checked when queued";
  CHRONIK_CHECK(group.apply_backlog.empty())
      << "group " << id << ": a snapshot installed over committed entries "
      << "waiting to be applied";
  if (absl::Status s = group.spec.applier->RestoreSnapshot(id, *image);
      !s.ok()) {
    Fail(id, s);
    return false;
  }
  group.applied_index = image->index;
  group.applied_term = image->term;
  group.snapshot_index = image->index;
  group.conf = snapshot.metadata.conf_state;
  peer_nodes_dirty_ = true;
  group.conf_index = image->index;
  group.learned = true;
  group.entries_since_snapshot = 0;
  group.bytes_since_snapshot = 0;
  ++snapshot_stats_.installed;
  if (options_.observer != nullptr) {
    options_.observer->OnSnapshotInstalled(id, image->index, image->term);
  }
  return true;
}

raft::Index RaftHost::snapshot_index(GroupId group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? 0 : it->second.snapshot_index;
}

}  // namespace chronik::replication
