#include "broker/server/cluster_membership.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/server/reassignment.h"
#include "broker/storage/format.h"
#include "raft/node_ids.h"

namespace chronik::broker {
namespace {

constexpr char kVotersMagic[] = "chronik-metadata-voters 1 ";
constexpr size_t kMaxVotersFileBytes = 64 << 10;

std::string KafkaIdList(const std::vector<raft::NodeId>& ids) {
  std::vector<int32_t> kafka;
  for (raft::NodeId id : ids) kafka.push_back(config::KafkaNodeId(id));
  std::sort(kafka.begin(), kafka.end());
  return absl::StrCat("[", absl::StrJoin(kafka, ","), "]");
}

absl::StatusOr<std::vector<raft::NodeId>> ParseVotersFile(
    absl::string_view text) {
  const absl::Status bad = absl::DataLossError(absl::StrCat(
      kMetadataVotersFile, ": not a metadata voters file: '", text, "'"));
  if (!absl::ConsumePrefix(&text, kVotersMagic) ||
      !absl::ConsumeSuffix(&text, "\n")) {
    return bad;
  }
  std::vector<raft::NodeId> voters;
  for (absl::string_view field : absl::StrSplit(text, ',')) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(field, &id) || id < 0 ||
        id > config::kMaxKafkaNodeId) {
      return bad;
    }
    voters.push_back(config::RaftNodeId(static_cast<uint64_t>(id)));
  }
  voters = raft::Sorted(std::move(voters));
  if (voters.empty()) return bad;
  return voters;
}

absl::StatusOr<std::string> ReadSmallFile(env::Disk* disk,
                                          absl::string_view path) {
  absl::StatusOr<std::unique_ptr<env::File>> file = disk->Open(path);
  if (!file.ok()) return file.status();
  const uint64_t size = (*file)->Size();
  if (size > kMaxVotersFileBytes) {
    return absl::DataLossError(absl::StrCat(path, ": ", size, " bytes"));
  }
  std::string text(size, '\0');
  absl::StatusOr<size_t> read = (*file)->ReadAt(0, size, text.data());
  if (!read.ok()) return read.status();
  text.resize(*read);
  return text;
}

absl::Status WriteVotersFile(env::Disk* disk,
                             const std::vector<raft::NodeId>& voters) {
  std::vector<int32_t> kafka;
  for (raft::NodeId id : voters) kafka.push_back(config::KafkaNodeId(id));
  std::sort(kafka.begin(), kafka.end());
  const std::string text =
      absl::StrCat(kVotersMagic, absl::StrJoin(kafka, ","), "\n");
  const std::string temporary = absl::StrCat(kMetadataVotersFile, ".tmp");
  absl::StatusOr<std::unique_ptr<env::File>> file = disk->Create(temporary);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(text); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  if (absl::Status s = disk->Rename(temporary, kMetadataVotersFile); !s.ok()) {
    return s;
  }
  return disk->SyncDir("");
}

std::vector<raft::NodeId> Members(const raft::ConfState& conf) {
  std::vector<raft::NodeId> members = conf.voters;
  members.insert(members.end(), conf.learners.begin(), conf.learners.end());
  members.insert(members.end(), conf.voters_outgoing.begin(),
                 conf.voters_outgoing.end());
  return raft::Sorted(std::move(members));
}

std::string DescribeChange(const raft::ConfChange& change) {
  std::vector<std::string> parts;
  for (const raft::ConfChangeSingle& c : change.changes) {
    const char* verb = c.type == raft::ConfChangeType::kAddVoter     ? "voter"
                       : c.type == raft::ConfChangeType::kAddLearner ? "learner"
                                                                     : "remove";
    parts.push_back(absl::StrCat(verb, " ", config::KafkaNodeId(c.node_id)));
  }
  return absl::StrCat(change.joint ? "joint change: " : "change: ",
                      absl::StrJoin(parts, ", "));
}

// Partitions hosted per placeable broker (the candidates for new replicas).
std::map<uint64_t, int> PlaceableLoad(const metadata::MetadataState& state) {
  std::map<uint64_t, int> load;
  for (const metapb::BrokerInfo* broker : state.Brokers()) {
    if (metadata::MetadataState::Placeable(*broker)) load[broker->node_id()];
  }
  for (const metapb::TopicInfo* topic : state.Topics()) {
    for (const metapb::PartitionInfo& partition : topic->partitions()) {
      for (uint64_t id : metadata::HostingReplicas(partition)) {
        if (auto it = load.find(id); it != load.end()) ++it->second;
      }
    }
  }
  return load;
}

