#include "broker/server/broker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/server/broker_impl.h"
#include "broker/server/errors.h"

namespace chronik::broker {
namespace {

constexpr replication::GroupId kMetadataGroup = 0;

// A topic's integer config, or `fallback` when unset or not a number.
int64_t TopicConfigInt(const metapb::TopicInfo& topic, const std::string& name,
                       int64_t fallback) {
  for (const metapb::TopicConfigEntry& entry : topic.configs()) {
    int64_t value;
    if (entry.name() == name && absl::SimpleAtoi(entry.value(), &value)) {
      return value;
    }
  }
  return fallback;
}

const char* ApiName(int16_t key) {
  const kafka::ApiInfo* api = kafka::FindApi(key);
  return api == nullptr ? "Unknown" : api->name;
}

// Latency bucket upper bounds (ms), matching ApiMetrics::latency_buckets.
constexpr int64_t kLatencyBucketsMs[] = {1, 5, 10, 50, 100, 500, 1000};

}  // namespace

// ---------------------------------------------------------------- Broker --

Broker::Broker(const BrokerOptions& options, storage::LogStore* store,
               Clock* clock, ConnectionOutput* connections, PeerOutput* peers)
    : impl_(std::make_unique<Impl>(options, store, clock, connections, peers)) {
}
Broker::~Broker() = default;
absl::Status Broker::Start() { return impl_->Start(); }
void Broker::OnConnectionOpen(ConnectionId id, const std::string& peer) {
  impl_->OnConnectionOpen(id, peer);
}
void Broker::OnConnectionInput(ConnectionId id, std::string* input) {
  impl_->OnConnectionInput(id, input);
}
void Broker::OnConnectionClose(ConnectionId id) {
  impl_->OnConnectionClose(id);
}
void Broker::OnRaftMessage(replication::GroupId group_id,
                           raft::Message message) {
  impl_->OnRaftMessage(group_id, std::move(message));
}
void Broker::Tick() { impl_->Tick(); }
void Broker::Process() { impl_->Process(); }
bool Broker::IsReady() const { return impl_->IsReady(); }
bool Broker::HasFlushInFlight() const { return impl_->HasFlushInFlight(); }
BrokerMetrics Broker::Metrics() const { return impl_->Metrics(); }

// ------------------------------------------------------------ lifecycle --

Broker::Impl::Impl(const BrokerOptions& options, storage::LogStore* store,
                   Clock* clock, ConnectionOutput* connections,
                   PeerOutput* peers)
    : options_(options),
      config_(options_.config),
      store_(store),
      clock_(clock),
      connections_out_(connections),
      peers_out_(peers),
      rng_(options.seed ^ (options.config.node_id * 0x9E3779B97F4A7C15ull)) {
  CHRONIK_CHECK(store != nullptr && clock != nullptr &&
                connections != nullptr && peers != nullptr);
  replication::HostOptions host;
  host.self = config_.node_id;
  host.seed = options.seed;
  host.election_timeout_ticks = options.election_timeout_ticks;
  host.heartbeat_timeout_ticks = options.heartbeat_timeout_ticks;
  host.injected_bugs = options.injected_bugs;
  host.sync_files = options.sync_files;
  host.log_options.segment_max_bytes = options.segment_max_bytes;
  if (options.async_sync) {
    host.async_sync_files = [this, start = options.async_sync](
                                std::vector<env::File*> files,
                                replication::SyncDone done) {
      start(std::move(files),
            [this, done = std::move(done)](std::vector<absl::Status> results) {
              done(std::move(results));
              Process();  // what the flush made durable moves on
            });
    };
  }
  host_ = std::make_unique<replication::RaftHost>(host, store);
}

Broker::Impl::~Impl() = default;

absl::Status Broker::Impl::Start() {
  std::vector<raft::NodeId> voters;
  if (config_.mode == config::ServerConfig::Mode::kCluster) {
    for (const config::PeerConfig& peer : config_.peers) {
      voters.push_back(peer.id);
    }
  } else {
    voters.push_back(config_.node_id);
  }
  std::sort(voters.begin(), voters.end());
  CHRONIK_CHECK(!voters.empty());
  absl::Status status = host_->AddGroup(
      replication::GroupSpec{kMetadataGroup, voters, false, this});
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("metadata group: ", status.message()));
  }
  // A group of one elects itself at once; larger groups wait for a timeout.
  if (voters.size() == 1) CHRONIK_CHECK(host_->Campaign(kMetadataGroup).ok());
  partitions_dirty_ = true;
  Process();
  return absl::OkStatus();
}

