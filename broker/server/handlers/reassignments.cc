// Partition reassignments: AlterPartitionReassignments,
// ListPartitionReassignments (KIP-455). The controller (metadata leader)
// records each target in the metadata; the partition's Raft leader moves the
// group's membership there (broker/server/reassignment.h) and completes it.
// The Alter answer comes once the targets are committed, not once the data
// has moved: ListPartitionReassignments shows what is still moving.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/config/node_ids.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/gathered.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {
namespace {

using AlterResponse = kafka::AlterPartitionReassignmentsResponse;
using ListResponse = kafka::ListPartitionReassignmentsResponse;

std::vector<int32_t> KafkaIds(const std::vector<uint64_t>& ids) {
  std::vector<int32_t> out;
  for (uint64_t id : ids) out.push_back(config::KafkaNodeId(id));
  return out;
}

// Members of `a` not in `b`, in `a`'s order.
std::vector<uint64_t> Minus(
    const google::protobuf::RepeatedField<uint64_t>& a,
    const google::protobuf::RepeatedField<uint64_t>& b) {
  std::vector<uint64_t> out;
  for (uint64_t id : a) {
    if (std::find(b.begin(), b.end(), id) == b.end()) out.push_back(id);
  }
  return out;
}

// The partition's ongoing reassignment, or nullopt when none (a target
// equal to the replicas, as a cancel leaves it, is none to Kafka).
std::optional<ListResponse::OngoingPartitionReassignment> Ongoing(
    const metapb::PartitionInfo& partition) {
  const std::vector<uint64_t> adding =
      Minus(partition.target_replicas(), partition.replicas());
  const std::vector<uint64_t> removing =
      partition.target_replicas().empty()
          ? std::vector<uint64_t>{}
          : Minus(partition.replicas(), partition.target_replicas());
  if (adding.empty() && removing.empty()) return std::nullopt;
  ListResponse::OngoingPartitionReassignment out;
  out.partition_index = partition.partition();
  out.replicas = KafkaIds(metadata::HostingReplicas(partition));
  out.adding_replicas = KafkaIds(adding);
  out.removing_replicas = KafkaIds(removing);
  return out;
}

// The command for one partition, or false with the error in `out`.
bool AlterCommand(
    const std::string& topic,
    const kafka::AlterPartitionReassignmentsRequest::ReassignablePartition& p,
    AlterResponse::ReassignablePartitionResponse* out,
    metapb::MetadataCommand* command) {
  metapb::AlterReassignment* alter = command->mutable_alter_reassignment();
  alter->set_topic(topic);
  alter->set_partition(p.partition_index);
  if (!p.replicas.has_value()) return true;  // null: cancel
  if (p.replicas->empty()) {
    out->error_code = kafka::error::kInvalidReplicaAssignment;
    out->error_message = "the replica list is empty (null cancels)";
    return false;
  }
  for (int32_t id : *p.replicas) {
    if (id < 0) {
      out->error_code = kafka::error::kInvalidReplicaAssignment;
      out->error_message = absl::StrCat("broker id ", id, " is negative");
      return false;
    }
    alter->add_target_replicas(config::RaftNodeId(static_cast<uint64_t>(id)));
  }
  return true;
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::AlterPartitionReassignmentsRequest& r) {
  auto wait = std::make_shared<Gathered<AlterResponse>>();
  wait->context = c;
  if (!ClusterAllowed(s, c) || !s.metadata.is_leader()) {
    wait->response.error_code = ClusterAllowed(s, c)
                                    ? kafka::error::kNotController
                                    : kafka::error::kClusterAuthorizationFailed;
    s.connections.Finish(c, wait->response, true);
    return;
  }
  for (const auto& topic : r.topics) {
    wait->response.responses.push_back({topic.name, {}});
    for (const auto& partition : topic.partitions) {
      wait->response.responses.back().partitions.push_back(
          {partition.partition_index, kafka::error::kNone, std::nullopt});
    }
  }
  for (size_t t = 0; t < r.topics.size(); ++t) {
    for (size_t p = 0; p < r.topics[t].partitions.size(); ++p) {
      auto* out = &wait->response.responses[t].partitions[p];
      metapb::MetadataCommand command;
      if (!AlterCommand(r.topics[t].name, r.topics[t].partitions[p], out,
                        &command)) {
        continue;
      }
      ProposePart(s, wait, out, command);
    }
  }
  if (wait->remaining == 0) FinishGathered(s, wait);
}

void Handle(Services& s, const RequestContext& c,
            kafka::ListPartitionReassignmentsRequest& r) {
  ListResponse response;
  if (!ClusterAllowed(s, c)) {  // DESCRIBE on the cluster
    response.error_code = kafka::error::kClusterAuthorizationFailed;
    s.connections.Finish(c, response, true);
    return;
  }
  auto add = [&](const metapb::TopicInfo& topic, int32_t partition) {
    if (partition < 0 || partition >= topic.partitions_size()) return;
    std::optional<ListResponse::OngoingPartitionReassignment> ongoing =
        Ongoing(topic.partitions(partition));
    if (!ongoing.has_value()) return;
    if (response.topics.empty() ||
        response.topics.back().name != topic.name()) {
      response.topics.push_back({topic.name(), {}});
    }
    response.topics.back().partitions.push_back(*std::move(ongoing));
  };
  if (!r.topics.has_value()) {
    for (const metapb::TopicInfo* topic : s.state().Topics()) {
      for (int32_t p = 0; p < topic->partitions_size(); ++p) add(*topic, p);
    }
  } else {
    for (const auto& wanted : *r.topics) {
      const metapb::TopicInfo* topic = s.state().FindTopic(wanted.name);
      if (topic == nullptr) continue;  // Kafka lists only ongoing ones
      for (int32_t p : wanted.partition_indexes) add(*topic, p);
    }
  }
  s.connections.Finish(c, response, false);
}

}  // namespace chronik::broker
