// RaftHost (raft_host.h): group membership changes, and the applied
// membership the host keeps per group for recovery and snapshots.
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/replication/raft_host.h"
#include "raft/conf_state.h"

namespace chronik::replication {

absl::Status RaftHost::ProposeConfChange(GroupId group_id,
                                         const raft::ConfChange& change) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("raft group ", group_id, " is not running here"));
  }
  Activate(group_id);
  return it->second.node->ProposeConfChange(change);
}

const raft::ConfState* RaftHost::membership(GroupId group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : &it->second.conf;
}

void RaftHost::TrackMembership(Group& group, const raft::Entry& entry) {
  if (entry.type != raft::EntryType::kConfChange) return;
  absl::StatusOr<raft::ConfChange> change =
      raft::DecodeConfChange(entry.data.view());
  // The core decodes every committed conf change the same way and crashes
  // on one it cannot read; a replayed one was committed by a core too.
  CHRONIK_CHECK(change.ok())
      << "group " << group.spec.group_id << ": undecodable conf change at "
      << entry.index << ": " << change.status();
  if (change->changes.empty() && group.conf.voters_outgoing.empty()) return;
  group.conf = raft::NextConfState(group.conf, *change);
  group.conf_index = entry.index;
  peer_nodes_dirty_ = true;
  for (const raft::ConfChangeSingle& c : change->changes) {
    if (c.node_id == options_.self) group.learned = true;
  }
}

absl::StatusOr<raft::ConfState> RaftHost::StoredMembership(
    const Group& group, const storage::SnapshotMeta& meta) const {
  if (meta.conf_state.empty()) {
    return raft::ConfState{.voters = group.spec.voters};
  }
  absl::StatusOr<raft::ConfState> conf = raft::DecodeConfState(meta.conf_state);
  if (!conf.ok()) {
    return absl::DataLossError(absl::StrCat(
        "group ", group.spec.group_id, ": snapshot at ", meta.index,
        " has an unreadable membership: ", conf.status().message()));
  }
  return conf;
}

}  // namespace chronik::replication
