#include "broker/server/broker.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/server/broker_liveness.h"
#include "broker/server/cluster_membership.h"
#include "broker/server/cluster_status.h"
#include "broker/server/connections.h"
#include "broker/server/controlled_shutdown.h"
#include "broker/server/group_service.h"
#include "broker/server/handlers/handlers.h"
#include "broker/server/leader_balance.h"
#include "broker/server/metadata_client.h"
#include "broker/server/partition_manager.h"
#include "broker/server/producer_ids.h"
#include "broker/server/txn_markers.h"

namespace chronik::broker {
namespace {

// The broker speaks Raft node ids inside (config/node_ids.h): its own id and
// its peers' are converted here, once.
BrokerOptions WithRaftIds(BrokerOptions options) {
  options.config.node_id = config::RaftNodeId(options.config.node_id);
  for (config::PeerConfig& peer : options.config.peers) {
    peer.id = config::RaftNodeId(peer.id);
  }
  return options;
}

}  // namespace

// The wiring of the components and the control flow of a step. Everything a
// step produces is appended to `out_` and handed to the driver by Process().
class Broker::Impl : public replication::GroupApplier {
 public:
  Impl(const BrokerOptions& options, const env::Environment& env)
      : options_(WithRaftIds(options)), config_(options_.config), env_(env) {
    CHRONIK_CHECK(env.clock != nullptr && env.disk != nullptr &&
                  env.log != nullptr);
  }

  absl::Status Start();
  void OnConnectionOpen(ConnectionId id, const env::ConnectionInfo& info) {
    CheckStarted();
    connections_->Open(id, info);
  }
  void OnConnectionInput(ConnectionId id, InputBuffer* input) {
    CheckStarted();
    connections_->Read(id, input,
                       [this](const RequestContext& c, kafka::AnyRequest& r) {
                         Dispatch(*services_, c, r);
                       });
  }
  void OnConnectionClose(ConnectionId id) {
    CheckStarted();
    connections_->Closed(id);
  }
  void OnPeerMessage(uint64_t group_id, raft::Message message);
  void OnSyncDone(uint64_t flush_id, std::vector<absl::Status> results) {
    CheckStarted();
    host_->OnSyncDone(flush_id, std::move(results));
  }
  void Tick();
  void BeginShutdown() {
    CheckStarted();
    // A draining node never starts an election (its own timeout included):
    // it would take back the leadership it is handing over.
    host_->SetCampaignAllowed(false);
    shutdown_->Begin(TickMs());
  }
  absl::Status StopCleanly() { return host_->StopCleanly(); }  // started
  bool ShutdownComplete() const {
    return shutdown_ != nullptr && shutdown_->complete();
  }
  absl::Status Decommission(int32_t kafka_id, bool cancel) {
    CheckStarted();
    if (config_.mode != config::ServerConfig::Mode::kCluster) {
      return absl::FailedPreconditionError(
          "a standalone broker cannot be decommissioned");
    }
    if (kafka_id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("broker id ", kafka_id, " is negative"));
    }
    if (!MetadataCaughtUp()) {
      return absl::UnavailableError(
          "this node has not caught up with the metadata yet; retry");
    }
    return membership_->RequestDecommission(
        config::RaftNodeId(static_cast<uint64_t>(kafka_id)), cancel, TickMs());
  }
  env::StepOutput Process();
  bool HasWork() const {
    return host_ != nullptr &&
           ((partitions_->dirty() && MetadataCaughtUp()) || host_->HasWork());
  }
  // The node acts on its metadata view (opens and deletes partition
  // replicas, says it is ready) only once it has applied what it had stored
  // when it started: a restarted node whose commit index was not yet stored
  // replays an older view first, in which a topic deleted since still exists
  // (its groups would come back for a moment, electing leaders again in
  // terms the deleted groups had used). A stored tail a new leader truncated
  // counts only up to what is left of it.
  bool MetadataCaughtUp() const {
    const storage::GroupStorage* log = store_->group(kMetadataGroup);
    if (log == nullptr) return true;
    // A joiner knows nothing until it installed the controller's snapshot.
    if (config_.join && metadata_applied_ == 0 &&
        !options_.broker_bugs.joiner_acts_before_learning) {
      return false;
    }
    return metadata_applied_ >=
           std::min<raft::Index>(metadata_stored_at_start_, log->last_index());
  }
  bool IsReady() const {
    // Registered and not fenced: clients find it in Metadata.
    return metadata_ != nullptr && MetadataCaughtUp() &&
           metadata_->state().FindBroker(config_.node_id) != nullptr &&
           !metadata_->state().IsFenced(config_.node_id) &&
           metadata_->leader() != raft::kNoNode && !membership_->removed();
  }
  BrokerMetrics Metrics() const;
  ClusterStatus Status() const;
  const storage::StoreStats& StoreStats() const {
    CheckStarted();
    return store_->stats();
  }
  const CompactionTotals& CompactionStats() const {
    CheckStarted();
    return partitions_->compaction_totals();
  }
  bool HasFlushInFlight() const {
    return host_ != nullptr && host_->flush_in_flight();
  }
  absl::Status StorageFailure() const {
    if (partitions_ != nullptr && !partitions_->storage_failure().ok()) {
      return partitions_->storage_failure();
    }
    if (host_ == nullptr || host_->failed_groups().empty()) {
      return absl::OkStatus();
    }
    const auto& [group_id, status] = *host_->failed_groups().begin();
    return absl::Status(status.code(),
                        absl::StrCat("storage failed in Raft group ", group_id,
                                     ": ", status.message()));
  }

