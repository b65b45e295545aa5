// The Kafka request handlers of Broker::Impl.
#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/broker_impl.h"
#include "broker/server/errors.h"

namespace chronik::broker {
namespace {

constexpr replication::GroupId kMetadataGroup = 0;
constexpr char kClusterId[] = "chronik-cluster";
constexpr int64_t kMaxRequestTimeoutMs = 5 * 60 * 1000;
constexpr uint64_t kMaxScanReadBytes = 1 << 20;

kafka::Uuid ToUuid(const std::string& bytes) {
  kafka::Uuid uuid{};
  if (bytes.size() == uuid.size())
    std::copy(bytes.begin(), bytes.end(), uuid.begin());
  return uuid;
}

std::string FromUuid(const kafka::Uuid& uuid) {
  return std::string(uuid.begin(), uuid.end());
}

bool IsZero(const kafka::Uuid& uuid) {
  return std::all_of(uuid.begin(), uuid.end(),
                     [](uint8_t b) { return b == 0; });
}

// Topic configs every topic has, with their defaults (name, value).
const std::vector<std::pair<std::string, std::string>>& DefaultTopicConfigs() {
  static const auto* defaults =
      new std::vector<std::pair<std::string, std::string>>{
          {"cleanup.policy", "delete"},
          {"compression.type", "producer"},
          {"max.message.bytes", "1048588"},
          {"message.timestamp.type", "CreateTime"},
          {"min.insync.replicas", "1"},
          {"retention.bytes", "-1"},
          {"retention.ms", "604800000"},
          {"segment.bytes", "67108864"},
          {"unclean.leader.election.enable", "false"},
      };
  return *defaults;
}

constexpr int8_t kConfigSourceTopic = 1;
constexpr int8_t kConfigSourceBroker = 4;
constexpr int8_t kConfigSourceDefault = 5;
constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;

int64_t ClampTimeout(int64_t timeout_ms) {
  return std::clamp<int64_t>(timeout_ms, 0, kMaxRequestTimeoutMs);
}

}  // namespace

bool HasAnyError(const kafka::CreateTopicsResponse& response) {
  return std::any_of(response.topics.begin(), response.topics.end(),
                     [](const auto& t) { return t.error_code != 0; });
}
bool HasAnyError(const kafka::DeleteTopicsResponse& response) {
  return std::any_of(response.responses.begin(), response.responses.end(),
                     [](const auto& t) { return t.error_code != 0; });
}
bool HasAnyError(const kafka::CreatePartitionsResponse& response) {
  return std::any_of(response.results.begin(), response.results.end(),
                     [](const auto& t) { return t.error_code != 0; });
}
bool HasAnyError(const kafka::AlterConfigsResponse& response) {
  return std::any_of(response.responses.begin(), response.responses.end(),
                     [](const auto& t) { return t.error_code != 0; });
}

// --------------------------------------------------------------- Metadata --

void Broker::Impl::HandleMetadata(const RequestContext& c,
                                  const kafka::MetadataRequest& r) {
  const int16_t version = c.header.api_version;
  kafka::MetadataResponse response;
  for (const metapb::BrokerInfo* broker : metadata_.Brokers()) {
    response.brokers.push_back({static_cast<int32_t>(broker->node_id()),
                                broker->host(), broker->kafka_port(),
                                std::nullopt});
  }
  response.cluster_id = kClusterId;
  const raft::NodeId controller = host_->leader(kMetadataGroup);
  response.controller_id =
      controller == raft::kNoNode ? -1 : static_cast<int32_t>(controller);
  std::vector<std::string> names;
  const bool all = !r.topics.has_value() || (version == 0 && r.topics->empty());
  if (all) {
    for (const metapb::TopicInfo* topic : metadata_.Topics()) {
      names.push_back(topic->name());
    }
  } else {
    for (const auto& requested : *r.topics) {
      if (requested.name.has_value()) {
        names.push_back(*requested.name);
      } else if (const metapb::TopicInfo* by_id =
                     metadata_.FindTopicById(FromUuid(requested.topic_id))) {
        names.push_back(by_id->name());
      } else {
        kafka::MetadataResponse::MetadataResponseTopic unknown;
        unknown.error_code = error::kUnknownTopicOrPartition;
        unknown.name = std::nullopt;
        unknown.topic_id = requested.topic_id;
        response.topics.push_back(std::move(unknown));
      }
    }
  }
  const bool may_create = config_.auto_create_topics &&
                          (version < 4 || r.allow_auto_topic_creation);
  for (const std::string& name : names) {
    kafka::MetadataResponse::MetadataResponseTopic topic;
    topic.name = name;
    const metapb::TopicInfo* info = metadata_.FindTopic(name);
    if (info == nullptr) {
      if (!metadata::ValidateTopicName(name).ok()) {
        topic.error_code = error::kInvalidTopic;
      } else if (may_create) {
        MaybeAutoCreate(name);
        topic.error_code = error::kLeaderNotAvailable;
      } else {
        topic.error_code = error::kUnknownTopicOrPartition;
      }
      response.topics.push_back(std::move(topic));
      continue;
    }
    topic.topic_id = ToUuid(info->topic_id());
    for (const metapb::PartitionInfo& partition : info->partitions()) {
      kafka::MetadataResponse::MetadataResponsePartition out;
      out.partition_index = partition.partition();
      out.leader_id = PartitionLeader(partition);
      if (out.leader_id < 0) out.error_code = error::kLeaderNotAvailable;
      for (uint64_t replica : partition.replicas()) {
        out.replica_nodes.push_back(static_cast<int32_t>(replica));
        out.isr_nodes.push_back(static_cast<int32_t>(replica));
      }
      topic.partitions.push_back(std::move(out));
    }
    response.topics.push_back(std::move(topic));
  }
  Finish(c, response);
}

// ---------------------------------------------------------------- Produce --

void Broker::Impl::HandleProduce(const RequestContext& c,
                                 kafka::ProduceRequest& r) {
  using Partition = kafka::ProduceResponse::PartitionProduceResponse;
  struct Wait {
    RequestContext context;
    kafka::ProduceResponse response;
    std::vector<int> outstanding;  // per flattened partition
    int remaining = 0;
    bool finished = false;
    bool respond = true;
  };
  auto wait = std::make_shared<Wait>();
  wait->context = c;
  wait->respond = r.acks != 0;
  // The whole response skeleton first, so pointers into it stay valid.
  for (const auto& topic : r.topics) {
    kafka::ProduceResponse::TopicProduceResponse out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      Partition p;
      p.partition_index = partition.partition_index;
      p.base_offset = -1;
      p.log_start_offset = 0;
      out.partitions.push_back(std::move(p));
    }
    wait->response.responses.push_back(std::move(out));
  }
  auto finish = [this](const std::shared_ptr<Wait>& w) {
    if (w->finished) return;
    w->finished = true;
    if (!w->respond) return;
    bool had_error = false;
    for (const auto& t : w->response.responses) {
      for (const auto& p : t.partitions) had_error |= p.error_code != 0;
    }
    Finish(w->context, w->response, had_error);
  };
  const bool acks_ok = r.acks == 0 || r.acks == 1 || r.acks == -1;
  size_t flat = 0;
  for (size_t t = 0; t < r.topics.size(); ++t) {
    auto& topic = r.topics[t];
    const metapb::TopicInfo* info = metadata_.FindTopic(topic.name);
    for (size_t i = 0; i < topic.partitions.size(); ++i, ++flat) {
      wait->outstanding.push_back(0);
      Partition* out = &wait->response.responses[t].partitions[i];
      auto& partition = topic.partitions[i];
      if (!acks_ok) {
        out->error_code = error::kInvalidRequiredAcks;
        continue;
      }
      if (r.transactional_id.has_value()) {
        out->error_code = error::kTransactionalIdAuthorizationFailed;
        out->error_message = "transactions are not supported";
        continue;
      }
      if (info == nullptr) {
        if (!metadata::ValidateTopicName(topic.name).ok()) {
          out->error_code = error::kInvalidTopic;
        } else if (config_.auto_create_topics) {
          MaybeAutoCreate(topic.name);
          out->error_code = error::kLeaderNotAvailable;
        } else {
          out->error_code = error::kUnknownTopicOrPartition;
        }
        continue;
      }
      if (partition.partition_index < 0 ||
          partition.partition_index >= info->partitions_size()) {
        out->error_code = error::kUnknownTopicOrPartition;
        continue;
      }
      PartitionReplica* replica =
          FindPartition(topic.name, partition.partition_index);
      if (replica == nullptr || !replica->leader_ready()) {
        out->error_code = error::kNotLeaderOrFollower;
        continue;
      }
      if (!partition.records.has_value() || partition.records->empty()) {
        out->error_code = error::kInvalidRecord;
        out->error_message = "no record batch";
        continue;
      }
      absl::StatusOr<std::vector<kafka::RecordBatchView>> batches =
          kafka::ParseRecordBatches(*partition.records);
      if (!batches.ok()) {
        out->error_code = kafka::ProduceErrorCode(batches.status());
        out->error_message = std::string(batches.status().message());
        continue;
      }
      for (size_t b = 0; b < batches->size(); ++b) {
        const kafka::RecordBatchView& batch = (*batches)[b];
        if (batch.header.is_transactional() || batch.header.is_control()) {
          out->error_code = error::kInvalidRecord;
          out->error_message = "transactional batches are not supported";
          break;
        }
        const BatchFacts facts = ReadBatchFacts(
            std::string_view(batch.bytes.data(), batch.bytes.size()));
        const partition::ProducerCheck check = replica->CheckProducer(facts);
        if (check.verdict == partition::ProducerCheck::Verdict::kReject) {
          out->error_code = check.error_code;
          break;
        }
        const bool first = b == 0;
        auto done = [wait, out, flat, first, finish](int16_t error_code,
                                                     int64_t base_offset) {
          if (wait->finished) return;
          if (error_code != 0 && out->error_code == 0) {
            out->error_code = error_code;
          }
          if (first && error_code == 0) out->base_offset = base_offset;
          --wait->outstanding[flat];
          if (--wait->remaining == 0) finish(wait);
        };
        if (check.verdict == partition::ProducerCheck::Verdict::kDuplicate) {
          if (check.original.raft_index <= replica->applied_index()) {
            if (first) out->base_offset = check.original.base_offset;
          } else {
            ++wait->outstanding[flat];
            ++wait->remaining;
            replica->WaitForPending(check.original.raft_index, done);
          }
          continue;
        }
        // The usual request carries one batch per partition: hand its bytes
        // to Raft without copying them (nothing reads `batch` afterwards).
        const bool whole = batches->size() == 1 &&
                           batch.bytes.size() == partition.records->size();
        raft::Bytes payload =
            whole ? raft::Bytes::Own(std::move(*partition.records))
                  : raft::Bytes::Copy(std::string_view(batch.bytes.data(),
                                                       batch.bytes.size()));
        absl::StatusOr<replication::RaftHost::Proposed> proposed =
            host_->Propose(replica->group_id(), std::move(payload));
        if (!proposed.ok()) {
          out->error_code = absl::IsUnavailable(proposed.status())
                                ? error::kNotEnoughReplicas
                                : error::kNotLeaderOrFollower;
          break;
        }
        ++wait->outstanding[flat];
        ++wait->remaining;
        replica->AddPendingAppend(proposed->term, proposed->index, facts, done);
      }
    }
  }
  if (!wait->respond) FinishWithoutResponse(c);
  if (wait->remaining == 0) {
    finish(wait);
    return;
  }
  deadlines_.emplace(
      clock_->NowMs() + ClampTimeout(r.timeout_ms), [wait, finish]() {
        if (wait->finished) return;
        size_t flat_index = 0;
        for (auto& topic : wait->response.responses) {
          for (auto& p : topic.partitions) {
            if (wait->outstanding[flat_index++] > 0 && p.error_code == 0) {
              p.error_code = error::kRequestTimedOut;
            }
          }
        }
        finish(wait);
      });
}

