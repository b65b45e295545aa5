// MetadataState: the replicated state of the metadata Raft group (group 0):
// registered brokers, topics with their partitions and replica assignments,
// topic configs, committed consumer-group offsets and producer-id allocation.
//
// Contract: Apply() is called with every committed MetadataCommand in log
// order, on every node; it is a pure function of (state, index, command), so
// all nodes hold identical states at equal applied indexes (a snapshot of two
// such states serializes to identical bytes). Commands that cannot be applied
// (a topic that already exists, too few brokers for a replication factor)
// change nothing and return a Kafka error code, which the proposer hands to the
// waiting client. Invariants are CHECKed after each apply in debug builds.
//
// Brokers are fenced and unfenced by the controller (FenceBroker,
// UnfenceBroker); an operator decommissions one (DecommissionBroker), and the
// controller removes it once it hosts nothing (RemoveBroker); a partition's
// leader and in-sync replicas are what its Raft leader last reported
// (ReportPartitionLeader).
//
// Partition Raft groups get ids 1, 2, 3, ... in creation order (0 is the
// metadata group). Replicas are assigned over the unfenced registered brokers
// sorted by id, starting at a rotating position so leaders spread.
//
// Thread-compatible (one driver thread); deterministic iteration (sorted maps).
#ifndef CHRONIK_BROKER_METADATA_METADATA_STATE_H_
#define CHRONIK_BROKER_METADATA_METADATA_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/kafka/errors.h"
#include "broker/metadata/security_state.h"
#include "broker/metadata/transactions.h"
#include "proto/metadata.pb.h"

namespace chronik::metadata {

// Bounds on what the metadata state may hold.
inline constexpr int kMaxTopics = 100'000;
inline constexpr int kMaxPartitionsPerTopic = 10'000;
inline constexpr int kMaxBrokers = 1'000;
inline constexpr int kMaxTopicNameBytes = 249;
inline constexpr int kMaxProducerIdBlock = 1'000'000;

struct ApplyResult {
  int16_t error_code = kafka::error::kNone;  // broker/kafka/errors.h
  std::string error_message;
  // AllocateProducerIds: the first id of the allocated block;
  // InitTxnProducer: the producer id.
  int64_t first_producer_id = -1;
  int16_t producer_epoch = -1;  // InitTxnProducer
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_time_ms = 0;
};

// Every node that hosts the partition's group: during a reassignment the
// target replicas, then the old replicas not among them (the order Kafka's
// Metadata lists them in); else the replicas.
std::vector<uint64_t> HostingReplicas(const metapb::PartitionInfo& partition);
// The partition group's initial Raft voters (raft_host.h), sorted.
std::vector<uint64_t> InitialVoters(const metapb::PartitionInfo& partition);

// Kafka's topic name rule: 1..249 bytes of [a-zA-Z0-9._-], not "." or "..".
absl::Status ValidateTopicName(absl::string_view name);

class MetadataState {
 public:
  MetadataState() = default;

  ApplyResult Apply(uint64_t index, const metapb::MetadataCommand& command);

  uint64_t applied_index() const { return applied_index_; }

  // Brokers sorted by node id, fenced ones included.
  std::vector<const metapb::BrokerInfo*> Brokers() const;
  // ... without the fenced ones (what Metadata lists).
  std::vector<const metapb::BrokerInfo*> LiveBrokers() const;
  // Registered and fenced (the controller has not heard from it for a
  // session timeout).
  bool IsFenced(uint64_t node_id) const;
  const metapb::BrokerInfo* FindBroker(uint64_t node_id) const;
  // Registered, then removed (RemoveBroker) and not registered again.
  bool IsRemoved(uint64_t node_id) const {
    return removed_brokers_.count(node_id) != 0;
  }
  // New replicas may go to the broker: unfenced, not being decommissioned.
  static bool Placeable(const metapb::BrokerInfo& broker) {
    return !broker.fenced() && !broker.decommissioning();
  }
  // Partitions that name `node_id` among their replicas or target replicas.
  int PartitionsOn(uint64_t node_id) const;

  // Topics sorted by name.
  std::vector<const metapb::TopicInfo*> Topics() const;
  const metapb::TopicInfo* FindTopic(absl::string_view name) const;
  const metapb::TopicInfo* FindTopicById(absl::string_view topic_id) const;
  // The partition served by a Raft group, or nullopt.
  std::optional<std::pair<std::string, int32_t>> PartitionOfGroup(
      uint64_t group_id) const;

