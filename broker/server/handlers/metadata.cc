// Metadata, DescribeCluster, ApiVersions.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/kafka/errors.h"
#include "broker/metadata/broker_address.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

namespace {

// Whether clients that came in on `listener` can reach the broker: it has a
// listener of that name (or only its default one).
bool HasListener(Services& s, raft::NodeId node, absl::string_view listener) {
  const metapb::BrokerInfo* broker = s.state().FindBroker(node);
  return broker == nullptr ||
         metadata::AdvertisedAddress(*broker, listener).has_value();
}

// One partition as Metadata answers it: its leader as this node knows it (-1
// when unknown or fenced), replicas and the committed ISR, in Kafka ids.
kafka::MetadataResponse::MetadataResponsePartition DescribePartition(
    Services& s, const RequestContext& c,
    const metapb::PartitionInfo& partition) {
  kafka::MetadataResponse::MetadataResponsePartition out;
  out.partition_index = partition.partition();
  out.leader_id =
      s.bugs.no_leader_without_replica && !s.host.HasGroup(partition.group_id())
          ? -1
          : s.partitions.PartitionLeader(partition);
  // A fenced leader is not in the broker list: clients could not reach it.
  if (out.leader_id >= 0 &&
      s.state().IsFenced(config::RaftNodeId(out.leader_id))) {
    out.leader_id = -1;
  }
  if (out.leader_id < 0) out.error_code = kafka::error::kLeaderNotAvailable;
  // A leader without the client's listener is not in the broker list either:
  // LISTENER_NOT_FOUND from v6 (KIP-291), LEADER_NOT_AVAILABLE before.
  if (out.leader_id >= 0 &&
      !HasListener(s, config::RaftNodeId(out.leader_id), c.listener)) {
    out.leader_id = -1;
    out.error_code = c.header.api_version >= 6
                         ? kafka::error::kListenerNotFound
                         : kafka::error::kLeaderNotAvailable;
  }
  // The Raft term of the leader this node knows (v7+; KIP-320).
  out.leader_epoch = s.partitions.PartitionLeaderEpoch(partition);
  for (uint64_t replica : metadata::HostingReplicas(partition)) {
    out.replica_nodes.push_back(config::KafkaNodeId(replica));
  }
  // The committed ISR; before any leader reported one, every replica.
  for (uint64_t replica :
       partition.isr().empty() ? partition.replicas() : partition.isr()) {
    out.isr_nodes.push_back(config::KafkaNodeId(replica));
  }
  return out;
}

}  // namespace

void Handle(Services& s, const RequestContext& c, kafka::MetadataRequest& r) {
  const int16_t version = c.header.api_version;
  kafka::MetadataResponse response;
  // Fenced brokers (silent for a session timeout) are left out.
  // Each broker's address on the listener the client came in on.
  // Brokers without that listener are left out (as Kafka).
  for (const metapb::BrokerInfo* broker : s.state().LiveBrokers()) {
    std::optional<metadata::BrokerAddress> address =
        metadata::AdvertisedAddress(*broker, c.listener);
    if (!address.has_value()) continue;
    response.brokers.push_back({config::KafkaNodeId(broker->node_id()),
                                std::move(address->host), address->port,
                                std::nullopt});
  }
  response.cluster_id = kClusterId;
  const raft::NodeId controller = s.metadata.leader();
  response.controller_id = config::KafkaNodeId(controller);
  std::vector<std::string> names;
  const bool all = !r.topics.has_value() || (version == 0 && r.topics->empty());
  if (all) {
    for (const metapb::TopicInfo* topic : s.state().Topics()) {
      names.push_back(topic->name());
    }
  } else {
    for (const auto& requested : *r.topics) {
      if (requested.name.has_value()) {
        names.push_back(*requested.name);
      } else if (const metapb::TopicInfo* by_id =
                     s.state().FindTopicById(FromUuid(requested.topic_id))) {
        names.push_back(by_id->name());
      } else {
        kafka::MetadataResponse::MetadataResponseTopic unknown;
        unknown.error_code = kafka::error::kUnknownTopicOrPartition;
        unknown.name = std::nullopt;
        unknown.topic_id = requested.topic_id;
        response.topics.push_back(std::move(unknown));
      }
    }
  }
  // A node that has not yet applied the metadata it had stored (restarted,
  // its commit index not stored) may lack topics created since: none is
  // unknown then, only without a leader yet (retriable; librdkafka takes
  // UNKNOWN_TOPIC_OR_PARTITION as a deleted topic), and none is created.
  const bool caught_up = s.metadata_caught_up();
  const bool may_create =
      s.config.auto_create_topics && caught_up &&
      (version < 4 || r.allow_auto_topic_creation) &&
      Allowed(s, c, acl::kCreate, {acl::kCluster, acl::kClusterName});
  for (const std::string& name : names) {
    kafka::MetadataResponse::MetadataResponseTopic topic;
    topic.name = name;
    // Topics the principal may not describe: left out of an all-topics
    // answer, TOPIC_AUTHORIZATION_FAILED when named.
    if (!Allowed(s, c, acl::kDescribe, {acl::kTopic, name})) {
      if (all) continue;
      topic.error_code = kafka::error::kTopicAuthorizationFailed;
      response.topics.push_back(std::move(topic));
      continue;
    }
    const metapb::TopicInfo* info = s.state().FindTopic(name);
    if (!caught_up && metadata::ValidateTopicName(name).ok()) {
      topic.error_code = kafka::error::kLeaderNotAvailable;
      response.topics.push_back(std::move(topic));
      continue;
    }
    if (info == nullptr) {
      if (!metadata::ValidateTopicName(name).ok()) {
        topic.error_code = kafka::error::kInvalidTopic;
      } else if (may_create) {
        s.metadata.MaybeAutoCreate(name);
        topic.error_code = kafka::error::kLeaderNotAvailable;
      } else {
        topic.error_code = kafka::error::kUnknownTopicOrPartition;
      }
      response.topics.push_back(std::move(topic));
      continue;
    }
    topic.topic_id = ToUuid(info->topic_id());
    for (const metapb::PartitionInfo& partition : info->partitions()) {
      topic.partitions.push_back(DescribePartition(s, c, partition));
    }
    response.topics.push_back(std::move(topic));
  }
  s.connections.Finish(c, response);
}

void Handle(Services& s, const RequestContext& c,
            kafka::DescribeClusterRequest&) {
  kafka::DescribeClusterResponse response;
  response.cluster_id = kClusterId;
  const raft::NodeId controller = s.metadata.leader();
  response.controller_id = config::KafkaNodeId(controller);
  // Each broker's address on the listener the client came in on.
  // Brokers without that listener are left out (as Kafka).
  for (const metapb::BrokerInfo* broker : s.state().LiveBrokers()) {
    std::optional<metadata::BrokerAddress> address =
        metadata::AdvertisedAddress(*broker, c.listener);
    if (!address.has_value()) continue;
    response.brokers.push_back({config::KafkaNodeId(broker->node_id()),
                                std::move(address->host), address->port,
                                std::nullopt});
  }
  s.connections.Finish(c, response);
}

void Handle(Services& s, const RequestContext& c, kafka::ApiVersionsRequest&) {
  s.connections.Deliver(c, kafka::EncodeApiVersionsResponseFrame(c.header),
                        false);
}

}  // namespace chronik::broker