// ------------------------------------------------------------------ Fetch --

size_t Broker::Impl::BuildFetchResponse(const kafka::FetchRequest& request,
                                        kafka::FetchResponse* response) {
  size_t total_bytes = 0;
  const size_t max_bytes =
      request.max_bytes > 0 ? static_cast<size_t>(request.max_bytes) : 0;
  response->responses.clear();
  for (const auto& topic : request.topics) {
    kafka::FetchResponse::FetchableTopicResponse out_topic;
    out_topic.topic = topic.topic;
    for (const auto& partition : topic.partitions) {
      kafka::FetchResponse::PartitionData out;
      out.partition_index = partition.partition;
      PartitionReplica* replica = nullptr;
      out.error_code = LeaderReplica(topic.topic, partition.partition,
                                     /*require_ready=*/false, &replica);
      if (out.error_code == error::kNone) {
        storage::GroupStorage* storage = store_->group(replica->group_id());
        const int64_t hw = replica->high_watermark();
        const int64_t start = LogStartOffset(*replica);
        out.high_watermark = hw;
        out.last_stable_offset = hw;
        out.log_start_offset = start;
        if (partition.fetch_offset < start || partition.fetch_offset > hw) {
          out.error_code = error::kOffsetOutOfRange;
        } else if (partition.fetch_offset < hw && storage != nullptr) {
          const size_t room =
              total_bytes >= max_bytes ? 0 : max_bytes - total_bytes;
          size_t want = std::min<size_t>(
              room, std::max<int32_t>(partition.partition_max_bytes, 0));
          // At least one batch for the first partition with data (KIP-74).
          if (total_bytes == 0 && want == 0) want = 1;
          if (want > 0) {
            std::string records;
            absl::Status status =
                ReadRecords(*storage, partition.fetch_offset,
                            replica->applied_index(), want, &records);
            if (!status.ok()) {
              out.error_code = error::kKafkaStorageError;
            } else {
              total_bytes += records.size();
              out.records = std::move(records);
            }
          }
        }
      }
      out_topic.partitions.push_back(std::move(out));
    }
    response->responses.push_back(std::move(out_topic));
  }
  return total_bytes;
}

