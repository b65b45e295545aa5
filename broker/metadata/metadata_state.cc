#include "broker/metadata/metadata_state.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/metadata/topic_config.h"

namespace chronik::metadata {
namespace {

namespace error = kafka::error;

ApplyResult Error(int16_t code, std::string message) {
  return ApplyResult{code, std::move(message), -1};
}

bool ConfigLess(const metapb::TopicConfigEntry& a,
                const metapb::TopicConfigEntry& b) {
  return a.name() < b.name();
}

}  // namespace

absl::Status ValidateTopicName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("topic name is empty");
  if (name.size() > kMaxTopicNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "topic name is longer than ", kMaxTopicNameBytes, " characters"));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError("topic name cannot be '.' or '..'");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "topic name '", name,
          "' contains a character other than ASCII alphanumerics, '.', '_' "
          "and '-'"));
    }
  }
  return absl::OkStatus();
}

ApplyResult MetadataState::Apply(uint64_t index,
                                 const metapb::MetadataCommand& command) {
  CHRONIK_CHECK_GT(index, applied_index_) << "metadata applied out of order";
  applied_index_ = index;
  ApplyResult result;
  switch (command.command_case()) {
    case metapb::MetadataCommand::kRegisterBroker:
      result = ApplyRegisterBroker(command.register_broker());
      break;
    case metapb::MetadataCommand::kCreateTopic:
      result = ApplyCreateTopic(command.create_topic());
      break;
    case metapb::MetadataCommand::kDeleteTopic:
      result = ApplyDeleteTopic(command.delete_topic());
      break;
    case metapb::MetadataCommand::kCreatePartitions:
      result = ApplyCreatePartitions(command.create_partitions());
      break;
    case metapb::MetadataCommand::kAlterTopicConfigs:
      result = ApplyAlterConfigs(command.alter_topic_configs());
      break;
    case metapb::MetadataCommand::kCommitOffsets:
      result = ApplyCommitOffsets(command.commit_offsets());
      break;
    case metapb::MetadataCommand::kAllocateProducerIds:
      result = ApplyAllocateProducerIds(command.allocate_producer_ids());
      break;
    case metapb::MetadataCommand::kReportPartitionLeader:
      result = ApplyReportPartitionLeader(command.report_partition_leader());
      break;
    case metapb::MetadataCommand::kFenceBroker:
      result = ApplySetFenced(command.fence_broker().node_id(), true);
      break;
    case metapb::MetadataCommand::kUnfenceBroker:
      result = ApplySetFenced(command.unfence_broker().node_id(), false);
      break;
    case metapb::MetadataCommand::kAlterReassignment:
      result = ApplyAlterReassignment(command.alter_reassignment());
      break;
    case metapb::MetadataCommand::kCompleteReassignment:
      result = ApplyCompleteReassignment(command.complete_reassignment());
      break;
    case metapb::MetadataCommand::kDeleteGroupOffsets:
      result = ApplyDeleteGroupOffsets(command.delete_group_offsets());
      break;
    case metapb::MetadataCommand::kInitTxnProducer:
    case metapb::MetadataCommand::kAddTxnPartitions:
    case metapb::MetadataCommand::kStageTxnOffsets:
    case metapb::MetadataCommand::kEndTxn:
    case metapb::MetadataCommand::kTxnMarkerWritten:
      result = ApplyTransaction(command);
      break;
    case metapb::MetadataCommand::kDecommissionBroker:
      result = ApplyDecommissionBroker(command.decommission_broker());
      break;
    case metapb::MetadataCommand::kRemoveBroker:
      result = ApplyRemoveBroker(command.remove_broker());
      break;
    case metapb::MetadataCommand::kAlterScramCredentials:
      security_.Apply(command.alter_scram_credentials());
      break;
    case metapb::MetadataCommand::kCreateAcls:
      security_.Apply(command.create_acls());
      break;
    case metapb::MetadataCommand::kDeleteAcls:
      security_.Apply(command.delete_acls());
      break;
    case metapb::MetadataCommand::kElectPreferredLeaders:
      // A wish the partition leaders act on (broker/server); no state.
      break;
    case metapb::MetadataCommand::COMMAND_NOT_SET:
      result = Error(error::kInvalidRequest, "empty metadata command");
      break;
  }
#ifndef NDEBUG
  CheckInvariants();
#endif
  return result;
}

