// ListOffsets and DeleteRecords.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/metadata/topic_config.h"
#include "broker/server/handlers/gathered.h"
#include "broker/server/handlers/handlers.h"
#include "broker/storage/batch_offsets.h"

namespace chronik::broker {

namespace {

// Timestamps with a meaning of their own (Kafka's ListOffsetsRequest).
inline constexpr int64_t kLatestTimestamp = -1;
inline constexpr int64_t kEarliestTimestamp = -2;
inline constexpr int64_t kMaxTimestamp = -3;            // v7+, KIP-734
inline constexpr int64_t kEarliestLocalTimestamp = -4;  // v8+, KIP-405

// One partition's offset as Kafka's leader answers it, with the leader
// epoch of the batch holding it (latest: the current leader's epoch; for
// read_committed, the last stable offset).
void ListOffset(Services& s, PartitionReplica& replica, int64_t timestamp,
                bool read_committed,
                kafka::ListOffsetsResponse::ListOffsetsPartitionResponse* out) {
  if (timestamp == kLatestTimestamp) {
    out->offset = read_committed ? replica.last_stable_offset()
                                 : replica.high_watermark();
    out->leader_epoch = replica.leader_epoch();
    return;
  }
  if (timestamp == kEarliestTimestamp || timestamp == kEarliestLocalTimestamp) {
    // No tiered storage: the local log start is the log start.
    out->offset = s.partitions.LogStartOffset(replica);
    const std::optional<partition::EpochStart> first =
        replica.epochs().earliest();
    if (first.has_value() && first->start_offset <= out->offset) {
      out->leader_epoch = first->epoch;
    }
    return;
  }
  const std::pair<int64_t, int64_t> found =
      timestamp == kMaxTimestamp
          ? s.partitions.OffsetOfMaxTimestamp(replica)
          : s.partitions.OffsetForTimestamp(replica, timestamp);
  out->offset = found.first;
  out->timestamp = found.second;
  if (found.first >= 0) {
    out->leader_epoch = replica.epochs().EpochForOffset(found.first);
  }
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::ListOffsetsRequest& r) {
  kafka::ListOffsetsResponse response;
  bool had_error = false;
  for (const auto& topic : r.topics) {
    kafka::ListOffsetsResponse::ListOffsetsTopicResponse out_topic;
    out_topic.name = topic.name;
    const int16_t denied = TopicAccess(s, c, acl::kDescribe, topic.name);
    for (const auto& partition : topic.partitions) {
      kafka::ListOffsetsResponse::ListOffsetsPartitionResponse out;
      out.partition_index = partition.partition_index;
      PartitionReplica* replica = nullptr;
      out.error_code =
          denied != kafka::error::kNone
              ? denied
              : s.partitions.LeaderReplica(s.state(), topic.name,
                                           partition.partition_index,
                                           partition.current_leader_epoch,
                                           /*require_ready=*/true, &replica);
      if (out.error_code == kafka::error::kNone) {
        ListOffset(s, *replica, partition.timestamp, r.isolation_level == 1,
                   &out);
      }
      if (c.header.api_version == 0 && out.error_code == 0) {
        out.old_style_offsets.push_back(out.offset);
      }
      had_error |= out.error_code != 0;
      out_topic.partitions.push_back(std::move(out));
    }
    response.topics.push_back(std::move(out_topic));
  }
  s.connections.Finish(c, response, had_error);
}

namespace {

using DeleteRecordsResult =
    kafka::DeleteRecordsResponse::DeleteRecordsPartitionResult;

// Checks one partition of a DeleteRecords request as Kafka's leader does.
// Returns the replica and the offset to delete before (-1: the high
// watermark, resolved), or nullptr with the error in `out`.
PartitionReplica* CheckDelete(
    Services& s, const std::string& topic,
    const kafka::DeleteRecordsRequest::DeleteRecordsPartition& p,
    int64_t* offset, DeleteRecordsResult* out) {
  const metapb::TopicInfo* info = s.state().FindTopic(topic);
  PartitionReplica* replica = nullptr;
  if (info == nullptr || p.partition_index < 0 ||
      p.partition_index >= info->partitions_size()) {
    out->error_code = kafka::error::kUnknownTopicOrPartition;
  } else if (out->error_code =
                 s.partitions.LeaderReplica(s.state(), topic, p.partition_index,
                                            /*require_ready=*/true, &replica);
             out->error_code != kafka::error::kNone) {
    replica = nullptr;
  } else if (!absl::StrContains(
                 metadata::TopicConfigValue(*info, "cleanup.policy"),
                 "delete")) {
    // As Kafka: a compacted-only topic keeps its records.
    out->error_code = kafka::error::kPolicyViolation;
    replica = nullptr;
  } else {
    *offset = p.offset == -1 ? replica->high_watermark() : p.offset;
    if (*offset < 0 || *offset > replica->high_watermark()) {
      out->error_code = kafka::error::kOffsetOutOfRange;
      replica = nullptr;
    }
  }
  return replica;
}

// Proposes the log start entry moving `replica`'s log start to `offset`;
// `done` runs when it commits (with the log start then) or fails. False with
// the error in `out` when Raft refused the proposal.
bool ProposeLogStart(Services& s, PartitionReplica& replica, int64_t offset,
                     PartitionReplica::AppendDone done,
                     DeleteRecordsResult* out) {
  if (s.bugs.delete_records_beyond_request) {
    offset = std::min(offset + 1, replica.high_watermark());  // TEST-ONLY
  }
  absl::StatusOr<replication::RaftHost::Proposed> proposed =
      s.host.Propose(replica.group_id(),
                     raft::Bytes::Own(storage::EncodeLogStartEntry(offset)));
  if (!proposed.ok()) {
    // As Produce: a leader handing over its leadership refuses proposals.
    const raft::RawNode* node = s.host.node(replica.group_id());
    const bool transferring =
        node != nullptr && node->Status().transferee != raft::kNoNode;
    out->error_code = absl::IsUnavailable(proposed.status()) && !transferring
                          ? kafka::error::kNotEnoughReplicas
                          : kafka::error::kNotLeaderOrFollower;
    return false;
  }
  replica.AddPendingLogStart(proposed->term, proposed->index, std::move(done));
  return true;
}

}  // namespace

// DeleteRecords: the leader of each partition moves its log start with a log
// start entry in the partition's Raft log (see PartitionReplica) and answers
// once it committed, with the log start then as the low watermark; parts
// still waiting at the timeout answer REQUEST_TIMED_OUT.
void Handle(Services& s, const RequestContext& c,
            kafka::DeleteRecordsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::DeleteRecordsResponse>>();
  wait->context = c;
  // Laid out first: the completions point into it.
  for (const auto& topic : r.topics) {
    kafka::DeleteRecordsResponse::DeleteRecordsTopicResult out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      out.partitions.push_back(
          {partition.partition_index, -1, kafka::error::kNone});
    }
    wait->response.topics.push_back(std::move(out));
  }
  for (size_t t = 0; t < r.topics.size(); ++t) {
    const int16_t denied = TopicAccess(s, c, acl::kDelete, r.topics[t].name);
    for (size_t i = 0; i < r.topics[t].partitions.size(); ++i) {
      DeleteRecordsResult* out = &wait->response.topics[t].partitions[i];
      if (denied != kafka::error::kNone) {
        out->error_code = denied;
        continue;
      }
      int64_t offset = -1;
      PartitionReplica* replica = CheckDelete(
          s, r.topics[t].name, r.topics[t].partitions[i], &offset, out);
      if (replica == nullptr) continue;
      const int64_t start = s.partitions.LogStartOffset(*replica);
      if (offset <= start) {
        out->low_watermark = start;  // nothing to delete
        continue;
      }
      // Until it commits, the part answers REQUEST_TIMED_OUT at the deadline.
      out->error_code = kafka::error::kRequestTimedOut;
      auto done = [&s, wait, out](int16_t error_code, int64_t log_start) {
        if (wait->finished) return;
        out->error_code = error_code;
        out->low_watermark = error_code == kafka::error::kNone ? log_start : -1;
        PartDone(s, wait);
      };
      if (ProposeLogStart(s, *replica, offset, done, out)) ++wait->remaining;
    }
  }
  if (wait->remaining == 0) {
    FinishGathered(s, wait);
    return;
  }
  s.deadlines.Add(s.NowMs() + ClampTimeout(r.timeout_ms),
                  [&s, wait] { FinishGathered(s, wait); });
}

}  // namespace chronik::broker