  // GroupApplier.
  void Apply(replication::GroupId group_id, const raft::Entry& entry) override;
  void OnLeaderChange(replication::GroupId group_id, raft::NodeId leader,
                      raft::Term term) override;
  std::string TakeSnapshot(replication::GroupId group_id) override;
  std::optional<std::string> CheckpointImage(
      replication::GroupId group_id) override {
    return partitions_->CheckpointImage(group_id);
  }
  absl::Status RestoreCheckpoint(replication::GroupId group_id,
                                 raft::Index index, raft::Term term,
                                 absl::string_view image) override {
    return partitions_->RestoreCheckpoint(group_id, index, term, image);
  }
  absl::Status RestoreSnapshot(
      replication::GroupId group_id,
      const replication::SnapshotImage& image) override;
  // Storage and snapshot counters (tests, the simulator's report).
  replication::RaftHost::SnapshotStats SnapshotStats() const {
    CheckStarted();
    return host_->snapshot_stats();
  }
  std::string MetadataImage() const {
    CheckStarted();
    return metadata_->TakeSnapshot();
  }

 private:
  void CheckStarted() const {
    CHRONIK_CHECK(host_ != nullptr) << "Broker used before Start() succeeded";
  }
  replication::HostOptions HostOptions() const;
  // Time as the node's ticks tell it (never jumps, unlike env.clock): what
  // session timeouts and replica lag are measured in.
  int64_t TickMs() const {
    return static_cast<int64_t>(ticks_) * options_.tick_interval_ms;
  }
  // Controller: proposes the fencing and unfencing of brokers.
  void ProposeLiveness();
  // Transaction markers of the partitions this node leads, and (on the
  // coordinator) transaction timeouts (txn_markers.h).
  void DriveTransactions(int64_t now_ms);
  void AddRaftMetrics(BrokerMetrics* metrics) const;
  // One info line per Raft role change of a group on this node.
  void LogRoleChange(replication::GroupId group_id, raft::NodeId leader,
                     raft::Term term) const;
  // How this node starts the metadata group (cluster_membership.h).
  absl::StatusOr<MetadataGroupStart> MetadataStart() const;

  const BrokerOptions options_;
  const config::ServerConfig& config_;
  const env::Environment env_;
  env::StepOutput out_;
  std::unique_ptr<storage::LogStore> store_;
  std::unique_ptr<replication::RaftHost> host_;
  std::unique_ptr<ConnectionTable> connections_;
  std::unique_ptr<MetadataClient> metadata_;
  std::unique_ptr<PartitionManager> partitions_;
  std::unique_ptr<GroupService> groups_;
  std::unique_ptr<ProducerIdAllocator> producer_ids_;
  std::unique_ptr<BrokerLiveness> liveness_;
  std::unique_ptr<ControlledShutdown> shutdown_;
  std::unique_ptr<LeaderBalance> balance_;
  std::unique_ptr<TxnMarkers> txn_markers_;
  std::unique_ptr<ClusterMembership> membership_;
  Deadlines deadlines_;
  FetchWaiters fetches_;
  TopicLeaderWaits topic_waits_;
  ElectionWaits elections_;
  std::unique_ptr<Security> security_;
  std::unique_ptr<Services> services_;
  uint64_t ticks_ = 0;
  // The metadata log this node had stored when it started, and how far it
  // has applied the log since (see MetadataCaughtUp).
  raft::Index metadata_stored_at_start_ = 0;
  raft::Index metadata_applied_ = 0;
};