ApplyResult MetadataState::ApplyReportPartitionLeader(
    const metapb::ReportPartitionLeader& command) {
  auto it = group_to_partition_.find(command.group_id());
  if (it == group_to_partition_.end()) {
    return Error(error::kUnknownTopicOrPartition,
                 absl::StrCat("no partition has group ", command.group_id()));
  }
  metapb::PartitionInfo& partition = *topics_.find(it->second.first)
                                          ->second.mutable_partitions()
                                          ->Mutable(it->second.second);
  CHRONIK_CHECK_EQ(partition.group_id(), command.group_id());
  // During a reassignment the target's nodes host the group too.
  const auto& replicas = partition.replicas();
  const auto& target = partition.target_replicas();
  auto is_replica = [&](uint64_t id) {
    return std::find(replicas.begin(), replicas.end(), id) != replicas.end() ||
           std::find(target.begin(), target.end(), id) != target.end();
  };
  if (!is_replica(command.leader())) {
    return Error(error::kInvalidRequest,
                 absl::StrCat("node ", command.leader(),
                              " is no replica of group ", command.group_id()));
  }
  const auto& isr = command.isr();
  if (!isr.empty() &&
      (!std::is_sorted(isr.begin(), isr.end()) ||
       std::adjacent_find(isr.begin(), isr.end()) != isr.end() ||
       !std::all_of(isr.begin(), isr.end(), is_replica) ||
       std::find(isr.begin(), isr.end(), command.leader()) == isr.end())) {
    return Error(error::kInvalidRequest,
                 absl::StrCat("ISR of group ", command.group_id(),
                              " must be sorted replicas including the leader"));
  }
  // Reports can arrive late and out of order: the newest term wins; within
  // the recorded term only its leader changes the ISR.
  if (command.term() > partition.leader_term()) {
    partition.set_leader(command.leader());
    partition.set_leader_term(command.term());
    *partition.mutable_isr() = isr;
  } else if (command.term() == partition.leader_term() &&
             command.leader() == partition.leader() && !isr.empty()) {
    *partition.mutable_isr() = isr;
  }
  return {};
}

ApplyResult MetadataState::ApplySetFenced(uint64_t node_id, bool fenced) {
  auto it = brokers_.find(node_id);
  if (it == brokers_.end()) {
    return Error(error::kInvalidRequest,
                 absl::StrCat("cannot ", fenced ? "fence" : "unfence", " node ",
                              node_id, ": not registered"));
  }
  it->second.set_fenced(fenced);
  return {};
}

ApplyResult MetadataState::ApplyRegisterBroker(
    const metapb::RegisterBroker& command) {
  const metapb::BrokerInfo& broker = command.broker();
  if (broker.node_id() == 0 || broker.host().empty() ||
      broker.kafka_port() <= 0 || broker.kafka_port() > 65535) {
    return Error(error::kInvalidRequest,
                 absl::StrCat("invalid broker registration for node ",
                              broker.node_id()));
  }
  if (removed_brokers_.count(broker.node_id()) != 0 && !command.join()) {
    return Error(error::kInvalidRequest,
                 absl::StrCat("broker ", config::KafkaNodeId(broker.node_id()),
                              " was removed from the cluster; it may come "
                              "back only with an empty data directory and "
                              "--join"));
  }
  if (brokers_.count(broker.node_id()) == 0 &&
      static_cast<int>(brokers_.size()) >= kMaxBrokers) {
    return Error(error::kPolicyViolation, "too many brokers");
  }
  // Re-registration (a restart, a new advertised address) replaces the entry
  // but not its fencing: only the controller fences and unfences.
  auto it = brokers_.find(broker.node_id());
  const bool fenced = it != brokers_.end() && it->second.fenced();
  const bool decommissioning =
      it != brokers_.end() && it->second.decommissioning();
  metapb::BrokerInfo& entry = brokers_[broker.node_id()];
  entry = broker;
  entry.set_fenced(fenced);
  entry.set_decommissioning(decommissioning);
  removed_brokers_.erase(broker.node_id());
  return {};
}

ApplyResult MetadataState::CheckAssignment(
    const google::protobuf::RepeatedPtrField<metapb::ReplicaList>& lists,
    int32_t count, int replication_factor) const {
  if (lists.size() != count) {
    return Error(error::kInvalidReplicaAssignment,
                 absl::StrCat(lists.size(), " replica lists for ", count,
                              " partitions"));
  }
  for (int p = 0; p < lists.size(); ++p) {
    const auto& replicas = lists[p].replicas();
    if (replicas.size() != replication_factor) {
      return Error(error::kInvalidReplicaAssignment,
                   absl::StrCat("partition ", p, " has ", replicas.size(),
                                " replicas; every partition needs ",
                                replication_factor));
    }
    ApplyResult checked =
        CheckReplicaList(replicas, absl::StrCat("partition ", p));
    if (checked.error_code != error::kNone) return checked;
  }
  return {};
}

