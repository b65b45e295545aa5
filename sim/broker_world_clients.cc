// The broker scenario's clients, built on the real Kafka codec: an admin
// creating the topic through the metadata leader, idempotent producers and,
// after the heal, a consumer reading every partition back. Each behaves as a
// real client does: bootstrap from any broker, Metadata refresh on leader
// errors, connection loss and timeouts, the same batch (same sequence)
// retried until acknowledged, reconnects with backoff. One request in flight
// per client.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/storage/group_log.h"
#include "sim/broker_world.h"
#include "sim/broker_world_call.h"

namespace chronik::sim {
namespace {

namespace error = kafka::error;

constexpr Nanos kBackoffMin = 50 * kMillisecond;
constexpr Nanos kBackoffMax = 1 * kSecond;
constexpr int32_t kProduceTimeoutMs = 2000;
constexpr uint64_t kLargeBatchEvery = 8;

// Errors after which a client refreshes Metadata and retries.
bool Retriable(int16_t code) {
  switch (code) {
    case error::kNotLeaderOrFollower:
    case error::kLeaderNotAvailable:
    case error::kUnknownTopicOrPartition:
    case error::kRequestTimedOut:
    case error::kNotEnoughReplicas:
    case error::kNotEnoughReplicasAfterAppend:
    case error::kKafkaStorageError:
    case error::kNotController:
    case error::kCoordinatorNotAvailable:
      return true;
    default:
      return false;
  }
}

int32_t ReadInt32(absl::string_view bytes) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return static_cast<int32_t>(value);
}

}  // namespace

void BrokerWorld::SendFrame(SimClient& client, int node_id, std::string frame) {
  const int node = node_id - 1;
  CHRONIK_CHECK(node >= 0 && node < num_nodes());
  bool open = false;
  if (client.connection == 0 || client.connection_node != node) {
    CloseClientConnection(client);
    client.connection = next_connection_++;
    client.connection_node = node;
    open = true;
    Record(Trace::kWorld, "connect",
           {static_cast<uint64_t>(client.index), static_cast<uint64_t>(node),
            client.connection});
  }
  const Network::Delays delays =
      network_.RouteStream(client.endpoint, node, now());
  if (delays.empty()) return;  // blocked: the request times out
  const int index = client.index;
  const env::ConnectionId connection = client.connection;
  auto shared = std::make_shared<std::string>(std::move(frame));
  scheduler_.After(delays.front(),
                   [this, node, index, connection, open, shared] {
                     ArriveAtBroker(node, index, connection, open, *shared);
                   });
}

void BrokerWorld::CloseClientConnection(SimClient& client) {
  if (client.connection == 0) return;
  const int node = client.connection_node;
  const env::ConnectionId connection = client.connection;
  client.connection = 0;
  client.connection_node = -1;
  const Network::Delays delays =
      network_.RouteStream(client.endpoint, node, now());
  const Nanos delay = delays.empty() ? kMillisecond : delays.front();
  scheduler_.After(
      delay, [this, node, connection] { CloseAtBroker(node, connection); });
}

void BrokerWorld::OnClientBytes(int index, env::ConnectionId connection,
                                const std::string& bytes) {
  SimClient& client = clients_[index];
  if (finished_ || client.connection != connection) return;
  if (response_loss_ > 0 && workload_rng_.Chance(response_loss_)) {
    ++result_.lost_responses;
    Record(Trace::kWorld, "response_lost",
           {static_cast<uint64_t>(index), connection});
    ClientFailed(client, "connection reset before the response");
    return;
  }
  CHRONIK_CHECK_GE(bytes.size(), 8u);
  const absl::string_view payload = absl::string_view(bytes).substr(4);
  if (!client.pending.has_value() ||
      ReadInt32(payload) != client.pending->correlation) {
    return;  // an answer to a request given up on
  }
  PendingRequest pending = std::move(*client.pending);
  client.pending.reset();
  pending.on_response(payload);
}

void BrokerWorld::OnClientClosed(int index, env::ConnectionId connection) {
  SimClient& client = clients_[index];
  if (finished_ || client.connection != connection) return;
  client.connection = 0;
  client.connection_node = -1;
  if (client.pending.has_value()) ClientFailed(client, "disconnected");
}

