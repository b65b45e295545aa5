// Reassignment: what the leader of a partition's Raft group does next to move
// the group's membership to a reassignment's target replicas
// (AlterPartitionReassignments; the target is in the metadata).
//
// The moves, one decision per call (the leader calls it every tick while a
// target is set, and acts on the answer):
//   1. every target node that is not a member yet is added as a learner, one
//      simple change at a time (a learner does not count for quorums, so a
//      new, empty replica cannot slow commits or elections);
//      members outside the target that are only learners are removed;
//   2. once every learner of the target has caught up (its match index
//      reaches the leader's commit index), one change makes the target the
//      voters: a joint configuration (old and new voters must both agree)
//      that the core leaves by itself once it is applied;
//      a leader that is not in the target first hands its leadership to a
//      caught-up voter that is (so the group does not wait for an election
//      after it leaves); if there is none, it leads through the joint
//      configuration and steps down when it leaves it;
//   3. when the voters are exactly the target and no other learner is left,
//      the leader proposes CompleteReassignment to the metadata group.
// A cancel is a target equal to the old replicas: the same moves bring the
// membership back.
//
// Pure and deterministic: a function of the applied membership, the target
// and the leader's Raft status.
#ifndef CHRONIK_BROKER_SERVER_REASSIGNMENT_H_
#define CHRONIK_BROKER_SERVER_REASSIGNMENT_H_

#include <string>
#include <vector>

#include "raft/types.h"

namespace chronik::broker {

struct ReassignmentStep {
  enum class Kind {
    kWait,                // nothing to do now (catching up, a change applying)
    kChangeMembership,    // propose `change`
    kTransferLeadership,  // hand leadership to `transferee` first
    kComplete,            // the membership is the target: tell the metadata
  };
  Kind kind = Kind::kWait;
  raft::ConfChange change = {};
  raft::NodeId transferee = raft::kNoNode;
  std::string ToString() const;
};

// `conf`: the group's applied membership; `target`: the target replicas (any
// order, non-empty); `leader`: the leader's Raft status (role leader).
ReassignmentStep NextReassignmentStep(const raft::ConfState& conf,
                                      const std::vector<raft::NodeId>& target,
                                      const raft::NodeStatus& leader);

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_REASSIGNMENT_H_