absl::Status Broker::Impl::ReadRecords(storage::GroupStorage& storage,
                                       int64_t offset, raft::Index last_index,
                                       size_t max_bytes, std::string* out) {
  storage::GroupLog& log = storage.log();
  absl::StatusOr<uint64_t> index =
      log.IndexForOffset(static_cast<uint64_t>(offset));
  if (!index.ok()) return index.status();
  while (*index <= last_index && out->size() < max_bytes) {
    std::vector<storage::Entry> entries;
    absl::Status status =
        log.Read(*index, last_index + 1, max_bytes - out->size(), &entries);
    if (!status.ok()) return status;
    if (entries.empty()) break;
    for (const storage::Entry& entry : entries) {
      if (entry.offset_count == 0) continue;
      if (!out->empty() && out->size() + entry.data.size() > max_bytes) {
        return absl::OkStatus();
      }
      out->append(entry.data);
    }
    *index = entries.back().index + 1;
  }
  return absl::OkStatus();
}

int64_t Broker::Impl::LogStartOffset(PartitionReplica& replica) {
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

void Broker::Impl::HandleFetch(const RequestContext& c,
                               const kafka::FetchRequest& r) {
  kafka::FetchResponse response;
  const size_t bytes = BuildFetchResponse(r, &response);
  const bool has_error = std::any_of(
      response.responses.begin(), response.responses.end(), [](const auto& t) {
        return std::any_of(t.partitions.begin(), t.partitions.end(),
                           [](const auto& p) { return p.error_code != 0; });
      });
  if (bytes >= static_cast<size_t>(std::max(r.min_bytes, 1)) ||
      r.max_wait_ms <= 0 || has_error ||
      static_cast<int>(parked_fetches_.size()) >= kMaxParkedFetches) {
    Finish(c, response, has_error);
    return;
  }
  parked_fetches_.push_back(ParkedFetch{
      c, r,
      clock_->NowMs() + std::min<int64_t>(r.max_wait_ms, kMaxFetchWaitMs)});
}

void Broker::Impl::RetryParkedFetches(bool expire) {
  changed_groups_.clear();
  if (parked_fetches_.empty()) return;
  const int64_t now = clock_->NowMs();
  std::vector<ParkedFetch> still;
  for (ParkedFetch& parked : parked_fetches_) {
    kafka::FetchResponse response;
    const size_t bytes = BuildFetchResponse(parked.request, &response);
    const bool due = expire && now >= parked.deadline_ms;
    if (bytes >= static_cast<size_t>(std::max(parked.request.min_bytes, 1)) ||
        due || connections_.count(parked.context.connection) == 0) {
      Finish(parked.context, response);
    } else {
      still.push_back(std::move(parked));
    }
  }
  parked_fetches_.swap(still);
}

// ------------------------------------------------------------ ListOffsets --

void Broker::Impl::HandleListOffsets(const RequestContext& c,
                                     const kafka::ListOffsetsRequest& r) {
  kafka::ListOffsetsResponse response;
  bool had_error = false;
  for (const auto& topic : r.topics) {
    kafka::ListOffsetsResponse::ListOffsetsTopicResponse out_topic;
    out_topic.name = topic.name;
    for (const auto& partition : topic.partitions) {
      kafka::ListOffsetsResponse::ListOffsetsPartitionResponse out;
      out.partition_index = partition.partition_index;
      PartitionReplica* replica = nullptr;
      out.error_code = LeaderReplica(topic.name, partition.partition_index,
                                     /*require_ready=*/true, &replica);
      if (out.error_code != error::kNone) {
        // Answered with the error.
      } else if (partition.timestamp == -1) {
        out.offset = replica->high_watermark();
      } else if (partition.timestamp == -2) {
        out.offset = LogStartOffset(*replica);
      } else {
        std::pair<int64_t, int64_t> found =
            OffsetForTimestamp(*replica, partition.timestamp);
        out.offset = found.first;
        out.timestamp = found.second;
      }
      if (c.header.api_version == 0 && out.error_code == 0) {
        out.old_style_offsets.push_back(out.offset);
      }
      had_error |= out.error_code != 0;
      out_topic.partitions.push_back(std::move(out));
    }
    response.topics.push_back(std::move(out_topic));
  }
  Finish(c, response, had_error);
}

std::pair<int64_t, int64_t> Broker::Impl::OffsetForTimestamp(
    const PartitionReplica& replica, int64_t timestamp_ms) {
  storage::GroupStorage* storage = store_->group(replica.group_id());
  if (storage == nullptr) return {-1, -1};
  storage::GroupLog& log = storage->log();
  const raft::Index last = replica.applied_index();
  for (uint64_t index = log.first_index(); index <= last;) {
    std::vector<storage::Entry> entries;
    if (!log.Read(index, last + 1, kMaxScanReadBytes, &entries).ok() ||
        entries.empty()) {
      break;
    }
    for (const storage::Entry& entry : entries) {
      if (entry.offset_count == 0) continue;
      if (ReadBatchFacts(entry.data).max_timestamp_ms < timestamp_ms) continue;
      absl::StatusOr<kafka::RecordBatchView> batch =
          kafka::ParseRecordBatch(entry.data);
      if (!batch.ok()) continue;
      absl::StatusOr<std::vector<kafka::Record>> records =
          kafka::DecodeRecords(*batch);
      if (!records.ok()) continue;
      for (const kafka::Record& record : *records) {
        const int64_t ts =
            batch->header.base_timestamp + record.timestamp_delta;
        if (ts >= timestamp_ms) {
          return {batch->header.base_offset + record.offset_delta, ts};
        }
      }
    }
    index = entries.back().index + 1;
  }
  return {-1, -1};
}

// -------------------------------------------------------- FindCoordinator --

void Broker::Impl::HandleFindCoordinator(
    const RequestContext& c, const kafka::FindCoordinatorRequest& r) {
  kafka::FindCoordinatorResponse response;
  const metapb::BrokerInfo* coordinator = Coordinator();
  auto fill = [&](int8_t key_type, int16_t* error_code, int32_t* node_id,
                  std::string* host, int32_t* port,
                  std::optional<std::string>* message) {
    if (key_type != 0) {
      *error_code = error::kInvalidRequest;
      *message = "only consumer group coordinators exist here";
    } else if (coordinator == nullptr) {
      *error_code = error::kCoordinatorNotAvailable;
      *node_id = -1;
      *port = -1;
      *message = std::nullopt;
    } else {
      *node_id = static_cast<int32_t>(coordinator->node_id());
      *host = coordinator->host();
      *port = coordinator->kafka_port();
      *message = std::nullopt;
    }
  };
  bool had_error = false;
  if (c.header.api_version >= 4) {
    for (const std::string& key : r.coordinator_keys) {
      kafka::FindCoordinatorResponse::Coordinator out;
      out.key = key;
      fill(r.key_type, &out.error_code, &out.node_id, &out.host, &out.port,
           &out.error_message);
      had_error |= out.error_code != 0;
      response.coordinators.push_back(std::move(out));
    }
  } else {
    fill(r.key_type, &response.error_code, &response.node_id, &response.host,
         &response.port, &response.error_message);
    had_error = response.error_code != 0;
  }
  Finish(c, response, had_error);
}

// ----------------------------------------------------------------- Groups --

kafka::JoinGroupResponse ToResponse(const group::JoinResult& result) {
  kafka::JoinGroupResponse response;
  response.error_code = result.error_code;
  response.generation_id = result.generation_id;
  response.protocol_type = result.protocol_type;
  response.protocol_name = result.protocol_name;
  response.leader = result.leader;
  response.member_id = result.member_id;
  for (const group::JoinMember& member : result.members) {
    response.members.push_back(
        {member.member_id, member.group_instance_id, member.metadata});
  }
  return response;
}

kafka::SyncGroupResponse ToResponse(const group::SyncResult& result) {
  kafka::SyncGroupResponse response;
  response.error_code = result.error_code;
  response.protocol_type = result.protocol_type;
  response.protocol_name = result.protocol_name;
  response.assignment = result.assignment;
  return response;
}

void Broker::Impl::HandleJoinGroup(const RequestContext& c,
                                   const kafka::JoinGroupRequest& r) {
  if (coordinator_ == nullptr) {
    kafka::JoinGroupResponse response;
    response.error_code = error::kNotCoordinator;
    Finish(c, response, true);
    return;
  }
  group::JoinRequest join;
  join.group_id = r.group_id;
  join.member_id = r.member_id;
  join.group_instance_id = r.group_instance_id;
  join.client_id = c.header.client_id.value_or("");
  join.client_host = c.client_host;
  join.protocol_type = r.protocol_type;
  for (const auto& protocol : r.protocols) {
    join.protocols.push_back({protocol.name, protocol.metadata});
  }
  join.session_timeout_ms = r.session_timeout_ms;
  join.rebalance_timeout_ms = r.rebalance_timeout_ms < 0
                                  ? r.session_timeout_ms
                                  : r.rebalance_timeout_ms;
  join.require_known_member_id = c.header.api_version >= 4;
  const group::Ticket ticket = next_ticket_++;
  std::optional<group::JoinResult> result =
      coordinator_->Join(ticket, join, clock_->NowMs());
  if (!result.has_value()) {
    parked_group_requests_[ticket] = c;
    return;
  }
  Finish(c, ToResponse(*result), result->error_code != 0);
}

void Broker::Impl::HandleSyncGroup(const RequestContext& c,
                                   const kafka::SyncGroupRequest& r) {
  if (coordinator_ == nullptr) {
    kafka::SyncGroupResponse response;
    response.error_code = error::kNotCoordinator;
    Finish(c, response, true);
    return;
  }
  group::SyncRequest sync;
  sync.group_id = r.group_id;
  sync.generation_id = r.generation_id;
  sync.member_id = r.member_id;
  for (const auto& assignment : r.assignments) {
    sync.assignments[assignment.member_id] = assignment.assignment;
  }
  const group::Ticket ticket = next_ticket_++;
  std::optional<group::SyncResult> result =
      coordinator_->Sync(ticket, sync, clock_->NowMs());
  if (!result.has_value()) {
    parked_group_requests_[ticket] = c;
    return;
  }
  Finish(c, ToResponse(*result), result->error_code != 0);
}

void Broker::Impl::HandleHeartbeat(const RequestContext& c,
                                   const kafka::HeartbeatRequest& r) {
  kafka::HeartbeatResponse response;
  response.error_code =
      coordinator_ == nullptr
          ? error::kNotCoordinator
          : coordinator_->Heartbeat(r.group_id, r.member_id, r.generation_id,
                                    clock_->NowMs());
  Finish(c, response, response.error_code != 0);
}

void Broker::Impl::HandleLeaveGroup(const RequestContext& c,
                                    const kafka::LeaveGroupRequest& r) {
  kafka::LeaveGroupResponse response;
  if (coordinator_ == nullptr) {
    response.error_code = error::kNotCoordinator;
    Finish(c, response, true);
    return;
  }
  std::vector<std::string> members;
  if (c.header.api_version >= 3) {
    for (const auto& member : r.members) members.push_back(member.member_id);
  } else {
    members.push_back(r.member_id);
  }
  std::vector<int16_t> errors =
      coordinator_->Leave(r.group_id, members, clock_->NowMs());
  if (c.header.api_version >= 3) {
    for (size_t i = 0; i < members.size(); ++i) {
      response.members.push_back(
          {members[i], r.members[i].group_instance_id, errors[i]});
    }
  } else {
    response.error_code = errors[0];
  }
  Finish(c, response, response.error_code != 0);
}

void Broker::Impl::HandleOffsetCommit(const RequestContext& c,
                                      const kafka::OffsetCommitRequest& r) {
  auto response = std::make_shared<kafka::OffsetCommitResponse>();
  int16_t common_error = error::kNone;
  if (coordinator_ == nullptr) {
    common_error = error::kNotCoordinator;
  } else {
    common_error =
        coordinator_->ValidateCommit(r.group_id, r.member_id, r.generation_id);
  }
  metapb::MetadataCommand command;
  metapb::CommitOffsets* commit = command.mutable_commit_offsets();
  commit->set_group(r.group_id);
  const int64_t now = clock_->NowMs();
  for (const auto& topic : r.topics) {
    kafka::OffsetCommitResponse::OffsetCommitResponseTopic out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      out.partitions.push_back({partition.partition_index, common_error});
      metapb::OffsetCommitEntry* entry = commit->add_offsets();
      entry->set_topic(topic.name);
      entry->set_partition(partition.partition_index);
      entry->set_offset(partition.committed_offset);
      entry->set_leader_epoch(partition.committed_leader_epoch);
      entry->set_metadata(partition.committed_metadata.value_or(""));
      entry->set_commit_time_ms(now);
    }
    response->topics.push_back(std::move(out));
  }
  if (common_error != error::kNone || commit->offsets_size() == 0) {
    Finish(c, *response, common_error != error::kNone);
    return;
  }
  ProposeMetadata(
      command, [this, c, response](const metadata::ApplyResult* result) {
        const int16_t code =
            result == nullptr ? error::kNotCoordinator : result->error_code;
        for (auto& topic : response->topics) {
          for (auto& partition : topic.partitions) partition.error_code = code;
        }
        Finish(c, *response, code != 0);
      });
}