void BrokerWorld::ClientFailed(SimClient& client, std::string_view why) {
  Record(Trace::kWorld, "client_retry",
         {static_cast<uint64_t>(client.index), client.attempt},
         [&] { return std::string(why); });
  ++result_.retries;
  client.pending.reset();
  CloseClientConnection(client);
  if (client.kind == ClientKind::kGroupMember) GroupCallFailed(client);
  if (client.kind == ClientKind::kTxnProducer) TxnCallFailed(client);
  client.need_metadata = true;
  client.bootstrap = (client.bootstrap + 1) % num_nodes();
  client.backoff =
      std::clamp<Nanos>(client.backoff * 2, kBackoffMin, kBackoffMax);
  ActLater(client, client.backoff);
}

void BrokerWorld::ActLater(SimClient& client, Nanos delay) {
  const int index = client.index;
  client.active = true;
  scheduler_.After(delay + workload_rng_.Between(0, 10 * kMillisecond),
                   [this, index] {
                     SimClient& later = clients_[index];
                     later.active = false;
                     Act(later);
                   });
}

int BrokerWorld::AnyBroker(SimClient& client) {
  const int node = client.bootstrap;
  client.bootstrap = (client.bootstrap + 1) % num_nodes();
  return node + 1;
}

void BrokerWorld::Act(SimClient& client) {
  if (finished_ || client.done || client.pending.has_value() || client.active) {
    return;
  }
  if (client.kind == ClientKind::kAdmin && auto_create_) {
    AskForTopic(client);
    return;
  }
  if (client.kind == ClientKind::kGroupMember) {
    GroupAct(client);  // its own Metadata refreshes (heartbeats come first)
    return;
  }
  if (client.kind == ClientKind::kMonitor) {
    MonitorAct(client);
    return;
  }
  if (client.kind == ClientKind::kPurger) {
    PurgerAct(client);
    return;
  }
  if (client.kind == ClientKind::kTxnProducer) return TxnAct(client);
  if (client.kind == ClientKind::kTxnConsumer) return TxnReadAct(client);
  if (client.need_metadata) {
    RequestMetadata(client);
    return;
  }
  switch (client.kind) {
    case ClientKind::kAdmin:
      AdminAct(client);
      break;
    case ClientKind::kProducer:
      if (client.idempotent && client.producer_id < 0 &&
          !options_.bug_no_idempotence) {
        InitProducer(client);
      } else {
        Produce(client);
      }
      break;
    case ClientKind::kGroupMember:
      break;  // GroupAct, above
    case ClientKind::kMonitor:
    case ClientKind::kPurger:
    case ClientKind::kTxnProducer:
    case ClientKind::kTxnConsumer:
      break;  // MonitorAct, PurgerAct, TxnAct, TxnReadAct, above
    case ClientKind::kConsumer:
      if (client.auditing) {
        AuditLeaders(client);
      } else if (client.validate_position) {
        ValidatePosition(client);
      } else {
        Fetch(client);
      }
      break;
  }
}

void BrokerWorld::RequestMetadata(SimClient& client) {
  kafka::MetadataRequest request;
  kafka::MetadataRequest::MetadataRequestTopic topic;
  topic.name = std::string(kTopic);
  request.topics = std::vector{topic};
  // As a producer does (librdkafka, Java): a missing topic is created.
  request.allow_auto_topic_creation =
      auto_create_ && client.kind == ClientKind::kProducer;
  const int asked = AnyBroker(client);
  Call<kafka::MetadataResponse>(
      client, asked, 12, request,
      [this, asked](SimClient& c, const kafka::MetadataResponse& response) {
        if (response.controller_id == asked)
          ObserveControllerMetadata(response);
        c.controller = response.controller_id;
        std::fill(c.leaders.begin(), c.leaders.end(), -1);
        bool complete = true;
        for (const auto& topic : response.topics) {
          if (topic.name != kTopic || topic.error_code != error::kNone) {
            continue;
          }
          for (const auto& p : topic.partitions) {
            if (p.partition_index < 0 ||
                p.partition_index >= static_cast<int>(c.leaders.size())) {
              continue;
            }
            c.leaders[p.partition_index] = p.leader_id > 0 ? p.leader_id : -1;
          }
        }
        for (int leader : c.leaders) complete = complete && leader > 0;
        if (c.controller > 0) seen_controller_ = c.controller;
        for (size_t p = 0; p < c.leaders.size(); ++p) {
          if (c.leaders[p] > 0) seen_leaders_[p] = c.leaders[p];
        }
        // The admin needs only the controller; the others every leader.
        const bool enough =
            c.kind == ClientKind::kAdmin ? c.controller > 0 : complete;
        c.need_metadata = !enough;
        if (enough) c.backoff = 0;
        ActLater(c, enough ? 0 : std::max(c.backoff, kBackoffMin * 2));
      });
}

