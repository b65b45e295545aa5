// RaftHost (raft_host.h): the active set. Process, Tick, HasReady and
// HasWork visit only the groups that may have something to do, so that a
// node with many quiesced groups pays per step for the busy ones alone.
//
// A group is active from any input given to it (a message, a proposal, a
// read, a campaign, a transfer, a membership change, a compaction, a wake)
// until the end of a Process that finds it idle: quiesced, without a Ready,
// with no persistence or apply waiting, and its leader and term reported.
// An idle group's core changes only through such an input, so nothing of
// it is missed (CheckActive verifies it in debug builds).
//
// Ticks: an idle group is quiesced and does not tick; it is watched for
// silent member nodes (WatchQuiesced) at the first Tick after it went idle
// and, afterwards, only when a peer node falls silent (a peer's silence
// grows by one per tick, so it turns silent at a Tick, which then watches
// every quiesced group, as every Tick did before). A restarted peer wakes
// the groups involving it in OnNodeHeartbeat.
#include <algorithm>
#include <utility>
#include <vector>

#include "base/check.h"
#include "broker/replication/raft_host.h"

namespace chronik::replication {
namespace {

// Debug builds check every idle group after each Process up to this many
// groups, and after every kCheckEveryProcessCalls-th one above.
constexpr size_t kFullCheckGroups = 1024;
constexpr uint64_t kCheckEveryProcessCalls = 64;

}  // namespace

void RaftHost::Activate(GroupId group_id) {
  if (active_.insert(group_id).second) woken_.insert(group_id);
}

std::vector<GroupId> RaftHost::TakeWoken() {
  std::vector<GroupId> woken(woken_.begin(), woken_.end());
  woken_.clear();
  return woken;
}

void RaftHost::EraseGroup(GroupId group_id) {
  groups_.erase(group_id);
  active_.erase(group_id);
  newly_idle_.erase(group_id);
  woken_.erase(group_id);
  checkpoint_candidates_.erase(group_id);
  peer_nodes_dirty_ = true;
}

bool RaftHost::Idle(const Group& group) const {
  const raft::RawNode& node = *group.node;
  return node.quiesced() && !node.HasReady() && group.pending.empty() &&
         group.apply_backlog.empty() && group.last_leader == node.leader() &&
         group.last_term == node.term();
}

void RaftHost::PruneActive() {
  for (auto it = active_.begin(); it != active_.end();) {
    auto found = groups_.find(*it);
    CHRONIK_CHECK(found != groups_.end()) << "active group " << *it;
    if (Idle(found->second)) {
      newly_idle_.insert(*it);
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  ++process_calls_;
#ifndef NDEBUG
  if (groups_.size() <= kFullCheckGroups ||
      process_calls_ % kCheckEveryProcessCalls == 0) {
    CheckActive();
  }
#endif
}

void RaftHost::CheckActive() const {
  for (const auto& [id, group] : groups_) {
    if (active_.count(id) > 0) continue;
    CHRONIK_CHECK(Idle(group))
        << "group " << id << " is outside the active set but not idle "
        << "(quiesced " << group.node->quiesced() << ", ready "
        << group.node->HasReady() << ", pending " << group.pending.size()
        << ", backlog " << group.apply_backlog.size() << ")";
  }
}

void RaftHost::Tick() {
  ++ticks_;
  ++ticks_since_flush_;
  const bool peer_fell_silent = options_.quiesce && TickPeers();
  if (peer_fell_silent) {
    // Rare: every quiesced group is watched (woken if it depends on the
    // peer), every other one ticks.
    for (auto& [id, group] : groups_) TickGroup(group);
  } else {
    std::vector<GroupId> visit(active_.begin(), active_.end());
    visit.insert(visit.end(), newly_idle_.begin(), newly_idle_.end());
    std::sort(visit.begin(), visit.end());
    visit.erase(std::unique(visit.begin(), visit.end()), visit.end());
    for (const GroupId id : visit) {
      auto found = groups_.find(id);
      if (found != groups_.end()) TickGroup(found->second);
    }
  }
  newly_idle_.clear();
  WriteDueCheckpoints(options_.checkpoints.max_per_tick);
}

void RaftHost::TickGroup(Group& group) {
  ++groups_visited_;
  if (group.node->quiesced()) {
    WatchQuiesced(group);
  } else {
    CHRONIK_CHECK(active_.count(group.spec.group_id) > 0)
        << "group " << group.spec.group_id << " ticks outside the active set";
    group.node->Tick();
  }
}

bool RaftHost::HasReady() const {
  for (const GroupId id : active_) {
    ++groups_visited_;
    if (groups_.at(id).node->HasReady()) return true;
  }
  return false;
}

bool RaftHost::AsyncFlushCanBegin() const {
  // The driver takes one request at a time, in order; deletions waiting
  // for a quiet store, and work that asked for one, get one (no flush
  // overlaps the one in flight).
  if (sync_request_.has_value()) return false;
  if (flush_in_flight() &&
      (quiet_store_requested_ || !deferred_deletes_.empty())) {
    return false;
  }
  return store_->CanBeginFlush();
}

bool RaftHost::IdleTailLogCheckpointDue() const {
  return options_.async_flush && options_.idle_tail_log_checkpoint_ticks > 0 &&
         ticks_since_flush_ >= options_.idle_tail_log_checkpoint_ticks &&
         !sync_request_.has_value() && store_->TailLogCheckpointPossible();
}

bool RaftHost::HasWork() const {
  if (HasReady() || !node_heartbeats_.empty()) return true;
  if (AsyncFlushCanBegin() || IdleTailLogCheckpointDue()) return true;
  // A group with pending persistence or a backlog is active.
  for (const GroupId id : active_) {
    const Group& group = groups_.at(id);
    ++groups_visited_;
    if (!group.pending.empty() &&
        group.pending.front().needs_flushed <= flushed_) {
      return true;  // durable, not yet reported to the core
    }
    if (!group.apply_backlog.empty() &&
        group.apply_backlog.front().needs_flushed <= flushed_) {
      return true;  // committed entries whose wait is over
    }
  }
  return false;
}

}  // namespace chronik::replication