void MetadataState::AddPartitions(
    metapb::TopicInfo& topic, int32_t from, int32_t to, int replication_factor,
    const google::protobuf::RepeatedPtrField<metapb::ReplicaList>& manual) {
  CHRONIK_CHECK(manual.empty() || manual.size() == to - from);
  // Fenced brokers get no new replicas (as in Kafka), nor do brokers being
  // decommissioned.
  std::vector<uint64_t> ids;
  for (const auto& [id, broker] : brokers_) {
    if (Placeable(broker)) ids.push_back(id);
  }
  CHRONIK_CHECK_GE(ids.size(), static_cast<size_t>(replication_factor));
  for (int32_t p = from; p < to; ++p) {
    metapb::PartitionInfo* partition = topic.add_partitions();
    partition->set_partition(p);
    partition->set_group_id(next_group_id_++);
    if (!manual.empty()) {
      *partition->mutable_replicas() = manual[p - from].replicas();
    } else {
      const uint64_t start = assignment_cursor_++ % ids.size();
      for (int r = 0; r < replication_factor; ++r) {
        partition->add_replicas(ids[(start + r) % ids.size()]);
      }
    }
    group_to_partition_[partition->group_id()] = {topic.name(), p};
  }
}

ApplyResult MetadataState::ApplyCreateTopic(
    const metapb::CreateTopic& command) {
  if (absl::Status status = ValidateTopicName(command.name()); !status.ok()) {
    return Error(error::kInvalidTopic, std::string(status.message()));
  }
  if (topics_.count(command.name()) > 0) {
    return Error(error::kTopicAlreadyExists,
                 absl::StrCat("topic '", command.name(), "' already exists"));
  }
  if (static_cast<int>(topics_.size()) >= kMaxTopics) {
    return Error(error::kPolicyViolation, "too many topics");
  }
  if (command.partitions() < 1 ||
      command.partitions() > kMaxPartitionsPerTopic) {
    return Error(error::kInvalidPartitions,
                 absl::StrCat("partition count ", command.partitions(),
                              " is not in [1, ", kMaxPartitionsPerTopic, "]"));
  }
  if (!command.assignments().empty()) {
    // Distinct live brokers: the factor is within the live count.
    ApplyResult checked =
        CheckAssignment(command.assignments(), command.partitions(),
                        command.replication_factor());
    if (checked.error_code != error::kNone) return checked;
  }
  const int live = LiveBrokerCount();
  if (command.replication_factor() < 1 || command.replication_factor() > live) {
    return Error(
        error::kInvalidReplicationFactor,
        absl::StrCat("replication factor ", command.replication_factor(),
                     " with ", live,
                     " live brokers (unfenced, not being decommissioned)"));
  }
  if (command.topic_id().size() != 16) {
    return Error(error::kInvalidRequest, "topic id must be 16 bytes");
  }
  if (FindTopicById(command.topic_id()) != nullptr) {
    return Error(error::kInvalidRequest, "topic id already in use");
  }
  if (absl::Status s = ValidateTopicConfigs(command.configs()); !s.ok()) {
    return Error(error::kInvalidConfig, std::string(s.message()));
  }
  metapb::TopicInfo topic;
  topic.set_name(command.name());
  topic.set_topic_id(command.topic_id());
  topic.set_created_at_ms(command.created_at_ms());
  *topic.mutable_configs() = command.configs();
  std::sort(topic.mutable_configs()->begin(), topic.mutable_configs()->end(),
            ConfigLess);
  AddPartitions(topic, 0, command.partitions(), command.replication_factor(),
                command.assignments());
  topics_.emplace(command.name(), std::move(topic));
  return {};
}

ApplyResult MetadataState::ApplyDeleteTopic(
    const metapb::DeleteTopic& command) {
  auto it = topics_.find(command.name());
  if (it == topics_.end()) {
    return Error(error::kUnknownTopicOrPartition,
                 absl::StrCat("topic '", command.name(), "' does not exist"));
  }
  std::set<uint64_t> groups;
  for (const metapb::PartitionInfo& partition : it->second.partitions()) {
    group_to_partition_.erase(partition.group_id());
    groups.insert(partition.group_id());
  }
  topics_.erase(it);
  // Markers of its partitions can no longer be written.
  transactions_.DropGroups(groups);
  return {};
}