void BrokerWorld::AskForTopic(SimClient& client) {
  if (healed_) {
    client.done = true;
    return;
  }
  const std::string name = absl::StrCat("a", client.next_value);
  kafka::MetadataRequest request;
  kafka::MetadataRequest::MetadataRequestTopic topic;
  topic.name = name;
  request.topics = std::vector{topic};
  request.allow_auto_topic_creation = true;
  Call<kafka::MetadataResponse>(
      client, AnyBroker(client), 12, request,
      [this, name](SimClient& c, const kafka::MetadataResponse& response) {
        bool ready = false;
        for (const auto& t : response.topics) {
          if (t.name != name || t.error_code != error::kNone) continue;
          ready = !t.partitions.empty() &&
                  std::all_of(t.partitions.begin(), t.partitions.end(),
                              [](const auto& p) { return p.leader_id > 0; });
        }
        if (ready) {
          Record(Trace::kWorld, "auto_created", {c.next_value});
          ++c.next_value;
        }
        ActLater(c, ready ? 500 * kMillisecond : 2 * kBackoffMin);
      });
}

void BrokerWorld::CreateTopic(SimClient& client) {
  kafka::CreateTopicsRequest request;
  request.topics.push_back({std::string(kTopic),
                            options_.partitions,
                            static_cast<int16_t>(replication_factor_),
                            {},
                            {}});
  if (log_starts_.retention_bytes >= 0) {
    request.topics[0].configs.push_back(
        {"retention.bytes", absl::StrCat(log_starts_.retention_bytes)});
  }
  AddCompactionConfigs(request);
  request.timeout_ms = 5000;
  Call<kafka::CreateTopicsResponse>(
      client, client.controller, 4, request,
      [this](SimClient& c, const kafka::CreateTopicsResponse& response) {
        const int16_t code = response.topics.empty()
                                 ? error::kUnknownTopicOrPartition
                                 : response.topics[0].error_code;
        Record(Trace::kWorld, "create_topic", {static_cast<uint64_t>(code)},
               [&] { return ErrorName(code); });
        if (code == error::kNone || code == error::kTopicAlreadyExists) {
          StartChurn(c);
          return;
        }
        c.need_metadata = true;
        c.backoff = std::clamp<Nanos>(c.backoff * 2, kBackoffMin, kBackoffMax);
        ActLater(c, c.backoff);
      });
}

void BrokerWorld::InitProducer(SimClient& client) {
  kafka::InitProducerIdRequest request{std::nullopt, 0, -1, -1};
  Call<kafka::InitProducerIdResponse>(
      client, AnyBroker(client), 4, request,
      [this](SimClient& c, const kafka::InitProducerIdResponse& response) {
        Record(Trace::kWorld, "init_producer_id",
               {static_cast<uint64_t>(c.index),
                static_cast<uint64_t>(response.error_code),
                static_cast<uint64_t>(response.producer_id)});
        if (response.error_code == error::kNone) {
          c.producer_id = response.producer_id;
          c.producer_epoch = response.producer_epoch;
          std::fill(c.next_sequence.begin(), c.next_sequence.end(), 0);
          c.backoff = 0;
          ActLater(c, 0);
          return;
        }
        c.backoff = std::clamp<Nanos>(c.backoff * 2, kBackoffMin, kBackoffMax);
        ActLater(c, c.backoff);
      });
}

