// Counters of one broker node for /metrics (Prometheus) and tests.
#ifndef CHRONIK_BROKER_SERVER_METRICS_H_
#define CHRONIK_BROKER_SERVER_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace chronik::broker {

// Latency bucket upper bounds (ms) of ApiMetrics::latency_buckets; the last
// bucket is +Inf.
inline constexpr int64_t kLatencyBucketsMs[] = {1, 5, 10, 50, 100, 500, 1000};

struct ApiMetrics {
  uint64_t requests = 0;
  uint64_t errors = 0;  // responses whose top-level or any partition error != 0
  uint64_t latency_ms_sum = 0;
  std::vector<uint64_t> latency_buckets =
      std::vector<uint64_t>(std::size(kLatencyBucketsMs) + 1, 0);
};

struct BrokerMetrics {
  std::map<std::string, ApiMetrics> apis;  // by Kafka API name
  uint64_t bytes_in = 0;                   // Kafka request bytes
  uint64_t bytes_out = 0;                  // Kafka response bytes
  uint64_t connections = 0;
  uint64_t partitions = 0;      // partition replicas hosted here
  uint64_t partitions_led = 0;  // ... of which this node leads
  // ... of which this node leads with fewer in-sync replicas than replicas
  // (Kafka's UnderReplicatedPartitions).
  uint64_t under_replicated_partitions = 0;
  // On the controller only (0 elsewhere, as Kafka's OfflinePartitionsCount):
  // partitions of the committed metadata without a live leader (none
  // reported, or the reported one fenced).
  uint64_t offline_partitions = 0;
  uint64_t log_bytes = 0;  // on-disk size of all partition logs
  // Log compaction of this node's replicas (log_compactor.h): passes,
  // records removed, transaction markers removed.
  uint64_t compaction_passes = 0;
  uint64_t compaction_records_removed = 0;
  uint64_t compaction_markers_removed = 0;
  // The node's Raft groups (the metadata group and its partition replicas).
  uint64_t raft_groups = 0;
  uint64_t raft_groups_led = 0;       // ... of which this node is the leader
  uint64_t raft_groups_quiesced = 0;  // ... idle: no ticks, no heartbeats
  // Partitions it leads whose ISR sample holds (idle: not sampled per tick).
  uint64_t isr_held_partitions = 0;
  uint64_t raft_max_term = 0;  // highest current term among them
  // Summed over its current groups (raft::NodeStatus): campaigns begun because
  // a leader was silent for an election timeout, and leaders that stepped
  // down for want of an active quorum. Either means late or lost heartbeats.
  uint64_t raft_election_timeouts = 0;
  uint64_t raft_quorum_step_downs = 0;
  // Entries in the node's logs not committed yet (last index - commit index,
  // summed over its groups): replication the node is waiting for.
  uint64_t raft_commit_lag_entries = 0;
  // On the groups it leads: the most entries a voter lacks (leader's last
  // index - the voter's match index).
  uint64_t raft_max_follower_lag_entries = 0;
  // Leader balancing (leader_balance.h): wishes for its preferred
  // partitions this node's balancer proposed, and leadership transfers to a
  // preferred replica this node started (for the balancer or ElectLeaders).
  uint64_t leader_balance_requests = 0;
  uint64_t preferred_leader_transfers = 0;
  // A controlled shutdown has begun (BeginShutdown).
  bool shutting_down = false;
  uint64_t malformed_requests = 0;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_METRICS_H_
