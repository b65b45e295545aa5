// Log compaction through the broker (log_compactor.h): a compacted topic
// keeps the latest value of every key at its original offset, drops a
// tombstone after delete.retention.ms, survives restarts, and follows
// cleanup.policy changes made with IncrementalAlterConfigs.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/log_compactor.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr int kKeys = 5;
constexpr int kRounds = 10;

struct Seen {
  std::string key;
  std::optional<std::string> value;
};

class CompactionTest : public testing::BrokerTest {
 protected:
  int16_t CreateCompacted(const std::string& name, const std::string& policy) {
    kafka::CreateTopicsRequest request;
    kafka::CreateTopicsRequest::CreatableTopic topic;
    topic.name = name;
    topic.num_partitions = 1;
    topic.replication_factor = 1;
    topic.configs = {{"cleanup.policy", policy},
                     {"segment.bytes", "1024"},
                     {"segment.ms", "1000"},
                     {"min.cleanable.dirty.ratio", "0.01"},
                     {"delete.retention.ms", "5000"}};
    request.topics.push_back(topic);
    return Call<kafka::CreateTopicsResponse>(request, 4)
        .topics.at(0)
        .error_code;
  }

  std::string KeyedBatch(const std::vector<Seen>& records) {
    std::vector<kafka::Record> batch;
    for (size_t i = 0; i < records.size(); ++i) {
      kafka::Record record;
      record.offset_delta = static_cast<int32_t>(i);
      record.key = records[i].key;
      record.value = records[i].value;
      batch.push_back(record);
    }
    kafka::RecordBatchSpec spec;
    spec.base_timestamp = clock_.now_ms;
    return *kafka::BuildRecordBatch(spec, batch);
  }

  // kRounds rounds of every key (round r, key i at offset r * kKeys + i),
  // then a tombstone for k0 at offset kRounds * kKeys.
  void ProduceVersions(const std::string& topic) {
    for (int round = 0; round < kRounds; ++round) {
      std::vector<Seen> records;
      for (int k = 0; k < kKeys; ++k) {
        records.push_back({absl::StrCat("k", k), absl::StrCat("r", round)});
      }
      ASSERT_EQ(Produce(topic, 0, KeyedBatch(records))
                    .responses.at(0)
                    .partitions.at(0)
                    .error_code,
                0);
      Tick();
    }
    ASSERT_EQ(Produce(topic, 0, KeyedBatch({{"k0", std::nullopt}}))
                  .responses.at(0)
                  .partitions.at(0)
                  .error_code,
              0);
  }

  // Every record from offset 0 to the high watermark, by offset.
  std::map<int64_t, Seen> ReadAll(const std::string& topic) {
    std::map<int64_t, Seen> out;
    int64_t offset = 0;
    for (int i = 0; i < 1000; ++i) {
      const kafka::FetchResponse r = Fetch(topic, 0, offset);
      const auto& p = r.responses.at(0).partitions.at(0);
      EXPECT_EQ(p.error_code, 0);
      if (!p.records.has_value() || p.records->empty()) break;
      auto batches = kafka::ParseRecordBatches(*p.records);
      EXPECT_TRUE(batches.ok()) << batches.status();
      if (!batches.ok() || batches->empty()) break;
      for (const kafka::RecordBatchView& batch : *batches) {
        auto records = kafka::DecodeRecords(batch);
        EXPECT_TRUE(records.ok()) << records.status();
        for (const kafka::Record& record : *records) {
          const int64_t at = batch.header.base_offset + record.offset_delta;
          if (at >= offset) out[at] = Seen{*record.key, record.value};
        }
        offset = batch.header.last_offset() + 1;
      }
    }
    return out;
  }

  void Wait(int ms) {
    for (int t = 0; t < ms / 50; ++t) Tick();
  }

  // The latest value of every key at its original offset and nothing older;
  // with `tombstone`, k0's tombstone, else no k0 at all.
  void ExpectCompacted(const std::string& topic, bool tombstone) {
    const std::map<int64_t, Seen> seen = ReadAll(topic);
    std::map<int64_t, Seen> want;
    for (int k = 1; k < kKeys; ++k) {
      want[(kRounds - 1) * kKeys + k] = {absl::StrCat("k", k), "r9"};
    }
    if (tombstone) want[kRounds * kKeys] = {"k0", std::nullopt};
    ASSERT_EQ(seen.size(), want.size());
    for (const auto& [offset, record] : want) {
      ASSERT_EQ(seen.count(offset), 1u) << offset;
      EXPECT_EQ(seen.at(offset).key, record.key) << offset;
      EXPECT_EQ(seen.at(offset).value, record.value) << offset;
    }
  }
};

