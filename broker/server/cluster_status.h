// ClusterStatus: what one node knows about its cluster, for operators (the
// production driver serves it as JSON at GET /v1/cluster): the registered
// brokers, every partition (leader, replicas, ISR and, where this node leads
// it, how far each replica lags), and the metadata group.
//
// Contract: Broker::ClusterStatus() fills it from the node's committed
// metadata and its own Raft view (so two nodes may differ for a moment, as
// their Metadata answers do); RenderClusterStatusJson renders it as one JSON
// object, every string escaped (RFC 8259: quote, backslash and control
// characters; other bytes are copied, so UTF-8 stays UTF-8). Ids are Kafka
// broker ids (-1: none). Pure data and a pure function; thread-compatible.
#ifndef CHRONIK_BROKER_SERVER_CLUSTER_STATUS_H_
#define CHRONIK_BROKER_SERVER_CLUSTER_STATUS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace chronik::broker {

struct ClusterStatus {
  struct Broker {
    int32_t id = -1;
    std::string host;  // advertised Kafka address
    int32_t port = 0;
    bool fenced = false;           // fenced by the controller (else live)
    bool decommissioning = false;  // being taken out of the cluster
  };
  struct Partition {
    std::string topic;
    int32_t partition = 0;
    int32_t leader = -1;       // as this node knows it
    uint64_t leader_term = 0;  // the Raft term of the last leader report
    std::vector<int32_t> replicas;
    std::vector<int32_t> isr;  // committed (every replica before a report)
    // Only where this node leads the partition: replica -> entries it lacks
    // (leader's last index - its match index).
    std::optional<std::map<int32_t, uint64_t>> lag;
  };
  struct MetadataGroup {
    int32_t leader = -1;  // the controller
    uint64_t term = 0;    // this node's current term of the group
    uint64_t commit_index = 0;
    // The membership this node has applied (cluster_membership.h).
    std::vector<int32_t> voters;
    std::vector<int32_t> learners;
    // How the cluster file's peers differ from the membership; empty: they
    // agree.
    std::string config_mismatch;
  };

  int32_t node_id = -1;  // the node answering
  bool shutting_down = false;
  bool removed = false;               // the node answering was decommissioned
  std::vector<Broker> brokers;        // by id
  std::vector<Partition> partitions;  // by topic, then partition
  MetadataGroup metadata;
};

// The JSON string literal (with quotes) of `text`.
std::string JsonString(absl::string_view text);

// {"node_id":..,"shutting_down":..,"removed":..,"brokers":[{"id","host",
// "port","status":"live"|"fenced","decommissioning"}],"partitions":[{"topic",
// "partition","leader","leader_term","replicas","isr","lag":{"<id>":n}|null}],
// "metadata":{"leader","term","commit_index","voters","learners",
// "config_mismatch":string|null}} followed by a newline.
std::string RenderClusterStatusJson(const ClusterStatus& status);

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_CLUSTER_STATUS_H_