bool Broker::Impl::HasFlushInFlight() const { return host_->flush_in_flight(); }

bool Broker::Impl::IsReady() const {
  const metapb::BrokerInfo* self = metadata_.FindBroker(config_.node_id);
  return self != nullptr && host_->leader(kMetadataGroup) != raft::kNoNode;
}

BrokerMetrics Broker::Impl::Metrics() const {
  BrokerMetrics metrics = metrics_;
  metrics.connections = connections_.size();
  metrics.partitions = partitions_.size();
  metrics.partitions_led = 0;
  metrics.log_bytes = 0;
  for (const auto& [group_id, partition] : partitions_) {
    if (partition->is_leader()) ++metrics.partitions_led;
    storage::GroupStorage* storage = store_->group(group_id);
    if (storage != nullptr) metrics.log_bytes += storage->log().size_bytes();
  }
  return metrics;
}

// ---------------------------------------------------------- connections --

void Broker::Impl::OnConnectionOpen(ConnectionId id, const std::string& peer) {
  Connection& connection = connections_[id];
  connection.peer = peer;
}

void Broker::Impl::OnConnectionClose(ConnectionId id) {
  // Waiting requests of the connection finish into nothing (Deliver ignores
  // unknown connections).
  connections_.erase(id);
}

void Broker::Impl::CloseConnection(ConnectionId id, const std::string& why) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ++metrics_.malformed_requests;
  std::fprintf(stderr, "chronik: closing connection %s: %s\n",
               it->second.peer.c_str(), why.c_str());
  connections_.erase(it);
  connections_out_->Close(id);
}

void Broker::Impl::OnConnectionInput(ConnectionId id, std::string* input) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  // A driver may deliver input from inside one of our own calls (resuming a
  // paused connection re-delivers its buffer). The outer ReadFrames of the
  // same connection keeps reading, so a nested call has nothing to do.
  if (!reading_.insert(id).second) return;
  ReadFrames(id, it->second, input);
  reading_.erase(id);
  Process();
}

void Broker::Impl::ReadFrames(ConnectionId id, Connection& connection,
                              std::string* input) {
  size_t consumed = 0;
  while (true) {
    const uint64_t in_flight = connection.next_seq - connection.next_to_send;
    if (in_flight >=
        static_cast<uint64_t>(config_.max_inflight_requests_per_connection)) {
      // Backpressure: leave the rest buffered until responses go out.
      if (!connection.paused) {
        connection.paused = true;
        connections_out_->PauseReading(id);
      }
      break;
    }
    absl::string_view rest = absl::string_view(*input).substr(consumed);
    absl::StatusOr<size_t> frame_bytes = kafka::CompleteFrameBytes(
        rest, static_cast<int32_t>(config_.max_request_bytes));
    if (!frame_bytes.ok()) {
      CloseConnection(id, std::string(frame_bytes.status().message()));
      return;
    }
    if (*frame_bytes == 0) break;
    metrics_.bytes_in += *frame_bytes;
    const absl::string_view payload = rest.substr(
        kafka::kFrameSizeBytes, *frame_bytes - kafka::kFrameSizeBytes);
    consumed += *frame_bytes;
    HandleFrame(id, connection, payload);
    if (connections_.count(id) == 0) return;  // closed while handling
  }
  input->erase(0, consumed);
}

void Broker::Impl::HandleFrame(ConnectionId id, Connection& connection,
                               absl::string_view payload) {
  RequestContext context;
  context.connection = id;
  context.start_ms = clock_->NowMs();
  context.client_host = connection.peer;
  absl::StatusOr<kafka::DecodedRequest> decoded =
      kafka::DecodeRequestFrame(payload);
  if (!decoded.ok()) {
    absl::string_view body;
    absl::StatusOr<kafka::RequestHeader> header =
        kafka::DecodeRequestHeader(payload, &body);
    if (header.ok() && header->api_key == kafka::ApiVersionsRequest::kApiKey &&
        absl::IsUnimplemented(decoded.status())) {
      // An ApiVersions version we do not speak: answer in v0 with error 35.
      context.seq = connection.next_seq++;
      context.header = *header;
      Deliver(context, kafka::EncodeApiVersionsResponseFrame(*header), true);
      return;
    }
    CloseConnection(id, std::string(decoded.status().message()));
    return;
  }
  context.seq = connection.next_seq++;
  context.header = decoded->header;
  ++metrics_.apis[ApiName(context.header.api_key)].requests;
  Dispatch(context, decoded->body);
}

