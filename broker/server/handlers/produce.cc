// Produce: validate, check idempotent producers, propose each batch to the
// partition's Raft group, answer once every batch committed (acks=0: never).
//
// Flow: Handle() lays out the whole response, then per partition
// CheckPartition() finds the leader replica (or the error to answer; for
// acks=all NOT_ENOUGH_REPLICAS while its ISR is below min.insync.replicas)
// and AppendBatches() judges each batch against the producer table and
// proposes it (acks=all with min.insync.replicas above a majority: its
// commit then waits until that many replicas hold it, PartitionManager::
// ReleaseCopies); every proposal or wait for an in-flight duplicate is one
// outstanding part of the ProduceWait, which answers when the last part is done
// or at the request's timeout.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/batch_header.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/metadata/topic_config.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {
namespace {

using PartitionResponse = kafka::ProduceResponse::PartitionProduceResponse;
using PartitionData = kafka::ProduceRequest::PartitionProduceData;

// One produce request in flight.
struct ProduceWait {
  RequestContext context;
  kafka::ProduceResponse response;
  std::vector<int> outstanding;  // per flattened partition
  int remaining = 0;
  bool finished = false;
  bool respond = true;  // acks != 0
  int64_t deadline_ms = 0;

  void Finish(Services& s) {
    if (finished) return;
    finished = true;
    if (!respond) return;
    bool had_error = false;
    for (const auto& t : response.responses) {
      for (const auto& p : t.partitions) had_error |= p.error_code != 0;
    }
    s.connections.Finish(context, response, had_error);
  }
  // The timeout: parts still outstanding answer REQUEST_TIMED_OUT.
  void Expire(Services& s) {
    if (finished) return;
    size_t flat = 0;
    for (auto& topic : response.responses) {
      for (auto& p : topic.partitions) {
        if (outstanding[flat++] > 0 && p.error_code == 0) {
          p.error_code = kafka::error::kRequestTimedOut;
        }
      }
    }
    Finish(s);
  }
};

// The response skeleton, laid out before any part can complete so pointers
// into it stay valid.
void LayOut(const kafka::ProduceRequest& r, kafka::ProduceResponse* response) {
  for (const auto& topic : r.topics) {
    kafka::ProduceResponse::TopicProduceResponse out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      PartitionResponse p;
      p.partition_index = partition.partition_index;
      p.base_offset = -1;
      p.log_start_offset = 0;
      out.partitions.push_back(std::move(p));
    }
    response->responses.push_back(std::move(out));
  }
}

// A leader handing its leadership over (a controlled shutdown, a
// reassignment moving it away) refuses proposals (Raft's transfer).
bool HandingOver(Services& s, const PartitionReplica& replica) {
  const raft::RawNode* node = s.host.node(replica.group_id());
  return node != nullptr && node->Status().transferee != raft::kNoNode;
}