replication::HostOptions Broker::Impl::HostOptions() const {
  replication::HostOptions host;
  host.self = config_.node_id;
  host.seed = env_.seed;
  host.election_timeout_ticks = options_.election_timeout_ticks;
  host.heartbeat_timeout_ticks = options_.heartbeat_timeout_ticks;
  host.injected_bugs = options_.injected_bugs;
  host.observer = options_.raft_observer;
  host.log_options.segment_max_bytes = options_.segment_max_bytes;
  host.max_log_tail_bytes = options_.max_log_tail_bytes;
  host.async_flush = env_.fsync_mode == env::FsyncMode::kAsync;
  host.sync_files = env_.sync_files;
  host.quiesce = config_.raft_quiesce;
  host.checkpoints = options_.checkpoints;
  host.idle_tail_log_checkpoint_ticks = options_.idle_tail_log_checkpoint_ticks;
  return host;
}

absl::StatusOr<MetadataGroupStart> Broker::Impl::MetadataStart() const {
  if (config_.mode == config::ServerConfig::Mode::kCluster &&
      !options_.broker_bugs.metadata_group_of_one) {
    return StartMetadataGroup(env_.disk, config_);
  }
  return MetadataGroupStart{{config_.node_id}, false, false};
}

absl::Status Broker::Impl::Start() {
  CHRONIK_CHECK(host_ == nullptr) << "Start() called twice";
  absl::StatusOr<std::unique_ptr<storage::LogStore>> store =
      storage::LogStore::Open(env_.disk, "", options_.store);
  if (!store.ok()) {
    return absl::Status(
        store.status().code(),
        absl::StrCat("opening the log store: ", store.status().message()));
  }
  store_ = std::move(*store);
  host_ = std::make_unique<replication::RaftHost>(HostOptions(), store_.get());
  connections_ =
      std::make_unique<ConnectionTable>(config_, env_.clock, env_.log, &out_);
  metadata_ = std::make_unique<MetadataClient>(config_, env_, host_.get(),
                                               &out_, options_.broker_bugs);
  partitions_ = std::make_unique<PartitionManager>(
      config_.node_id, env_.clock, env_.log, host_.get(), store_.get(), this,
      options_.broker_bugs.isr_never_shrinks
          ? std::numeric_limits<int64_t>::max() / 2
          : config_.replica_lag_time_max_ms);
  partitions_->set_log_start_only_on_leader(
      options_.broker_bugs.log_start_not_replicated);
  partitions_->set_compaction_drops_latest(
      options_.broker_bugs.compaction_drops_latest);
  partitions_->set_compaction_max_keys_per_pass(
      options_.compaction_max_keys_per_pass);
  groups_ = std::make_unique<GroupService>(
      config_.node_id, connections_.get(), options_.broker_bugs,
      config_.group_initial_rebalance_delay_ms);
  liveness_ = std::make_unique<BrokerLiveness>(
      config_.node_id, config_.broker_session_timeout_ms,
      options_.broker_bugs.never_fence);
  shutdown_ = std::make_unique<ControlledShutdown>(kMetadataGroup, host_.get(),
                                                   env_.log);
  balance_ = std::make_unique<LeaderBalance>(config_.node_id, config_,
                                             host_.get(), partitions_.get(),
                                             env_.log, options_.broker_bugs);
  txn_markers_ = std::make_unique<TxnMarkers>(host_.get(), partitions_.get(),
                                              options_.broker_bugs);
  producer_ids_ = std::make_unique<ProducerIdAllocator>(
      config_.node_id, env_.seed, env_.clock, metadata_.get(),
      connections_.get());
  security_ = std::make_unique<Security>(config_, env_.seed);
  services_.reset(new Services{
      config_, options_.broker_bugs, *env_.clock, *host_, *connections_,
      *metadata_, *partitions_, *groups_, *producer_ids_, deadlines_, fetches_,
      topic_waits_, elections_, [this] { return MetadataCaughtUp(); },
      env_.disk, security_.get()});
  membership_ = std::make_unique<ClusterMembership>(config_, host_.get(),
                                                    metadata_.get(), env_.log);
  absl::StatusOr<MetadataGroupStart> start = MetadataStart();
  if (!start.ok()) {
    return absl::Status(
        start.status().code(),
        absl::StrCat("metadata group: ", start.status().message()));
  }
  replication::GroupSpec spec{kMetadataGroup, start->voters, false, this};
  spec.joining = start->joining;
  spec.voters_unknown = start->voters_unknown;
  spec.snapshot_policy.max_entries = options_.metadata_snapshot_entries;
  spec.snapshot_policy.max_bytes = options_.metadata_snapshot_bytes;
  spec.snapshot_policy.segment_max_bytes = options_.metadata_segment_max_bytes;
  absl::Status status = host_->AddGroup(spec);
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("metadata group: ", status.message()));
  }
  const storage::GroupStorage* log = store_->group(kMetadataGroup);
  CHRONIK_CHECK(log != nullptr);
  if (start->voters_unknown && log->last_index() > 0 &&
      log->snapshot_meta().index == 0) {
    // A joiner's log only ever starts after a snapshot it installed.
    return absl::FailedPreconditionError(
        "metadata group: --join with a data directory holding a metadata log "
        "of a node that founded its cluster: start it without --join");
  }
  metadata_stored_at_start_ = log->last_index();
  metadata_applied_ =
      std::max<raft::Index>(metadata_applied_, log->first_index() - 1);
  // A group of one elects itself at once; larger groups wait for a timeout.
  if (start->voters.size() == 1 && !start->joining) {
    CHRONIK_CHECK(host_->Campaign(kMetadataGroup).ok());
  }
  partitions_->MarkDirty();
  return absl::OkStatus();
}

