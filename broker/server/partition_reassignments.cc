// PartitionManager (partition_manager.h): the leader's side of partition
// reassignments. The decisions are reassignment.h's; this file acts on them.
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/server/partition_manager.h"
#include "broker/server/reassignment.h"

namespace chronik::broker {

std::vector<metapb::MetadataCommand> PartitionManager::DriveReassignments(
    const metadata::MetadataState& state, int64_t tick_ms) {
  std::vector<metapb::MetadataCommand> completions;
  if (!reassignments_due_) return completions;
  reassignments_due_ = false;
  // Only a leader (led_) may be leader_ready.
  for (const uint64_t group_id : led_) {
    PartitionReplica* const replica = partitions_.at(group_id).get();
    if (!replica->leader_ready()) continue;
    const metapb::TopicInfo* topic = state.FindTopic(replica->topic());
    if (topic == nullptr || replica->partition() >= topic->partitions_size()) {
      continue;
    }
    const metapb::PartitionInfo& info = topic->partitions(replica->partition());
    const raft::RawNode* node = host_->node(group_id);
    const raft::ConfState* conf = host_->membership(group_id);
    if (info.target_replicas().empty()) {
      next_complete_ms_.erase(group_id);
      continue;
    }
    reassignments_due_ = true;  // a target: drive it again next tick
    if (node == nullptr || conf == nullptr || !node->is_leader()) continue;
    const std::vector<raft::NodeId> target(info.target_replicas().begin(),
                                           info.target_replicas().end());
    const ReassignmentStep step =
        NextReassignmentStep(*conf, target, node->Status());
    const std::string name =
        absl::StrCat(replica->topic(), "-", replica->partition());
    // A refusal (a change still applying) is retried at the next tick.
    bool acted = false;
    switch (step.kind) {
      case ReassignmentStep::Kind::kWait:
        break;
      case ReassignmentStep::Kind::kChangeMembership:
        acted = host_->ProposeConfChange(group_id, step.change).ok();
        break;
      case ReassignmentStep::Kind::kTransferLeadership:
        acted = host_->TransferLeadership(group_id, step.transferee).ok();
        break;
      case ReassignmentStep::Kind::kComplete: {
        int64_t& next_ms = next_complete_ms_[group_id];
        if (tick_ms < next_ms) break;
        next_ms = tick_ms + kLeaderReportRetryMs;
        metapb::MetadataCommand command;
        metapb::CompleteReassignment* complete =
            command.mutable_complete_reassignment();
        complete->set_group_id(group_id);
        *complete->mutable_replicas() = info.target_replicas();
        completions.push_back(std::move(command));
        acted = true;
        break;
      }
    }
    if (acted) {
      log_->Log(env::LogLevel::kInfo,
                absl::StrCat("reassignment of ", name, ": ", step.ToString()));
    }
  }
  return completions;
}

}  // namespace chronik::broker
