// The transactional producer of the broker scenario (KIP-98), as a Kafka
// client runs it: FindCoordinator (key type 1), InitProducerId with its
// transactional id, then per transaction AddPartitionsToTxn (1-3 partitions
// of "t"), one transactional batch per record (idempotent sequences),
// optionally AddOffsetsToTxn + TxnOffsetCommit (group "txg"), and EndTxn with
// a seeded decision (commit or abort). Coordinator moves, loads and
// CONCURRENT_TRANSACTIONS are retried; a fenced producer (PRODUCER_FENCED,
// INVALID_PRODUCER_EPOCH, a timed-out transaction) gives the transaction up
// and starts a new epoch; a record that cannot be written turns the decision
// into an abort. Everything it knows goes to the TxnChecker.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "broker/kafka/record_batch.h"
#include "sim/broker_world.h"
#include "sim/broker_world_call.h"

namespace chronik::sim {
namespace {

namespace error = kafka::error;

constexpr Nanos kTxnBackoff = 50 * kMillisecond;
constexpr int32_t kTxnTimeoutMs = 6000;
constexpr char kTxnGroup[] = "txg";
// Attempts at one record before the transaction is aborted instead.
constexpr int kMaxProduceFailures = 8;

bool CoordinatorMoved(int16_t code) {
  return code == error::kNotCoordinator ||
         code == error::kCoordinatorNotAvailable ||
         code == error::kCoordinatorLoadInProgress;
}

bool Fenced(int16_t code) {
  return code == error::kProducerFenced ||
         code == error::kInvalidProducerEpoch ||
         code == error::kInvalidProducerIdMapping ||
         code == error::kInvalidTxnState;
}

bool ProduceRetriable(int16_t code) {
  return code == error::kNotLeaderOrFollower ||
         code == error::kLeaderNotAvailable ||
         code == error::kUnknownTopicOrPartition ||
         code == error::kRequestTimedOut || code == error::kNotEnoughReplicas ||
         code == error::kNotEnoughReplicasAfterAppend ||
         code == error::kKafkaStorageError;
}

}  // namespace

bool BrokerWorld::TxnStreamOn(const BrokerScenarioOptions& options) {
  return options.transactions &&
         Rng::Stream(options.seed, "transactions").Chance(1.0 / 3);
}

int BrokerWorld::TxnClientCount(const BrokerScenarioOptions& options) {
  return TxnStreamOn(options) ? 2 : 0;
}

void BrokerWorld::TxnAct(SimClient& client) {
  TxnClientState& t = client.txn;
  if (client.need_metadata) {
    RequestMetadata(client);
  } else if (t.coordinator < 0) {
    TxnFindCoordinator(client);
  } else if (client.producer_id < 0) {
    TxnInit(client);
  } else {
    switch (t.stage) {
      case TxnStage::kBegin:
        TxnBegin(client);
        break;
      case TxnStage::kAdd:
        TxnAddPartitions(client);
        break;
      case TxnStage::kProduce:
        TxnProduce(client);
        break;
      case TxnStage::kAddOffsets:
        TxnAddOffsets(client);
        break;
      case TxnStage::kCommitOffsets:
        TxnCommitOffsets(client);
        break;
      case TxnStage::kEnd:
        TxnEnd(client);
        break;
    }
  }
}

void BrokerWorld::TxnRetry(SimClient& client, int16_t code) {
  if (CoordinatorMoved(code)) client.txn.coordinator = -1;
  client.backoff = std::clamp<Nanos>(client.backoff * 2, kTxnBackoff, kSecond);
  ActLater(client, client.backoff);
}

void BrokerWorld::TxnCallFailed(SimClient& client) {
  // Timeouts and lost connections: the coordinator may have moved; a
  // record that keeps failing makes the transaction an abort.
  TxnClientState& t = client.txn;
  if (t.stage != TxnStage::kProduce) {
    t.coordinator = -1;
  } else if (++t.produce_failures >= kMaxProduceFailures) {
    t.commit = false;
    t.reinit = true;
    t.stage = TxnStage::kEnd;
  }
}

void BrokerWorld::TxnGiveUp(SimClient& client, std::string_view why) {
  TxnClientState& t = client.txn;
  Record(Trace::kWorld, "txn_give_up", {static_cast<uint64_t>(client.index)},
         [&] { return t.name + ": " + std::string(why); });
  if (t.stage != TxnStage::kBegin) {
    txn_checker_.OnOutcome(t.name, TxnChecker::Outcome::kUnknown);
  }
  t.stage = TxnStage::kBegin;
  t.reinit = false;
  client.producer_id = -1;  // InitProducerId again: a new epoch
  ++result_.producer_resets;
  ActLater(client, kTxnBackoff);
}

void BrokerWorld::TxnFindCoordinator(SimClient& client) {
  kafka::FindCoordinatorRequest request;
  request.key = client.txn.transactional_id;
  request.key_type = 1;
  Call<kafka::FindCoordinatorResponse>(
      client, AnyBroker(client), 3, request,
      [this](SimClient& c, const kafka::FindCoordinatorResponse& response) {
        if (response.error_code == error::kNone && response.node_id >= 1 &&
            response.node_id <= num_nodes()) {
          c.txn.coordinator = response.node_id;
          c.backoff = 0;
          ActLater(c, 0);
          return;
        }
        TxnRetry(c, response.error_code);
      });
}

void BrokerWorld::TxnInit(SimClient& client) {
  kafka::InitProducerIdRequest request;
  request.transactional_id = client.txn.transactional_id;
  request.transaction_timeout_ms = kTxnTimeoutMs;
  Call<kafka::InitProducerIdResponse>(
      client, client.txn.coordinator, 1, request,
      [this](SimClient& c, const kafka::InitProducerIdResponse& response) {
        Record(Trace::kWorld, "txn_init",
               {static_cast<uint64_t>(c.index),
                static_cast<uint64_t>(response.error_code),
                static_cast<uint64_t>(response.producer_id),
                static_cast<uint64_t>(response.producer_epoch)});
        if (response.error_code != error::kNone) {
          TxnRetry(c, response.error_code);
          return;
        }
        c.producer_id = response.producer_id;
        c.producer_epoch = response.producer_epoch;
        std::fill(c.next_sequence.begin(), c.next_sequence.end(), 0);
        c.backoff = 0;
        ActLater(c, 0);
      });
}

void BrokerWorld::TxnBegin(SimClient& client) {
  TxnClientState& t = client.txn;
  if (t.reinit) {
    t.reinit = false;
    client.producer_id = -1;
    ActLater(client, 0);
    return;
  }
  if (producers_stopped_) {
    client.done = true;
    Record(Trace::kWorld, "txn_producer_done",
           {static_cast<uint64_t>(client.index), t.number});
    StartConsumer();
    return;
  }
  t.name = absl::StrCat("t", client.index, ".", ++t.number);
  t.partitions.clear();
  const int count =
      static_cast<int>(txn_rng_.Between(1, std::min(3, options_.partitions)));
  while (static_cast<int>(t.partitions.size()) < count) {
    const int p = static_cast<int>(txn_rng_.Below(options_.partitions));
    if (std::find(t.partitions.begin(), t.partitions.end(), p) ==
        t.partitions.end()) {
      t.partitions.push_back(p);
    }
  }
  t.records.clear();
  for (int p : t.partitions) {
    const int64_t n = txn_rng_.Between(1, 3);
    for (int64_t i = 0; i < n; ++i) {
      TxnRecordSend record;
      record.partition = p;
      record.value = absl::StrCat(t.name, ".", t.records.size());
      t.records.push_back(std::move(record));
    }
  }
  t.next_record = 0;
  t.produce_failures = 0;
  t.commit = txn_rng_.Chance(0.6);
  t.offsets = txn_rng_.Chance(0.3);
  t.end_sent = false;
  t.stage = TxnStage::kAdd;
  Record(Trace::kWorld, "txn_begin",
         {static_cast<uint64_t>(client.index), t.number,
          static_cast<uint64_t>(t.records.size()), t.commit ? 1u : 0u});
  ActLater(client, 0);
}

void BrokerWorld::TxnAddPartitions(SimClient& client) {
  const TxnClientState& t = client.txn;
  kafka::AddPartitionsToTxnRequest request;
  request.transactional_id = t.transactional_id;
  request.producer_id = client.producer_id;
  request.producer_epoch = client.producer_epoch;
  request.topics.push_back({std::string(kTopic), {}});
  for (int p : t.partitions) request.topics[0].partitions.push_back(p);
  Call<kafka::AddPartitionsToTxnResponse>(
      client, t.coordinator, 2, request,
      [this](SimClient& c, const kafka::AddPartitionsToTxnResponse& response) {
        int16_t code = error::kNone;
        for (const auto& topic : response.results) {
          for (const auto& p : topic.results) {
            if (p.error_code != error::kNone) code = p.error_code;
          }
        }
        TxnStepAnswered(c, code, TxnStage::kProduce);
      });
}

void BrokerWorld::TxnProduce(SimClient& client) {
  TxnClientState& t = client.txn;
  if (t.next_record >= t.records.size()) {
    t.stage = t.offsets ? TxnStage::kAddOffsets : TxnStage::kEnd;
    ActLater(client, 0);
    return;
  }
  TxnRecordSend& record = t.records[t.next_record];
  if (record.bytes.empty()) {
    kafka::RecordBatchSpec spec;
    spec.base_timestamp = kEpochMs + now() / kMillisecond;
    spec.transactional = true;
    spec.producer_id = client.producer_id;
    spec.producer_epoch = client.producer_epoch;
    spec.base_sequence = client.next_sequence[record.partition]++;
    kafka::Record r;
    r.key = TransactionalKey(record.value);
    r.value = record.value;
    absl::StatusOr<std::string> bytes =
        kafka::BuildRecordBatch(spec, std::vector{r});
    CHRONIK_CHECK(bytes.ok()) << bytes.status();
    record.bytes = std::move(*bytes);
    txn_checker_.OnRecordSent(t.name, record.partition, record.value);
    checker_.OnSend(record.partition, record.value);
    ++result_.sends;
  }
  const int leader = client.leaders[record.partition];
  if (leader <= 0) {
    client.need_metadata = true;
    ActLater(client, kTxnBackoff);
    return;
  }
  kafka::ProduceRequest request;
  request.transactional_id = t.transactional_id;
  request.acks = -1;
  request.timeout_ms = 2000;
  request.topics.push_back(
      {std::string(kTopic), {{record.partition, record.bytes}}});
  CallProduce(client, leader, request,
              [this](SimClient& c, int16_t code, int64_t base_offset) {
                OnTxnProduced(c, code, base_offset);
              });
}

void BrokerWorld::CallProduce(
    SimClient& client, int leader, const kafka::ProduceRequest& request,
    std::function<void(SimClient&, int16_t, int64_t)> answered) {
  Call<kafka::ProduceResponse>(
      client, leader, 9, request,
      [this, answered = std::move(answered)](
          SimClient& c, const kafka::ProduceResponse& response) {
        if (response.responses.empty() ||
            response.responses[0].partitions.empty()) {
          Fail(absl::StrCat("client ", c.index, ": empty Produce response"));
          return;
        }
        const auto& p = response.responses[0].partitions[0];
        answered(c, p.error_code, p.base_offset);
      });
}

void BrokerWorld::OnTxnProduced(SimClient& client, int16_t code,
                                int64_t base_offset) {
  TxnClientState& t = client.txn;
  TxnRecordSend& record = t.records[t.next_record];
  Record(Trace::kWorld, "txn_produced",
         {static_cast<uint64_t>(client.index),
          static_cast<uint64_t>(record.partition), static_cast<uint64_t>(code),
          static_cast<uint64_t>(base_offset)},
         [&] { return absl::StrCat(record.value, " ", ErrorName(code)); });
  if (code == error::kNone) {
    record.acked = true;
    txn_checker_.OnRecordAcked(record.value, base_offset);
    checker_.OnAck(record.partition, record.value, base_offset);
    ++result_.acked;
    ++t.next_record;
    t.produce_failures = 0;
    client.backoff = 0;
    ActLater(client, txn_rng_.Between(0, 20 * kMillisecond));
    return;
  }
  client.backoff = std::clamp<Nanos>(client.backoff * 2, kTxnBackoff, kSecond);
  if (ProduceRetriable(code) && ++t.produce_failures < kMaxProduceFailures) {
    client.need_metadata = true;
    ActLater(client, client.backoff);
    return;
  }
  // An abortable error (or too many): abort, then a new epoch (the
  // sequences of this one may have a hole).
  t.commit = false;
  t.reinit = true;
  t.stage = TxnStage::kEnd;
  ActLater(client, client.backoff);
}

void BrokerWorld::TxnStepAnswered(SimClient& client, int16_t code,
                                  TxnStage next) {
  if (code == error::kNone) {
    client.txn.stage = next;
    client.backoff = 0;
    ActLater(client, 0);
  } else if (Fenced(code)) {
    TxnGiveUp(client, ErrorName(code));
  } else {
    TxnRetry(client, code);
  }
}

void BrokerWorld::TxnAddOffsets(SimClient& client) {
  kafka::AddOffsetsToTxnRequest request;
  request.transactional_id = client.txn.transactional_id;
  request.producer_id = client.producer_id;
  request.producer_epoch = client.producer_epoch;
  request.group_id = kTxnGroup;
  Call<kafka::AddOffsetsToTxnResponse>(
      client, client.txn.coordinator, 2, request,
      [this](SimClient& c, const kafka::AddOffsetsToTxnResponse& response) {
        const int16_t code = response.error_code;
        TxnStepAnswered(c, code, TxnStage::kCommitOffsets);
      });
}

void BrokerWorld::TxnCommitOffsets(SimClient& client) {
  const TxnClientState& t = client.txn;
  kafka::TxnOffsetCommitRequest request;
  request.transactional_id = t.transactional_id;
  request.group_id = kTxnGroup;
  request.producer_id = client.producer_id;
  request.producer_epoch = client.producer_epoch;
  request.topics.push_back({std::string(kTopic), {}});
  request.topics[0].partitions.push_back(
      {t.partitions.front(), static_cast<int64_t>(t.number), -1, ""});
  Call<kafka::TxnOffsetCommitResponse>(
      client, t.coordinator, 2, request,
      [this](SimClient& c, const kafka::TxnOffsetCommitResponse& response) {
        int16_t code = error::kNone;
        for (const auto& topic : response.topics) {
          for (const auto& p : topic.partitions) {
            if (p.error_code != error::kNone) code = p.error_code;
          }
        }
        TxnStepAnswered(c, code, TxnStage::kEnd);
      });
}

void BrokerWorld::TxnEnd(SimClient& client) {
  TxnClientState& t = client.txn;
  if (!t.end_sent) {
    t.end_sent = true;
    txn_checker_.OnEndSent(t.name, t.commit);
  }
  kafka::EndTxnRequest request;
  request.transactional_id = t.transactional_id;
  request.producer_id = client.producer_id;
  request.producer_epoch = client.producer_epoch;
  request.committed = t.commit;
  Call<kafka::EndTxnResponse>(
      client, t.coordinator, 2, request,
      [this](SimClient& c, const kafka::EndTxnResponse& response) {
        const int16_t code = response.error_code;
        TxnClientState& txn = c.txn;
        Record(Trace::kWorld, "txn_end",
               {static_cast<uint64_t>(c.index), txn.number,
                txn.commit ? 1u : 0u, static_cast<uint64_t>(code)},
               [&] { return absl::StrCat(txn.name, " ", ErrorName(code)); });
        if (code == error::kNone) {
          txn_checker_.OnOutcome(txn.name, txn.commit
                                               ? TxnChecker::Outcome::kCommitted
                                               : TxnChecker::Outcome::kAborted);
          ++result_.txns_ended;
          txn.stage = TxnStage::kBegin;
          c.backoff = 0;
          ActLater(c, txn_rng_.Between(0, 50 * kMillisecond));
        } else if (Fenced(code)) {
          TxnGiveUp(c, ErrorName(code));
        } else {
          TxnRetry(c, code);
        }
      });
}

}  // namespace chronik::sim