void Broker::Impl::OnPeerMessage(uint64_t group_id, raft::Message message) {
  CheckStarted();
  // Any metadata-group message shows its sender alive, a joiner's forwarded
  // registration too (it is no member yet, so that is all it sends).
  const bool forward = message.type == raft::MessageType::kForwardProposal;
  if (group_id == kMetadataGroup &&
      !(forward && options_.broker_bugs.joiner_registers_once)) {
    liveness_->OnHeard(message.from, TickMs());
  }
  if (forward) {
    // A follower's metadata command (its registration, an auto-creation).
    if (group_id == kMetadataGroup) metadata_->OnForwardedProposal(message);
    return;
  }
  // (A draining node's cores decline TimeoutNow: SetCampaignAllowed(false).)
  // Messages for groups not (yet) created here are dropped: Raft retries.
  host_->Step(group_id, std::move(message)).IgnoreError();
}

void Broker::Impl::Tick() {
  CheckStarted();
  host_->Tick();
  ++ticks_;
  shutdown_->Advance(TickMs());
  partitions_->TrackIsr(metadata_->state(), TickMs());
  for (const metapb::MetadataCommand& complete :
       partitions_->DriveReassignments(metadata_->state(), TickMs())) {
    metadata_->ProposeOrForward(complete);
  }
  if (MetadataCaughtUp()) membership_->Drive(TickMs());
  if (std::optional<metapb::MetadataCommand> wish = balance_->Balance(
          metadata_->state(), TickMs(), shutdown_->draining())) {
    metadata_->ProposeOrForward(*wish);
  }
  if (ticks_ % options_.retention_check_ticks == 0) {
    partitions_->MarkRetentionDue();
  }
  if (ticks_ % options_.compaction_check_ticks == 0) {
    partitions_->MarkCompactionDue();
  }
  partitions_->RunDueMaintenance(metadata_->state());
  const int64_t now = env_.clock->NowMs();
  DriveTransactions(now);
  groups_->Tick(now);
  deadlines_.Expire(now);
  fetches_.Retry(*services_, /*expire=*/true);
  connections_->CloseFailedAuthentications();
}

