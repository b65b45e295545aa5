#include "broker/server/partition_manager.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/metadata/topic_config.h"

namespace chronik::broker {
namespace {

// Bytes read per step when scanning a log for a timestamp.
constexpr uint64_t kMaxScanReadBytes = 1 << 20;

}  // namespace

PartitionManager::PartitionManager(raft::NodeId self, env::Clock* clock,
                                   env::LogSink* log,
                                   replication::RaftHost* host,
                                   storage::LogStore* store,
                                   replication::GroupApplier* applier,
                                   int64_t replica_lag_time_max_ms)
    : self_(self),
      clock_(clock),
      log_(log),
      host_(host),
      store_(store),
      applier_(applier),
      replica_lag_time_max_ms_(replica_lag_time_max_ms) {
  CHRONIK_CHECK(clock_ != nullptr && log_ != nullptr && host_ != nullptr &&
                store_ != nullptr && applier_ != nullptr);
}

void PartitionManager::Reconcile(const metadata::MetadataState& state) {
  dirty_ = false;
  add_waits_for_deletion_ = false;
  // Wanted: every partition whose replicas (or reassignment target) include
  // this node. A replica a reassignment in progress leaves out stays until
  // it completes: the group's membership may still count it.
  std::map<uint64_t,
           std::pair<const metapb::TopicInfo*, const metapb::PartitionInfo*>>
      wanted;
  std::set<uint64_t> moving;
  for (const metapb::TopicInfo* topic : state.Topics()) {
    for (const metapb::PartitionInfo& partition : topic->partitions()) {
      const std::vector<uint64_t> hosts = metadata::HostingReplicas(partition);
      if (std::find(hosts.begin(), hosts.end(), self_) != hosts.end()) {
        wanted[partition.group_id()] = {topic, &partition};
      } else if (!partition.target_replicas().empty()) {
        moving.insert(partition.group_id());
      }
    }
  }
  std::vector<uint64_t> gone;
  for (const auto& [group_id, replica] : partitions_) {
    if (wanted.count(group_id) == 0 && moving.count(group_id) == 0) {
      gone.push_back(group_id);
    }
  }
  for (uint64_t group_id : gone) Remove(group_id);
  for (const auto& [group_id, where] : wanted) {
    if (partitions_.count(group_id) == 0) Add(*where.first, *where.second);
  }
}

void PartitionManager::Remove(uint64_t group_id) {
  auto it = partitions_.find(group_id);
  CHRONIK_CHECK(it != partitions_.end());
  it->second->FailPending(kafka::error::kUnknownTopicOrPartition);
  if (absl::Status deleted = host_->DeleteGroup(group_id); !deleted.ok()) {
    log_->Log(env::LogLevel::kError,
              absl::StrCat("deleting the log of group ", group_id, ": ",
                           deleted.message()));
  }
  partitions_.erase(it);
  led_.erase(group_id);
  isr_held_.erase(group_id);
  isr_sampled_.erase(group_id);
  reports_due_ = true;
  compactor_.Forget(group_id);
  next_report_ms_.erase(group_id);
  copy_waiting_.erase(group_id);
}

void PartitionManager::Add(const metapb::TopicInfo& topic,
                           const metapb::PartitionInfo& partition) {
  const uint64_t group_id = partition.group_id();
  if (host_->DeletionPending(group_id)) {
    // Removed a moment ago (a reassignment took this replica out and put it
    // back): its old files are deleted after the flush in flight, and only
    // then can the group open again (dirty()).
    add_waits_for_deletion_ = true;
    return;
  }
  partitions_[group_id] = std::make_unique<PartitionReplica>(
      topic.name(), partition.partition(), group_id, self_);
  partitions_[group_id]->set_log_start_only_on_leader(
      log_start_only_on_leader_);
  // Every member starts the group with its initial voters; one a
  // reassignment added joins (its leader makes it a learner, then a voter).
  replication::GroupSpec spec{group_id, metadata::InitialVoters(partition),
                              true, applier_};
  spec.quiesce = true;  // when the host's quiescence is on
  // Joining: not a replica yet (a reassignment adds it; it may have been
  // one of the initial voters once, its log since deleted), or not one of
  // the initial voters (a replica a completed reassignment added).
  const auto& replicas = partition.replicas();
  spec.joining =
      std::find(replicas.begin(), replicas.end(), self_) == replicas.end() ||
      !std::binary_search(spec.voters.begin(), spec.voters.end(), self_);
  absl::Status status = host_->AddGroup(spec);
  if (!status.ok()) {
    const std::string what = absl::StrCat(
        "opening partition ", topic.name(), "-", partition.partition(),
        " (group ", group_id, "): ", status.message());
    log_->Log(env::LogLevel::kError, what);
    if (storage_failure_.ok()) {
      storage_failure_ = absl::Status(status.code(), what);
    }
    partitions_.erase(group_id);
    led_.erase(group_id);
    isr_sampled_.erase(group_id);
    return;
  }
  // The preferred replica (first listed) starts the first election.
  if (partition.replicas(0) == self_ && !spec.joining &&
      host_->leader(group_id) == raft::kNoNode) {
    host_->Campaign(group_id).IgnoreError();
  }
}

void PartitionManager::Apply(replication::GroupId group_id,
                             const raft::Entry& entry) {
  auto it = partitions_.find(group_id);
  if (it == partitions_.end()) return;  // replay before the replica exists
  it->second->Apply(entry);
  changed_ = true;
  // The replica may be ready to lead now.
  reports_due_ = true;
  reassignments_due_ = true;
}

void PartitionManager::OnLeaderChange(replication::GroupId group_id,
                                      raft::NodeId leader, raft::Term term) {
  auto it = partitions_.find(group_id);
  if (it == partitions_.end()) return;
  it->second->OnLeaderChange(leader, term);
  // (A hold stood for the samples of the leadership before.)
  ReleaseIsrHold(group_id);
  if (it->second->is_leader()) {
    led_.insert(group_id);
    isr_sampled_.insert(group_id);
  } else {
    led_.erase(group_id);
    isr_sampled_.erase(group_id);
  }
  reports_due_ = true;
  reassignments_due_ = true;
}

bool PartitionManager::TakeChanged() {
  const bool changed = changed_;
  changed_ = false;
  return changed;
}

PartitionReplica* PartitionManager::Find(const metadata::MetadataState& state,
                                         const std::string& topic,
                                         int32_t partition) {
  const metapb::TopicInfo* info = state.FindTopic(topic);
  if (info == nullptr || partition < 0 ||
      partition >= info->partitions_size()) {
    return nullptr;
  }
  auto it = partitions_.find(info->partitions(partition).group_id());
  return it == partitions_.end() ? nullptr : it->second.get();
}

int16_t PartitionManager::LeaderReplica(const metadata::MetadataState& state,
                                        const std::string& topic,
                                        int32_t partition, bool require_ready,
                                        PartitionReplica** replica) {
  return LeaderReplica(state, topic, partition, partition::kUndefinedEpoch,
                       require_ready, replica);
}

int16_t PartitionManager::LeaderReplica(const metadata::MetadataState& state,
                                        const std::string& topic,
                                        int32_t partition,
                                        int32_t current_leader_epoch,
                                        bool require_ready,
                                        PartitionReplica** replica) {
  *replica = nullptr;
  const metapb::TopicInfo* info = state.FindTopic(topic);
  if (info == nullptr || partition < 0 ||
      partition >= info->partitions_size()) {
    return kafka::error::kUnknownTopicOrPartition;
  }
  PartitionReplica* found = Find(state, topic, partition);
  if (found == nullptr) return kafka::error::kNotLeaderOrFollower;
  if (int16_t error = found->CheckLeaderEpoch(current_leader_epoch);
      error != kafka::error::kNone) {
    return error;
  }
  if (!found->is_leader() || (require_ready && !found->leader_ready())) {
    return kafka::error::kNotLeaderOrFollower;
  }
  *replica = found;
  return kafka::error::kNone;
}

int32_t PartitionManager::PartitionLeader(
    const metapb::PartitionInfo& partition) const {
  if (!host_->HasGroup(partition.group_id())) {
    return config::KafkaNodeId(partition.leader());
  }
  const raft::NodeId leader = host_->leader(partition.group_id());
  if (leader == raft::kNoNode) return -1;
  if (leader == self_) {
    auto it = partitions_.find(partition.group_id());
    if (it == partitions_.end() || !it->second->leader_ready()) return -1;
  }
  return config::KafkaNodeId(leader);
}

int32_t PartitionManager::PartitionLeaderEpoch(
    const metapb::PartitionInfo& partition) const {
  auto it = partitions_.find(partition.group_id());
  if (it != partitions_.end()) return it->second->leader_epoch();
  return partition.leader_term() == 0
             ? partition::kUndefinedEpoch
             : storage::LeaderEpochOfTerm(partition.leader_term());
}

void PartitionManager::WaitForCopies(PartitionReplica& replica,
                                     PartitionReplica::CopyWait wait) {
  replica.AddCopyWait(std::move(wait));
  copy_waiting_.insert(replica.group_id());
}

void PartitionManager::ReleaseCopies(const metadata::MetadataState& state,
                                     int64_t now_ms) {
  for (auto it = copy_waiting_.begin(); it != copy_waiting_.end();) {
    auto found = partitions_.find(*it);
    const raft::RawNode* node = host_->node(*it);
    if (found == partitions_.end() || !found->second->has_copy_waits()) {
      it = copy_waiting_.erase(it);
      continue;
    }
    PartitionReplica& replica = *found->second;
    if (node == nullptr || !node->is_leader()) {
      replica.FailPending(kafka::error::kNotLeaderOrFollower);
      it = copy_waiting_.erase(it);
      continue;
    }
    // Durable copies: this leader's (what it persisted) and its voters'
    // match indexes (acknowledged only once durable).
    const raft::NodeStatus status = node->Status();
    std::vector<raft::Index> held = {
        std::min(status.persisted, status.last_index)};
    for (const raft::ProgressStatus& peer : status.progress) {
      if (!peer.is_learner) held.push_back(peer.match);
    }
    const size_t isr = InSyncReplicas(state, replica).size();
    replica.ReleaseCopyWaits(
        [&](raft::Index index) {
          return static_cast<int>(
              std::count_if(held.begin(), held.end(),
                            [&](raft::Index h) { return h >= index; }));
        },
        isr, now_ms);
    ++it;
  }
}

std::vector<metapb::MetadataCommand> PartitionManager::LeaderReports(
    const metadata::MetadataState& state, int64_t now_ms) {
  std::vector<metapb::MetadataCommand> reports;
  if (!reports_due_) return reports;
  reports_due_ = false;
  for (const uint64_t group_id : led_) {
    PartitionReplica* const replica = partitions_.at(group_id).get();
    if (!replica->leader_ready()) continue;
    const metapb::TopicInfo* topic = state.FindTopic(replica->topic());
    if (topic == nullptr || replica->partition() >= topic->partitions_size()) {
      continue;
    }
    const metapb::PartitionInfo& known =
        topic->partitions(replica->partition());
    const std::vector<uint64_t> isr = InSyncReplicas(state, *replica);
    if (known.leader() == self_ &&
        known.leader_term() == replica->leader_term() &&
        std::equal(isr.begin(), isr.end(), known.isr().begin(),
                   known.isr().end())) {
      continue;  // the metadata shows it
    }
    reports_due_ = true;  // until the metadata shows it
    int64_t& next_ms = next_report_ms_[group_id];
    if (now_ms < next_ms) continue;
    next_ms = now_ms + kLeaderReportRetryMs;
    metapb::MetadataCommand command;
    metapb::ReportPartitionLeader* report =
        command.mutable_report_partition_leader();
    report->set_group_id(group_id);
    report->set_leader(self_);
    report->set_term(replica->leader_term());
    for (uint64_t id : isr) report->add_isr(id);
    reports.push_back(std::move(command));
  }
  return reports;
}

absl::Status PartitionManager::ReadRecords(const PartitionReplica& replica,
                                           int64_t offset, size_t max_bytes,
                                           bool may_exceed, ByteChain* out,
                                           int64_t end_offset) {
  storage::GroupStorage* storage = store_->group(replica.group_id());
  if (storage == nullptr) return absl::OkStatus();  // group just deleted
  storage::GroupLog& log = storage->log();
  const raft::Index last_index = replica.applied_index();
  absl::StatusOr<uint64_t> index =
      log.IndexForOffset(static_cast<uint64_t>(offset));
  if (!index.ok()) return index.status();
  while (*index <= last_index && out->size() < max_bytes) {
    std::vector<storage::Entry> entries;
    // Reads only what it serves: no entry past max_bytes is read or checked.
    absl::Status status =
        log.Read(*index, last_index + 1, max_bytes - out->size(), &entries,
                 storage::GroupLog::ReadMode::kShare,
                 out->empty() && may_exceed
                     ? storage::GroupLog::ReadLimit::kFirstMayCross
                     : storage::GroupLog::ReadLimit::kWithinMax);
    if (!status.ok()) return status;
    if (entries.empty()) break;
    for (const storage::Entry& entry : entries) {
      if (entry.offset_count == 0) continue;
      if (static_cast<int64_t>(entry.offset_base) >= end_offset) {
        return absl::OkStatus();
      }
      if ((!out->empty() || !may_exceed) &&
          out->size() + entry.data.size() > max_bytes) {
        return absl::OkStatus();
      }
      out->Append(entry.data);
    }
    *index = entries.back().index + 1;
    // Short of last_index, the read stopped at max_bytes or before damage:
    // only damage is worth another read (which fails naming it).
    if (*index <= last_index && log.Term(*index).ok()) break;
  }
  return absl::OkStatus();
}

int64_t PartitionManager::LogStartOffset(PartitionReplica& replica) {
  // DeleteRecords may have moved it past the first stored offset.
  return std::max(FirstStoredOffset(replica), replica.log_start());
}

int64_t PartitionManager::FirstStoredOffset(PartitionReplica& replica) {
  if (std::optional<int64_t> cached = replica.cached_log_start_offset()) {
    return *cached;
  }
  storage::GroupStorage* storage = store_->group(replica.group_id());
  if (storage == nullptr) return 0;
  storage::GroupLog& log = storage->log();
  for (uint64_t index = log.first_index(); index <= log.last_index();) {
    std::vector<storage::Entry> entries;
    if (!log.Read(index, log.last_index() + 1, 1, &entries).ok() ||
        entries.empty()) {
      break;
    }
    for (const storage::Entry& entry : entries) {
      if (entry.offset_count > 0) {
        // Fixed until retention removes segments (which clears the cache).
        replica.set_cached_log_start_offset(
            static_cast<int64_t>(entry.offset_base));
        return static_cast<int64_t>(entry.offset_base);
      }
    }
    index = entries.back().index + 1;
  }
  return replica.high_watermark();  // empty log: starts where it ends
}

std::pair<int64_t, int64_t> PartitionManager::OffsetForTimestamp(
    const PartitionReplica& replica, int64_t timestamp_ms) {
  storage::GroupStorage* storage = store_->group(replica.group_id());
  if (storage == nullptr) return {-1, -1};
  storage::GroupLog& log = storage->log();
  const raft::Index last = replica.applied_index();
  // The time index: no entry before `start` can reach the timestamp.
  absl::StatusOr<uint64_t> start = log.IndexForTimestamp(timestamp_ms);
  if (!start.ok()) return {-1, -1};
  for (uint64_t index = std::max(*start, log.first_index()); index <= last;) {
    std::vector<storage::Entry> entries;
    if (!log.Read(index, last + 1, kMaxScanReadBytes, &entries).ok() ||
        entries.empty()) {
      break;
    }
    for (const storage::Entry& entry : entries) {
      // Control entries, and batches DeleteRecords removed.
      if (entry.offset_count == 0 ||
          entry.offset_base + entry.offset_count <=
              static_cast<uint64_t>(replica.log_start())) {
        continue;
      }
      if (ReadBatchFacts(
              absl::string_view(entry.data.data(), entry.data.size()))
              .max_timestamp_ms < timestamp_ms) {
        continue;
      }
      absl::StatusOr<kafka::RecordBatchView> batch = kafka::ParseRecordBatch(
          absl::string_view(entry.data.data(), entry.data.size()));
      if (!batch.ok()) continue;
      // LogAppendTime: every record has the batch's append time.
      if (batch->header.is_log_append_time()) {
        return {std::max(batch->header.base_offset, replica.log_start()),
                batch->header.max_timestamp};
      }
      absl::StatusOr<std::vector<kafka::Record>> records =
          kafka::DecodeRecords(*batch);
      if (!records.ok()) continue;
      for (const kafka::Record& record : *records) {
        const int64_t ts =
            batch->header.base_timestamp + record.timestamp_delta;
        const int64_t offset = batch->header.base_offset + record.offset_delta;
        if (ts >= timestamp_ms && offset >= replica.log_start()) {
          return {offset, ts};
        }
      }
    }
    index = entries.back().index + 1;
  }
  return {-1, -1};
}

std::pair<int64_t, int64_t> PartitionManager::OffsetOfMaxTimestamp(
    const PartitionReplica& replica) {
  storage::GroupStorage* storage = store_->group(replica.group_id());
  if (storage == nullptr) return {-1, -1};
  storage::GroupLog& log = storage->log();
  const raft::Index last = replica.applied_index();
  int64_t max_timestamp = -1;
  bool any = false;
  for (uint64_t index = log.first_index(); index <= last;) {
    std::vector<storage::Entry> entries;
    if (!log.Read(index, last + 1, kMaxScanReadBytes, &entries).ok() ||
        entries.empty()) {
      break;
    }
    for (const storage::Entry& entry : entries) {
      if (entry.offset_count == 0 ||
          entry.offset_base + entry.offset_count <=
              static_cast<uint64_t>(replica.log_start())) {
        continue;
      }
      const int64_t batch_max =
          ReadBatchFacts(
              absl::string_view(entry.data.data(), entry.data.size()))
              .max_timestamp_ms;
      if (!any || batch_max > max_timestamp) max_timestamp = batch_max;
      any = true;
    }
    index = entries.back().index + 1;
  }
  if (!any) return {-1, -1};
  // The first record at or after it is the first with it.
  return OffsetForTimestamp(replica, max_timestamp);
}

void PartitionManager::RunDueMaintenance(const metadata::MetadataState& state) {
  if (!retention_due_ && !compaction_due_) return;
  if (host_->flush_in_flight()) {
    host_->RequestQuietStore();
    return;
  }
  if (std::exchange(retention_due_, false)) ApplyRetention(state);
  if (std::exchange(compaction_due_, false)) CompactLogs(state);
}

void PartitionManager::ApplyRetention(const metadata::MetadataState& state) {
  // Segment files must not disappear while the IO thread may sync them.
  CHRONIK_CHECK(!host_->flush_in_flight());
  const int64_t now = clock_->NowMs();
  for (const auto& [group_id, partition] : partitions_) {
    const metapb::TopicInfo* topic = state.FindTopic(partition->topic());
    storage::GroupStorage* storage = store_->group(group_id);
    if (topic == nullptr || storage == nullptr || !host_->HasGroup(group_id)) {
      continue;
    }
    storage::RetentionLimits limits;
    limits.now_ms = now;
    // cleanup.policy=compact alone: compaction, never retention (Kafka).
    if (metadata::CleanupDelete(*topic)) {
      limits.retention_ms = metadata::RetentionMs(*topic);
      limits.retention_bytes = metadata::RetentionBytes(*topic);
    }
    // Never what is not applied here. A follower that still needs what goes
    // installs the snapshot at the cut instead (see RaftHost).
    limits.max_removable_index = partition->applied_index();
    // And whatever DeleteRecords removed (the same cut).
    limits.log_start_offset = partition->log_start();
    const std::optional<storage::GroupLog::RetentionCutPoint> cut =
        storage->log().RetentionCut(limits);
    if (!cut.has_value() || cut->index <= host_->snapshot_index(group_id)) {
      continue;
    }
    const std::string image = partition->SnapshotImage(
        cut->index, static_cast<int64_t>(cut->next_offset));
    absl::Status compacted = host_->CompactLog(
        group_id, replication::SnapshotImage{cut->index, cut->term,
                                             cut->next_offset, image});
    if (!compacted.ok()) {
      log_->Log(
          env::LogLevel::kError,
          absl::StrCat("retention of ", partition->topic(), "-",
                       partition->partition(), ": ", compacted.message()));
      continue;
    }
    // The segments go with the next flush; the log starts there from now.
    partition->set_cached_log_start_offset(
        static_cast<int64_t>(cut->next_offset));
    partition->TruncateEpochs(static_cast<int64_t>(cut->next_offset));
  }
}

void PartitionManager::CompactLogs(const metadata::MetadataState& state) {
  // Segment files must not change while the IO thread may sync them.
  CHRONIK_CHECK(!host_->flush_in_flight());
  const int64_t now = clock_->NowMs();
  std::vector<uint64_t> due;
  for (const auto& [group_id, partition] : partitions_) {
    const metapb::TopicInfo* topic = state.FindTopic(partition->topic());
    storage::GroupStorage* storage = store_->group(group_id);
    if (topic == nullptr || storage == nullptr || storage->failed() ||
        !host_->HasGroup(group_id)) {
      continue;
    }
    absl::Status rolled = compactor_.Roll(*topic, now, storage->log());
    if (!rolled.ok()) {
      log_->Log(env::LogLevel::kError,
                absl::StrCat("segment roll of ", partition->topic(), "-",
                             partition->partition(), ": ", rolled.message()));
    }
    if (metadata::CleanupCompact(*topic)) due.push_back(group_id);
  }
  if (due.empty()) return;
  auto next = std::lower_bound(due.begin(), due.end(), next_compact_group_);
  const uint64_t group_id = next == due.end() ? due.front() : *next;
  next_compact_group_ = group_id + 1;
  PartitionReplica& partition = *partitions_.at(group_id);
  absl::Status compacted =
      compactor_.MaybeCompact(*state.FindTopic(partition.topic()), partition,
                              now, store_->group(group_id)->log());
  if (!compacted.ok()) {
    log_->Log(env::LogLevel::kError,
              absl::StrCat("log compaction of ", partition.topic(), "-",
                           partition.partition(), ": ", compacted.message()));
  }
}

absl::Status PartitionManager::RestoreSnapshot(
    uint64_t group_id, const replication::SnapshotImage& image) {
  auto it = partitions_.find(group_id);
  CHRONIK_CHECK(it != partitions_.end())
      << "snapshot for partition group " << group_id << " not hosted here";
  changed_ = true;
  reports_due_ = true;
  return it->second->RestoreSnapshot(image.index, image.term,
                                     static_cast<int64_t>(image.next_offset),
                                     image.data);
}

std::optional<std::string> PartitionManager::CheckpointImage(
    uint64_t group_id) const {
  auto it = partitions_.find(group_id);
  if (it == partitions_.end()) return std::nullopt;
  return it->second->CheckpointImage();
}

absl::Status PartitionManager::RestoreCheckpoint(uint64_t group_id,
                                                 raft::Index index,
                                                 raft::Term term,
                                                 absl::string_view image) {
  auto it = partitions_.find(group_id);
  if (it == partitions_.end()) {
    return absl::NotFoundError(
        absl::StrCat("group ", group_id, " is not a partition hosted here"));
  }
  changed_ = true;
  return it->second->RestoreCheckpoint(index, term, image);
}

void PartitionManager::AddMetrics(const metadata::MetadataState& state,
                                  BrokerMetrics* metrics) const {
  metrics->partitions = partitions_.size();
  metrics->partitions_led = 0;
  metrics->isr_held_partitions = isr_held_.size();
  metrics->under_replicated_partitions = 0;
  metrics->log_bytes = 0;
  metrics->compaction_passes = compactor_.totals().passes;
  metrics->compaction_records_removed = compactor_.totals().records_removed;
  metrics->compaction_markers_removed = compactor_.totals().markers_removed;
  for (const auto& [group_id, partition] : partitions_) {
    if (partition->is_leader()) {
      ++metrics->partitions_led;
      const metapb::TopicInfo* topic = state.FindTopic(partition->topic());
      // (Read only: an ISR not tracked yet for this term counts at the next
      // tick.)
      const partition::IsrTracker& tracker = partition->isr_tracker();
      if (topic != nullptr &&
          partition->partition() < topic->partitions_size() &&
          tracker.term() == partition->leader_term() &&
          tracker.Isr(tick_ms_, replica_lag_time_max_ms_).size() <
              static_cast<size_t>(
                  topic->partitions(partition->partition()).replicas_size())) {
        ++metrics->under_replicated_partitions;
      }
    }
    storage::GroupStorage* storage = store_->group(group_id);
    if (storage != nullptr) metrics->log_bytes += storage->log().size_bytes();
  }
}

uint64_t PartitionManager::StoredBytes(const PartitionReplica& replica) const {
  storage::GroupStorage* storage = store_->group(replica.group_id());
  return storage == nullptr ? 0 : storage->log().size_bytes();
}

}  // namespace chronik::broker