// The replicas of `partition` with every decommissioning broker replaced;
// empty when there is none to replace or no broker can take one.
std::vector<uint64_t> ReplaceDecommissioned(
    const metadata::MetadataState& state,
    const metapb::PartitionInfo& partition, std::map<uint64_t, int>& load) {
  std::vector<uint64_t> replicas(partition.replicas().begin(),
                                 partition.replicas().end());
  bool replaced = false;
  for (uint64_t& replica : replicas) {
    const metapb::BrokerInfo* broker = state.FindBroker(replica);
    if (broker == nullptr || !broker->decommissioning()) continue;
    uint64_t best = 0;
    for (const auto& [id, count] : load) {
      if (std::find(replicas.begin(), replicas.end(), id) != replicas.end()) {
        continue;
      }
      if (best == 0 || count < load[best]) best = id;
    }
    if (best == 0) return {};
    replica = best;
    ++load[best];
    replaced = true;
  }
  if (!replaced) return {};
  return replicas;
}

}  // namespace

absl::StatusOr<MetadataGroupStart> StartMetadataGroup(
    env::Disk* disk, const config::ServerConfig& config) {
  absl::StatusOr<bool> exists = disk->Exists(kMetadataVotersFile);
  if (!exists.ok()) return exists.status();
  MetadataGroupStart start;
  if (*exists) {
    absl::StatusOr<std::string> text = ReadSmallFile(disk, kMetadataVotersFile);
    if (!text.ok()) return text.status();
    absl::StatusOr<std::vector<raft::NodeId>> voters = ParseVotersFile(*text);
    if (!voters.ok()) return voters.status();
    start.voters = *std::move(voters);
    return start;
  }
  std::vector<raft::NodeId> peers;
  for (const config::PeerConfig& peer : config.peers) {
    if (!config.join || peer.id != config.node_id) peers.push_back(peer.id);
  }
  if (peers.empty()) peers.push_back(config.node_id);  // standalone
  start.voters = raft::Sorted(std::move(peers));
  if (config.join) {
    // A placeholder: the membership comes with the snapshot it installs
    // (or installed before this restart).
    start.joining = true;
    start.voters_unknown = true;
    return start;
  }
  if (absl::Status s = WriteVotersFile(disk, start.voters); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("writing ", kMetadataVotersFile,
                                               ": ", s.message()));
  }
  return start;
}

std::vector<raft::NodeId> MetadataTargetVoters(
    const metadata::MetadataState& state, const raft::ConfState& conf) {
  std::set<raft::NodeId> target(conf.voters.begin(), conf.voters.end());
  for (const metapb::BrokerInfo* broker : state.Brokers()) {
    const raft::NodeId id = broker->node_id();
    if (broker->decommissioning()) {
      if (state.PartitionsOn(id) == 0) target.erase(id);
      continue;
    }
    if (!broker->fenced()) target.insert(id);
  }
  return std::vector<raft::NodeId>(target.begin(), target.end());
}

std::vector<metapb::AlterReassignment> DecommissionMoves(
    const metadata::MetadataState& state, size_t max_moves) {
  std::vector<metapb::AlterReassignment> moves;
  // The metadata leader asks at every tick: without a broker being
  // decommissioned there is nothing to move (no walk over every partition).
  const std::vector<const metapb::BrokerInfo*> brokers = state.Brokers();
  if (std::none_of(brokers.begin(), brokers.end(),
                   [](const auto* b) { return b->decommissioning(); })) {
    return moves;
  }
  std::map<uint64_t, int> load = PlaceableLoad(state);
  for (const metapb::TopicInfo* topic : state.Topics()) {
    for (const metapb::PartitionInfo& partition : topic->partitions()) {
      if (moves.size() >= max_moves) return moves;
      if (!partition.target_replicas().empty()) continue;
      const std::vector<uint64_t> target =
          ReplaceDecommissioned(state, partition, load);
      if (target.empty()) continue;
      metapb::AlterReassignment& move = moves.emplace_back();
      move.set_topic(topic->name());
      move.set_partition(partition.partition());
      move.set_if_idle(true);
      for (uint64_t id : target) move.add_target_replicas(id);
    }
  }
  return moves;
}