void Broker::Impl::HandleOffsetFetch(const RequestContext& c,
                                     const kafka::OffsetFetchRequest& r) {
  kafka::OffsetFetchResponse response;
  const int16_t common =
      coordinator_ == nullptr ? error::kNotCoordinator : error::kNone;
  // Fills partitions of `group` for the requested topics (all when null).
  auto collect = [&](const std::string& group,
                     const std::optional<std::vector<
                         std::pair<std::string, std::vector<int32_t>>>>&
                         wanted) {
    std::vector<
        std::pair<std::string,
                  std::vector<std::pair<int32_t, metadata::CommittedOffset>>>>
        out;
    if (wanted.has_value()) {
      for (const auto& [topic, partitions] : *wanted) {
        std::vector<std::pair<int32_t, metadata::CommittedOffset>> found;
        for (int32_t p : partitions) {
          found.emplace_back(p, metadata_.FindOffset(group, topic, p)
                                    .value_or(metadata::CommittedOffset{}));
        }
        out.emplace_back(topic, std::move(found));
      }
      return out;
    }
    for (const metapb::TopicInfo* topic : metadata_.Topics()) {
      std::vector<std::pair<int32_t, metadata::CommittedOffset>> found;
      for (const auto& partition : topic->partitions()) {
        std::optional<metadata::CommittedOffset> offset =
            metadata_.FindOffset(group, topic->name(), partition.partition());
        if (offset.has_value())
          found.emplace_back(partition.partition(), *offset);
      }
      if (!found.empty()) out.emplace_back(topic->name(), std::move(found));
    }
    return out;
  };
  using Wanted =
      std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>>;
  if (c.header.api_version >= 8) {
    for (const auto& group : r.groups) {
      kafka::OffsetFetchResponse::OffsetFetchResponseGroup out_group;
      out_group.group_id = group.group_id;
      out_group.error_code = common;
      Wanted wanted;
      if (group.topics.has_value()) {
        wanted.emplace();
        for (const auto& t : *group.topics) {
          wanted->emplace_back(t.name, t.partition_indexes);
        }
      }
      if (common == error::kNone) {
        for (auto& [topic, partitions] : collect(group.group_id, wanted)) {
          kafka::OffsetFetchResponse::OffsetFetchResponseTopics out_topic;
          out_topic.name = topic;
          for (auto& [p, offset] : partitions) {
            out_topic.partitions.push_back({p, offset.offset,
                                            offset.leader_epoch,
                                            offset.metadata, error::kNone});
          }
          out_group.topics.push_back(std::move(out_topic));
        }
      }
      response.groups.push_back(std::move(out_group));
    }
    Finish(c, response, common != error::kNone);
    return;
  }
  response.error_code = common;
  Wanted wanted;
  if (r.topics.has_value()) {
    wanted.emplace();
    for (const auto& t : *r.topics)
      wanted->emplace_back(t.name, t.partition_indexes);
  }
  if (common == error::kNone) {
    for (auto& [topic, partitions] : collect(r.group_id, wanted)) {
      kafka::OffsetFetchResponse::OffsetFetchResponseTopic out_topic;
      out_topic.name = topic;
      for (auto& [p, offset] : partitions) {
        out_topic.partitions.push_back({p, offset.offset, offset.leader_epoch,
                                        offset.metadata, error::kNone});
      }
      response.topics.push_back(std::move(out_topic));
    }
  } else if (r.topics.has_value()) {
    // Versions before 2 have no top-level error: report per partition.
    for (const auto& t : *r.topics) {
      kafka::OffsetFetchResponse::OffsetFetchResponseTopic out_topic;
      out_topic.name = t.name;
      for (int32_t p : t.partition_indexes) {
        out_topic.partitions.push_back({p, -1, -1, "", common});
      }
      response.topics.push_back(std::move(out_topic));
    }
  }
  Finish(c, response, common != error::kNone);
}

