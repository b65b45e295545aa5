// Raft (raft.h): quiescence (Config::quiesce). An idle group stops ticking:
// its leader sends one heartbeat marked `quiesce` and stops; caught-up
// followers told so stop their election timers. The driver watches the
// members' nodes instead (one heartbeat per node pair) and wakes the group
// with the members it found silent (Wake); any input but a heartbeat
// response wakes it too.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "raft/node_ids.h"
#include "raft/raft.h"

namespace chronik::raft {

// Idle: everything is committed, applied and durable here, every member
// holds the whole log (so the quiesce heartbeat tells each the commit index)
// and was heard from in this check-quorum window, and nothing waits: no
// proposal, read, transfer, membership change or catch-up.
bool Raft::CanQuiesce() const {
  if (!config_.quiesce || role_ != Role::kLeader || quiesced_) return false;
  const Index last = log_.last_index();
  if (log_.commit != last || log_.persisted < last || log_.applied != last ||
      log_.emitted != last || !CommittedInTerm()) {
    return false;
  }
  if (lead_transferee_ != kNoNode || !conf_.voters_outgoing.empty() ||
      pending_conf_index_ > log_.applied || !handed_conf_changes_.empty()) {
    return false;
  }
  if (!read_queue_.empty() || !reads_before_commit_.empty() ||
      heartbeat_pending_ || broadcast_pending_ || snapshot_to_persist_) {
    return false;
  }
  for (const auto& [id, pr] : progress_) {
    if (pr.match != last || pr.state != ProgressState::kReplicate ||
        pr.log_read_pending || !pr.recent_active) {
      return false;
    }
  }
  return true;
}

void Raft::WakeOnMessage(const Message& m) {
  if (role_ == Role::kLeader && m.type == MessageType::kHeartbeatResponse) {
    return;  // the answers to the quiesce heartbeat itself
  }
  quiesced_ = false;
  // Someone but the leader stirred the group (a candidate, a reader): the
  // leader must resume heartbeats, or this follower would time out and
  // campaign against a live leader.
  if (role_ == Role::kFollower && m.from != lead_) SendWakeToLeader();
}

void Raft::SendWakeToLeader() {
  if (lead_ == kNoNode || lead_ == id_) return;
  Message w;
  w.type = MessageType::kWake;
  w.to = lead_;
  Send(std::move(w));
}

void Raft::Wake(const std::vector<NodeId>& silent,
                const std::vector<NodeId>& restarted) {
  const bool was_quiesced = quiesced_;
  quiesced_ = false;
  if (role_ == Role::kLeader) {
    // A restarted member must answer before the group quiesces again: its
    // progress from before the restart says nothing of the new process
    // (which may not even run the group yet, and so not know its leader).
    for (NodeId id : restarted) {
      auto it = progress_.find(id);
      if (it != progress_.end()) it->second.recent_active = false;
    }
    for (NodeId id : silent) {
      auto it = progress_.find(id);
      if (it != progress_.end()) it->second.recent_active = false;
    }
    if (config_.check_quorum && !QuorumRecentlyActive()) {
      Transition("stepped down: quorum silent while quiesced");
      BecomeFollower(term_, kNoNode);
    }
    return;
  }
  if (role_ != Role::kFollower) return;
  if (lead_ != kNoNode &&
      std::find(silent.begin(), silent.end(), lead_) != silent.end()) {
    // The leader's node was silent for an election timeout: its lease is
    // over, as if this follower had been ticking all along.
    election_elapsed_ =
        std::max(election_elapsed_, config_.election_timeout_ticks);
    Transition(absl::StrCat("woken: leader ", lead_, " silent"));
    return;
  }
  if (was_quiesced) SendWakeToLeader();
}

bool Raft::QuorumRecentlyActive() const {
  std::map<NodeId, bool> active;
  active[id_] = true;
  for (const auto& [id, pr] : progress_) {
    if (!pr.is_learner) active[id] = pr.recent_active;
  }
  return JointVote(conf_, active) == VoteResult::kWon;
}

}  // namespace chronik::raft
