// The broker scenario's purger, on seeds with DeleteRecords (stream
// "retention"): from a few seconds in until the producers stop, a round
// every 0.2-1.5 s on a random partition of the topic: ListOffsets latest
// from the partition's leader, then DeleteRecords of part (10-60 %, or one
// round in three all) of what lies between the log start it knows and that
// high watermark (on seeds whose topic has retention, one round in five up
// to the high watermark, offset -1); one round in three asks ListOffsets
// earliest instead. Every
// log start a broker reports goes to the checker (LOG START BEYOND REQUEST,
// LOG START WENT BACK). Its choices come from its own stream ("purge").
//
// Also ResetToLogStart: the consumer and the group members, told by a Fetch
// that their position is below the log start, ask for the earliest offset
// and go on from there, as a client with auto.offset.reset=earliest does.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "sim/broker_world.h"
#include "sim/broker_world_call.h"

namespace chronik::sim {
namespace {

namespace error = kafka::error;

constexpr Nanos kPurgeBackoff = 100 * kMillisecond;
constexpr int32_t kDeleteTimeoutMs = 2000;
constexpr int64_t kEarliest = -2;  // ListOffsets timestamps
constexpr int64_t kLatest = -1;

bool PurgeRetriable(int16_t code) {
  switch (code) {
    case error::kNotLeaderOrFollower:
    case error::kLeaderNotAvailable:
    case error::kUnknownTopicOrPartition:
    case error::kRequestTimedOut:
    case error::kNotEnoughReplicas:
    case error::kKafkaStorageError:
      return true;
    default:
      return false;
  }
}

kafka::ListOffsetsRequest ListOffsets(int partition, int64_t timestamp) {
  kafka::ListOffsetsRequest request;
  request.replica_id = -1;
  request.topics.push_back(
      {std::string(kTopic), {{partition, -1, timestamp, 1}}});
  return request;
}

// (error, offset) of the one partition of a ListOffsets answer.
std::pair<int16_t, int64_t> OneOffset(const kafka::ListOffsetsResponse& r) {
  if (r.topics.empty() || r.topics[0].partitions.empty()) {
    return {error::kUnknownTopicOrPartition, -1};
  }
  const auto& p = r.topics[0].partitions[0];
  return {p.error_code, p.offset};
}

}  // namespace

void BrokerWorld::CheckLogStartAnomaly() {
  if (const std::optional<std::string>& anomaly =
          checker_.log_start_anomaly()) {
    Fail(*anomaly);
  }
}

void BrokerWorld::ObserveFetchLogStart(int partition, int64_t log_start) {
  checker_.OnLogStartSeen(-1, now(), partition, log_start, "Fetch");
  CheckLogStartAnomaly();
}

void BrokerWorld::ResetConsumerToLogStart(SimClient& consumer) {
  ResetToLogStart(consumer, consumer.partition,
                  [this](SimClient& c, int64_t earliest) {
                    if (earliest > c.offset) {
                      checker_.OnReadFrom(c.partition, earliest);
                      c.offset = earliest;
                    }
                    ActLater(c, earliest >= 0 ? 0 : kPurgeBackoff);
                  });
}

void BrokerWorld::PurgerAct(SimClient& purger) {
  if (producers_stopped_) {
    purger.done = true;
    return;
  }
  if (purger.need_metadata) {
    RequestMetadata(purger);
    return;
  }
  if (purger.purge_partition < 0) {
    purger.purge_partition =
        static_cast<int>(purge_rng_.Below(options_.partitions));
    purger.purge_high = -1;
    if (purge_rng_.Chance(1.0 / 3)) {
      PurgeList(purger, kEarliest);
      return;
    }
  }
  if (purger.purge_high < 0) {
    PurgeList(purger, kLatest);
    return;
  }
  PurgeDelete(purger);
}

void BrokerWorld::PurgeList(SimClient& purger, int64_t timestamp) {
  const int partition = purger.purge_partition;
  const int leader = purger.leaders[partition];
  if (leader <= 0) {
    purger.need_metadata = true;
    ActLater(purger, kPurgeBackoff);
    return;
  }
  const Nanos sent_at = now();
  Call<kafka::ListOffsetsResponse>(
      purger, leader, 5, ListOffsets(partition, timestamp),
      [this, partition, timestamp, sent_at](
          SimClient& c, const kafka::ListOffsetsResponse& response) {
        const auto [code, offset] = OneOffset(response);
        if (code != error::kNone) {
          PurgeFailed(c, "ListOffsets", code);
          return;
        }
        if (timestamp == kEarliest) {
          checker_.OnLogStartSeen(sent_at, now(), partition, offset,
                                  "ListOffsets earliest");
          CheckLogStartAnomaly();
          c.purge_starts[partition] =
              std::max(c.purge_starts[partition], offset);
          PurgeRoundDone(c);
          return;
        }
        c.purge_high = offset;
        ActLater(c, 0);
      });
}

void BrokerWorld::PurgeDelete(SimClient& purger) {
  const int partition = purger.purge_partition;
  const int64_t low = purger.purge_starts[partition];
  const int64_t high = purger.purge_high;
  const int leader = purger.leaders[partition];
  if (high <= low || leader <= 0) {
    if (leader <= 0) purger.need_metadata = true;
    PurgeRoundDone(purger);
    return;
  }
  const bool retention = log_starts_.retention_bytes >= 0 && !auto_create_;
  // Part of the range, or (one round in three) all of it: then the leader
  // cuts up to its last segment and a follower behind installs a snapshot.
  const int64_t percent =
      purge_rng_.Chance(0.5) ? 100 : purge_rng_.Between(10, 60);
  const int64_t offset =
      retention && purge_rng_.Chance(0.2)
          ? -1
          : low + std::max<int64_t>(1, (high - low) * percent / 100);
  checker_.OnDeleteRecordsSent(partition, offset);
  kafka::DeleteRecordsRequest request;
  request.timeout_ms = kDeleteTimeoutMs;
  request.topics.push_back({std::string(kTopic), {{partition, offset}}});
  const Nanos sent_at = now();
  Call<kafka::DeleteRecordsResponse>(
      purger, leader, 1, request,
      [this, partition, offset, high, sent_at](
          SimClient& c, const kafka::DeleteRecordsResponse& response) {
        int16_t code = error::kUnknownTopicOrPartition;
        int64_t low_watermark = -1;
        if (!response.topics.empty() &&
            !response.topics[0].partitions.empty()) {
          code = response.topics[0].partitions[0].error_code;
          low_watermark = response.topics[0].partitions[0].low_watermark;
        }
        Record(
            Trace::kWorld, "delete_records",
            {static_cast<uint64_t>(partition), static_cast<uint64_t>(offset),
             static_cast<uint64_t>(code), static_cast<uint64_t>(low_watermark)},
            [&] {
              return absl::StrCat("partition ", partition, " before ", offset,
                                  ": ", ErrorName(code), ", low watermark ",
                                  low_watermark);
            });
        if (code == error::kOffsetOutOfRange) {
          // A committed high watermark never goes back.
          Fail(absl::StrCat("DELETE RECORDS REFUSED: partition ", partition,
                            " offset ", offset,
                            " answered OFFSET_OUT_OF_RANGE after ListOffsets "
                            "said the high watermark was ",
                            high));
          return;
        }
        if (code != error::kNone) {
          PurgeFailed(c, "DeleteRecords", code);
          return;
        }
        ++result_.records_deleted;
        checker_.OnDeleteRecordsAcked(sent_at, now(), partition, offset,
                                      low_watermark);
        CheckLogStartAnomaly();
        c.purge_starts[partition] =
            std::max(c.purge_starts[partition], low_watermark);
        PurgeRoundDone(c);
      });
}

void BrokerWorld::PurgeRoundDone(SimClient& purger) {
  purger.purge_partition = -1;
  purger.purge_high = -1;
  purger.backoff = 0;
  ActLater(purger, purge_rng_.Between(100 * kMillisecond, 800 * kMillisecond));
}

void BrokerWorld::PurgeFailed(SimClient& purger, std::string_view what,
                              int16_t code) {
  if (!PurgeRetriable(code)) {
    Fail(absl::StrCat("purger: ", std::string(what), " of partition ",
                      purger.purge_partition, ": ", ErrorName(code)));
    return;
  }
  purger.need_metadata = true;
  purger.purge_high = -1;
  purger.backoff =
      std::clamp<Nanos>(purger.backoff * 2, kPurgeBackoff, kSecond);
  ActLater(purger, purger.backoff);
}

void BrokerWorld::ResetToLogStart(
    SimClient& client, int partition,
    std::function<void(SimClient&, int64_t)> done) {
  const int leader = client.leaders[partition];
  if (leader <= 0) {
    client.need_metadata = true;
    done(client, -1);
    return;
  }
  if (client.kind == ClientKind::kGroupMember) {
    client.group.call_to_coordinator = false;
  }
  const Nanos sent_at = now();
  Call<kafka::ListOffsetsResponse>(
      client, leader, 5, ListOffsets(partition, kEarliest),
      [this, partition, sent_at, done = std::move(done)](
          SimClient& c, const kafka::ListOffsetsResponse& response) {
        const auto [code, offset] = OneOffset(response);
        if (code != error::kNone) {
          c.need_metadata = true;
          done(c, -1);
          return;
        }
        Record(
            Trace::kWorld, "reset_to_log_start",
            {static_cast<uint64_t>(c.index), static_cast<uint64_t>(partition),
             static_cast<uint64_t>(offset)});
        checker_.OnLogStartSeen(sent_at, now(), partition, offset,
                                "ListOffsets earliest");
        CheckLogStartAnomaly();
        done(c, offset);
      });
}

}  // namespace chronik::sim