// The leader replica that may take `partition` of `topic` (`info`: the topic
// in the metadata, or nullptr), or nullptr with the error to answer set in
// `out`. For acks=all, `copies` gets the replicas that must hold a batch
// before it is acknowledged when that is more than a Raft commit promises
// (min(min.insync.replicas, replicas) above a majority), else 0.
PartitionReplica* CheckPartition(Services& s, const kafka::ProduceRequest& r,
                                 const std::string& topic,
                                 const metapb::TopicInfo* info,
                                 const PartitionData& partition,
                                 PartitionResponse* out, int* copies) {
  *copies = 0;
  PartitionReplica* replica = nullptr;
  if (r.acks != 0 && r.acks != 1 && r.acks != -1) {
    out->error_code = kafka::error::kInvalidRequiredAcks;
  } else if (info == nullptr) {
    if (!metadata::ValidateTopicName(topic).ok()) {
      out->error_code = kafka::error::kInvalidTopic;
    } else if (s.config.auto_create_topics) {
      s.metadata.MaybeAutoCreate(topic);
      out->error_code = kafka::error::kLeaderNotAvailable;
    } else {
      out->error_code = kafka::error::kUnknownTopicOrPartition;
    }
  } else if (partition.partition_index < 0 ||
             partition.partition_index >= info->partitions_size()) {
    out->error_code = kafka::error::kUnknownTopicOrPartition;
  } else if (replica =
                 s.partitions.Find(s.state(), topic, partition.partition_index);
             replica == nullptr || !replica->leader_ready() ||
             HandingOver(s, *replica)) {
    // Handing over: every batch is refused before its sequence is judged.
    // (One refused and the next, pipelined, judged OUT_OF_ORDER_SEQUENCE
    // made librdkafka bump its epoch and re-send batches the new leader
    // already had: duplicates.)
    out->error_code = kafka::error::kNotLeaderOrFollower;
    replica = nullptr;
  } else if (!partition.records.has_value() || partition.records->empty()) {
    out->error_code = kafka::error::kInvalidRecord;
    out->error_message = "no record batch";
    replica = nullptr;
  } else if (r.acks == -1) {
    // acks=all: never a silent ack with fewer in-sync replicas than the
    // topic's min.insync.replicas (as this leader computes the ISR).
    const size_t in_sync =
        s.partitions.InSyncReplicas(s.state(), *replica).size();
    const int32_t min_insync =
        metadata::MinInsyncReplicas(*info, s.config.min_insync_replicas);
    if (in_sync < static_cast<size_t>(min_insync)) {
      out->error_code = kafka::error::kNotEnoughReplicas;
      out->error_message = absl::StrCat(
          in_sync, " in-sync replicas, min.insync.replicas is ", min_insync);
      replica = nullptr;
    } else {
      const int replicas =
          info->partitions(partition.partition_index).replicas_size();
      if (std::min(min_insync, replicas) > replicas / 2 + 1) {
        *copies = std::min(min_insync, replicas);
      }
    }
  }
  return replica;
}

// Kafka refuses a record without a key on a compacted topic (compaction
// keeps one record per key): INVALID_RECORD for the partition, with the
// batch and record named.
absl::Status RequireKeys(const std::vector<kafka::RecordBatchView>& batches) {
  for (size_t b = 0; b < batches.size(); ++b) {
    absl::StatusOr<std::vector<kafka::Record>> records =
        kafka::DecodeRecords(batches[b]);
    if (!records.ok()) return records.status();
    for (const kafka::Record& record : *records) {
      if (record.key.has_value()) continue;
      return absl::InvalidArgumentError(absl::StrCat(
          "compacted topic (cleanup.policy=compact) cannot accept a record "
          "without key: batch ",
          b, ", record ", record.offset_delta));
    }
  }
  return absl::OkStatus();
}

// The partition's batches, parsed and validated once (CRC, sizes; keys on a
// compacted topic); nullopt with the error in `out`.
std::optional<std::vector<kafka::RecordBatchView>> ParsedBatches(
    const PartitionData& partition, bool compacted, PartitionResponse* out) {
  absl::StatusOr<std::vector<kafka::RecordBatchView>> batches =
      kafka::ParseRecordBatches(*partition.records);
  absl::Status status = batches.status();
  if (status.ok() && compacted) status = RequireKeys(*batches);
  if (!status.ok()) {
    out->error_code = kafka::ProduceErrorCode(status);
    out->error_message = std::string(status.message());
    return std::nullopt;
  }
  return *std::move(batches);
}

// The batch's bytes for Raft: a slice of the request frame when they are the
// whole of the partition's records (the usual one batch per partition: no
// copy; nothing reads `batch` afterwards), else copied; stamped with
// `append_time_ms` unless it is -1 (CreateTime), which needs a copy to write.
raft::Bytes BatchPayload(PartitionData& partition,
                         const kafka::RecordBatchView& batch, bool whole,
                         int64_t append_time_ms) {
  if (whole && append_time_ms < 0) return *std::move(partition.records);
  std::string bytes(batch.bytes.data(), batch.bytes.size());
  if (append_time_ms >= 0) {
    kafka::WriteLogAppendTime(absl::MakeSpan(bytes), append_time_ms);
  }
  return raft::Bytes::Own(std::move(bytes));
}