ClusterMembership::ClusterMembership(const config::ServerConfig& config,
                                     replication::RaftHost* host,
                                     MetadataClient* metadata,
                                     env::LogSink* log)
    : config_(config), host_(host), metadata_(metadata), log_(log) {
  CHRONIK_CHECK(host != nullptr && metadata != nullptr && log != nullptr);
}

void ClusterMembership::Drive(int64_t tick_ms) {
  if (!metadata_->is_leader()) return;
  ProposeDecommissionMoves(tick_ms);
  StepMetadataMembership();
  RemoveLeftBrokers(tick_ms);
}

void ClusterMembership::ProposeDecommissionMoves(int64_t tick_ms) {
  const metadata::MetadataState& state = metadata_->state();
  for (metapb::AlterReassignment& move :
       DecommissionMoves(state, kMaxDecommissionMovesPerTick)) {
    const metapb::TopicInfo* topic = state.FindTopic(move.topic());
    CHRONIK_CHECK(topic != nullptr);
    const uint64_t group_id = topic->partitions(move.partition()).group_id();
    int64_t& next_ms = next_move_ms_[group_id];
    if (tick_ms < next_ms) continue;
    next_ms = tick_ms + kMembershipRetryMs;
    std::vector<raft::NodeId> target(move.target_replicas().begin(),
                                     move.target_replicas().end());
    log_->Log(env::LogLevel::kInfo,
              absl::StrCat("decommission: moving ", move.topic(), "-",
                           move.partition(), " to ", KafkaIdList(target)));
    metapb::MetadataCommand command;
    *command.mutable_alter_reassignment() = std::move(move);
    metadata_->Propose(command, [](const metadata::ApplyResult*) {});
  }
  if (next_move_ms_.size() > 4 * kMaxDecommissionMovesPerTick) {
    std::erase_if(next_move_ms_,
                  [&](const auto& entry) { return entry.second <= tick_ms; });
  }
}

void ClusterMembership::StepMetadataMembership() {
  const raft::ConfState* conf = host_->membership(kMetadataGroup);
  const raft::RawNode* node = host_->node(kMetadataGroup);
  if (conf == nullptr || node == nullptr || !node->is_leader()) return;
  const std::vector<raft::NodeId> target =
      MetadataTargetVoters(metadata_->state(), *conf);
  if (target.empty()) return;
  const raft::NodeStatus status = node->Status();
  const bool adding = std::any_of(target.begin(), target.end(), [&](auto id) {
    return !raft::Contains(conf->voters, id);
  });
  if (adding && status.snapshot_index == 0) {
    // A new member knows nothing of the group: it needs a snapshot to start
    // from (raft_host.h, voters_unknown). A failure is retried next tick.
    host_->SnapshotNow(kMetadataGroup).IgnoreError();
    return;
  }
  ReassignmentStep step = NextReassignmentStep(*conf, target, status);
  absl::Status acted = absl::OkStatus();
  std::string what;
  if (step.kind == ReassignmentStep::Kind::kChangeMembership) {
    // Voters change only by joint consensus (old and new voters agree).
    step.change.joint =
        std::any_of(step.change.changes.begin(), step.change.changes.end(),
                    [&](const raft::ConfChangeSingle& c) {
                      return c.type == raft::ConfChangeType::kAddVoter ||
                             raft::Contains(conf->voters, c.node_id);
                    });
    acted = host_->ProposeConfChange(kMetadataGroup, step.change);
    what = DescribeChange(step.change);
  } else if (step.kind == ReassignmentStep::Kind::kTransferLeadership) {
    acted = host_->TransferLeadership(kMetadataGroup, step.transferee);
    what =
        absl::StrCat("handing the controller to broker ",
                     config::KafkaNodeId(step.transferee), " before leaving");
  } else {
    return;
  }
  if (acted.ok()) {
    log_->Log(
        env::LogLevel::kInfo,
        absl::StrCat("metadata group membership ", KafkaIdList(Members(*conf)),
                     " -> voters ", KafkaIdList(target), ": ", what));
  }
}