void Broker::Impl::Deliver(const RequestContext& context,
                           std::optional<std::string> frame, bool had_error) {
  ApiMetrics& api = metrics_.apis[ApiName(context.header.api_key)];
  const int64_t latency_ms =
      std::max<int64_t>(0, clock_->NowMs() - context.start_ms);
  api.latency_ms_sum += static_cast<uint64_t>(latency_ms);
  size_t bucket = 0;
  while (bucket < std::size(kLatencyBucketsMs) &&
         latency_ms > kLatencyBucketsMs[bucket]) {
    ++bucket;
  }
  ++api.latency_buckets[bucket];
  if (had_error) ++api.errors;

  auto it = connections_.find(context.connection);
  if (it == connections_.end()) return;
  Connection& connection = it->second;
  CHRONIK_CHECK_GE(context.seq, connection.next_to_send);
  CHRONIK_CHECK(connection.finished.count(context.seq) == 0);
  connection.finished.emplace(context.seq, std::move(frame));
  while (!connection.finished.empty() &&
         connection.finished.begin()->first == connection.next_to_send) {
    std::optional<std::string>& ready = connection.finished.begin()->second;
    if (ready.has_value()) {
      metrics_.bytes_out += ready->size();
      connections_out_->Send(context.connection, std::move(*ready));
    }
    connection.finished.erase(connection.finished.begin());
    ++connection.next_to_send;
  }
  if (connection.paused) {
    connection.paused = false;
    connections_out_->ResumeReading(context.connection);
  }
}

void Broker::Impl::Dispatch(const RequestContext& c,
                            kafka::AnyRequest& request) {
  std::visit(
      [&](auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, kafka::ApiVersionsRequest>) {
          Deliver(c, kafka::EncodeApiVersionsResponseFrame(c.header), false);
        } else if constexpr (std::is_same_v<T, kafka::MetadataRequest>) {
          HandleMetadata(c, r);
        } else if constexpr (std::is_same_v<T, kafka::ProduceRequest>) {
          HandleProduce(c, r);
        } else if constexpr (std::is_same_v<T, kafka::FetchRequest>) {
          HandleFetch(c, r);
        } else if constexpr (std::is_same_v<T, kafka::ListOffsetsRequest>) {
          HandleListOffsets(c, r);
        } else if constexpr (std::is_same_v<T, kafka::FindCoordinatorRequest>) {
          HandleFindCoordinator(c, r);
        } else if constexpr (std::is_same_v<T, kafka::JoinGroupRequest>) {
          HandleJoinGroup(c, r);
        } else if constexpr (std::is_same_v<T, kafka::SyncGroupRequest>) {
          HandleSyncGroup(c, r);
        } else if constexpr (std::is_same_v<T, kafka::HeartbeatRequest>) {
          HandleHeartbeat(c, r);
        } else if constexpr (std::is_same_v<T, kafka::LeaveGroupRequest>) {
          HandleLeaveGroup(c, r);
        } else if constexpr (std::is_same_v<T, kafka::OffsetCommitRequest>) {
          HandleOffsetCommit(c, r);
        } else if constexpr (std::is_same_v<T, kafka::OffsetFetchRequest>) {
          HandleOffsetFetch(c, r);
        } else if constexpr (std::is_same_v<T, kafka::DescribeGroupsRequest>) {
          HandleDescribeGroups(c, r);
        } else if constexpr (std::is_same_v<T, kafka::ListGroupsRequest>) {
          HandleListGroups(c, r);
        } else if constexpr (std::is_same_v<T, kafka::CreateTopicsRequest>) {
          HandleCreateTopics(c, r);
        } else if constexpr (std::is_same_v<T, kafka::DeleteTopicsRequest>) {
          HandleDeleteTopics(c, r);
        } else if constexpr (std::is_same_v<T,
                                            kafka::CreatePartitionsRequest>) {
          HandleCreatePartitions(c, r);
        } else if constexpr (std::is_same_v<T, kafka::DeleteRecordsRequest>) {
          HandleDeleteRecords(c, r);
        } else if constexpr (std::is_same_v<T, kafka::InitProducerIdRequest>) {
          HandleInitProducerId(c, r);
        } else if constexpr (std::is_same_v<T, kafka::DescribeConfigsRequest>) {
          HandleDescribeConfigs(c, r);
        } else if constexpr (std::is_same_v<T, kafka::AlterConfigsRequest>) {
          HandleAlterConfigs(c, r);
        } else if constexpr (std::is_same_v<T, kafka::DescribeClusterRequest>) {
          HandleDescribeCluster(c, r);
        } else if constexpr (std::is_same_v<T, kafka::SaslHandshakeRequest>) {
          kafka::SaslHandshakeResponse response;
          response.error_code = error::kUnsupportedSaslMechanism;
          Finish(c, response, true);
        } else if constexpr (std::is_same_v<T,
                                            kafka::SaslAuthenticateRequest>) {
          kafka::SaslAuthenticateResponse response;
          response.error_code = error::kIllegalSaslState;
          response.error_message = "SASL is not enabled on this broker";
          Finish(c, response, true);
        } else {
          static_assert(sizeof(T) == 0, "request type not dispatched");
        }
      },
      request);
}

