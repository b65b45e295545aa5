// Produce: validate, check idempotent producers, propose to the partition's
// Raft group, answer on commit.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

void Handle(Services& s, const RequestContext& c, kafka::ProduceRequest& r) {
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
  auto finish = [&s](const std::shared_ptr<Wait>& w) {
    if (w->finished) return;
    w->finished = true;
    if (!w->respond) return;
    bool had_error = false;
    for (const auto& t : w->response.responses) {
      for (const auto& p : t.partitions) had_error |= p.error_code != 0;
    }
    s.connections.Finish(w->context, w->response, had_error);
  };
  const bool acks_ok = r.acks == 0 || r.acks == 1 || r.acks == -1;
  size_t flat = 0;
  for (size_t t = 0; t < r.topics.size(); ++t) {
    auto& topic = r.topics[t];
    const metapb::TopicInfo* info = s.state().FindTopic(topic.name);
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
        } else if (s.config.auto_create_topics) {
          s.metadata.MaybeAutoCreate(topic.name);
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
          s.partitions.Find(s.state(), topic.name, partition.partition_index);
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
            s.host.Propose(replica->group_id(), std::move(payload));
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
  if (!wait->respond) s.connections.Deliver(c, std::nullopt, false);
  if (wait->remaining == 0) {
    finish(wait);
    return;
  }
  s.deadlines.Add(s.NowMs() + ClampTimeout(r.timeout_ms), [wait, finish]() {
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

}  // namespace chronik::broker