void ClusterMembership::RemoveLeftBrokers(int64_t tick_ms) {
  const raft::ConfState* conf = host_->membership(kMetadataGroup);
  if (conf == nullptr) return;
  const std::vector<raft::NodeId> members = Members(*conf);
  const metadata::MetadataState& state = metadata_->state();
  for (const metapb::BrokerInfo* broker : state.Brokers()) {
    const raft::NodeId id = broker->node_id();
    if (!broker->decommissioning() || raft::Contains(members, id) ||
        state.PartitionsOn(id) > 0) {
      continue;
    }
    int64_t& next_ms = next_remove_ms_[id];
    if (tick_ms < next_ms) continue;
    next_ms = tick_ms + kMembershipRetryMs;
    log_->Log(env::LogLevel::kInfo,
              absl::StrCat("decommission: broker ", config::KafkaNodeId(id),
                           " hosts no partition and left the metadata group; "
                           "removing it from the cluster"));
    metapb::MetadataCommand command;
    command.mutable_remove_broker()->set_node_id(id);
    metadata_->Propose(command, [](const metadata::ApplyResult*) {});
  }
}

absl::Status ClusterMembership::RequestDecommission(raft::NodeId node,
                                                    bool cancel,
                                                    int64_t tick_ms) {
  const metadata::MetadataState& state = metadata_->state();
  const std::string name = absl::StrCat("broker ", config::KafkaNodeId(node));
  if (state.FindBroker(node) == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        name, state.IsRemoved(node)
                  ? " was removed from the cluster (decommissioned)"
                  : " is not registered"));
  }
  if (!cancel) {
    int remaining = 0;
    for (const metapb::BrokerInfo* broker : state.Brokers()) {
      if (broker->node_id() != node &&
          metadata::MetadataState::Placeable(*broker)) {
        ++remaining;
      }
    }
    if (remaining == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, " is the only live broker: nothing could take its replicas"));
    }
    for (const metapb::TopicInfo* topic : state.Topics()) {
      const int factor = topic->partitions(0).replicas_size();
      if (factor > remaining) {
        return absl::FailedPreconditionError(
            absl::StrCat("topic '", topic->name(), "' has replication factor ",
                         factor, " but only ", remaining,
                         " live brokers would remain without ", name));
      }
    }
  }
  requests_[node] = {cancel, tick_ms};
  ResendRequests(tick_ms);
  return absl::OkStatus();
}

void ClusterMembership::Observe(int64_t tick_ms, bool caught_up,
                                env::StepOutput* out) {
  // Why a node waits is said before it caught up too (a joiner catches up
  // only once it is added); the rest acts on a caught-up view only.
  NoteJoining(tick_ms);
  NoteNoController(tick_ms);
  if (!caught_up) return;
  ResendRequests(tick_ms);
  NoteMembership();
  AnnounceAddresses(out);
}

void ClusterMembership::NoteJoining(int64_t tick_ms) {
  if (!config_.join || joined_) return;
  const raft::ConfState* conf = host_->membership(kMetadataGroup);
  const std::string self =
      absl::StrCat("broker ", config::KafkaNodeId(config_.node_id));
  if (conf != nullptr && raft::Contains(Members(*conf), config_.node_id)) {
    joined_ = true;
    if (join_wait_log_ms_ >= 0) {
      log_->Log(env::LogLevel::kInfo,
                absl::StrCat("joined: this node (", self,
                             ") is a member of the metadata group"));
    }
    return;
  }
  std::vector<raft::NodeId> asked;
  for (const config::PeerConfig& peer : config_.peers) {
    if (peer.id != config_.node_id) asked.push_back(peer.id);
  }
  if (join_wait_log_ms_ < 0) {
    join_wait_log_ms_ = tick_ms + kNotReadyLogMs;
    log_->Log(env::LogLevel::kInfo,
              absl::StrCat("joining: asking brokers ", KafkaIdList(asked),
                           " to add this node (", self,
                           ") to the cluster's metadata group"));
    return;
  }
  if (tick_ms < join_wait_log_ms_) return;
  join_wait_log_ms_ = tick_ms + kNotReadyRepeatMs;
  const raft::NodeId leader = metadata_->leader();
  log_->Log(
      env::LogLevel::kWarn,
      leader != raft::kNoNode
          ? absl::StrCat("joining: not ready: the controller (broker ",
                         config::KafkaNodeId(leader),
                         ") has not added this "
                         "node to the metadata group yet")
          : absl::StrCat(
                "joining: not ready: this node (", self, ") asked brokers ",
                KafkaIdList(asked),
                " to add it to the cluster and no controller has answered: "
                "check that they are running and that their raft ports are "
                "reachable from here (a node started with --join never "
                "founds a cluster of its own)"));
}