// ---------------------------------------------------------- replication --

void Broker::Impl::OnRaftMessage(replication::GroupId group_id,
                                 raft::Message message) {
  if (message.type == raft::MessageType::kForwardProposal) {
    // A follower's metadata command (its registration, an auto-creation):
    // the leader proposes it; anyone else drops it (the sender retries).
    if (group_id == kMetadataGroup && host_->is_leader(kMetadataGroup) &&
        message.entries.size() == 1) {
      metapb::MetadataCommand command;
      const raft::Bytes& data = message.entries[0].data;
      if (command.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
        ProposeMetadata(command, [](const metadata::ApplyResult*) {});
      }
    }
    Process();
    return;
  }
  // Messages for groups not (yet) created here are dropped: Raft retries.
  host_->Step(group_id, std::move(message)).IgnoreError();
  Process();
}

void Broker::Impl::Tick() {
  host_->Tick();
  if (++ticks_ % options_.retention_check_ticks == 0) ApplyRetention();
  if (coordinator_ != nullptr) coordinator_->Tick(clock_->NowMs());
  ExpireDeadlines();
  Process();
}

void Broker::Impl::Process() {
  // Not re-entrant: a nested call (from a callback of the outer one) only
  // asks the outer loop for another round.
  if (processing_) {
    process_again_ = true;
    return;
  }
  processing_ = true;
  for (int round = 0; round < kMaxProcessRounds; ++round) {
    process_again_ = false;
    if (partitions_dirty_) ReconcilePartitions();
    host_->Process(&outbox_);
    for (replication::OutgoingMessage& message : outbox_) {
      peers_out_->Send(std::move(message));
    }
    outbox_.clear();
    MaybeRegister();
    ServeProducerIdRequests();
    if (coordinator_ != nullptr) AnswerGroupCompletions();
    if (!changed_groups_.empty()) RetryParkedFetches(false);
    // Another round when applying created work: new partitions to start,
    // proposals made by the steps above.
    if (!partitions_dirty_ && !process_again_ && !host_->HasReady()) break;
  }
  processing_ = false;
}

void Broker::Impl::AnswerGroupCompletions() {
  for (group::Completion& done : coordinator_->TakeCompletions()) {
    auto it = parked_group_requests_.find(done.ticket);
    if (it == parked_group_requests_.end()) continue;
    RequestContext context = it->second;
    parked_group_requests_.erase(it);
    if (done.join.has_value()) {
      Finish(context, ToResponse(*done.join), done.join->error_code != 0);
    } else if (done.sync.has_value()) {
      Finish(context, ToResponse(*done.sync), done.sync->error_code != 0);
    }
  }
}

void Broker::Impl::Apply(replication::GroupId group_id,
                         const raft::Entry& entry) {
  if (group_id == kMetadataGroup) {
    ApplyMetadata(entry);
    return;
  }
  auto it = partitions_.find(group_id);
  if (it == partitions_.end()) return;  // replay before the replica exists
  it->second->Apply(entry);
  changed_groups_.insert(group_id);
}