env::StepOutput Broker::Impl::Process() {
  CheckStarted();
  if (partitions_->dirty() && MetadataCaughtUp()) {
    partitions_->Reconcile(metadata_->state());
  }
  // Before the host may begin a flush: maintenance that waited for a
  // moment with none in flight.
  partitions_->RunDueMaintenance(metadata_->state());
  // The one storage flush of this step (group commit of every input since
  // the last step); what it makes durable is applied within the call.
  host_->Process(&out_.peer_messages);
  shutdown_->Advance(TickMs());
  balance_->Act(metadata_->state(), TickMs(), shutdown_->draining());
  partitions_->ReleaseCopies(metadata_->state(), env_.clock->NowMs());
  metadata_->MaybeRegister();
  for (const metapb::MetadataCommand& report :
       partitions_->LeaderReports(metadata_->state(), env_.clock->NowMs())) {
    metadata_->ProposeOrForward(report);
  }
  ProposeLiveness();
  membership_->Observe(TickMs(), MetadataCaughtUp(), &out_);
  producer_ids_->Serve();
  topic_waits_.Check(*services_);
  elections_.Check(*services_);
  groups_->AnswerCompletions();
  if (partitions_->TakeChanged()) fetches_.Retry(*services_, false);
  if (std::optional<env::SyncRequest> sync = host_->TakeSyncRequest()) {
    CHRONIK_CHECK(!out_.sync.has_value());
    out_.sync = std::move(*sync);
  }
  env::StepOutput out = std::move(out_);
  out_ = env::StepOutput{};
  return out;
}

void Broker::Impl::Apply(replication::GroupId group_id,
                         const raft::Entry& entry) {
  if (group_id != kMetadataGroup) {
    partitions_->Apply(group_id, entry);
    return;
  }
  metadata_applied_ = entry.index;
  partitions_->MetadataChanged();
  std::optional<MetadataClient::Applied> applied = metadata_->Apply(entry);
  if (!applied.has_value()) return;
  // Wishes in the log stored before this start are old news (partition
  // groups do not exist yet while Start replays it; later they are skipped
  // by index).
  if (applied->command.has_elect_preferred_leaders() &&
      entry.index > metadata_stored_at_start_) {
    balance_->OnWish(applied->command.elect_preferred_leaders(), TickMs());
  }
  partitions_->MarkDirty();
  producer_ids_->OnApplied(*applied);
}

std::string Broker::Impl::TakeSnapshot(replication::GroupId group_id) {
  CHRONIK_CHECK_EQ(group_id, kMetadataGroup)
      << "only the metadata group is snapshotted by policy";
  return metadata_->TakeSnapshot();
}

absl::Status Broker::Impl::RestoreSnapshot(
    replication::GroupId group_id, const replication::SnapshotImage& image) {
  if (group_id != kMetadataGroup) {
    return partitions_->RestoreSnapshot(group_id, image);
  }
  if (absl::Status s = metadata_->RestoreSnapshot(image.index, image.data);
      !s.ok()) {
    return s;
  }
  metadata_applied_ = std::max(metadata_applied_, image.index);
  partitions_->MarkDirty();
  return absl::OkStatus();
}

void Broker::Impl::OnLeaderChange(replication::GroupId group_id,
                                  raft::NodeId leader, raft::Term term) {
  LogRoleChange(group_id, leader, term);
  if (group_id != kMetadataGroup) {
    partitions_->OnLeaderChange(group_id, leader, term);
    return;
  }
  groups_->OnMetadataLeaderChange(leader, term);
  liveness_->OnLeaderChange(leader == config_.node_id, TickMs());
  metadata_->OnLeaderChange(leader);
}

void Broker::Impl::LogRoleChange(replication::GroupId group_id,
                                 raft::NodeId leader, raft::Term term) const {
  std::string group = "metadata";
  if (group_id != kMetadataGroup) {
    const std::optional<std::pair<std::string, int32_t>> partition =
        metadata_->state().PartitionOfGroup(group_id);
    group = partition.has_value() ? absl::StrCat("partition ", partition->first,
                                                 "/", partition->second)
                                  : absl::StrCat("group ", group_id);
  }
  const char* role = leader == config_.node_id ? "leader"
                     : leader == raft::kNoNode ? "no leader known"
                                               : "follower";
  env_.log->Log(env::LogLevel::kInfo,
                absl::StrCat("raft ", group, " (group ", group_id, ") term ",
                             term, ": leader ",
                             leader == raft::kNoNode
                                 ? std::string("none")
                                 : absl::StrCat(config::KafkaNodeId(leader)),
                             ", this node ", role));
}

