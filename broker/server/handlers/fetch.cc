// Fetch: read committed batches from the leader's log; long polls wait in
// FetchWaiters. Topics by name, or by topic id from v13 on; the current
// leader epoch is checked (FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH) and,
// from v12 on, the last fetched epoch (a diverging epoch instead of records).
// read_committed (isolation level 1) reads below the last stable offset and
// gets the aborted transactions among what it reads.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

namespace {

using PartitionData = kafka::FetchResponse::PartitionData;

// What one Fetch reads: the limits of the whole response, the bytes taken
// so far, and whether only committed transactions are read.
struct FetchBudget {
  size_t max_bytes = 0;
  size_t total_bytes = 0;
  bool read_committed = false;
};

// read_committed: the aborted transactions that may cover [from, to).
void AddAborted(const PartitionReplica& replica, int64_t from, int64_t to,
                PartitionData* out) {
  out->aborted_transactions.emplace();
  for (const partition::AbortedTxn& aborted :
       replica.txn().AbortedIn(from, to)) {
    out->aborted_transactions->push_back(
        {aborted.producer_id, aborted.first_offset});
  }
}

// The topic a Fetch names: by name before v13, by topic id from v13 on
// (KIP-516); nullptr when unknown.
const metapb::TopicInfo* FetchedTopic(
    Services& s, int16_t version,
    const kafka::FetchRequest::FetchTopic& topic) {
  if (version >= 13) return s.state().FindTopicById(FromUuid(topic.topic_id));
  return s.state().FindTopic(topic.topic);
}

// Kafka's check of the last fetched epoch (v12+, KIP-320/595): where the
// fetcher's log diverges from the leader's, the largest epoch <= it and
// that epoch's end, and no records. False with the error in `out` when the
// epoch's end is unknown or the offset is below the log start.
bool CheckLastFetchedEpoch(const PartitionReplica& replica,
                           const kafka::FetchRequest::FetchPartition& p,
                           int64_t log_start, PartitionData* out) {
  const partition::EpochEnd end =
      replica.EndOffsetForEpoch(p.last_fetched_epoch);
  if (end.epoch == partition::kUndefinedEpoch ||
      end.end_offset == partition::kUndefinedEpochOffset ||
      p.fetch_offset < log_start) {
    out->error_code = kafka::error::kOffsetOutOfRange;
    return false;
  }
  if (end.epoch < p.last_fetched_epoch || end.end_offset < p.fetch_offset) {
    out->diverging_epoch.epoch = end.epoch;
    out->diverging_epoch.end_offset = end.end_offset;
    return false;
  }
  return true;
}

// Reads what one partition answers from its leader's log.
void ReadPartition(Services& s, PartitionReplica& replica,
                   const kafka::FetchRequest::FetchPartition& p,
                   FetchBudget& budget, PartitionData* out) {
  const int64_t hw = replica.high_watermark();
  const int64_t start = s.partitions.LogStartOffset(replica);
  const int64_t lso = replica.last_stable_offset();
  out->high_watermark = hw;
  out->last_stable_offset = lso;
  out->log_start_offset = start;
  if (p.last_fetched_epoch >= 0 &&
      !CheckLastFetchedEpoch(replica, p, start, out)) {
    return;
  }
  if (p.fetch_offset > hw && !replica.leader_ready() &&
      !s.bugs.fetch_out_of_range_before_ready) {
    // A new leader applies the log it inherited before its high watermark
    // says what is committed: an offset beyond it may exist (a consumer's
    // committed position read from the old leader). OFFSET_OUT_OF_RANGE
    // would make the client reset its position (re-read or skip); this is
    // retriable, as Kafka's leader, which serves up to its log end at once,
    // never says it.
    out->error_code = kafka::error::kNotLeaderOrFollower;
    return;
  }
  if (p.fetch_offset < start || p.fetch_offset > hw) {
    out->error_code = kafka::error::kOffsetOutOfRange;
    return;
  }
  if (p.fetch_offset == hw) return;
  const size_t room = budget.total_bytes >= budget.max_bytes
                          ? 0
                          : budget.max_bytes - budget.total_bytes;
  size_t want =
      std::min<size_t>(room, std::max<int32_t>(p.partition_max_bytes, 0));
  // At least one batch for the first partition with data (KIP-74); the
  // others only whole batches within both limits.
  const bool first_with_data = budget.total_bytes == 0;
  if (first_with_data && want == 0) want = 1;
  if (want == 0) return;
  ByteChain records;
  if (!s.partitions
           .ReadRecords(
               replica, p.fetch_offset, want, first_with_data, &records,
               budget.read_committed && !s.bugs.txn_read_committed_ignores_lso
                   ? lso
                   : INT64_MAX)
           .ok()) {
    out->error_code = kafka::error::kKafkaStorageError;
    return;
  }
  budget.total_bytes += records.size();
  out->records = std::move(records);
  if (budget.read_committed) AddAborted(replica, p.fetch_offset, lso, out);
}

// One partition's answer: Kafka's checks (topic, partition, current leader
// epoch, leadership), then the read.
PartitionData FetchPartition(Services& s, int16_t version,
                             const metapb::TopicInfo* info,
                             const kafka::FetchRequest::FetchPartition& p,
                             FetchBudget& budget) {
  PartitionData out;
  out.partition_index = p.partition;
  if (info == nullptr && version >= 13) {
    out.error_code = kafka::error::kUnknownTopicId;
    return out;
  }
  PartitionReplica* replica = nullptr;
  out.error_code = s.partitions.LeaderReplica(
      s.state(), info == nullptr ? std::string() : info->name(), p.partition,
      p.current_leader_epoch, /*require_ready=*/false, &replica);
  if (out.error_code == kafka::error::kNone) {
    ReadPartition(s, *replica, p, budget, &out);
  } else if (version >= 12 &&
             (out.error_code == kafka::error::kNotLeaderOrFollower ||
              out.error_code == kafka::error::kFencedLeaderEpoch)) {
    // Where to go instead (KIP-951's hint, also useful before v16).
    const metapb::PartitionInfo& partition = info->partitions(p.partition);
    out.current_leader.leader_id = s.partitions.PartitionLeader(partition);
    out.current_leader.leader_epoch =
        s.partitions.PartitionLeaderEpoch(partition);
  }
  return out;
}

// Builds the response; returns the record bytes it holds.
size_t BuildFetchResponse(Services& s, int16_t version,
                          const kafka::FetchRequest& request,
                          kafka::FetchResponse* response) {
  FetchBudget budget;
  budget.max_bytes =
      request.max_bytes > 0 ? static_cast<size_t>(request.max_bytes) : 0;
  budget.read_committed = request.isolation_level == 1;
  response->responses.clear();
  for (const auto& topic : request.topics) {
    kafka::FetchResponse::FetchableTopicResponse out_topic;
    out_topic.topic = topic.topic;
    out_topic.topic_id = topic.topic_id;
    const metapb::TopicInfo* info = FetchedTopic(s, version, topic);
    for (const auto& partition : topic.partitions) {
      out_topic.partitions.push_back(
          FetchPartition(s, version, info, partition, budget));
    }
    response->responses.push_back(std::move(out_topic));
  }
  return budget.total_bytes;
}

}  // namespace