ApplyResult MetadataState::ApplyCreatePartitions(
    const metapb::CreatePartitions& command) {
  auto it = topics_.find(command.name());
  if (it == topics_.end()) {
    return Error(error::kUnknownTopicOrPartition,
                 absl::StrCat("topic '", command.name(), "' does not exist"));
  }
  metapb::TopicInfo& topic = it->second;
  const int32_t current = topic.partitions_size();
  if (command.total_count() <= current ||
      command.total_count() > kMaxPartitionsPerTopic) {
    return Error(
        error::kInvalidPartitions,
        absl::StrCat("topic has ", current, " partitions; new total ",
                     command.total_count(), " must be larger and at most ",
                     kMaxPartitionsPerTopic));
  }
  const int replication_factor = topic.partitions(0).replicas_size();
  if (replication_factor > LiveBrokerCount()) {
    return Error(error::kInvalidReplicationFactor,
                 "not enough live brokers (unfenced, not being "
                 "decommissioned)");
  }
  if (!command.assignments().empty()) {
    ApplyResult checked =
        CheckAssignment(command.assignments(), command.total_count() - current,
                        replication_factor);
    if (checked.error_code != error::kNone) return checked;
  }
  AddPartitions(topic, current, command.total_count(), replication_factor,
                command.assignments());
  return {};
}

ApplyResult MetadataState::ApplyAlterConfigs(
    const metapb::AlterTopicConfigs& command) {
  auto it = topics_.find(command.name());
  if (it == topics_.end()) {
    return Error(error::kUnknownTopicOrPartition,
                 absl::StrCat("topic '", command.name(), "' does not exist"));
  }
  if (absl::Status s = ValidateTopicConfigs(command.set()); !s.ok()) {
    return Error(error::kInvalidConfig, std::string(s.message()));
  }
  std::map<std::string, std::string> configs;
  for (const auto& entry : it->second.configs()) {
    configs[entry.name()] = entry.value();
  }
  for (const std::string& name : command.remove()) configs.erase(name);
  for (const auto& entry : command.set()) configs[entry.name()] = entry.value();
  it->second.clear_configs();
  for (const auto& [name, value] : configs) {
    metapb::TopicConfigEntry* entry = it->second.add_configs();
    entry->set_name(name);
    entry->set_value(value);
  }
  return {};
}

ApplyResult MetadataState::ApplyCommitOffsets(
    const metapb::CommitOffsets& command) {
  if (command.group().empty()) {
    return Error(error::kInvalidRequest, "empty group id");
  }
  auto& group = offsets_[command.group()];
  for (const metapb::OffsetCommitEntry& entry : command.offsets()) {
    group[{entry.topic(), entry.partition()}] =
        CommittedOffset{entry.offset(), entry.leader_epoch(), entry.metadata(),
                        entry.commit_time_ms()};
  }
  return {};
}

ApplyResult MetadataState::ApplyDeleteGroupOffsets(
    const metapb::DeleteGroupOffsets& command) {
  auto group = offsets_.find(command.group());
  if (group == offsets_.end()) {
    return Error(error::kGroupIdNotFound,
                 absl::StrCat("group '", command.group(), "' does not exist"));
  }
  if (command.all()) {
    offsets_.erase(group);
    return {};
  }
  for (const auto& partition : command.partitions()) {
    group->second.erase({partition.topic(), partition.partition()});
  }
  // A group is stored while it has offsets (as Kafka's Empty group).
  if (group->second.empty()) offsets_.erase(group);
  return {};
}

ApplyResult MetadataState::ApplyTransaction(
    const metapb::MetadataCommand& command) {
  TxnApply txn;
  switch (command.command_case()) {
    case metapb::MetadataCommand::kInitTxnProducer:
      txn = transactions_.Init(command.init_txn_producer(), &next_producer_id_);
      break;
    case metapb::MetadataCommand::kAddTxnPartitions:
      txn = transactions_.Add(command.add_txn_partitions());
      break;
    case metapb::MetadataCommand::kStageTxnOffsets:
      txn = transactions_.Stage(command.stage_txn_offsets());
      break;
    case metapb::MetadataCommand::kEndTxn:
      txn = transactions_.End(command.end_txn());
      break;
    case metapb::MetadataCommand::kTxnMarkerWritten:
      txn = transactions_.MarkerWritten(command.txn_marker_written());
      break;
    default:
      CHRONIK_CHECK(false) << "not a transaction command";
  }
  for (const metapb::CommitOffsets& offsets : txn.offsets_to_commit) {
    ApplyCommitOffsets(offsets);
  }
  ApplyResult result = Error(txn.error_code, std::move(txn.error_message));
  result.first_producer_id = txn.producer_id;
  result.producer_epoch = txn.producer_epoch;
  return result;
}