void Broker::Impl::OnLeaderChange(replication::GroupId group_id,
                                  raft::NodeId leader, raft::Term term) {
  if (group_id == kMetadataGroup) {
    const bool leads = leader == config_.node_id;
    if (leads && (coordinator_ == nullptr || coordinator_term_ != term)) {
      if (coordinator_ != nullptr) coordinator_->Reset(error::kNotCoordinator);
      coordinator_ = std::make_unique<group::GroupCoordinator>(term);
      coordinator_term_ = term;
    } else if (!leads && coordinator_ != nullptr) {
      coordinator_->Reset(error::kNotCoordinator);
      AnswerGroupCompletions();  // parked joins/syncs get NOT_COORDINATOR
      coordinator_.reset();
    }
    if (!leads) {
      // Waiters of our proposals get a retriable error now rather than
      // waiting for an index a new leader may never fill. (A proposal may
      // still commit; retries of admin requests are idempotent by name.)
      std::map<raft::Index, std::pair<raft::Term, MetadataDone>> failed;
      failed.swap(metadata_pending_);
      for (auto& [index, pending] : failed) pending.second(nullptr);
      registration_in_flight_ = false;
    }
    return;
  }
  auto it = partitions_.find(group_id);
  if (it != partitions_.end()) it->second->OnLeaderChange(leader, term);
}

// ------------------------------------------------------------- metadata --

void Broker::Impl::ProposeMetadata(const metapb::MetadataCommand& command,
                                   MetadataDone done) {
  std::string bytes;
  CHRONIK_CHECK(command.SerializeToString(&bytes));
  absl::StatusOr<replication::RaftHost::Proposed> proposed =
      host_->Propose(kMetadataGroup, raft::Bytes::Own(std::move(bytes)));
  if (!proposed.ok()) {
    done(nullptr);
    return;
  }
  CHRONIK_CHECK(metadata_pending_.count(proposed->index) == 0);
  metadata_pending_.emplace(proposed->index,
                            std::make_pair(proposed->term, std::move(done)));
}

void Broker::Impl::ApplyMetadata(const raft::Entry& entry) {
  std::optional<metadata::ApplyResult> result;
  if (entry.type == raft::EntryType::kNormal && !entry.data.empty()) {
    metapb::MetadataCommand command;
    if (command.ParseFromArray(entry.data.data(),
                               static_cast<int>(entry.data.size()))) {
      result = metadata_.Apply(entry.index, command);
      partitions_dirty_ = true;
      if (command.has_create_topic()) {
        forwarded_creates_.erase(command.create_topic().name());
      }
      if (command.has_allocate_producer_ids() &&
          command.allocate_producer_ids().node_id() == config_.node_id &&
          result->first_producer_id >= 0 &&
          next_producer_id_ >= producer_id_block_end_) {
        // Our block (a retried request may bring a second: ignored).
        next_producer_id_ = result->first_producer_id;
        producer_id_block_end_ =
            result->first_producer_id + command.allocate_producer_ids().count();
        producer_block_retry_ms_ = 0;
      }
    } else {
      // Every node skips the same undecodable entry, so states stay equal.
      std::fprintf(stderr,
                   "chronik: metadata entry %llu does not decode; skipped\n",
                   static_cast<unsigned long long>(entry.index));
    }
  }
  // Anything proposed at or below this index that is still waiting either is
  // this entry or was overwritten by another leader's entry.
  while (!metadata_pending_.empty() &&
         metadata_pending_.begin()->first <= entry.index) {
    auto node = metadata_pending_.extract(metadata_pending_.begin());
    const bool ours = node.key() == entry.index &&
                      node.mapped().first == entry.term && result.has_value();
    node.mapped().second(ours ? &*result : nullptr);
  }
}

bool Broker::Impl::ForwardMetadata(const metapb::MetadataCommand& command) {
  const raft::NodeId leader = host_->leader(kMetadataGroup);
  if (leader == raft::kNoNode || leader == config_.node_id) return false;
  std::string bytes;
  CHRONIK_CHECK(command.SerializeToString(&bytes));
  raft::Message message;
  message.type = raft::MessageType::kForwardProposal;
  message.from = config_.node_id;
  message.to = leader;
  // The wire format wants entries to follow message.index (0): index 1.
  message.entries.push_back(raft::Entry{0, 1, raft::EntryType::kNormal,
                                        raft::Bytes::Own(std::move(bytes))});
  peers_out_->Send(
      replication::OutgoingMessage{kMetadataGroup, std::move(message)});
  return true;
}

