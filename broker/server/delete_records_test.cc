// DeleteRecords in process (the fixture drives a Broker with real request
// frames): the log start moves (ListOffsets earliest follows, fetching below
// it answers OFFSET_OUT_OF_RANGE, timestamps below it are not found), the
// segments below it go the way retention's do, it survives restarts, and
// Kafka's error answers.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

using testing::BrokerTest;

class DeleteRecordsTest : public BrokerTest {
 protected:
  DeleteRecordsTest() {
    segment_max_bytes_ = 4096;  // many segments, so the cut removes some
    Restart(/*crash=*/false);
  }

  kafka::DeleteRecordsResponse Delete(
      const std::string& topic,
      const std::vector<std::pair<int32_t, int64_t>>& offsets,
      int32_t timeout_ms = 5000) {
    kafka::DeleteRecordsRequest request;
    request.timeout_ms = timeout_ms;
    kafka::DeleteRecordsRequest::DeleteRecordsTopic t;
    t.name = topic;
    for (const auto& [partition, offset] : offsets) {
      t.partitions.push_back({partition, offset});
    }
    request.topics.push_back(t);
    return Call<kafka::DeleteRecordsResponse>(request, 2);
  }
  // (error, low watermark) of one partition.
  std::pair<int16_t, int64_t> DeleteOne(const std::string& topic,
                                        int32_t partition, int64_t offset) {
    const auto response = Delete(topic, {{partition, offset}});
    const auto& p = response.topics.at(0).partitions.at(0);
    EXPECT_EQ(p.partition_index, partition);
    return {p.error_code, p.low_watermark};
  }

  // ListOffsets of partition 0 of `topic` at `timestamp` (-2 earliest, -1
  // latest).
  int64_t ListOffset(const std::string& topic, int64_t timestamp) {
    kafka::ListOffsetsRequest list;
    kafka::ListOffsetsRequest::ListOffsetsTopic t;
    t.name = topic;
    t.partitions.push_back({0, -1, timestamp, 1});
    list.topics.push_back(t);
    const auto response = Call<kafka::ListOffsetsResponse>(list, 7);
    EXPECT_EQ(response.topics.at(0).partitions.at(0).error_code, 0);
    return response.topics.at(0).partitions.at(0).offset;
  }

  int16_t FetchError(const std::string& topic, int64_t offset) {
    return Fetch(topic, 0, offset).responses.at(0).partitions.at(0).error_code;
  }

  // 10 keyed records (a compacted topic refuses records without key).
  static std::string KeyedBatch(int64_t timestamp) {
    kafka::RecordBatchSpec spec;
    spec.base_timestamp = timestamp;
    std::vector<kafka::Record> records(10);
    for (int i = 0; i < 10; ++i) {
      records[i].offset_delta = i;
      records[i].key = absl::StrCat("key-", i);
      records[i].value = absl::StrCat("value-", i);
    }
    absl::StatusOr<std::string> built = kafka::BuildRecordBatch(spec, records);
    CHRONIK_CHECK(built.ok()) << built.status();
    return *built;
  }

  // 40 batches of 10 records (offsets 0..399), stamped now (retention.ms
  // keeps them).
  void Fill(const std::string& topic) {
    for (int i = 0; i < 40; ++i) {
      ASSERT_EQ(Produce(topic, 0, KeyedBatch(clock_.now_ms + i))
                    .responses[0]
                    .partitions[0]
                    .error_code,
                0);
    }
  }
};