// What a batch's commit at `index` does: `done`, or, when `copies` replicas
// must hold it first (see CheckPartition; 0: the commit is enough), wait for
// them (PartitionManager::ReleaseCopies) and then `done`.
PartitionReplica::AppendDone OnCommit(Services& s, PartitionReplica& replica,
                                      raft::Index index, int copies,
                                      int64_t deadline_ms,
                                      PartitionReplica::AppendDone done) {
  if (copies == 0 || s.bugs.ack_at_majority) return done;
  // (`replica` runs this callback itself, so it is alive.)
  return [&s, &replica, index, copies, deadline_ms, done = std::move(done)](
             int16_t error_code, int64_t base_offset) {
    if (error_code != 0) {
      done(error_code, base_offset);
      return;
    }
    s.partitions.WaitForCopies(
        replica, {index, copies, base_offset, deadline_ms, std::move(done)});
  };
}

// A retry of a batch the replica already has (`original`): answered with
// the original's offset once it is committed (and held by enough copies, as
// the original's answer is). Returns whether that is still outstanding
// (then `done` runs in a later call, never within this one).
bool AnswerDuplicate(Services& s, PartitionReplica& replica,
                     const partition::ProducerBatch& original, int copies,
                     int64_t deadline_ms, PartitionReplica::AppendDone done,
                     int64_t* base_offset) {
  const bool committed = original.raft_index <= replica.applied_index();
  if (committed && (copies == 0 || s.bugs.ack_at_majority)) {
    *base_offset = original.base_offset;
    return false;
  }
  PartitionReplica::AppendDone on_commit = OnCommit(
      s, replica, original.raft_index, copies, deadline_ms, std::move(done));
  if (committed) {
    on_commit(kafka::error::kNone, original.base_offset);
  } else {
    replica.WaitForPending(original.raft_index, std::move(on_commit));
  }
  return true;
}

// The answer to a proposal Raft refused.
int16_t RefusedProposalCode(Services& s, const PartitionReplica& replica,
                            const absl::Status& refused) {
  // A leader handing its leadership over refuses proposals:
  // NOT_LEADER_OR_FOLLOWER sends the client to the metadata for the new
  // leader.
  return absl::IsUnavailable(refused) && !HandingOver(s, replica)
             ? kafka::error::kNotEnoughReplicas
             : kafka::error::kNotLeaderOrFollower;
}

// Judges and proposes every batch of one partition; each proposal (or wait
// for the original of a duplicate) becomes an outstanding part of `wait`.
// `append_time_ms`: -1, or the time LogAppendTime stamps the batches with.
// `copies` (see CheckPartition): a committed batch is acknowledged once
// that many replicas hold it (0: at the commit).
void AppendBatches(Services& s, const std::shared_ptr<ProduceWait>& wait,
                   size_t flat, PartitionReplica& replica,
                   PartitionData& partition,
                   const std::vector<kafka::RecordBatchView>& batches,
                   int64_t append_time_ms, int copies, PartitionResponse* out) {
  for (size_t b = 0; b < batches.size(); ++b) {
    const kafka::RecordBatchView& batch = batches[b];
    if (batch.header.is_control() ||
        (batch.header.is_transactional() && batch.header.producer_id < 0)) {
      // Markers are the coordinator's; a transaction needs a producer id.
      out->error_code = kafka::error::kInvalidRecord;
      out->error_message = batch.header.is_control()
                               ? "clients may not write control batches"
                               : "a transactional batch without producer id";
      return;
    }
    BatchFacts facts = FactsOf(batch.header);  // parsed once, above
    if (append_time_ms >= 0) facts.max_timestamp_ms = append_time_ms;
    const partition::ProducerCheck check = replica.CheckProducer(facts);
    if (check.verdict == partition::ProducerCheck::Verdict::kReject) {
      out->error_code = check.error_code;
      return;
    }
    const bool first = b == 0;
    auto done = [&s, wait, out, flat, first](int16_t error_code,
                                             int64_t base_offset) {
      if (wait->finished) return;
      if (error_code != 0 && out->error_code == 0) out->error_code = error_code;
      if (first && error_code == 0) out->base_offset = base_offset;
      --wait->outstanding[flat];
      if (--wait->remaining == 0) wait->Finish(s);
    };
    if (check.verdict == partition::ProducerCheck::Verdict::kDuplicate &&
        !s.bugs.skip_idempotence_check) {
      int64_t base_offset = -1;
      if (AnswerDuplicate(s, replica, check.original, copies, wait->deadline_ms,
                          done, &base_offset)) {
        ++wait->outstanding[flat];
        ++wait->remaining;
      } else if (first) {
        out->base_offset = base_offset;
      }
      continue;
    }
    const bool whole =
        batches.size() == 1 && batch.bytes.size() == partition.records->size();
    absl::StatusOr<replication::RaftHost::Proposed> proposed =
        s.host.Propose(replica.group_id(),
                       BatchPayload(partition, batch, whole, append_time_ms));
    if (!proposed.ok()) {
      out->error_code = RefusedProposalCode(s, replica, proposed.status());
      return;
    }
    ++wait->outstanding[flat];
    ++wait->remaining;
    const int64_t base_offset = replica.AddPendingAppend(
        proposed->term, proposed->index, facts,
        OnCommit(s, replica, proposed->index, copies, wait->deadline_ms, done));
    if (s.bugs.ack_before_commit) done(0, base_offset);
  }
}

}  // namespace

