#include "broker/server/leader_balance.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"

namespace chronik::broker {

raft::NodeId PreferredReplica(const metapb::PartitionInfo& partition,
                              const env::BrokerBugs& bugs) {
  CHRONIK_CHECK_GT(partition.replicas_size(), 0);
  return bugs.preferred_is_last_replica
             ? partition.replicas(partition.replicas_size() - 1)
             : partition.replicas(0);
}

LeaderBalance::LeaderBalance(raft::NodeId self,
                             const config::ServerConfig& config,
                             replication::RaftHost* host,
                             PartitionManager* partitions, env::LogSink* log,
                             const env::BrokerBugs& bugs)
    : self_(self),
      config_(config),
      host_(host),
      partitions_(partitions),
      log_(log),
      bugs_(bugs),
      next_check_ms_(config.leader_imbalance_check_interval_ms) {
  CHRONIK_CHECK(host_ != nullptr && partitions_ != nullptr && log_ != nullptr);
  CHRONIK_CHECK_GT(config.leader_imbalance_check_interval_ms, 0);
}

void LeaderBalance::OnWish(const metapb::ElectPreferredLeaders& wish,
                           int64_t now_ms) {
  for (uint64_t group_id : wish.group_ids()) {
    // Only groups hosted here can be led here.
    if (host_->HasGroup(group_id)) {
      wishes_[group_id] = now_ms + kPreferredWishMs;
    }
  }
}

bool LeaderBalance::Eligible(const metadata::MetadataState& state,
                             const metapb::PartitionInfo& partition,
                             raft::NodeId preferred) {
  if (state.FindBroker(preferred) == nullptr || state.IsFenced(preferred)) {
    return false;
  }
  const std::optional<std::pair<std::string, int32_t>> where =
      state.PartitionOfGroup(partition.group_id());
  if (!where.has_value()) return false;
  PartitionReplica* replica =
      partitions_->Find(state, where->first, where->second);
  if (replica == nullptr) return false;
  const std::vector<uint64_t> isr =
      partitions_->InSyncReplicas(state, *replica);
  if (!std::binary_search(isr.begin(), isr.end(), preferred)) return false;
  const raft::NodeStatus status = host_->node(partition.group_id())->Status();
  for (const raft::ProgressStatus& progress : status.progress) {
    if (progress.id != preferred) continue;
    return progress.recent_active && !progress.is_learner &&
           progress.match >= status.hard_state.commit;
  }
  return false;
}

void LeaderBalance::Act(const metadata::MetadataState& state, int64_t now_ms,
                        bool draining) {
  for (auto it = wishes_.begin(); it != wishes_.end();) {
    const uint64_t group_id = it->first;
    const std::optional<std::pair<std::string, int32_t>> where =
        state.PartitionOfGroup(group_id);
    if (now_ms >= it->second || !where.has_value() ||
        !host_->HasGroup(group_id)) {
      it = wishes_.erase(it);
      continue;
    }
    const raft::RawNode* node = host_->node(group_id);
    const metapb::PartitionInfo& partition =
        state.FindTopic(where->first)->partitions(where->second);
    const raft::NodeId preferred = PreferredReplica(partition, bugs_);
    if (host_->leader(group_id) == preferred) {
      it = wishes_.erase(it);  // done
      continue;
    }
    if (draining || node == nullptr || !node->is_leader() ||
        node->Status().transferee != raft::kNoNode ||
        !Eligible(state, partition, preferred)) {
      ++it;  // perhaps later (or by the leader elsewhere)
      continue;
    }
    const absl::Status asked = host_->TransferLeadership(group_id, preferred);
    if (asked.ok()) ++transfers_;
    log_->Log(
        asked.ok() ? env::LogLevel::kInfo : env::LogLevel::kWarn,
        absl::StrCat("preferred leader: partition ", where->first, "/",
                     where->second, " (group ", group_id,
                     "): leadership to broker ", config::KafkaNodeId(preferred),
                     asked.ok() ? "" : ": ", asked.message()));
    it = wishes_.erase(it);
  }
}

std::optional<metapb::MetadataCommand> LeaderBalance::Balance(
    const metadata::MetadataState& state, int64_t now_ms, bool draining) {
  if (!config_.auto_leader_rebalance_enable || now_ms < next_check_ms_) {
    return std::nullopt;
  }
  next_check_ms_ = now_ms + config_.leader_imbalance_check_interval_ms;

  if (draining || state.FindBroker(self_) == nullptr || state.IsFenced(self_)) {
    return std::nullopt;
  }
  int preferred_of = 0;
  int not_led = 0;
  metapb::MetadataCommand command;
  metapb::ElectPreferredLeaders* wish =
      command.mutable_elect_preferred_leaders();
  for (const metapb::TopicInfo* topic : state.Topics()) {
    for (const metapb::PartitionInfo& partition : topic->partitions()) {
      if (PreferredReplica(partition, bugs_) != self_ ||
          !host_->HasGroup(partition.group_id())) {
        continue;
      }
      ++preferred_of;
      const raft::NodeId leader = host_->leader(partition.group_id());
      if (leader == self_) continue;
      ++not_led;
      const auto& isr = partition.isr();
      const bool in_isr =
          isr.empty() || std::find(isr.begin(), isr.end(), self_) != isr.end();
      if (leader != raft::kNoNode && in_isr) {
        wish->add_group_ids(partition.group_id());
      }
    }
  }
  if (int64_t{not_led} * 100 <=
          int64_t{config_.leader_imbalance_per_broker_percentage} *
              preferred_of ||
      wish->group_ids().empty()) {
    return std::nullopt;
  }
  std::sort(wish->mutable_group_ids()->begin(),
            wish->mutable_group_ids()->end());
  wish->set_requested_by(self_);
  ++requests_;
  log_->Log(env::LogLevel::kInfo,
            absl::StrCat("leader balance: this broker leads ",
                         preferred_of - not_led, " of the ", preferred_of,
                         " partitions it is the preferred replica of; asking "
                         "for ",
                         wish->group_ids_size(), " back"));
  return command;
}

}  // namespace chronik::broker
