// Fetch: read committed batches from the leader's log; long polls wait in
// FetchWaiters. read_committed (isolation level 1) reads below the last
// stable offset and gets the aborted transactions among what it reads.
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

// read_committed: the aborted transactions that may cover [from, to).
void AddAborted(const PartitionReplica& replica, int64_t from, int64_t to,
                kafka::FetchResponse::PartitionData* out) {
  out->aborted_transactions.emplace();
  for (const partition::AbortedTxn& aborted :
       replica.txn().AbortedIn(from, to)) {
    out->aborted_transactions->push_back(
        {aborted.producer_id, aborted.first_offset});
  }
}

// Builds the response; returns the record bytes it holds.
size_t BuildFetchResponse(Services& s, const kafka::FetchRequest& request,
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
      out.error_code = s.partitions.LeaderReplica(
          s.state(), topic.topic, partition.partition,
          /*require_ready=*/false, &replica);
      if (out.error_code == kafka::error::kNone) {
        const int64_t hw = replica->high_watermark();
        const int64_t start = s.partitions.LogStartOffset(*replica);
        const int64_t lso = replica->last_stable_offset();
        const bool committed_only = request.isolation_level == 1;
        out.high_watermark = hw;
        out.last_stable_offset = lso;
        out.log_start_offset = start;
        if (partition.fetch_offset > hw && !replica->leader_ready() &&
            !s.bugs.fetch_out_of_range_before_ready) {
          // A new leader applies the log it inherited before its high
          // watermark says what is committed: an offset beyond it may exist
          // (a consumer's committed position read from the old leader).
          // OFFSET_OUT_OF_RANGE would make the client reset its position
          // (re-read or skip); this is retriable, as Kafka's leader, which
          // serves up to its log end at once, never says it.
          out.error_code = kafka::error::kNotLeaderOrFollower;
        } else if (partition.fetch_offset < start ||
                   partition.fetch_offset > hw) {
          out.error_code = kafka::error::kOffsetOutOfRange;
        } else if (partition.fetch_offset < hw) {
          const size_t room =
              total_bytes >= max_bytes ? 0 : max_bytes - total_bytes;
          size_t want = std::min<size_t>(
              room, std::max<int32_t>(partition.partition_max_bytes, 0));
          // At least one batch for the first partition with data (KIP-74);
          // the others only whole batches within both limits.
          const bool first_with_data = total_bytes == 0;
          if (first_with_data && want == 0) want = 1;
          if (want > 0) {
            std::string records;
            absl::Status status = s.partitions.ReadRecords(
                *replica, partition.fetch_offset, want, first_with_data,
                &records, committed_only ? lso : INT64_MAX);
            if (!status.ok()) {
              out.error_code = kafka::error::kKafkaStorageError;
            } else {
              total_bytes += records.size();
              out.records = std::move(records);
              if (committed_only) {
                AddAborted(*replica, partition.fetch_offset, lso, &out);
              }
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

}  // namespace

void Handle(Services& s, const RequestContext& c, kafka::FetchRequest& r) {
  kafka::FetchResponse response;
  const size_t bytes = BuildFetchResponse(s, r, &response);
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
    const size_t bytes = BuildFetchResponse(s, parked.request, &response);
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
