// Node ids: the one place Kafka broker ids and Raft node ids are converted.
//
// Operators and Kafka clients number brokers from 0 (`--node-id`, `id` in the
// cluster file, every node id on the Kafka wire: Metadata, DescribeCluster,
// FindCoordinator). Raft reserves node id 0 for "none" (raft::kNoNode), so
// Kafka id 0 is Raft id kRaftIdOfKafkaZero (2^31, just above the largest
// Kafka id) and every other id is the same number in both: data directories
// written before ids from 0 were accepted keep their meaning.
//
// Contract: ServerConfig holds Kafka ids. broker::Broker converts its
// configuration to Raft ids once at construction (everything inside the
// broker, the metadata state included, speaks Raft ids), the runtime converts
// the peer transport's ids, and the Kafka handlers convert every id they
// answer with back with KafkaNodeId. Pure constexpr functions; thread-safe.
#ifndef CHRONIK_BROKER_CONFIG_NODE_IDS_H_
#define CHRONIK_BROKER_CONFIG_NODE_IDS_H_

#include <cstdint>

namespace chronik::config {

// Kafka broker ids are non-negative int32s.
inline constexpr int64_t kMaxKafkaNodeId = INT32_MAX;
inline constexpr uint64_t kRaftIdOfKafkaZero = uint64_t{1} << 31;

// `kafka_id` in [0, kMaxKafkaNodeId]; never returns 0 (Raft's "none").
constexpr uint64_t RaftNodeId(uint64_t kafka_id) {
  return kafka_id == 0 ? kRaftIdOfKafkaZero : kafka_id;
}

// -1 (Kafka's "none") for Raft's "none" (0).
constexpr int32_t KafkaNodeId(uint64_t raft_id) {
  if (raft_id == 0) return -1;
  if (raft_id == kRaftIdOfKafkaZero) return 0;
  return static_cast<int32_t>(raft_id);
}

}  // namespace chronik::config

#endif  // CHRONIK_BROKER_CONFIG_NODE_IDS_H_
