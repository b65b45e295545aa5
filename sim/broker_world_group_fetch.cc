// The broker scenario's consumer-group members, their Fetch loop: a Fetch of
// the next assigned partition from its leader, the records delivered from
// the member's position on (each one to the checker), Metadata again on
// leader errors; a position below the log start (DeleteRecords, retention)
// resets to the earliest offset, as auto.offset.reset=earliest does.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

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

constexpr Nanos kPollIdle = 50 * kMillisecond;
constexpr Nanos kGroupBackoff = 100 * kMillisecond;

bool FetchRetriable(int16_t code) {
  return code == error::kNotLeaderOrFollower ||
         code == error::kLeaderNotAvailable ||
         code == error::kUnknownTopicOrPartition ||
         code == error::kRequestTimedOut || code == error::kKafkaStorageError;
}

}  // namespace

void BrokerWorld::GroupFetch(SimClient& client) {
  GroupMemberState& g = client.group;
  const int partition = g.assigned[g.next_partition++ % g.assigned.size()];
  const int leader = client.leaders[partition];
  if (leader <= 0) {
    client.need_metadata = true;
    ActLater(client, kGroupBackoff);
    return;
  }
  kafka::FetchRequest request;
  request.max_wait_ms = 0;
  request.min_bytes = 0;
  request.topics.push_back(
      {std::string(kTopic),
       {{partition, -1, g.position[partition], -1, -1, 1 << 20}}});
  g.call_to_coordinator = false;
  Call<kafka::FetchResponse>(
      client, leader, 11, request,
      [this, partition](SimClient& c, const kafka::FetchResponse& response) {
        OnGroupFetched(c, partition, response);
      });
}

void BrokerWorld::OnGroupFetched(SimClient& client, int partition,
                                 const kafka::FetchResponse& response) {
  GroupMemberState& g = client.group;
  auto position = g.position.find(partition);
  CHRONIK_CHECK(position != g.position.end()) << g.name << " " << partition;
  int16_t code = response.error_code;
  if (code == error::kNone && (response.responses.empty() ||
                               response.responses[0].partitions.empty())) {
    code = error::kUnknownTopicOrPartition;
  }
  const auto* p =
      code == error::kNone ? &response.responses[0].partitions[0] : nullptr;
  if (p != nullptr) code = p->error_code;
  if (p != nullptr &&
      (code == error::kNone || code == error::kOffsetOutOfRange)) {
    ObserveFetchLogStart(partition, p->log_start_offset);
  }
  if (code == error::kOffsetOutOfRange &&
      p->log_start_offset > position->second) {
    ResetMemberToLogStart(client, partition);
    return;
  }
  if (code != error::kNone) {
    if (!FetchRetriable(code)) {
      Fail(absl::StrCat("group member ", g.name, ": Fetch of partition ",
                        partition, " at offset ", position->second, ": ",
                        error::Name(code) ? error::Name(code) : "error"));
      return;
    }
    client.need_metadata = true;
    ActLater(client, kGroupBackoff);
    return;
  }
  absl::StatusOr<std::vector<kafka::RecordBatchView>> batches =
      kafka::ParseRecordBatches(p->records.has_value()
                                    ? absl::string_view(*p->records)
                                    : absl::string_view(),
                                /*allow_partial_tail=*/true);
  if (!batches.ok()) {
    Fail(absl::StrCat("CORRUPT: group member ", g.name, " partition ",
                      partition, ": ", batches.status().ToString()));
    return;
  }
  uint64_t delivered = 0;
  for (const kafka::RecordBatchView& batch : *batches) {
    absl::StatusOr<std::vector<kafka::Record>> records =
        kafka::DecodeRecords(batch);
    if (!records.ok()) {
      Fail(absl::StrCat("CORRUPT: group member ", g.name, " partition ",
                        partition, " batch at offset ",
                        batch.header.base_offset, ": ",
                        records.status().ToString()));
      return;
    }
    if (batch.header.is_control()) {  // a transaction marker: skipped
      if (batch.header.last_offset() >= position->second &&
          batch.header.last_offset() < p->high_watermark) {
        position->second = batch.header.last_offset() + 1;
      }
      continue;
    }
    for (const kafka::Record& record : *records) {
      const int64_t offset = batch.header.base_offset + record.offset_delta;
      if (offset < position->second || offset >= p->high_watermark) continue;
      checker_.OnGroupRead(now(), g.name, partition, offset,
                           record.value.value_or(""));
      position->second = offset + 1;
      ++delivered;
    }
    // Past a batch compaction emptied (a no-op for a full batch).
    if (batch.header.last_offset() >= position->second &&
        batch.header.last_offset() < p->high_watermark) {
      position->second = batch.header.last_offset() + 1;
    }
  }
  CheckGroupAnomaly();
  ActLater(client, delivered > 0 ? 0 : kPollIdle);
}

void BrokerWorld::ResetMemberToLogStart(SimClient& client, int partition) {
  const std::string member = client.group.name;
  ResetToLogStart(client, partition,
                  [this, partition, member](SimClient& c, int64_t earliest) {
                    GroupMemberState& g = c.group;
                    auto position = g.position.find(partition);
                    // Still this member's partition (not revoked meanwhile)?
                    if (earliest >= 0 && g.name == member &&
                        position != g.position.end() &&
                        earliest > position->second) {
                      checker_.OnGroupReset(now(), g.name, partition, earliest);
                      position->second = earliest;
                    }
                    ActLater(c, earliest >= 0 ? 0 : kGroupBackoff);
                  });
}

}  // namespace chronik::sim