void Handle(Services& s, const RequestContext& c, kafka::ProduceRequest& r) {
  auto wait = std::make_shared<ProduceWait>();
  wait->context = c;
  wait->respond = r.acks != 0;
  wait->deadline_ms = s.NowMs() + ClampTimeout(r.timeout_ms);
  LayOut(r, &wait->response);
  size_t flat = 0;
  const bool txn_allowed =
      !r.transactional_id.has_value() ||
      Allowed(s, c, acl::kWrite, {acl::kTransactionalId, *r.transactional_id});
  for (size_t t = 0; t < r.topics.size(); ++t) {
    auto& topic = r.topics[t];
    const metapb::TopicInfo* info = s.state().FindTopic(topic.name);
    const bool write_allowed =
        txn_allowed && Allowed(s, c, acl::kWrite, {acl::kTopic, topic.name});
    for (size_t i = 0; i < topic.partitions.size(); ++i, ++flat) {
      wait->outstanding.push_back(0);
      PartitionResponse* out = &wait->response.responses[t].partitions[i];
      if (!write_allowed) {
        out->error_code =
            r.transactional_id.has_value() && !txn_allowed
                ? kafka::error::kTransactionalIdAuthorizationFailed
                : kafka::error::kTopicAuthorizationFailed;
        continue;
      }
      int copies = 0;
      PartitionReplica* replica = CheckPartition(
          s, r, topic.name, info, topic.partitions[i], out, &copies);
      if (replica == nullptr) continue;
      CHRONIK_CHECK(info != nullptr) << topic.name;  // a replica was found
      out->log_start_offset = s.partitions.LogStartOffset(*replica);
      const int64_t append_time_ms =
          metadata::LogAppendTime(*info) ? s.NowMs() : -1;
      out->log_append_time_ms = append_time_ms;
      std::optional<std::vector<kafka::RecordBatchView>> batches =
          ParsedBatches(topic.partitions[i], metadata::CleanupCompact(*info),
                        out);
      if (!batches.has_value()) continue;
      AppendBatches(s, wait, flat, *replica, topic.partitions[i], *batches,
                    append_time_ms, copies, out);
    }
  }
  CHRONIK_CHECK_EQ(wait->outstanding.size(), flat);
  if (!wait->respond) s.connections.Deliver(c, std::nullopt, false);
  if (wait->remaining == 0) {
    wait->Finish(s);
    return;
  }
  s.deadlines.Add(wait->deadline_ms, [&s, wait] { wait->Expire(s); });
}

}  // namespace chronik::broker
