// RaftHostObserver: what a RaftHost reports about its groups as it happens,
// for checkers (the simulator's), tests and metrics. Optional
// (HostOptions::observer); without one the host does no extra work.
//
// The calls come from inside RaftHost calls (AddGroup, Process, OnSyncDone,
// DeleteGroup) on the driver's thread. An observer must not call into the
// host from a callback (its const accessors excepted).
//
// Order, per group:
//   AddGroup:  OnRecover, then the stored log after the snapshot through
//              OnRecoveredEntries (index order, in chunks), interleaved with
//              the replay of the committed entries to the group's applier,
//              then OnApplied(last replayed index) when it replayed any.
//   each Ready the group hands out, in this order:
//              OnAppend (entries queued to storage), OnCommit (the core's
//              commit index changed), the applier's Apply calls for the
//              committed entries, OnApplied, OnRoleChange (role, term or
//              leader changed).
//   a flush:   OnDurable once its writes are durable (before any reply that
//              claims them is released), or OnFailed; then
//              OnSnapshotInstalled for a leader's snapshot it made durable.
#ifndef CHRONIK_BROKER_REPLICATION_RAFT_HOST_OBSERVER_H_
#define CHRONIK_BROKER_REPLICATION_RAFT_HOST_OBSERVER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "raft/types.h"

namespace chronik::replication {

using GroupId = uint64_t;

// What AddGroup found in storage, before it replays anything.
struct RecoveredGroup {
  // As stored. Its commit may lag the commit the group had reached: a hard
  // state that only moves the commit index is not written.
  raft::HardState hard_state;
  raft::Index snapshot_index = 0;
  raft::Index last_index = 0;  // the last stored entry
};

// What of one group a finished flush made durable.
struct DurableState {
  // The group's hard state on disk now (written by this flush or earlier).
  raft::HardState hard_state;
  // The log is durable up to (log_term, log_index).
  raft::Term log_term = 0;
  raft::Index log_index = 0;
};

// A group's leadership as this node sees it.
struct RoleState {
  bool is_leader = false;
  raft::Term term = 0;
  raft::NodeId leader = raft::kNoNode;  // kNoNode: not known
};

class RaftHostObserver {
 public:
  virtual ~RaftHostObserver() = default;

  virtual void OnRecover(GroupId /*group_id*/,
                         const RecoveredGroup& /*recovered*/) {}
  // Stored entries read back by AddGroup, from the first one after the
  // snapshot to the last, each once.
  virtual void OnRecoveredEntries(GroupId /*group_id*/,
                                  absl::Span<const raft::Entry> /*entries*/) {}
  // Entries queued to storage (durable once a later OnDurable covers them).
  // The first may be at or below the last index queued before: the log is
  // truncated from there, then appended.
  virtual void OnAppend(GroupId /*group_id*/,
                        absl::Span<const raft::Entry> /*entries*/) {}
  // The core's commit index changed to `commit` (in `term`); reported before
  // the entries it commits are applied.
  virtual void OnCommit(GroupId /*group_id*/, raft::Term /*term*/,
                        raft::Index /*commit*/) {}
  // The applier has been given every committed entry through `index`.
  virtual void OnApplied(GroupId /*group_id*/, raft::Index /*index*/) {}
  virtual void OnRoleChange(GroupId /*group_id*/, const RoleState& /*role*/) {}
  // This node snapshotted the group at `index` (its policy, or a
  // partition's retention): the stored log before it goes with the next
  // flush.
  virtual void OnSnapshotTaken(GroupId /*group_id*/, raft::Index /*index*/) {}
  // A snapshot sent by the leader is durable here and installed in the
  // applier: the group's state (and stored log) now starts after `index`
  // (reported after the OnDurable that covers it).
  virtual void OnSnapshotInstalled(GroupId /*group_id*/, raft::Index /*index*/,
                                   raft::Term /*term*/) {}
  // A flush made the group's writes queued before it durable.
  virtual void OnDurable(GroupId /*group_id*/,
                         const DurableState& /*durable*/) {}
  // The group failed (a storage error) and stopped running; failed_groups()
  // keeps the error.
  virtual void OnFailed(GroupId /*group_id*/, const absl::Status& /*status*/) {}
};

}  // namespace chronik::replication

#endif  // CHRONIK_BROKER_REPLICATION_RAFT_HOST_OBSERVER_H_