void Broker::Impl::MaybeRegister() {
  if (registration_in_flight_) return;
  const bool leader = host_->is_leader(kMetadataGroup);
  if (!leader && clock_->NowMs() < next_registration_forward_ms_) return;
  const std::string host = config_.advertised_host;
  const int port = config_.advertised_port != 0 ? config_.advertised_port
                                                : config_.kafka_port;
  const metapb::BrokerInfo* registered = metadata_.FindBroker(config_.node_id);
  if (registered != nullptr && registered->host() == host &&
      registered->kafka_port() == port) {
    return;
  }
  metapb::MetadataCommand command;
  metapb::BrokerInfo* broker =
      command.mutable_register_broker()->mutable_broker();
  broker->set_node_id(config_.node_id);
  broker->set_host(host);
  broker->set_kafka_port(port);
  broker->set_raft_port(config_.raft_port);
  if (!leader) {
    // Followers ask the leader; the outcome shows in the applied metadata.
    if (ForwardMetadata(command)) {
      next_registration_forward_ms_ = clock_->NowMs() + kForwardRetryMs;
    }
    return;
  }
  registration_in_flight_ = true;
  ProposeMetadata(command, [this](const metadata::ApplyResult* result) {
    registration_in_flight_ = false;
    if (result != nullptr && result->error_code != 0) {
      std::fprintf(stderr, "chronik: broker registration failed: %s\n",
                   result->error_message.c_str());
    }
  });
}

void Broker::Impl::ReconcilePartitions() {
  partitions_dirty_ = false;
  // Wanted: every partition whose replicas include this node.
  std::map<uint64_t,
           std::pair<const metapb::TopicInfo*, const metapb::PartitionInfo*>>
      wanted;
  for (const metapb::TopicInfo* topic : metadata_.Topics()) {
    for (const metapb::PartitionInfo& partition : topic->partitions()) {
      const auto& replicas = partition.replicas();
      if (std::find(replicas.begin(), replicas.end(), config_.node_id) !=
          replicas.end()) {
        wanted[partition.group_id()] = {topic, &partition};
      }
    }
  }
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    if (wanted.count(it->first) > 0) {
      ++it;
      continue;
    }
    it->second->FailPending(error::kUnknownTopicOrPartition);
    if (absl::Status deleted = host_->DeleteGroup(it->first); !deleted.ok()) {
      std::fprintf(stderr, "chronik: deleting the log of group %llu: %s\n",
                   static_cast<unsigned long long>(it->first),
                   std::string(deleted.message()).c_str());
    }
    it = partitions_.erase(it);
  }
  for (const auto& [group_id, where] : wanted) {
    if (partitions_.count(group_id) > 0) continue;
    const auto& [topic, partition] = where;
    partitions_[group_id] = std::make_unique<PartitionReplica>(
        topic->name(), partition->partition(), group_id, config_.node_id);
    std::vector<raft::NodeId> voters(partition->replicas().begin(),
                                     partition->replicas().end());
    std::sort(voters.begin(), voters.end());
    absl::Status status =
        host_->AddGroup(replication::GroupSpec{group_id, voters, true, this});
    if (!status.ok()) {
      std::fprintf(stderr, "chronik: partition %s-%d (group %llu): %s\n",
                   topic->name().c_str(), partition->partition(),
                   static_cast<unsigned long long>(group_id),
                   std::string(status.message()).c_str());
      partitions_.erase(group_id);
      continue;
    }
    // The preferred replica (first listed) starts the first election.
    if (partition->replicas(0) == config_.node_id &&
        host_->leader(group_id) == raft::kNoNode) {
      host_->Campaign(group_id).IgnoreError();
    }
  }
}

std::string Broker::Impl::NewTopicId() {
  std::string id(16, '\0');
  do {
    for (int i = 0; i < 16; i += 8) {
      const uint64_t random = rng_();
      for (int b = 0; b < 8; ++b)
        id[i + b] = static_cast<char>(random >> (8 * b));
    }
  } while (id == std::string(16, '\0') ||
           metadata_.FindTopicById(id) != nullptr);
  return id;
}