void BrokerWorld::Produce(SimClient& client) {
  if (!client.batch.has_value()) {
    if (producers_stopped_) {
      client.done = true;
      Record(Trace::kWorld, "producer_done",
             {static_cast<uint64_t>(client.index)});
      StartConsumer();
      return;
    }
    ProducerBatch batch;
    const uint64_t n = client.next_value++;
    batch.partition =
        static_cast<int>((n + client.index) % options_.partitions);
    batch.value = absl::StrCat("p", client.index, "-", n);
    kafka::RecordBatchSpec spec;
    spec.base_timestamp = kEpochMs + now() / kMillisecond;
    if (client.idempotent && !options_.bug_no_idempotence) {
      spec.producer_id = client.producer_id;
      spec.producer_epoch = client.producer_epoch;
      batch.sequence = client.next_sequence[batch.partition]++;
      spec.base_sequence = batch.sequence;
    }
    kafka::Record record;
    record.value = batch.value;
    record.key = ProducerKey(n, batch.value);
    // Every kLargeBatchEvery-th batch is large enough that storage writes it
    // from the request's buffer uncopied (GroupLog's splice), so crashes and
    // torn writes meet that path too.
    if (n % kLargeBatchEvery == kLargeBatchEvery - 1) {
      record.headers.push_back(kafka::RecordHeader{
          .key = "pad",
          .value =
              std::string(storage::GroupLog::kSpliceMinPayloadBytes, 'x')});
    }
    absl::StatusOr<std::string> bytes =
        kafka::BuildRecordBatch(spec, std::vector{record});
    CHRONIK_CHECK(bytes.ok()) << bytes.status();
    batch.bytes = std::move(*bytes);
    batch.sent_after_heal = healed_;
    checker_.OnSend(batch.partition, batch.value, client.idempotent);
    ++result_.sends;
    client.batch = std::move(batch);
  }
  const ProducerBatch& batch = *client.batch;
  const int leader = client.leaders[batch.partition];
  if (leader <= 0) {
    client.need_metadata = true;
    ActLater(client, kBackoffMin);
    return;
  }
  kafka::ProduceRequest request;
  request.acks = client.acks;
  request.timeout_ms = kProduceTimeoutMs;
  request.topics.push_back(
      {std::string(kTopic), {{batch.partition, batch.bytes}}});
  if (client.acks == 0) {
    // Fire and forget: no response comes; the batch's fate is unknown.
    SendFrame(client, leader,
              kafka::EncodeRequestFrame(
                  9, client.next_correlation++,
                  std::string(absl::StrCat("c", client.index)), request));
    client.batch.reset();
    ActLater(client, workload_rng_.Between(kMillisecond, 20 * kMillisecond));
    return;
  }
  CallProduce(client, leader, request,
              [this](SimClient& c, int16_t code, int64_t base_offset) {
                OnProduced(c, code, base_offset);
              });
}

void BrokerWorld::OnProduced(SimClient& client, int16_t code,
                             int64_t base_offset) {
  CHRONIK_CHECK(client.batch.has_value());
  const ProducerBatch& batch = *client.batch;
  Record(Trace::kWorld, "produced",
         {static_cast<uint64_t>(client.index),
          static_cast<uint64_t>(batch.partition), static_cast<uint64_t>(code),
          static_cast<uint64_t>(base_offset)},
         [&] {
           return absl::StrCat(batch.value, " -> partition ", batch.partition,
                               " ", ErrorName(code), " offset ", base_offset);
         });
  if (code == error::kNone) {
    checker_.OnAck(batch.partition, batch.value, base_offset);
    if (client.acks == -1) {
      replicas_.OnAllAck(now(), batch.partition, base_offset, batch.value,
                         batch.bytes, min_insync_,
                         checker_.HighestLogStartSeen(batch.partition));
      if (replicas_.violation().has_value()) Fail(*replicas_.violation());
    }
    ++result_.acked;
    if (batch.sent_after_heal) {
      live_partitions_[batch.partition] = true;
      CheckLiveness();
    }
    client.batch.reset();
    client.backoff = 0;
    ActLater(client, workload_rng_.Between(0, 20 * kMillisecond));
    return;
  }
  client.backoff =
      std::clamp<Nanos>(client.backoff * 2, kBackoffMin, kBackoffMax);
  if (Retriable(code)) {
    client.need_metadata = true;
    ActLater(client, client.backoff);
    return;
  }
  // The producer's state is gone on the broker (sequence or epoch refused):
  // the batch's fate is unknown; a new producer id starts new sequences.
  ++result_.producer_resets;
  client.batch.reset();
  client.producer_id = -1;
  ActLater(client, client.backoff);
}

void BrokerWorld::StartConsumer() {
  for (const SimClient& client : clients_) {
    const bool producer = client.kind == ClientKind::kProducer ||
                          client.kind == ClientKind::kTxnProducer;
    if (producer && !client.done) return;
  }
  SimClient& consumer = clients_.back();
  if (consumer.active || consumer.pending.has_value() || consumer.offset > 0 ||
      consumer.partition > 0) {
    return;
  }
  Record(Trace::kWorld, "consumer_start", {});
  consumer.need_metadata = true;
  Act(consumer);
}

