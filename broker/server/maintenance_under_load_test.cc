// Retention and log compaction under a steady produce load, with fsyncs
// running as an IO thread would (async): a flush is in flight at every tick,
// since the next one begins while the one before it syncs. Both change
// segment files, so they wait for a moment with no flush in flight; the
// broker must make one (RaftHost::RequestQuietStore), or they never run and
// the disk fills under load.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/log_compactor.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

class MaintenanceUnderLoadTest : public testing::BrokerTest {
 protected:
  MaintenanceUnderLoadTest() {
    async_fsync_ = true;
    segment_max_bytes_ = 4096;
    Restart(/*crash=*/false);
  }

  int16_t CreateTopicWith(
      const std::string& name,
      const std::vector<std::pair<std::string, std::string>>& configs) {
    kafka::CreateTopicsRequest request;
    kafka::CreateTopicsRequest::CreatableTopic topic;
    topic.name = name;
    topic.num_partitions = 1;
    topic.replication_factor = 1;
    for (const auto& [key, value] : configs) {
      topic.configs.push_back({key, value});
    }
    request.topics.push_back(topic);
    return Call<kafka::CreateTopicsResponse>(request, 4)
        .topics.at(0)
        .error_code;
  }

  std::string ProduceFrame(const std::string& topic,
                           const std::string& records) {
    kafka::ProduceRequest request;
    request.acks = -1;
    request.timeout_ms = 5000;
    request.topics.push_back({topic, {{0, records}}});
    return kafka::EncodeRequestFrame(9, ++correlation_id_, std::string("test"),
                                     request);
  }

  static std::string KeyedBatch(int round) {
    std::vector<kafka::Record> records;
    for (int i = 0; i < 20; ++i) {
      kafka::Record record;
      record.offset_delta = i;
      record.key = absl::StrCat("k", i % 4);
      record.value = absl::StrCat("round-", round, "-value-", i);
      records.push_back(record);
    }
    kafka::RecordBatchSpec spec;
    spec.base_timestamp = 1000;
    return *kafka::BuildRecordBatch(spec, records);
  }

  // `rounds` rounds of: a produce, whose flush begins behind the one in
  // flight; the IO thread finishing the flushes of earlier rounds; a tick.
  void SteadyLoad(const std::string& topic, int rounds) {
    for (int round = 0; round < rounds; ++round) {
      const size_t earlier = driver_->syncs_in_flight().size();
      driver_->Write(kConn, ProduceFrame(topic, KeyedBatch(round)));
      driver_->Step();
      for (size_t i = 0; i < earlier; ++i) {
        driver_->CompleteSync();
        driver_->Step();
      }
      ticks_with_a_flush_in_flight_ += broker_->HasFlushInFlight() ? 1 : 0;
      clock_.now_ms += 50;
      broker_->Tick();
      driver_->Step();
    }
  }

  // After the load: every produce was acknowledged without error.
  void ExpectAcknowledged(int rounds) {
    driver_->Settle();
    ASSERT_EQ(Sent().size(), static_cast<size_t>(rounds));
    for (int i = 0; i < rounds; ++i) {
      EXPECT_EQ(Receive<kafka::ProduceResponse>(9)
                    .responses.at(0)
                    .partitions.at(0)
                    .error_code,
                0);
    }
  }

  int ticks_with_a_flush_in_flight_ = 0;
};

TEST_F(MaintenanceUnderLoadTest, RetentionRunsThoughAFlushSyncsAtEveryTick) {
  ASSERT_EQ(CreateTopicWith("short", {{"retention.bytes", "8192"}}), 0);
  const uint64_t snapshots_before = broker_->SnapshotStats().taken;
  constexpr int kRounds = 80;  // 8 retention checks
  SteadyLoad("short", kRounds);
  EXPECT_EQ(ticks_with_a_flush_in_flight_, kRounds) << "the load was steady";
  EXPECT_GT(broker_->SnapshotStats().taken, snapshots_before)
      << "retention cut the log while the load ran";
  ExpectAcknowledged(kRounds);
  const auto [earliest, latest] = EarliestAndLatest("short");
  EXPECT_GT(earliest, 0);
  EXPECT_EQ(latest, kRounds * 20);
}

TEST_F(MaintenanceUnderLoadTest, CompactionRunsThoughAFlushSyncsAtEveryTick) {
  ASSERT_EQ(CreateTopicWith("keys", {{"cleanup.policy", "compact"},
                                     {"segment.bytes", "1024"},
                                     {"min.cleanable.dirty.ratio", "0.01"}}),
            0);
  const uint64_t passes_before = broker_->CompactionStats().passes;
  constexpr int kRounds = 80;  // 4 compaction checks
  SteadyLoad("keys", kRounds);
  EXPECT_EQ(ticks_with_a_flush_in_flight_, kRounds) << "the load was steady";
  EXPECT_GT(broker_->CompactionStats().passes, passes_before)
      << "compaction ran while the load ran";
  ExpectAcknowledged(kRounds);
}

}  // namespace
}  // namespace chronik::broker