void Broker::Impl::ProposeLiveness() {
  if (!metadata_->is_leader()) return;
  for (const metapb::MetadataCommand& command :
       liveness_->Commands(metadata_->state(), TickMs())) {
    const bool fence = command.has_fence_broker();
    const int32_t node =
        config::KafkaNodeId(fence ? command.fence_broker().node_id()
                                  : command.unfence_broker().node_id());
    env_.log->Log(
        env::LogLevel::kInfo,
        fence ? absl::StrCat("fencing broker ", node, ": not heard from for ",
                             config_.broker_session_timeout_ms, " ms")
              : absl::StrCat("unfencing broker ", node, ": heard from again"));
    metadata_->Propose(command, [](const metadata::ApplyResult*) {});
  }
}

void Broker::Impl::DriveTransactions(int64_t now_ms) {
  if (!MetadataCaughtUp()) return;
  for (const metapb::MetadataCommand& command :
       txn_markers_->Drive(metadata_->state(), TickMs(), now_ms)) {
    metadata_->ProposeOrForward(command);
  }
  if (!metadata_->is_leader()) {
    txn_markers_->Forget();
    return;
  }
  for (const metapb::MetadataCommand& command :
       txn_markers_->Timeouts(metadata_->state(), TickMs(), now_ms)) {
    metadata_->Propose(command, [](const metadata::ApplyResult*) {});
  }
}

void Broker::Impl::AddRaftMetrics(BrokerMetrics* metrics) const {
  for (replication::GroupId group_id : host_->group_ids()) {
    const raft::RawNode* node = host_->node(group_id);
    if (node == nullptr) continue;
    const raft::NodeStatus status = node->Status();
    ++metrics->raft_groups;
    if (node->quiesced()) ++metrics->raft_groups_quiesced;
    metrics->raft_max_term =
        std::max<uint64_t>(metrics->raft_max_term, status.hard_state.term);
    metrics->raft_election_timeouts += status.election_timeouts;
    metrics->raft_quorum_step_downs += status.quorum_step_downs;
    if (status.last_index > status.hard_state.commit) {
      metrics->raft_commit_lag_entries +=
          status.last_index - status.hard_state.commit;
    }
    if (status.role != raft::Role::kLeader) continue;
    ++metrics->raft_groups_led;
    for (const raft::ProgressStatus& progress : status.progress) {
      if (progress.is_learner || progress.match >= status.last_index) continue;
      metrics->raft_max_follower_lag_entries =
          std::max<uint64_t>(metrics->raft_max_follower_lag_entries,
                             status.last_index - progress.match);
    }
  }
}

BrokerMetrics Broker::Impl::Metrics() const {
  BrokerMetrics metrics;
  if (host_ == nullptr) return metrics;
  connections_->AddMetrics(&metrics);
  partitions_->AddMetrics(metadata_->state(), &metrics);
  AddRaftMetrics(&metrics);
  metrics.shutting_down = shutdown_->draining();
  metrics.leader_balance_requests = balance_->requests();
  metrics.preferred_leader_transfers = balance_->transfers();
  if (metadata_->is_leader()) {
    for (const metapb::TopicInfo* topic : metadata_->state().Topics()) {
      for (const metapb::PartitionInfo& partition : topic->partitions()) {
        if (partition.leader() == 0 ||
            metadata_->state().IsFenced(partition.leader())) {
          ++metrics.offline_partitions;
        }
      }
    }
  }
  return metrics;
}

namespace {

std::vector<int32_t> KafkaIds(
    const google::protobuf::RepeatedField<uint64_t>& raft_ids) {
  std::vector<int32_t> ids;
  for (uint64_t id : raft_ids) ids.push_back(config::KafkaNodeId(id));
  return ids;
}

// Where this node leads the group: entries each voter lacks.
std::optional<std::map<int32_t, uint64_t>> ReplicaLag(
    const raft::RawNode* node) {
  if (node == nullptr || !node->is_leader()) return std::nullopt;
  const raft::NodeStatus status = node->Status();
  std::map<int32_t, uint64_t> lag = {{config::KafkaNodeId(status.id), 0}};
  for (const raft::ProgressStatus& progress : status.progress) {
    lag[config::KafkaNodeId(progress.id)] =
        progress.match >= status.last_index
            ? 0
            : status.last_index - progress.match;
  }
  return lag;
}

}  // namespace

