// MetadataState (metadata_state.h): partition reassignments.
//
// AlterReassignment records a target replica list; the partition group's
// leader moves the Raft membership there (broker/server/reassignment.h) and
// then proposes CompleteReassignment, which makes the target the replicas.
// While a reassignment is in progress the nodes of both lists host the group
// and may lead it.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/metadata/metadata_state.h"

namespace chronik::metadata {
namespace {

namespace error = kafka::error;

ApplyResult Refuse(int16_t code, std::string message) {
  return ApplyResult{code, std::move(message), -1};
}

bool SameSet(const google::protobuf::RepeatedField<uint64_t>& a,
             const google::protobuf::RepeatedField<uint64_t>& b) {
  return std::set<uint64_t>(a.begin(), a.end()) ==
         std::set<uint64_t>(b.begin(), b.end());
}

}  // namespace

std::vector<uint64_t> HostingReplicas(const metapb::PartitionInfo& partition) {
  std::vector<uint64_t> all(partition.target_replicas().begin(),
                            partition.target_replicas().end());
  for (uint64_t id : partition.replicas()) {
    if (std::find(all.begin(), all.end(), id) == all.end()) all.push_back(id);
  }
  return all;
}

std::vector<uint64_t> InitialVoters(const metapb::PartitionInfo& partition) {
  const auto& initial = partition.initial_replicas().empty()
                            ? partition.replicas()
                            : partition.initial_replicas();
  std::vector<uint64_t> voters(initial.begin(), initial.end());
  std::sort(voters.begin(), voters.end());
  return voters;
}

ApplyResult MetadataState::CheckReplicaList(
    const google::protobuf::RepeatedField<uint64_t>& replicas,
    absl::string_view what) const {
  if (replicas.empty()) {
    return Refuse(error::kInvalidReplicaAssignment,
                  absl::StrCat(what, ": no replicas"));
  }
  for (int r = 0; r < replicas.size(); ++r) {
    auto broker = brokers_.find(replicas[r]);
    if (broker == brokers_.end() || !Placeable(broker->second)) {
      return Refuse(
          error::kInvalidReplicaAssignment,
          absl::StrCat(what, ": broker ", config::KafkaNodeId(replicas[r]),
                       broker == brokers_.end()  ? " is not registered"
                       : broker->second.fenced() ? " is fenced (not live)"
                                                 : " is being decommissioned"));
    }
    if (std::find(replicas.begin(), replicas.begin() + r, replicas[r]) !=
        replicas.begin() + r) {
      return Refuse(
          error::kInvalidReplicaAssignment,
          absl::StrCat(what, ": broker ", config::KafkaNodeId(replicas[r]),
                       " appears twice"));
    }
  }
  return {};
}

ApplyResult MetadataState::ApplyAlterReassignment(
    const metapb::AlterReassignment& command) {
  auto topic = topics_.find(command.topic());
  if (topic == topics_.end() || command.partition() < 0 ||
      command.partition() >= topic->second.partitions_size()) {
    return Refuse(error::kUnknownTopicOrPartition,
                  absl::StrCat("no partition ", command.topic(), "-",
                               command.partition()));
  }
  metapb::PartitionInfo& partition =
      *topic->second.mutable_partitions()->Mutable(command.partition());
  const std::string what =
      absl::StrCat("partition ", command.topic(), "-", command.partition());
  if (command.target_replicas().empty()) {
    if (partition.target_replicas().empty() ||
        SameSet(partition.target_replicas(), partition.replicas())) {
      return Refuse(error::kNoReassignmentInProgress,
                    absl::StrCat(what, " has no reassignment in progress"));
    }
    // Back to the replicas; the leader completes it once the group's
    // membership is theirs again.
    *partition.mutable_target_replicas() = partition.replicas();
    return {};
  }
  if (command.if_idle() && !partition.target_replicas().empty()) {
    return Refuse(error::kInvalidRequest,
                  absl::StrCat(what, " is being reassigned already"));
  }
  ApplyResult checked = CheckReplicaList(command.target_replicas(), what);
  if (checked.error_code != error::kNone) return checked;
  *partition.mutable_target_replicas() = command.target_replicas();
  return {};
}

ApplyResult MetadataState::ApplyCompleteReassignment(
    const metapb::CompleteReassignment& command) {
  auto it = group_to_partition_.find(command.group_id());
  if (it == group_to_partition_.end()) {
    return Refuse(error::kUnknownTopicOrPartition,
                  absl::StrCat("no partition has group ", command.group_id()));
  }
  metapb::PartitionInfo& partition = *topics_.find(it->second.first)
                                          ->second.mutable_partitions()
                                          ->Mutable(it->second.second);
  // A copy: the ISR is filtered by the target after the field is cleared
  // (a reference would keep none of the ISR).
  const google::protobuf::RepeatedField<uint64_t> target =
      partition.target_replicas();
  if (target.empty() ||
      !std::equal(target.begin(), target.end(), command.replicas().begin(),
                  command.replicas().end())) {
    return Refuse(error::kInvalidRequest,
                  absl::StrCat("group ", command.group_id(),
                               ": the reassignment it completes was replaced"));
  }
  if (partition.initial_replicas().empty()) {
    *partition.mutable_initial_replicas() = partition.replicas();
  }
  *partition.mutable_replicas() = target;
  partition.clear_target_replicas();
  // The ISR keeps the replicas that stay; the leader reports the rest.
  google::protobuf::RepeatedField<uint64_t> isr;
  for (uint64_t id : partition.isr()) {
    if (std::find(target.begin(), target.end(), id) != target.end()) {
      isr.Add(id);
    }
  }
  *partition.mutable_isr() = isr;
  return {};
}

}  // namespace chronik::metadata
