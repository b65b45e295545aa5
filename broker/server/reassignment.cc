#include "broker/server/reassignment.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "raft/conf_state.h"
#include "raft/node_ids.h"

namespace chronik::broker {
namespace {

using Kind = ReassignmentStep::Kind;

ReassignmentStep Change(raft::ConfChangeType type, raft::NodeId id) {
  ReassignmentStep step;
  step.kind = Kind::kChangeMembership;
  step.change.changes.push_back({type, id});
  return step;
}

// The leader's match index for `id` (its own last index for itself).
raft::Index MatchOf(const raft::NodeStatus& leader, raft::NodeId id) {
  if (id == leader.id) return leader.last_index;
  for (const raft::ProgressStatus& peer : leader.progress) {
    if (peer.id == id) return peer.match;
  }
  return 0;
}

bool CaughtUp(const raft::NodeStatus& leader, raft::NodeId id) {
  return MatchOf(leader, id) >= leader.hard_state.commit;
}

// Step 1: learners in, strangers out, one simple change at a time.
std::optional<ReassignmentStep> LearnerStep(
    const raft::ConfState& conf, const std::vector<raft::NodeId>& target) {
  for (raft::NodeId id : target) {
    if (!raft::Contains(conf.voters, id) &&
        !raft::Contains(conf.learners, id)) {
      return Change(raft::ConfChangeType::kAddLearner, id);
    }
  }
  for (raft::NodeId id : conf.learners) {
    if (!raft::Contains(target, id)) {
      return Change(raft::ConfChangeType::kRemoveNode, id);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ReassignmentStep::ToString() const {
  switch (kind) {
    case Kind::kWait:
      return "wait";
    case Kind::kChangeMembership: {
      std::vector<std::string> parts;
      for (const raft::ConfChangeSingle& c : change.changes) {
        const char* verb = c.type == raft::ConfChangeType::kAddVoter ? "voter"
                           : c.type == raft::ConfChangeType::kAddLearner
                               ? "learner"
                               : "remove";
        parts.push_back(absl::StrCat(verb, " ", c.node_id));
      }
      return absl::StrCat("change membership: ", absl::StrJoin(parts, ", "));
    }
    case Kind::kTransferLeadership:
      return absl::StrCat("transfer leadership to ", transferee);
    case Kind::kComplete:
      return "complete";
  }
  return "?";
}

ReassignmentStep NextReassignmentStep(const raft::ConfState& conf,
                                      const std::vector<raft::NodeId>& target,
                                      const raft::NodeStatus& leader) {
  CHRONIK_CHECK(!target.empty());
  CHRONIK_CHECK(leader.role == raft::Role::kLeader);
  const std::vector<raft::NodeId> wanted = raft::Sorted(target);
  // A joint configuration is left by the core itself; a transfer finishes.
  if (!conf.voters_outgoing.empty() || leader.transferee != raft::kNoNode) {
    return {};
  }
  if (std::optional<ReassignmentStep> step = LearnerStep(conf, wanted)) {
    return *step;
  }
  if (conf.voters == wanted) return ReassignmentStep{Kind::kComplete};
  for (raft::NodeId id : conf.learners) {
    if (!CaughtUp(leader, id)) return {};
  }
  // A leaving leader never removes itself: it hands over to a wanted voter
  // first. (A leader that committed its own removal stepped down while the
  // others might not know the commit; a voter of the old side lacking its
  // last entries then refused them every vote: no leader, ever.)
  const bool leader_leaves = !raft::Contains(wanted, leader.id);
  bool wanted_voter = false;
  if (leader_leaves) {
    for (raft::NodeId id : conf.voters) {
      if (!raft::Contains(wanted, id)) continue;
      wanted_voter = true;
      if (CaughtUp(leader, id)) {
        ReassignmentStep step{Kind::kTransferLeadership};
        step.transferee = id;
        return step;
      }
    }
  }
  ReassignmentStep step{Kind::kChangeMembership};
  for (raft::NodeId id : wanted) {
    if (!raft::Contains(conf.voters, id)) {
      step.change.changes.push_back({raft::ConfChangeType::kAddVoter, id});
    }
  }
  // No wanted voter to hand over to yet: the wanted ones become voters first.
  const bool add_only = leader_leaves && !wanted_voter;
  for (raft::NodeId id : conf.voters) {
    if (!add_only && !raft::Contains(wanted, id)) {
      step.change.changes.push_back({raft::ConfChangeType::kRemoveNode, id});
    }
  }
  step.change.joint = step.change.changes.size() > 1;
  return step;
}

}  // namespace chronik::broker