void Broker::Impl::HandleDescribeGroups(const RequestContext& c,
                                        const kafka::DescribeGroupsRequest& r) {
  kafka::DescribeGroupsResponse response;
  for (const std::string& group_id : r.groups) {
    kafka::DescribeGroupsResponse::DescribedGroup out;
    out.group_id = group_id;
    if (coordinator_ == nullptr) {
      out.error_code = error::kNotCoordinator;
    } else if (std::optional<group::GroupDescription> described =
                   coordinator_->Describe(group_id)) {
      out.group_state = described->state;
      out.protocol_type = described->protocol_type;
      out.protocol_data = described->protocol_name;
      for (const group::MemberDescription& member : described->members) {
        out.members.push_back({member.member_id, member.group_instance_id,
                               member.client_id, member.client_host,
                               member.metadata, member.assignment});
      }
    } else {
      out.group_state = "Dead";
    }
    response.groups.push_back(std::move(out));
  }
  Finish(c, response);
}

void Broker::Impl::HandleListGroups(const RequestContext& c,
                                    const kafka::ListGroupsRequest& r) {
  kafka::ListGroupsResponse response;
  if (coordinator_ == nullptr) {
    response.error_code = error::kNotCoordinator;
    Finish(c, response, true);
    return;
  }
  for (const group::GroupDescription& group : coordinator_->List()) {
    if (!r.states_filter.empty() &&
        std::find(r.states_filter.begin(), r.states_filter.end(),
                  group.state) == r.states_filter.end()) {
      continue;
    }
    response.groups.push_back(
        {group.group_id, group.protocol_type, group.state});
  }
  Finish(c, response);
}

