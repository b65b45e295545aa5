// Raft (raft.h): membership changes (simple and joint consensus) and the
// progress set that follows the configuration.

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "raft/conf_state.h"
#include "raft/node_ids.h"
#include "raft/raft.h"

namespace chronik::raft {

absl::Status Raft::CheckConfChange(const ConfChange& change) const {
  const bool joint = !conf_.voters_outgoing.empty();
  if (change.changes.empty()) {
    if (!joint) return absl::FailedPreconditionError("not in a joint config");
    return absl::OkStatus();
  }
  if (joint) {
    return absl::FailedPreconditionError("must leave the joint config first");
  }
  if (change.changes.size() > kMaxConfChangeItems) {
    return absl::InvalidArgumentError("too many changes at once");
  }
  ConfState next = conf_;
  for (const ConfChangeSingle& c : change.changes) {
    if (c.node_id == kNoNode) return absl::InvalidArgumentError("node id 0");
    if (c.type == ConfChangeType::kAddVoter) {
      Insert(&next.voters, c.node_id);
      Erase(&next.learners, c.node_id);
    } else if (c.type == ConfChangeType::kAddLearner) {
      Erase(&next.voters, c.node_id);
      Insert(&next.learners, c.node_id);
    } else {
      Erase(&next.voters, c.node_id);
      Erase(&next.learners, c.node_id);
    }
  }
  if (next.voters.empty()) return absl::InvalidArgumentError("no voters left");
  // Duplicate node ids within one change are refused: their order would matter.
  for (size_t i = 0; i < change.changes.size(); ++i) {
    for (size_t j = i + 1; j < change.changes.size(); ++j) {
      if (change.changes[i].node_id == change.changes[j].node_id) {
        return absl::InvalidArgumentError("node named twice in one change");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Raft::ProposeConfChange(const ConfChange& change) {
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError(
        absl::StrCat("not leader (leader=", lead_, ")"));
  }
  Unquiesce();
  if (lead_transferee_ != kNoNode) {
    return absl::UnavailableError("leadership transfer in progress");
  }
  if (pending_conf_index_ > log_.applied) {
    return absl::FailedPreconditionError(
        absl::StrCat("conf change at ", pending_conf_index_,
                     " not yet applied (applied ", log_.applied, ")"));
  }
  absl::Status valid = CheckConfChange(change);
  if (!valid.ok()) return valid;
  AppendLeaderEntry(EntryType::kConfChange, EncodeConfChange(change));
  pending_conf_index_ = log_.last_index();
  return absl::OkStatus();
}

void Raft::RebuildProgress() {
  std::map<NodeId, Progress> next;
  auto add = [&](NodeId id, bool learner) {
    if (id == id_) return;
    auto it = progress_.find(id);
    Progress pr;
    if (it != progress_.end()) {
      pr = std::move(it->second);
    } else {
      pr.next = log_.last_index() + 1;
      pr.recent_active =
          true;  // a new member gets one CheckQuorum round of grace
    }
    pr.is_learner = learner;
    next.emplace(id, std::move(pr));
  };
  for (NodeId v : conf_.voters) add(v, false);
  for (NodeId v : conf_.voters_outgoing) add(v, false);
  for (NodeId v : conf_.learners) add(v, true);
  for (NodeId v : conf_.learners_next) add(v, true);
  progress_ = std::move(next);
}

void Raft::ApplyConfChange(Index index, const ConfChange& change) {
  if (change.changes.empty() && conf_.voters_outgoing.empty()) return;
  conf_ = NextConfState(conf_, change);
  for (const ConfChangeSingle& c : change.changes) {
    if (c.node_id == id_) joining_ = false;  // the group names it now
  }
  conf_history_.push_back({index, conf_});
  conf_changed_ = conf_;
  Transition(absl::StrCat("applied conf change at ", index, ": ",
                          DescribeConfState(conf_)));
  RebuildProgress();
  if (role_ != Role::kLeader) return;
  if (!IsVoter(id_)) {
    Transition("stepping down: removed from the configuration");
    BecomeFollower(term_, kNoNode);
    return;
  }
  if (lead_transferee_ != kNoNode && !progress_.contains(lead_transferee_)) {
    AbortTransfer();
  }
  if (MaybeCommit()) broadcast_commit_ = true;
  broadcast_pending_ = true;
}

void Raft::MaybeAutoLeave() {
  if (role_ != Role::kLeader || conf_.voters_outgoing.empty() ||
      !conf_.auto_leave)
    return;
  if (pending_conf_index_ > log_.applied || lead_transferee_ != kNoNode) return;
  AppendLeaderEntry(EntryType::kConfChange, EncodeConfChange(ConfChange{}));
  pending_conf_index_ = log_.last_index();
  Transition("proposed leaving the joint config");
}

std::optional<ConfState> Raft::ConfStateAt(Index index) const {
  const ConfState* found = nullptr;
  for (const auto& [at, conf] : conf_history_) {
    if (at <= index) found = &conf;
  }
  if (found == nullptr) return std::nullopt;
  return *found;
}

}  // namespace chronik::raft