namespace {

// Topics the principal may not read: answered TOPIC_AUTHORIZATION_FAILED and
// taken out of the request (the rest is fetched as usual).
std::vector<kafka::FetchResponse::FetchableTopicResponse> TakeDenied(
    Services& s, const RequestContext& c, kafka::FetchRequest& r) {
  std::vector<kafka::FetchResponse::FetchableTopicResponse> denied;
  auto& topics = r.topics;
  for (auto it = topics.begin(); it != topics.end();) {
    const metapb::TopicInfo* info = FetchedTopic(s, c.header.api_version, *it);
    const std::string name = info != nullptr ? info->name() : it->topic;
    if (Allowed(s, c, acl::kRead, {acl::kTopic, name})) {
      ++it;
      continue;
    }
    kafka::FetchResponse::FetchableTopicResponse out;
    out.topic = it->topic;
    out.topic_id = it->topic_id;
    for (const auto& partition : it->partitions) {
      PartitionData p;
      p.partition_index = partition.partition;
      p.error_code = kafka::error::kTopicAuthorizationFailed;
      out.partitions.push_back(std::move(p));
    }
    denied.push_back(std::move(out));
    it = topics.erase(it);
  }
  return denied;
}

}  // namespace

void Handle(Services& s, const RequestContext& c, kafka::FetchRequest& r) {
  kafka::FetchResponse response;
  auto denied = TakeDenied(s, c, r);
  if (!denied.empty()) {
    BuildFetchResponse(s, c.header.api_version, r, &response);
    for (auto& topic : denied) response.responses.push_back(std::move(topic));
    s.connections.Finish(c, response, true);
    return;
  }
  const size_t bytes =
      BuildFetchResponse(s, c.header.api_version, r, &response);
  const bool has_error = std::any_of(
      response.responses.begin(), response.responses.end(), [](const auto& t) {
        return std::any_of(t.partitions.begin(), t.partitions.end(),
                           [](const auto& p) { return p.error_code != 0; });
      });
  if (bytes >= static_cast<size_t>(std::max(r.min_bytes, 1)) ||
      r.max_wait_ms <= 0 || has_error ||
      s.fetches.size() >= kMaxParkedFetches) {
    s.connections.Finish(c, response, has_error);
    return;
  }
  s.fetches.Park(FetchWaiters::Parked{
      c, r, s.NowMs() + std::min<int64_t>(r.max_wait_ms, kMaxFetchWaitMs)});
}

void FetchWaiters::Retry(Services& s, bool expire) {
  if (parked_.empty()) return;
  const int64_t now = s.NowMs();
  std::vector<Parked> still;
  for (Parked& parked : parked_) {
    kafka::FetchResponse response;
    const size_t bytes = BuildFetchResponse(
        s, parked.context.header.api_version, parked.request, &response);
    const bool due = expire && now >= parked.deadline_ms;
    if (bytes >= static_cast<size_t>(std::max(parked.request.min_bytes, 1)) ||
        due || !s.connections.IsOpen(parked.context.connection)) {
      s.connections.Finish(parked.context, response);
    } else {
      still.push_back(std::move(parked));
    }
  }
  parked_.swap(still);
}

}  // namespace chronik::broker