void BrokerWorld::Fetch(SimClient& client) {
  const int leader = client.leaders[client.partition];
  kafka::FetchRequest request;
  request.max_wait_ms = 0;
  request.min_bytes = 0;
  request.topics.push_back(
      {std::string(kTopic),
       {{client.partition, -1, client.offset, -1, -1, 1 << 20}}});
  Call<kafka::FetchResponse>(
      client, leader, 11, request,
      [this](SimClient& c, const kafka::FetchResponse& response) {
        if (response.responses.empty() ||
            response.responses[0].partitions.empty()) {
          OnFetched(c,
                    response.error_code != error::kNone
                        ? response.error_code
                        : error::kUnknownTopicOrPartition,
                    0, 0, std::nullopt);
          return;
        }
        const auto& p = response.responses[0].partitions[0];
        OnFetched(c, p.error_code, p.high_watermark, p.log_start_offset,
                  p.records);
      });
}

void BrokerWorld::OnFetched(SimClient& client, int16_t code,
                            int64_t high_watermark, int64_t log_start,
                            const std::optional<ByteChain>& records) {
  if (code == error::kNone || code == error::kOffsetOutOfRange) {
    ObserveFetchLogStart(client.partition, log_start);
  }
  if (code == error::kOffsetOutOfRange && log_start > client.offset) {
    ResetConsumerToLogStart(client);
    return;
  }
  if (code != error::kNone) {
    if (!Retriable(code)) {
      Fail(absl::StrCat("consumer: Fetch of partition ", client.partition,
                        " at offset ", client.offset, ": ", ErrorName(code)));
      return;
    }
    client.need_metadata = true;
    client.validate_position = client.read_epoch >= 0;
    client.backoff =
        std::clamp<Nanos>(client.backoff * 2, kBackoffMin, kBackoffMax);
    ActLater(client, client.backoff);
    return;
  }
  client.backoff = 0;
  // The views point into `records`, which outlives them.
  absl::StatusOr<std::vector<kafka::RecordBatchView>> batches =
      kafka::ParseRecordBatches(records.has_value()
                                    ? absl::string_view(*records)
                                    : absl::string_view(),
                                /*allow_partial_tail=*/true);
  if (!batches.ok()) {
    Fail(absl::StrCat("consumer: partition ", client.partition, " offset ",
                      client.offset, ": ", batches.status().ToString()));
    return;
  }
  for (const kafka::RecordBatchView& batch : *batches) {
    absl::StatusOr<std::vector<kafka::Record>> decoded =
        kafka::DecodeRecords(batch);
    if (!decoded.ok()) {
      Fail(absl::StrCat("CORRUPT: partition ", client.partition,
                        " batch at offset ", batch.header.base_offset, " (",
                        batch.header.record_count, " records, ",
                        batch.bytes.size(), " bytes, fetched at ",
                        client.offset, ", high watermark ", high_watermark,
                        "): ", decoded.status().ToString()));
      return;
    }
    if (batch.header.last_offset() >= client.offset &&
        !CheckReadEpoch(client, batch.header)) {
      return;
    }
    if (batch.header.is_control()) {
      // A transaction marker: clients skip it; its offsets are no GAP.
      if (batch.header.last_offset() >= client.offset) {
        checker_.OnControl(client.partition, batch.header.base_offset,
                           batch.header.last_offset());
        client.offset = batch.header.last_offset() + 1;
      }
      continue;
    }
    ConsumeRecords(client, batch.header, *decoded, high_watermark);
  }
  if (client.offset >= high_watermark) {
    if (client.read_epoch >= 0 && !client.end_validated) {
      client.validate_position = client.end_validated = true;
      ActLater(client, 0);  // then Fetch again at the end
      return;
    }
    checker_.OnReadDone(client.partition, high_watermark);
    Record(Trace::kWorld, "partition_read",
           {static_cast<uint64_t>(client.partition),
            static_cast<uint64_t>(high_watermark)});
    ++client.partition;
    client.offset = 0;
    client.read_epoch = -1;
    client.validate_position = client.end_validated = false;
    if (client.partition >= options_.partitions) {
      client.auditing = true;  // then the leader audit, then Finish()
      client.audit_node = 1;
    }
  }
  ActLater(client, 0);
}