void Broker::Impl::MaybeAutoCreate(const std::string& topic) {
  if (auto_creates_in_flight_.count(topic) > 0 ||
      static_cast<int>(auto_creates_in_flight_.size()) >=
          kMaxAutoCreatesInFlight) {
    return;  // already on its way (or too many at once: a later request
             // retries)
  }
  metapb::MetadataCommand command;
  metapb::CreateTopic* create = command.mutable_create_topic();
  create->set_name(topic);
  create->set_partitions(config_.default_partitions);
  create->set_replication_factor(std::min<int>(
      config_.replication_factor,
      static_cast<int>(std::max<size_t>(1, metadata_.Brokers().size()))));
  create->set_topic_id(NewTopicId());
  create->set_created_at_ms(clock_->NowMs());
  create->set_auto_created(true);
  if (!host_->is_leader(kMetadataGroup)) {
    // A follower forwards once per retry interval; the topic appears when the
    // leader's proposal is applied here.
    if (forwarded_creates_.size() >= kMaxForwardedCreates &&
        forwarded_creates_.count(topic) == 0) {
      return;
    }
    auto [it, inserted] = forwarded_creates_.emplace(topic, 0);
    if (!inserted && clock_->NowMs() < it->second) return;
    if (ForwardMetadata(command))
      it->second = clock_->NowMs() + kForwardRetryMs;
    return;
  }
  auto_creates_in_flight_.insert(topic);
  ProposeMetadata(command, [this, topic](const metadata::ApplyResult*) {
    auto_creates_in_flight_.erase(topic);
  });
}

// ----------------------------------------------------------- partitions --

PartitionReplica* Broker::Impl::FindPartition(const std::string& topic,
                                              int32_t partition) {
  const metapb::TopicInfo* info = metadata_.FindTopic(topic);
  if (info == nullptr || partition < 0 ||
      partition >= info->partitions_size()) {
    return nullptr;
  }
  auto it = partitions_.find(info->partitions(partition).group_id());
  return it == partitions_.end() ? nullptr : it->second.get();
}

int16_t Broker::Impl::LeaderReplica(const std::string& topic, int32_t partition,
                                    bool require_ready,
                                    PartitionReplica** replica) {
  *replica = nullptr;
  if (metadata_.FindTopic(topic) == nullptr) {
    return error::kUnknownTopicOrPartition;
  }
  PartitionReplica* found = FindPartition(topic, partition);
  if (found == nullptr || !found->is_leader() ||
      (require_ready && !found->leader_ready())) {
    return error::kNotLeaderOrFollower;
  }
  *replica = found;
  return error::kNone;
}

int32_t Broker::Impl::PartitionLeader(
    const metapb::PartitionInfo& partition) const {
  const raft::NodeId leader = host_->leader(partition.group_id());
  if (leader == raft::kNoNode) return -1;
  if (leader == config_.node_id) {
    auto it = partitions_.find(partition.group_id());
    if (it == partitions_.end() || !it->second->leader_ready()) return -1;
  }
  return static_cast<int32_t>(leader);
}

const metapb::BrokerInfo* Broker::Impl::Coordinator() const {
  return metadata_.FindBroker(host_->leader(kMetadataGroup));
}

void Broker::Impl::ApplyRetention() {
  // Segment files must not disappear while the IO thread may sync them.
  if (host_->flush_in_flight()) return;
  const int64_t now = clock_->NowMs();
  for (const auto& [group_id, partition] : partitions_) {
    const metapb::TopicInfo* topic = metadata_.FindTopic(partition->topic());
    storage::GroupStorage* storage = store_->group(group_id);
    if (topic == nullptr || storage == nullptr) continue;
    storage::RetentionLimits limits;
    limits.now_ms = now;
    limits.retention_ms = TopicConfigInt(*topic, "retention.ms", 604800000);
    limits.retention_bytes = TopicConfigInt(*topic, "retention.bytes", -1);
    // Never what is not applied here, nor what a follower still needs.
    limits.max_removable_index = partition->applied_index();
    if (const raft::RawNode* node = host_->node(group_id);
        node != nullptr && node->is_leader()) {
      for (const raft::ProgressStatus& peer : node->Status().progress) {
        limits.max_removable_index =
            std::min<uint64_t>(limits.max_removable_index, peer.match);
      }
    }
    absl::StatusOr<int> removed = storage->ApplyRetention(limits);
    if (removed.ok() && *removed > 0) {
      partition->set_cached_log_start_offset(std::nullopt);
    }
    if (!removed.ok()) {
      std::fprintf(stderr, "chronik: retention of %s-%d: %s\n",
                   partition->topic().c_str(), partition->partition(),
                   std::string(removed.status().message()).c_str());
    }
  }
}

void Broker::Impl::ExpireDeadlines() {
  const int64_t now = clock_->NowMs();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    std::function<void()> expire = std::move(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    expire();
  }
  RetryParkedFetches(true);
}

}  // namespace chronik::broker
