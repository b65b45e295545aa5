#include "broker/server/cluster_status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace chronik::broker {
namespace {

std::string IdList(const std::vector<int32_t>& ids) {
  return absl::StrCat("[", absl::StrJoin(ids, ","), "]");
}

std::string BrokerJson(const ClusterStatus::Broker& broker) {
  return absl::StrCat(
      "{\"id\":", broker.id, ",\"host\":", JsonString(broker.host),
      ",\"port\":", broker.port, ",\"status\":\"",
      broker.fenced ? "fenced" : "live",
      "\",\"decommissioning\":", broker.decommissioning ? "true" : "false",
      "}");
}

std::string PartitionJson(const ClusterStatus::Partition& partition) {
  std::string lag = "null";
  if (partition.lag.has_value()) {
    std::vector<std::string> entries;
    for (const auto& [replica, entries_behind] : *partition.lag) {
      entries.push_back(absl::StrCat("\"", replica, "\":", entries_behind));
    }
    lag = absl::StrCat("{", absl::StrJoin(entries, ","), "}");
  }
  return absl::StrCat(
      "{\"topic\":", JsonString(partition.topic),
      ",\"partition\":", partition.partition, ",\"leader\":", partition.leader,
      ",\"leader_term\":", partition.leader_term,
      ",\"replicas\":", IdList(partition.replicas),
      ",\"isr\":", IdList(partition.isr), ",\"lag\":", lag, "}");
}

}  // namespace

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

std::string RenderClusterStatusJson(const ClusterStatus& status) {
  std::vector<std::string> brokers;
  for (const ClusterStatus::Broker& broker : status.brokers) {
    brokers.push_back(BrokerJson(broker));
  }
  std::vector<std::string> partitions;
  for (const ClusterStatus::Partition& partition : status.partitions) {
    partitions.push_back(PartitionJson(partition));
  }
  const ClusterStatus::MetadataGroup& metadata = status.metadata;
  return absl::StrCat(
      "{\"node_id\":", status.node_id,
      ",\"shutting_down\":", status.shutting_down ? "true" : "false",
      ",\"removed\":", status.removed ? "true" : "false", ",\"brokers\":[",
      absl::StrJoin(brokers, ","), "],\"partitions\":[",
      absl::StrJoin(partitions, ","),
      "],\"metadata\":{\"leader\":", metadata.leader,
      ",\"term\":", metadata.term, ",\"commit_index\":", metadata.commit_index,
      ",\"voters\":", IdList(metadata.voters),
      ",\"learners\":", IdList(metadata.learners), ",\"config_mismatch\":",
      metadata.config_mismatch.empty() ? std::string("null")
                                       : JsonString(metadata.config_mismatch),
      "}}\n");
}

}  // namespace chronik::broker