bool BrokerWorld::BalancedAudit(SimClient& client) {
  if (balance_interval_ms_ == 0) return true;
  std::vector<int> leaders, preferred;  // 0-based nodes
  for (int p = 0; p < options_.partitions; ++p) {
    leaders.push_back(client.audit_leaders[p] - 1);
    preferred.push_back(client.audit_preferred[p] - 1);
  }
  if (cluster_.OnBalancedAudit(now(), leaders, preferred,
                               balance_interval_ms_ * kMillisecond)) {
    if (cluster_.violation().has_value()) {
      Fail(*cluster_.violation());
      return false;
    }
    return true;
  }
  // Leadership may still be on its way back: look again a little later.
  audit_problem_ = "a partition is not led by its preferred replica yet";
  Record(Trace::kWorld, "audit_retry", {0}, [&] { return audit_problem_; });
  client.audit_node = 1;
  client.backoff =
      std::clamp<Nanos>(client.backoff * 2, kBackoffMin, kBackoffMax);
  ActLater(client, client.backoff);
  return false;
}

void BrokerWorld::AuditLeaders(SimClient& client) {
  kafka::MetadataRequest request;
  kafka::MetadataRequest::MetadataRequestTopic topic;
  topic.name = std::string(kTopic);
  request.topics = std::vector{topic};
  request.allow_auto_topic_creation = false;
  Call<kafka::MetadataResponse>(
      client, client.audit_node, 12, request,
      [this](SimClient& c, const kafka::MetadataResponse& response) {
        OnAudit(c, response);
      });
}

std::string BrokerWorld::UnregisteredBrokers(
    int node_id, const kafka::MetadataResponse& response) const {
  std::vector<int> missing;
  for (int id = 1; id <= num_nodes(); ++id) {
    // The decommissioned broker leaves the list.
    if (decommission_requested_ >= 0 && id == membership_.leaving + 1) {
      continue;
    }
    const bool listed =
        std::any_of(response.brokers.begin(), response.brokers.end(),
                    [id](const auto& broker) { return broker.node_id == id; });
    if (!listed) missing.push_back(id);
  }
  if (missing.empty()) return "";
  return absl::StrCat("UNREGISTERED: broker ", node_id,
                      "'s Metadata lacks broker(s) ",
                      absl::StrJoin(missing, ", "));
}

void BrokerWorld::OnAudit(SimClient& client,
                          const kafka::MetadataResponse& response) {
  std::vector<int> leaders(options_.partitions, -1);
  std::vector<int> preferred(options_.partitions, -1);
  for (const auto& topic : response.topics) {
    if (topic.name != kTopic) continue;
    for (const auto& p : topic.partitions) {
      if (p.partition_index >= 0 && p.partition_index < options_.partitions) {
        leaders[p.partition_index] = p.leader_id;
        if (!p.replica_nodes.empty()) {
          preferred[p.partition_index] = p.replica_nodes[0];
        }
      }
    }
  }
  std::string problem = UnregisteredBrokers(client.audit_node, response);
  for (int p = 0; p < options_.partitions && problem.empty(); ++p) {
    if (leaders[p] < 0) {
      problem = absl::StrCat("broker ", client.audit_node,
                             " names no leader of partition ", p);
    } else if (client.audit_node > 1 && leaders[p] != client.audit_leaders[p]) {
      problem = absl::StrCat("broker ", client.audit_node, " names ",
                             leaders[p], " as leader of partition ", p,
                             ", broker 1 names ", client.audit_leaders[p]);
    }
  }
  if (!problem.empty()) {
    // Leadership may still be moving: start over a little later.
    audit_problem_ = problem;
    Record(Trace::kWorld, "audit_retry",
           {static_cast<uint64_t>(client.audit_node)}, [&] { return problem; });
    client.audit_node = 1;
    client.backoff =
        std::clamp<Nanos>(client.backoff * 2, kBackoffMin, kBackoffMax);
    ActLater(client, client.backoff);
    return;
  }
  if (client.audit_node == 1) {
    client.audit_leaders = leaders;
    client.audit_preferred = preferred;
  }
  while (client.audit_node < num_nodes()) {
    ++client.audit_node;
    if (nodes_[client.audit_node - 1].gone) continue;  // decommissioned
    ActLater(client, 0);
    return;
  }
  if (!BalancedAudit(client)) return;
  Record(Trace::kWorld, "leaders_agreed", {});
  client.auditing = false;
  client.done = true;
  Finish();
}

}  // namespace chronik::sim