ClusterStatus Broker::Impl::Status() const {
  ClusterStatus status;
  status.node_id = config::KafkaNodeId(config_.node_id);
  if (host_ == nullptr) return status;
  status.shutting_down = shutdown_->draining();
  const metadata::MetadataState& state = metadata_->state();
  for (const metapb::BrokerInfo* broker : state.Brokers()) {
    status.brokers.push_back({config::KafkaNodeId(broker->node_id()),
                              broker->host(), broker->kafka_port(),
                              broker->fenced(), broker->decommissioning()});
  }
  for (const metapb::TopicInfo* topic : state.Topics()) {
    for (const metapb::PartitionInfo& p : topic->partitions()) {
      ClusterStatus::Partition& out = status.partitions.emplace_back();
      out.topic = topic->name();
      out.partition = p.partition();
      out.leader = partitions_->PartitionLeader(p);
      out.leader_term = p.leader_term();
      out.replicas = KafkaIds(p.replicas());
      out.isr = KafkaIds(p.isr().empty() ? p.replicas() : p.isr());
      out.lag = ReplicaLag(host_->node(p.group_id()));
    }
  }
  const raft::RawNode* metadata_node = host_->node(kMetadataGroup);
  status.metadata.leader = config::KafkaNodeId(metadata_->leader());
  if (metadata_node != nullptr) {
    status.metadata.term = metadata_node->term();
    status.metadata.commit_index = metadata_node->Status().hard_state.commit;
  }
  if (const raft::ConfState* conf = host_->membership(kMetadataGroup)) {
    for (raft::NodeId voter : conf->voters) {
      status.metadata.voters.push_back(config::KafkaNodeId(voter));
    }
    for (raft::NodeId learner : conf->learners) {
      status.metadata.learners.push_back(config::KafkaNodeId(learner));
    }
    std::sort(status.metadata.voters.begin(), status.metadata.voters.end());
    std::sort(status.metadata.learners.begin(), status.metadata.learners.end());
  }
  status.metadata.config_mismatch = membership_->config_mismatch();
  status.removed = membership_->removed();
  return status;
}

// ---------------------------------------------------------------- Broker --

Broker::Broker(const BrokerOptions& options, const env::Environment& env)
    : impl_(std::make_unique<Impl>(options, env)) {}
Broker::~Broker() = default;
absl::Status Broker::Start() { return impl_->Start(); }
void Broker::OnConnectionOpen(ConnectionId id,
                              const env::ConnectionInfo& info) {
  impl_->OnConnectionOpen(id, info);
}
void Broker::OnConnectionInput(ConnectionId id, InputBuffer* input) {
  impl_->OnConnectionInput(id, input);
}
void Broker::OnConnectionClose(ConnectionId id) {
  impl_->OnConnectionClose(id);
}
void Broker::OnPeerMessage(uint64_t group_id, raft::Message message) {
  impl_->OnPeerMessage(group_id, std::move(message));
}
void Broker::OnSyncDone(uint64_t flush_id, std::vector<absl::Status> results) {
  impl_->OnSyncDone(flush_id, std::move(results));
}
void Broker::Tick() { impl_->Tick(); }
void Broker::BeginShutdown() { impl_->BeginShutdown(); }
absl::Status Broker::StopCleanly() { return impl_->StopCleanly(); }
absl::Status Broker::Decommission(int32_t kafka_id, bool cancel) {
  return impl_->Decommission(kafka_id, cancel);
}
bool Broker::ShutdownComplete() const { return impl_->ShutdownComplete(); }
env::StepOutput Broker::Process() { return impl_->Process(); }
bool Broker::HasWork() const { return impl_->HasWork(); }
bool Broker::IsReady() const { return impl_->IsReady(); }
BrokerMetrics Broker::Metrics() const { return impl_->Metrics(); }
ClusterStatus Broker::Status() const { return impl_->Status(); }
const storage::StoreStats& Broker::StoreStats() const {
  return impl_->StoreStats();
}
const CompactionTotals& Broker::CompactionStats() const {
  return impl_->CompactionStats();
}
bool Broker::HasFlushInFlight() const { return impl_->HasFlushInFlight(); }
replication::RaftHost::SnapshotStats Broker::SnapshotStats() const {
  return impl_->SnapshotStats();
}
std::string Broker::MetadataImage() const { return impl_->MetadataImage(); }
absl::Status Broker::StorageFailure() const { return impl_->StorageFailure(); }

}  // namespace chronik::broker