// ------------------------------------------------------------------ Admin --

void Broker::Impl::HandleCreateTopics(const RequestContext& c,
                                      const kafka::CreateTopicsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::CreateTopicsResponse>>();
  wait->context = c;
  for (const auto& topic : r.topics) {
    kafka::CreateTopicsResponse::CreatableTopicResult out;
    out.name = topic.name;
    wait->response.topics.push_back(std::move(out));
  }
  const int brokers = static_cast<int>(metadata_.Brokers().size());
  for (size_t i = 0; i < r.topics.size(); ++i) {
    const auto& topic = r.topics[i];
    auto* out = &wait->response.topics[i];
    const int32_t partitions = topic.num_partitions == -1
                                   ? config_.default_partitions
                                   : topic.num_partitions;
    const int16_t replication =
        topic.replication_factor == -1
            ? static_cast<int16_t>(
                  std::min(config_.replication_factor, std::max(brokers, 1)))
            : topic.replication_factor;
    if (absl::Status valid = metadata::ValidateTopicName(topic.name);
        !valid.ok()) {
      out->error_code = error::kInvalidTopic;
      out->error_message = std::string(valid.message());
      continue;
    }
    if (!host_->is_leader(kMetadataGroup)) {
      out->error_code = error::kNotController;
      continue;
    }
    if (!topic.assignments.empty()) {
      out->error_code = error::kInvalidRequest;
      out->error_message = "manual replica assignment is not supported";
      continue;
    }
    if (metadata_.FindTopic(topic.name) != nullptr) {
      out->error_code = error::kTopicAlreadyExists;
      out->error_message =
          absl::StrCat("topic '", topic.name, "' already exists");
      continue;
    }
    if (partitions < 1) {
      out->error_code = error::kInvalidPartitions;
      out->error_message = "number of partitions must be at least 1";
      continue;
    }
    if (replication < 1 || replication > brokers) {
      out->error_code = error::kInvalidReplicationFactor;
      out->error_message = absl::StrCat("replication factor ", replication,
                                        " with ", brokers, " brokers");
      continue;
    }
    out->num_partitions = partitions;
    out->replication_factor = replication;
    if (r.validate_only) continue;
    metapb::MetadataCommand command;
    metapb::CreateTopic* create = command.mutable_create_topic();
    create->set_name(topic.name);
    create->set_partitions(partitions);
    create->set_replication_factor(replication);
    const std::string topic_id = NewTopicId();
    create->set_topic_id(topic_id);
    create->set_created_at_ms(clock_->NowMs());
    for (const auto& config : topic.configs) {
      if (!config.value.has_value()) continue;
      metapb::TopicConfigEntry* entry = create->add_configs();
      entry->set_name(config.name);
      entry->set_value(*config.value);
    }
    ++wait->remaining;
    ProposeMetadata(command, [this, wait, out,
                              topic_id](const metadata::ApplyResult* result) {
      if (wait->finished) return;
      if (result == nullptr) {
        out->error_code = error::kNotController;
      } else if (result->error_code != 0) {
        out->error_code = result->error_code;
        out->error_message = result->error_message;
      } else {
        out->topic_id = ToUuid(topic_id);
      }
      PartDone(wait);
    });
  }
  if (wait->remaining == 0) {
    FinishGathered(wait);
    return;
  }
  deadlines_.emplace(clock_->NowMs() + ClampTimeout(r.timeout_ms),
                     [this, wait]() {
                       for (auto& t : wait->response.topics) {
                         if (t.error_code == 0 && IsZero(t.topic_id)) {
                           t.error_code = error::kRequestTimedOut;
                         }
                       }
                       FinishGathered(wait);
                     });
}