ApplyResult MetadataState::ApplyAllocateProducerIds(
    const metapb::AllocateProducerIds& command) {
  if (command.count() < 1 || command.count() > kMaxProducerIdBlock) {
    return Error(error::kInvalidRequest, "bad producer id block size");
  }
  ApplyResult result;
  result.first_producer_id = next_producer_id_;
  next_producer_id_ += command.count();
  return result;
}

std::vector<const metapb::BrokerInfo*> MetadataState::Brokers() const {
  std::vector<const metapb::BrokerInfo*> result;
  for (const auto& [id, broker] : brokers_) result.push_back(&broker);
  return result;
}

std::vector<const metapb::BrokerInfo*> MetadataState::LiveBrokers() const {
  std::vector<const metapb::BrokerInfo*> result;
  for (const auto& [id, broker] : brokers_) {
    if (!broker.fenced()) result.push_back(&broker);
  }
  return result;
}

int MetadataState::LiveBrokerCount() const {
  return static_cast<int>(
      std::count_if(brokers_.begin(), brokers_.end(),
                    [](const auto& entry) { return Placeable(entry.second); }));
}

bool MetadataState::IsFenced(uint64_t node_id) const {
  const metapb::BrokerInfo* broker = FindBroker(node_id);
  return broker != nullptr && broker->fenced();
}

const metapb::BrokerInfo* MetadataState::FindBroker(uint64_t node_id) const {
  auto it = brokers_.find(node_id);
  return it == brokers_.end() ? nullptr : &it->second;
}

std::vector<const metapb::TopicInfo*> MetadataState::Topics() const {
  std::vector<const metapb::TopicInfo*> result;
  for (const auto& [name, topic] : topics_) result.push_back(&topic);
  return result;
}