void ClusterMembership::NoteNoController(int64_t tick_ms) {
  const raft::ConfState* conf = host_->membership(kMetadataGroup);
  if ((config_.join && !joined_) || removed_ || conf == nullptr ||
      metadata_->leader() != raft::kNoNode) {
    no_controller_log_ms_ = -1;
    return;
  }
  if (no_controller_log_ms_ < 0) {
    no_controller_log_ms_ = tick_ms + kNotReadyLogMs;
    return;
  }
  if (tick_ms < no_controller_log_ms_) return;
  no_controller_log_ms_ = tick_ms + kNotReadyRepeatMs;
  // A node added to a running cluster without --join founds a group of its
  // own that no other node knows: it ends up here, waiting forever.
  log_->Log(
      env::LogLevel::kWarn,
      absl::StrCat("not ready: no controller (metadata group leader) known "
                   "for ",
                   kNotReadyLogMs / 1000,
                   " s or more: a majority of the metadata group's voters ",
                   KafkaIdList(conf->voters),
                   " must be running and reachable on their raft ports (a "
                   "node added to a running cluster must be started with "
                   "--join and an empty data directory)"));
}

void ClusterMembership::ResendRequests(int64_t tick_ms) {
  const metadata::MetadataState& state = metadata_->state();
  for (auto it = requests_.begin(); it != requests_.end();) {
    auto& [node, request] = *it;
    const metapb::BrokerInfo* broker = state.FindBroker(node);
    if (broker == nullptr || broker->decommissioning() != request.first) {
      it = requests_.erase(it);  // committed (or the broker is gone)
      continue;
    }
    if (tick_ms >= request.second) {
      metapb::MetadataCommand command;
      command.mutable_decommission_broker()->set_node_id(node);
      command.mutable_decommission_broker()->set_cancel(request.first);
      if (metadata_->ProposeOrForward(command)) {
        request.second = tick_ms + kMembershipRetryMs;
      }
    }
    ++it;
  }
}

void ClusterMembership::NoteMembership() {
  const raft::ConfState* conf = host_->membership(kMetadataGroup);
  if (conf == nullptr) return;
  const std::vector<raft::NodeId> members = Members(*conf);
  const metadata::MetadataState& state = metadata_->state();
  const metapb::BrokerInfo* self = state.FindBroker(config_.node_id);
  const bool removed = !raft::Contains(members, config_.node_id) &&
                       ((self != nullptr && self->decommissioning()) ||
                        state.IsRemoved(config_.node_id));
  if (removed && !removed_) {
    log_->Log(
        env::LogLevel::kWarn,
        absl::StrCat("this node (broker ", config::KafkaNodeId(config_.node_id),
                     ") was decommissioned and is no longer a member of "
                     "the cluster: stop it"));
  }
  removed_ = removed;
  // A joiner not added yet has a placeholder membership: nothing to compare.
  if (config_.join && !raft::Contains(members, config_.node_id)) return;
  std::vector<raft::NodeId> configured;
  for (const config::PeerConfig& peer : config_.peers) {
    configured.push_back(peer.id);
  }
  configured = raft::Sorted(std::move(configured));
  std::string mismatch;
  if (configured != members && !removed) {
    mismatch = absl::StrCat(
        "the cluster file lists brokers ", KafkaIdList(configured),
        " but the metadata group's members are ", KafkaIdList(members),
        " (brokers added with --join or decommissioned since): update the "
        "file's peers to match; the running membership is what counts");
  }
  if (mismatch != mismatch_ && !mismatch.empty()) {
    log_->Log(env::LogLevel::kWarn, mismatch);
  }
  mismatch_ = std::move(mismatch);
}

void ClusterMembership::AnnounceAddresses(env::StepOutput* out) {
  for (const metapb::BrokerInfo* broker : metadata_->state().Brokers()) {
    if (broker->node_id() == config_.node_id || broker->raft_port() <= 0) {
      continue;
    }
    std::string address =
        absl::StrCat(broker->host(), ":", broker->raft_port());
    std::string& known = addresses_[broker->node_id()];
    if (known == address) continue;
    known = address;
    out->peer_addresses.push_back(
        env::PeerAddress{broker->node_id(), std::move(address)});
  }
}

}  // namespace chronik::broker