  std::optional<CommittedOffset> FindOffset(absl::string_view group,
                                            absl::string_view topic,
                                            int32_t partition) const;
  // Whether `group` has committed offsets (a group Kafka would list Empty).
  bool HasOffsets(absl::string_view group) const;
  // Groups that have committed offsets, sorted.
  std::vector<std::string> OffsetGroups() const;

  int64_t next_producer_id() const { return next_producer_id_; }
  // The transaction coordinator's state (transactions.h).
  const TransactionTable& transactions() const { return transactions_; }
  uint64_t next_group_id() const { return next_group_id_; }
  // SCRAM credentials and ACLs (security_state.h).
  const SecurityState& security() const { return security_; }

  metapb::MetadataSnapshot ToSnapshot() const;
  static absl::StatusOr<MetadataState> FromSnapshot(
      const metapb::MetadataSnapshot& snapshot);

 private:
  using OffsetKey = std::pair<std::string, int32_t>;  // topic, partition

  ApplyResult ApplyRegisterBroker(const metapb::RegisterBroker& command);
  ApplyResult ApplyCreateTopic(const metapb::CreateTopic& command);
  ApplyResult ApplyDeleteTopic(const metapb::DeleteTopic& command);
  ApplyResult ApplyCreatePartitions(const metapb::CreatePartitions& command);
  ApplyResult ApplyAlterConfigs(const metapb::AlterTopicConfigs& command);
  ApplyResult ApplyCommitOffsets(const metapb::CommitOffsets& command);
  ApplyResult ApplyDeleteGroupOffsets(
      const metapb::DeleteGroupOffsets& command);
  ApplyResult ApplyReportPartitionLeader(
      const metapb::ReportPartitionLeader& command);
  ApplyResult ApplySetFenced(uint64_t node_id, bool fenced);
  // Growing and shrinking the cluster (broker_membership.cc).
  ApplyResult ApplyDecommissionBroker(
      const metapb::DecommissionBroker& command);
  ApplyResult ApplyRemoveBroker(const metapb::RemoveBroker& command);
  // Reassignments (reassignment.cc).
  ApplyResult ApplyAlterReassignment(const metapb::AlterReassignment& command);
  ApplyResult ApplyCompleteReassignment(
      const metapb::CompleteReassignment& command);
  // A replica list every node of which is a live broker, each once.
  ApplyResult CheckReplicaList(
      const google::protobuf::RepeatedField<uint64_t>& replicas,
      absl::string_view what) const;
  int LiveBrokerCount() const;
  // Transactions (transactions.h); a commit's staged offsets are committed.
  ApplyResult ApplyTransaction(const metapb::MetadataCommand& command);
  ApplyResult ApplyAllocateProducerIds(
      const metapb::AllocateProducerIds& command);
  // A manual assignment of `count` partitions of `replication_factor`
  // replicas each: every replica a registered, unfenced broker, none twice in
  // one partition. INVALID_REPLICA_ASSIGNMENT naming what is wrong.
  ApplyResult CheckAssignment(
      const google::protobuf::RepeatedPtrField<metapb::ReplicaList>& lists,
      int32_t count, int replication_factor) const;
  // Appends partitions [from, to) to `topic` with fresh groups; replicas from
  // `manual` (one list per new partition) unless it is empty, else placed
  // round robin on the unfenced brokers.
  void AddPartitions(
      metapb::TopicInfo& topic, int32_t from, int32_t to,
      int replication_factor,
      const google::protobuf::RepeatedPtrField<metapb::ReplicaList>& manual);
  void CheckInvariants() const;

  uint64_t applied_index_ = 0;
  uint64_t next_group_id_ = 1;
  int64_t next_producer_id_ = 1000;
  uint64_t assignment_cursor_ = 0;  // rotates replica placement
  std::map<uint64_t, metapb::BrokerInfo> brokers_;
  std::set<uint64_t> removed_brokers_;
  std::map<std::string, metapb::TopicInfo, std::less<>> topics_;
  std::map<uint64_t, std::pair<std::string, int32_t>> group_to_partition_;
  std::map<std::string, std::map<OffsetKey, CommittedOffset>, std::less<>>
      offsets_;
  TransactionTable transactions_;
  SecurityState security_;
};

}  // namespace chronik::metadata

#endif  // CHRONIK_BROKER_METADATA_METADATA_STATE_H_