const metapb::TopicInfo* MetadataState::FindTopic(
    absl::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const metapb::TopicInfo* MetadataState::FindTopicById(
    absl::string_view topic_id) const {
  for (const auto& [name, topic] : topics_) {
    if (topic.topic_id() == topic_id) return &topic;
  }
  return nullptr;
}

std::optional<std::pair<std::string, int32_t>> MetadataState::PartitionOfGroup(
    uint64_t group_id) const {
  auto it = group_to_partition_.find(group_id);
  if (it == group_to_partition_.end()) return std::nullopt;
  return it->second;
}

std::optional<CommittedOffset> MetadataState::FindOffset(
    absl::string_view group, absl::string_view topic, int32_t partition) const {
  auto g = offsets_.find(group);
  if (g == offsets_.end()) return std::nullopt;
  auto it = g->second.find({std::string(topic), partition});
  if (it == g->second.end()) return std::nullopt;
  return it->second;
}

bool MetadataState::HasOffsets(absl::string_view group) const {
  return offsets_.find(group) != offsets_.end();
}

std::vector<std::string> MetadataState::OffsetGroups() const {
  std::vector<std::string> result;
  for (const auto& [group, offsets] : offsets_) result.push_back(group);
  return result;
}

metapb::MetadataSnapshot MetadataState::ToSnapshot() const {
  metapb::MetadataSnapshot snapshot;
  for (const auto& [id, broker] : brokers_) *snapshot.add_brokers() = broker;
  for (const auto& [name, topic] : topics_) *snapshot.add_topics() = topic;
  for (const auto& [group, offsets] : offsets_) {
    metapb::GroupOffsets* out = snapshot.add_group_offsets();
    out->set_group(group);
    for (const auto& [key, offset] : offsets) {
      metapb::OffsetCommitEntry* entry = out->add_offsets();
      entry->set_topic(key.first);
      entry->set_partition(key.second);
      entry->set_offset(offset.offset);
      entry->set_leader_epoch(offset.leader_epoch);
      entry->set_metadata(offset.metadata);
      entry->set_commit_time_ms(offset.commit_time_ms);
    }
  }
  snapshot.set_next_group_id(next_group_id_);
  snapshot.set_next_producer_id(next_producer_id_);
  snapshot.set_applied_index(applied_index_);
  snapshot.set_assignment_cursor(assignment_cursor_);
  transactions_.ToSnapshot(&snapshot);
  security_.ToSnapshot(&snapshot);
  for (uint64_t id : removed_brokers_) snapshot.add_removed_brokers(id);
  return snapshot;
}

absl::StatusOr<MetadataState> MetadataState::FromSnapshot(
    const metapb::MetadataSnapshot& snapshot) {
  MetadataState state;
  for (const auto& broker : snapshot.brokers()) {
    if (!state.brokers_.emplace(broker.node_id(), broker).second) {
      return absl::DataLossError(absl::StrCat("metadata snapshot lists broker ",
                                              broker.node_id(), " twice"));
    }
  }
  for (const auto& topic : snapshot.topics()) {
    if (!state.topics_.emplace(topic.name(), topic).second) {
      return absl::DataLossError(absl::StrCat("metadata snapshot lists topic '",
                                              topic.name(), "' twice"));
    }
    if (absl::Status s = ValidateTopicConfigs(topic.configs()); !s.ok()) {
      return absl::DataLossError(absl::StrCat(
          "metadata snapshot: topic '", topic.name(), "': ", s.message()));
    }
    for (const auto& partition : topic.partitions()) {
      if (partition.group_id() == 0 ||
          partition.group_id() >= snapshot.next_group_id() ||
          !state.group_to_partition_
               .emplace(partition.group_id(),
                        std::make_pair(topic.name(), partition.partition()))
               .second) {
        return absl::DataLossError(absl::StrCat(
            "metadata snapshot: bad group id ", partition.group_id(),
            " in topic '", topic.name(), "'"));
      }
    }
  }
  for (const auto& group : snapshot.group_offsets()) {
    auto& offsets = state.offsets_[group.group()];
    for (const auto& entry : group.offsets()) {
      offsets[{entry.topic(), entry.partition()}] =
          CommittedOffset{entry.offset(), entry.leader_epoch(),
                          entry.metadata(), entry.commit_time_ms()};
    }
  }
  state.next_group_id_ = snapshot.next_group_id();
  state.next_producer_id_ = snapshot.next_producer_id();
  state.applied_index_ = snapshot.applied_index();
  state.assignment_cursor_ = snapshot.assignment_cursor();
  if (absl::Status s = state.transactions_.FromSnapshot(snapshot); !s.ok()) {
    return s;
  }
  if (absl::Status s = state.security_.FromSnapshot(snapshot); !s.ok()) {
    return s;
  }
  state.removed_brokers_.insert(snapshot.removed_brokers().begin(),
                                snapshot.removed_brokers().end());
  state.CheckInvariants();
  return state;
}

void MetadataState::CheckInvariants() const {
  size_t partitions = 0;
  for (const auto& [name, topic] : topics_) {
    CHRONIK_CHECK_EQ(name, topic.name());
    CHRONIK_CHECK_EQ(topic.topic_id().size(), 16u);
    CHRONIK_CHECK(std::is_sorted(topic.configs().begin(), topic.configs().end(),
                                 ConfigLess));
    const absl::Status configs = ValidateTopicConfigs(topic.configs());
    CHRONIK_CHECK(configs.ok()) << "topic " << name << ": " << configs;
    for (int i = 0; i < topic.partitions_size(); ++i) {
      const metapb::PartitionInfo& partition = topic.partitions(i);
      CHRONIK_CHECK_EQ(partition.partition(), i);
      CHRONIK_CHECK_LT(partition.group_id(), next_group_id_);
      CHRONIK_CHECK_GE(partition.replicas_size(), 1);
      for (const auto* list :
           {&partition.replicas(), &partition.target_replicas(),
            &partition.initial_replicas()}) {
        CHRONIK_CHECK(std::set<uint64_t>(list->begin(), list->end()).size() ==
                      static_cast<size_t>(list->size()))
            << "partition " << name << "-" << i << " names a node twice";
      }
      ++partitions;
    }
  }
  CHRONIK_CHECK_EQ(partitions, group_to_partition_.size());
  for (uint64_t id : removed_brokers_) {
    CHRONIK_CHECK(brokers_.count(id) == 0)
        << "broker " << id << " is both registered and removed";
  }
}

}  // namespace chronik::metadata