TEST_F(DeleteRecordsTest, MovesTheLogStartAndSurvivesRestarts) {
  ASSERT_EQ(CreateTopic("d", 1).topics.at(0).error_code, 0);
  Fill("d");
  // 155 is inside the batch 150..159: the log starts there, mid-batch.
  EXPECT_EQ(DeleteOne("d", 0, 155),
            std::make_pair(kafka::error::kNone, int64_t{155}));
  EXPECT_EQ(ListOffset("d", -2), 155);
  EXPECT_EQ(ListOffset("d", -1), 400);
  EXPECT_EQ(FetchError("d", 0), kafka::error::kOffsetOutOfRange);
  EXPECT_EQ(FetchError("d", 154), kafka::error::kOffsetOutOfRange);
  kafka::FetchResponse tail = Fetch("d", 0, 155);
  ASSERT_EQ(tail.responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(tail.responses[0].partitions[0].log_start_offset, 155);
  EXPECT_EQ(FetchedOffsets(tail).front(), 150) << "the whole batch, as Kafka";
  // A timestamp before every record finds the log start, not offset 0.
  EXPECT_EQ(ListOffset("d", 0), 155);

  // The retention pass removes the whole segments below the log start (a
  // Raft snapshot at the cut), and the log start stays where it was asked.
  const uint64_t taken = broker_->SnapshotStats().taken;
  for (int i = 0; i < 20; ++i) Tick();
  EXPECT_GT(broker_->SnapshotStats().taken, taken);
  EXPECT_EQ(ListOffset("d", -2), 155);

  // Both a clean restart and a crash keep it: not the segment boundary.
  Restart(/*crash=*/false);
  EXPECT_EQ(ListOffset("d", -2), 155);
  Restart(/*crash=*/true);
  EXPECT_EQ(ListOffset("d", -2), 155);
  EXPECT_EQ(FetchError("d", 154), kafka::error::kOffsetOutOfRange);
  EXPECT_EQ(ListOffset("d", -1), 400);
  const auto produced = Produce("d", 0, Batch(10));
  EXPECT_EQ(produced.responses[0].partitions[0].base_offset, 400);
  EXPECT_EQ(produced.responses[0].partitions[0].log_start_offset, 155);

  // At or below the log start: nothing to do, the low watermark as it is.
  EXPECT_EQ(DeleteOne("d", 0, 100),
            std::make_pair(kafka::error::kNone, int64_t{155}));
  EXPECT_EQ(DeleteOne("d", 0, 155),
            std::make_pair(kafka::error::kNone, int64_t{155}));
  // -1: up to the high watermark; the log is then empty.
  EXPECT_EQ(DeleteOne("d", 0, -1),
            std::make_pair(kafka::error::kNone, int64_t{410}));
  EXPECT_EQ(ListOffset("d", -2), 410);
  EXPECT_EQ(ListOffset("d", 0), -1) << "no record left to find";
  EXPECT_EQ(FetchError("d", 409), kafka::error::kOffsetOutOfRange);
  EXPECT_EQ(FetchError("d", 410), 0);
  Restart(/*crash=*/true);
  EXPECT_EQ(ListOffset("d", -2), 410);
}

TEST_F(DeleteRecordsTest, AnswersKafkasErrors) {
  ASSERT_EQ(CreateTopic("d", 2).topics.at(0).error_code, 0);
  Fill("d");
  const auto response =
      Delete("d", {{0, 401}, {0, -2}, {1, 0}, {2, 5}, {-1, 5}});
  const auto& p = response.topics.at(0).partitions;
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].error_code, kafka::error::kOffsetOutOfRange)
      << "beyond the high watermark";
  EXPECT_EQ(p[0].low_watermark, -1);
  EXPECT_EQ(p[1].error_code, kafka::error::kOffsetOutOfRange) << "negative";
  EXPECT_EQ(p[2].error_code, 0) << "an empty partition, nothing to delete";
  EXPECT_EQ(p[2].low_watermark, 0);
  EXPECT_EQ(p[3].error_code, kafka::error::kUnknownTopicOrPartition);
  EXPECT_EQ(p[4].error_code, kafka::error::kUnknownTopicOrPartition);
  EXPECT_EQ(DeleteOne("missing", 0, 1).first,
            kafka::error::kUnknownTopicOrPartition);
  EXPECT_EQ(ListOffset("d", -2), 0) << "nothing was deleted";

  // A compacted topic keeps its records (as Kafka: POLICY_VIOLATION).
  kafka::CreateTopicsRequest create;
  kafka::CreateTopicsRequest::CreatableTopic topic;
  topic.name = "compacted";
  topic.num_partitions = 1;
  topic.replication_factor = 1;
  topic.configs.push_back({"cleanup.policy", std::string("compact")});
  create.topics.push_back(topic);
  ASSERT_EQ(
      Call<kafka::CreateTopicsResponse>(create, 4).topics.at(0).error_code, 0);
  Fill("compacted");
  EXPECT_EQ(DeleteOne("compacted", 0, 5).first, kafka::error::kPolicyViolation);
}

TEST_F(DeleteRecordsTest, ApiVersionsAdvertisesDeleteRecords) {
  const auto versions =
      Call<kafka::ApiVersionsResponse>(kafka::ApiVersionsRequest{}, 3);
  bool found = false;
  for (const auto& api : versions.api_keys) {
    if (api.api_key == 21) {
      found = true;
      EXPECT_EQ(api.min_version, 0);
      EXPECT_EQ(api.max_version, 2);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace chronik::broker