void Broker::Impl::HandleDeleteTopics(const RequestContext& c,
                                      const kafka::DeleteTopicsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::DeleteTopicsResponse>>();
  wait->context = c;
  std::vector<std::optional<std::string>> names;
  if (c.header.api_version >= 6) {
    for (const auto& topic : r.topics) {
      if (topic.name.has_value()) {
        names.push_back(topic.name);
      } else if (const metapb::TopicInfo* info =
                     metadata_.FindTopicById(FromUuid(topic.topic_id))) {
        names.push_back(info->name());
      } else {
        names.push_back(std::nullopt);
      }
    }
  } else {
    for (const std::string& name : r.topic_names) names.push_back(name);
  }
  for (const auto& name : names) {
    kafka::DeleteTopicsResponse::DeletableTopicResult out;
    out.name = name;
    wait->response.responses.push_back(std::move(out));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto* out = &wait->response.responses[i];
    const metapb::TopicInfo* info =
        names[i].has_value() ? metadata_.FindTopic(*names[i]) : nullptr;
    if (info == nullptr) {
      out->error_code = error::kUnknownTopicOrPartition;
      continue;
    }
    out->topic_id = ToUuid(info->topic_id());
    if (!host_->is_leader(kMetadataGroup)) {
      out->error_code = error::kNotController;
      continue;
    }
    metapb::MetadataCommand command;
    command.mutable_delete_topic()->set_name(*names[i]);
    ++wait->remaining;
    ProposeMetadata(command,
                    [this, wait, out](const metadata::ApplyResult* result) {
                      if (wait->finished) return;
                      if (result == nullptr) {
                        out->error_code = error::kNotController;
                      } else {
                        out->error_code = result->error_code;
                        if (result->error_code != 0)
                          out->error_message = result->error_message;
                      }
                      PartDone(wait);
                    });
  }
  if (wait->remaining == 0) FinishGathered(wait);
}

void Broker::Impl::HandleCreatePartitions(
    const RequestContext& c, const kafka::CreatePartitionsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::CreatePartitionsResponse>>();
  wait->context = c;
  for (const auto& topic : r.topics) {
    wait->response.results.push_back({topic.name, error::kNone, std::nullopt});
  }
  for (size_t i = 0; i < r.topics.size(); ++i) {
    auto* out = &wait->response.results[i];
    const auto& topic = r.topics[i];
    const metapb::TopicInfo* info = metadata_.FindTopic(topic.name);
    if (info == nullptr) {
      out->error_code = error::kUnknownTopicOrPartition;
      continue;
    }
    if (topic.count <= info->partitions_size()) {
      out->error_code = error::kInvalidPartitions;
      out->error_message = absl::StrCat("topic has ", info->partitions_size(),
                                        " partitions already");
      continue;
    }
    if (!host_->is_leader(kMetadataGroup)) {
      out->error_code = error::kNotController;
      continue;
    }
    if (r.validate_only) continue;
    metapb::MetadataCommand command;
    command.mutable_create_partitions()->set_name(topic.name);
    command.mutable_create_partitions()->set_total_count(topic.count);
    ++wait->remaining;
    ProposeMetadata(
        command, [this, wait, out](const metadata::ApplyResult* result) {
          if (wait->finished) return;
          out->error_code =
              result == nullptr ? error::kNotController : result->error_code;
          if (result != nullptr && result->error_code != 0) {
            out->error_message = result->error_message;
          }
          PartDone(wait);
        });
  }
  if (wait->remaining == 0) FinishGathered(wait);
}

void Broker::Impl::HandleDeleteRecords(const RequestContext& c,
                                       const kafka::DeleteRecordsRequest& r) {
  kafka::DeleteRecordsResponse response;
  for (const auto& topic : r.topics) {
    kafka::DeleteRecordsResponse::DeleteRecordsTopicResult out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      out.partitions.push_back(
          {partition.partition_index, -1, error::kPolicyViolation});
    }
    response.topics.push_back(std::move(out));
  }
  Finish(c, response, true);
}

void Broker::Impl::HandleInitProducerId(const RequestContext& c,
                                        const kafka::InitProducerIdRequest& r) {
  if (r.transactional_id.has_value() && !r.transactional_id->empty()) {
    kafka::InitProducerIdResponse response;
    response.error_code = error::kTransactionalIdAuthorizationFailed;
    Finish(c, response, true);
    return;
  }
  if (static_cast<int>(waiting_for_producer_ids_.size()) >=
      kMaxPendingInitProducerIds) {
    kafka::InitProducerIdResponse response;
    response.error_code = error::kCoordinatorNotAvailable;
    Finish(c, response, true);
    return;
  }
  waiting_for_producer_ids_.emplace_back(
      c, clock_->NowMs() + kInitProducerIdTimeoutMs);
  ServeProducerIdRequests();
}

