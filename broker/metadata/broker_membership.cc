// MetadataState (metadata_state.h): taking brokers out of the cluster.
//
// DecommissionBroker marks a broker (no new replicas; the controller moves
// its replicas away and then takes it out of the metadata group, see
// broker/server/cluster_membership.h); RemoveBroker, proposed by the
// controller once the broker hosts nothing and is no member of the metadata
// group, drops it from the broker list and remembers its id, which may
// register again only from a node started with --join.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/config/node_ids.h"
#include "broker/metadata/metadata_state.h"

namespace chronik::metadata {
namespace {

namespace error = kafka::error;

ApplyResult Refuse(int16_t code, std::string message) {
  return ApplyResult{code, std::move(message), -1};
}

bool Names(const google::protobuf::RepeatedField<uint64_t>& list,
           uint64_t node_id) {
  return std::find(list.begin(), list.end(), node_id) != list.end();
}

}  // namespace

int MetadataState::PartitionsOn(uint64_t node_id) const {
  int count = 0;
  for (const auto& [name, topic] : topics_) {
    for (const metapb::PartitionInfo& partition : topic.partitions()) {
      if (Names(partition.replicas(), node_id) ||
          Names(partition.target_replicas(), node_id)) {
        ++count;
      }
    }
  }
  return count;
}

ApplyResult MetadataState::ApplyDecommissionBroker(
    const metapb::DecommissionBroker& command) {
  auto it = brokers_.find(command.node_id());
  if (it == brokers_.end()) {
    return Refuse(
        error::kBrokerNotAvailable,
        absl::StrCat("broker ", config::KafkaNodeId(command.node_id()),
                     " is not registered"));
  }
  it->second.set_decommissioning(!command.cancel());
  return {};
}

ApplyResult MetadataState::ApplyRemoveBroker(
    const metapb::RemoveBroker& command) {
  auto it = brokers_.find(command.node_id());
  const std::string name =
      absl::StrCat("broker ", config::KafkaNodeId(command.node_id()));
  if (it == brokers_.end()) {
    return Refuse(error::kBrokerNotAvailable,
                  absl::StrCat(name, " is not registered"));
  }
  if (!it->second.decommissioning()) {
    return Refuse(error::kInvalidRequest,
                  absl::StrCat(name, " is not being decommissioned"));
  }
  if (const int hosted = PartitionsOn(command.node_id()); hosted > 0) {
    return Refuse(error::kInvalidRequest,
                  absl::StrCat(name, " still hosts ", hosted, " partitions"));
  }
  brokers_.erase(it);
  removed_brokers_.insert(command.node_id());
  return {};
}

}  // namespace chronik::metadata