TEST_F(CompactionTest, KeepsTheLatestValuePerKeyAtItsOffset) {
  ASSERT_EQ(CreateCompacted("c", "compact"), 0);
  ProduceVersions("c");
  Wait(3000);  // segment.ms rolls the last segment; passes run
  ExpectCompacted("c", /*tombstone=*/true);
  // A fetch at a removed offset gets the next surviving record.
  const std::map<int64_t, Seen> from_zero = ReadAll("c");
  EXPECT_EQ(from_zero.begin()->first, (kRounds - 1) * kKeys + 1);
  // The log start and high watermark stay: offsets are preserved.
  const kafka::FetchResponse fetched = Fetch("c", 0, 0);
  const auto& p = fetched.responses.at(0).partitions.at(0);
  EXPECT_EQ(p.log_start_offset, 0);
  EXPECT_EQ(p.high_watermark, kRounds * kKeys + 1);
  // delete.retention.ms (5 s) after it was written, the tombstone goes too.
  Wait(4000);
  ExpectCompacted("c", /*tombstone=*/false);
  // The compacted log is what a restart (clean, then crash) replays.
  Restart(/*crash=*/false);
  Wait(1000);
  ExpectCompacted("c", /*tombstone=*/false);
  Restart(/*crash=*/true);
  Wait(1000);
  ExpectCompacted("c", /*tombstone=*/false);
  // And the partition takes writes at the next offset.
  const kafka::ProduceResponse after =
      Produce("c", 0, KeyedBatch({{"k1", "after"}}));
  const auto& produced = after.responses.at(0).partitions.at(0);
  EXPECT_EQ(produced.error_code, 0);
  EXPECT_EQ(produced.base_offset, kRounds * kKeys + 1);
}

TEST_F(CompactionTest, CompactDeleteCompactsAndDeleteDoesNot) {
  ASSERT_EQ(CreateCompacted("both", "compact,delete"), 0);
  ASSERT_EQ(CreateCompacted("plain", "delete"), 0);
  ProduceVersions("both");
  ProduceVersions("plain");
  Wait(3000);
  ExpectCompacted("both", /*tombstone=*/true);
  EXPECT_EQ(ReadAll("plain").size(), static_cast<size_t>(kRounds * kKeys + 1));
}

TEST_F(CompactionTest, IncrementalAlterConfigsTurnsCompactionOn) {
  ASSERT_EQ(CreateCompacted("later", "delete"), 0);
  ProduceVersions("later");
  Wait(2000);
  EXPECT_EQ(ReadAll("later").size(), static_cast<size_t>(kRounds * kKeys + 1));
  kafka::IncrementalAlterConfigsRequest request;
  kafka::IncrementalAlterConfigsRequest::AlterConfigsResource resource;
  resource.resource_type = 2;  // topic
  resource.resource_name = "later";
  resource.configs.push_back({"cleanup.policy", 0, std::string("compact")});
  request.resources.push_back(resource);
  ASSERT_EQ(Call<kafka::IncrementalAlterConfigsResponse>(request, 1)
                .responses.at(0)
                .error_code,
            0);
  Wait(2000);
  ExpectCompacted("later", /*tombstone=*/true);
}

// The offset cleaned up to is checkpointed next to the log: after a restart
// the compactor does not read the cleaned segments into a key map again.
TEST_F(CompactionTest, TheCleanedOffsetSurvivesARestart) {
  ASSERT_EQ(CreateCompacted("c", "compact"), 0);
  ProduceVersions("c");
  Wait(3000);
  ExpectCompacted("c", /*tombstone=*/true);
  ASSERT_GT(broker_->CompactionStats().segments_mapped, 0u);
  Restart(/*crash=*/true);
  Wait(3000);
  const CompactionTotals& after = broker_->CompactionStats();
  EXPECT_GT(after.passes, 0u);  // the tombstone pass after the restart
  EXPECT_EQ(after.segments_mapped, 0u);
  ExpectCompacted("c", /*tombstone=*/false);
}

// A key map bounded below the keys of the dirty segments: every pass maps
// one segment and cleans up to it, and the log still ends up with the
// latest record of every key.
TEST_F(CompactionTest, ABoundedKeyMapStillCompactsEverything) {
  configure_ = [](BrokerOptions& options) {
    options.compaction_max_keys_per_pass = 2;
    options.compaction_check_ticks = 100;  // several segments per pass
  };
  Restart(/*crash=*/false);
  ASSERT_EQ(CreateCompacted("c", "compact"), 0);
  Wait(5000);  // a check applies segment.bytes
  ProduceVersions("c");
  Wait(20000);
  EXPECT_GT(broker_->CompactionStats().bounded_passes, 0u)
      << broker_->CompactionStats().passes << " passes, "
      << broker_->CompactionStats().segments_mapped << " mapped";
  ExpectCompacted("c", /*tombstone=*/false);
}

}  // namespace
}  // namespace chronik::broker