void Broker::Impl::ServeProducerIdRequests() {
  const int64_t now = clock_->NowMs();
  while (!waiting_for_producer_ids_.empty()) {
    const auto& [context, deadline_ms] = waiting_for_producer_ids_.front();
    kafka::InitProducerIdResponse response;
    if (next_producer_id_ >= 0 && next_producer_id_ < producer_id_block_end_) {
      response.producer_id = next_producer_id_++;
      response.producer_epoch = 0;
    } else if (now >= deadline_ms) {
      response.error_code = error::kCoordinatorNotAvailable;  // retriable
    } else {
      break;
    }
    Finish(context, response, response.error_code != 0);
    waiting_for_producer_ids_.erase(waiting_for_producer_ids_.begin());
  }
  if (waiting_for_producer_ids_.empty() || now < producer_block_retry_ms_) {
    return;
  }
  // Ask the metadata group for a block for this node (any node may serve
  // InitProducerId); the block arrives in ApplyMetadata.
  metapb::MetadataCommand command;
  command.mutable_allocate_producer_ids()->set_count(kProducerIdBlockSize);
  command.mutable_allocate_producer_ids()->set_node_id(config_.node_id);
  if (host_->is_leader(kMetadataGroup)) {
    ProposeMetadata(command, [](const metadata::ApplyResult*) {});
  } else if (!ForwardMetadata(command)) {
    return;  // no leader known yet: try again on the next Process
  }
  producer_block_retry_ms_ = now + kForwardRetryMs;
}

void Broker::Impl::HandleDescribeConfigs(
    const RequestContext& c, const kafka::DescribeConfigsRequest& r) {
  kafka::DescribeConfigsResponse response;
  bool had_error = false;
  for (const auto& resource : r.resources) {
    kafka::DescribeConfigsResponse::DescribeConfigsResult out;
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    std::vector<std::tuple<std::string, std::string, int8_t>> configs;
    if (resource.resource_type == kResourceTopic) {
      const metapb::TopicInfo* topic =
          metadata_.FindTopic(resource.resource_name);
      if (topic == nullptr) {
        out.error_code = error::kUnknownTopicOrPartition;
        out.error_message =
            absl::StrCat("topic '", resource.resource_name, "' does not exist");
      } else {
        std::map<std::string, std::pair<std::string, int8_t>> merged;
        for (const auto& [name, value] : DefaultTopicConfigs()) {
          merged[name] = {value, kConfigSourceDefault};
        }
        merged["min.insync.replicas"] = {
            std::to_string(config_.min_insync_replicas), kConfigSourceDefault};
        for (const auto& entry : topic->configs()) {
          merged[entry.name()] = {entry.value(), kConfigSourceTopic};
        }
        for (const auto& [name, value] : merged) {
          configs.emplace_back(name, value.first, value.second);
        }
      }
    } else if (resource.resource_type == kResourceBroker) {
      configs = {
          {"auto.create.topics.enable",
           config_.auto_create_topics ? "true" : "false", kConfigSourceBroker},
          {"num.partitions", std::to_string(config_.default_partitions),
           kConfigSourceBroker},
          {"default.replication.factor",
           std::to_string(config_.replication_factor), kConfigSourceBroker},
          {"min.insync.replicas", std::to_string(config_.min_insync_replicas),
           kConfigSourceBroker},
          {"message.max.bytes", "1048588", kConfigSourceDefault},
      };
    } else {
      out.error_code = error::kInvalidRequest;
      out.error_message = "unsupported resource type";
    }
    for (const auto& [name, value, source] : configs) {
      if (resource.configuration_keys.has_value() &&
          !resource.configuration_keys->empty() &&
          std::find(resource.configuration_keys->begin(),
                    resource.configuration_keys->end(),
                    name) == resource.configuration_keys->end()) {
        continue;
      }
      kafka::DescribeConfigsResponse::DescribeConfigsResourceResult entry;
      entry.name = name;
      entry.value = value;
      entry.is_default = source == kConfigSourceDefault;
      entry.config_source = source;
      out.configs.push_back(std::move(entry));
    }
    had_error |= out.error_code != 0;
    response.results.push_back(std::move(out));
  }
  Finish(c, response, had_error);
}

void Broker::Impl::HandleAlterConfigs(const RequestContext& c,
                                      const kafka::AlterConfigsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::AlterConfigsResponse>>();
  wait->context = c;
  for (const auto& resource : r.resources) {
    kafka::AlterConfigsResponse::AlterConfigsResourceResponse out;
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    wait->response.responses.push_back(std::move(out));
  }
  for (size_t i = 0; i < r.resources.size(); ++i) {
    const auto& resource = r.resources[i];
    auto* out = &wait->response.responses[i];
    if (resource.resource_type != kResourceTopic) {
      out->error_code = error::kInvalidRequest;
      out->error_message = "only topic configs can be altered";
      continue;
    }
    const metapb::TopicInfo* topic =
        metadata_.FindTopic(resource.resource_name);
    if (topic == nullptr) {
      out->error_code = error::kUnknownTopicOrPartition;
      continue;
    }
    if (r.validate_only) continue;
    // AlterConfigs replaces the whole set of a topic's overrides.
    metapb::MetadataCommand command;
    metapb::AlterTopicConfigs* alter = command.mutable_alter_topic_configs();
    alter->set_name(resource.resource_name);
    for (const auto& existing : topic->configs())
      alter->add_remove(existing.name());
    for (const auto& config : resource.configs) {
      if (!config.value.has_value()) continue;
      metapb::TopicConfigEntry* entry = alter->add_set();
      entry->set_name(config.name);
      entry->set_value(*config.value);
    }
    ++wait->remaining;
    ProposeMetadata(
        command, [this, wait, out](const metadata::ApplyResult* result) {
          if (wait->finished) return;
          out->error_code =
              result == nullptr ? error::kNotController : result->error_code;
          PartDone(wait);
        });
  }
  if (wait->remaining == 0) FinishGathered(wait);
}

void Broker::Impl::HandleDescribeCluster(const RequestContext& c,
                                         const kafka::DescribeClusterRequest&) {
  kafka::DescribeClusterResponse response;
  response.cluster_id = kClusterId;
  const raft::NodeId controller = host_->leader(kMetadataGroup);
  response.controller_id =
      controller == raft::kNoNode ? -1 : static_cast<int32_t>(controller);
  for (const metapb::BrokerInfo* broker : metadata_.Brokers()) {
    response.brokers.push_back({static_cast<int32_t>(broker->node_id()),
                                broker->host(), broker->kafka_port(),
                                std::nullopt});
  }
  Finish(c, response);
}

}  // namespace chronik::broker
