// Kafka's answers to cases real clients hit, in process (the fixture drives a
// Broker with real request frames): LogAppendTime topics, offsets committed
// for partitions that do not exist, and KIP-74's fetch size limits.
#include <string>
#include <vector>

#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

using testing::BrokerTest;

class KafkaAnswersTest : public BrokerTest {
 protected:
  int16_t CreateWithConfig(const std::string& name, int partitions,
                           const std::string& config,
                           const std::string& value) {
    kafka::CreateTopicsRequest request;
    kafka::CreateTopicsRequest::CreatableTopic topic;
    topic.name = name;
    topic.num_partitions = partitions;
    topic.replication_factor = 1;
    topic.configs.push_back({config, value});
    request.topics.push_back(topic);
    return Call<kafka::CreateTopicsResponse>(request, 4)
        .topics.at(0)
        .error_code;
  }

  static std::vector<kafka::BatchHeader> Headers(
      const std::optional<ByteChain>& records) {
    std::vector<kafka::BatchHeader> headers;
    if (!records.has_value()) return headers;
    auto batches = kafka::ParseRecordBatches(*records);
    CHRONIK_CHECK(batches.ok()) << batches.status();
    for (const auto& batch : *batches) headers.push_back(batch.header);
    return headers;
  }

  kafka::FetchResponse FetchTwo(const std::string& topic, int32_t max_bytes,
                                int32_t partition_max_bytes) {
    kafka::FetchRequest request;
    request.max_wait_ms = 0;
    request.min_bytes = 1;
    request.max_bytes = max_bytes;
    kafka::FetchRequest::FetchTopic fetch_topic;
    fetch_topic.topic = topic;
    for (int32_t p : {0, 1}) {
      kafka::FetchRequest::FetchPartition partition;
      partition.partition = p;
      partition.fetch_offset = 0;
      partition.partition_max_bytes = partition_max_bytes;
      fetch_topic.partitions.push_back(partition);
    }
    request.topics.push_back(fetch_topic);
    return Call<kafka::FetchResponse>(request, 11);
  }

  kafka::OffsetCommitResponse CommitOutsideAGroup(
      const std::vector<std::pair<std::string, int32_t>>& partitions) {
    kafka::OffsetCommitRequest commit;
    commit.group_id = "standalone";
    commit.generation_id = -1;  // a consumer that assigns partitions itself
    for (const auto& [name, partition] : partitions) {
      kafka::OffsetCommitRequest::OffsetCommitRequestTopic topic;
      topic.name = name;
      kafka::OffsetCommitRequest::OffsetCommitRequestPartition p;
      p.partition_index = partition;
      p.committed_offset = 7;
      topic.partitions.push_back(p);
      commit.topics.push_back(topic);
    }
    return Call<kafka::OffsetCommitResponse>(commit, 7);
  }
};

TEST_F(KafkaAnswersTest, LogAppendTimeStampsEachBatchWithTheLeadersClock) {
  ASSERT_EQ(CreateWithConfig("appended", 1, "message.timestamp.type",
                             "LogAppendTime"),
            0);
  ASSERT_EQ(CreateTopic("created", 1).topics.at(0).error_code, 0);
  clock_.now_ms = 1'700'000'000'000;
  auto appended = Produce("appended", 0, Batch(3, -1, -1, /*timestamp=*/1000));
  ASSERT_EQ(appended.responses.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(appended.responses[0].partitions[0].log_append_time_ms,
            clock_.now_ms);
  auto created = Produce("created", 0, Batch(3, -1, -1, 1000));
  EXPECT_EQ(created.responses.at(0).partitions.at(0).log_append_time_ms, -1);

  auto stamped =
      Headers(Fetch("appended", 0, 0).responses[0].partitions[0].records);
  ASSERT_EQ(stamped.size(), 1u);
  EXPECT_TRUE(stamped[0].is_log_append_time());
  EXPECT_EQ(stamped[0].max_timestamp, clock_.now_ms);
  auto kept =
      Headers(Fetch("created", 0, 0).responses[0].partitions[0].records);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_FALSE(kept[0].is_log_append_time());
  EXPECT_EQ(kept[0].max_timestamp, 1020);  // 1000 + 2 x 10

  // The time index follows the append time, not the producer's.
  kafka::ListOffsetsRequest list;
  kafka::ListOffsetsRequest::ListOffsetsTopic topic;
  topic.name = "appended";
  kafka::ListOffsetsRequest::ListOffsetsPartition p;
  p.partition_index = 0;
  p.timestamp = 5000;  // after the producer's times, before the append
  topic.partitions.push_back(p);
  list.topics.push_back(topic);
  auto offsets = Call<kafka::ListOffsetsResponse>(list, 7);
  EXPECT_EQ(offsets.topics.at(0).partitions.at(0).offset, 0);
  EXPECT_EQ(offsets.topics[0].partitions[0].timestamp, clock_.now_ms);
}

TEST_F(KafkaAnswersTest, OffsetsOfPartitionsThatDoNotExistAreRefused) {
  ASSERT_EQ(CreateTopic("real", 2).topics.at(0).error_code, 0);
  auto committed =
      CommitOutsideAGroup({{"real", 1}, {"real", 2}, {"missing", 0}});
  ASSERT_EQ(committed.topics.size(), 3u);
  EXPECT_EQ(committed.topics[0].partitions.at(0).error_code, 0);
  EXPECT_EQ(committed.topics[1].partitions.at(0).error_code,
            kafka::error::kUnknownTopicOrPartition);
  EXPECT_EQ(committed.topics[2].partitions.at(0).error_code,
            kafka::error::kUnknownTopicOrPartition);

  kafka::OffsetFetchRequest fetch;
  fetch.group_id = "standalone";
  fetch.topics =
      std::vector<kafka::OffsetFetchRequest::OffsetFetchRequestTopic>{
          {"real", {1}}, {"missing", {0}}};
  auto offsets = Call<kafka::OffsetFetchResponse>(fetch, 5);
  EXPECT_EQ(offsets.topics.at(0).partitions.at(0).committed_offset, 7);
  EXPECT_EQ(offsets.topics.at(1).partitions.at(0).committed_offset, -1)
      << "nothing was kept for the missing topic";
}

TEST_F(KafkaAnswersTest, OnlyTheFirstPartitionWithDataMayExceedFetchLimits) {
  ASSERT_EQ(CreateTopic("big", 2).topics.at(0).error_code, 0);
  for (int32_t p : {0, 1}) {
    ASSERT_EQ(
        Produce("big", p, Batch(40)).responses[0].partitions[0].error_code, 0);
  }
  const size_t batch_bytes = Batch(40).size();
  ASSERT_GT(batch_bytes, 400u);
  // fetch.max.bytes below one batch: the first partition's batch still comes
  // (progress), the second's does not.
  auto small_total = FetchTwo("big", 400, 1 << 20);
  const auto& total_parts = small_total.responses.at(0).partitions;
  EXPECT_EQ(Headers(total_parts.at(0).records).size(), 1u);
  EXPECT_EQ(Headers(total_parts.at(1).records).size(), 0u);
  // max.partition.fetch.bytes below one batch: the same.
  auto small_partition = FetchTwo("big", 1 << 20, 400);
  const auto& partition_parts = small_partition.responses.at(0).partitions;
  EXPECT_EQ(Headers(partition_parts.at(0).records).size(), 1u);
  EXPECT_EQ(Headers(partition_parts.at(1).records).size(), 0u);
  // Room for both.
  auto roomy = FetchTwo("big", 1 << 20, 1 << 20);
  EXPECT_EQ(Headers(roomy.responses.at(0).partitions.at(1).records).size(), 1u);
}

TEST_F(KafkaAnswersTest, CreateTopicsTakesAManualReplicaAssignment) {
  auto create = [this](const std::string& name,
                       std::vector<std::vector<int32_t>> lists,
                       int32_t partitions = -1) {
    kafka::CreateTopicsRequest request;
    kafka::CreateTopicsRequest::CreatableTopic topic;
    topic.name = name;
    topic.num_partitions = partitions;
    topic.replication_factor = -1;
    for (size_t p = 0; p < lists.size(); ++p) {
      topic.assignments.push_back({static_cast<int32_t>(p), lists[p]});
    }
    request.topics.push_back(topic);
    return Call<kafka::CreateTopicsResponse>(request, 4).topics.at(0);
  };
  auto placed = create("placed", {{1}, {1}});
  EXPECT_EQ(placed.error_code, 0) << placed.error_message.value_or("");
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_EQ(metadata.topics.size(), 1u);
  EXPECT_EQ(metadata.topics[0].partitions.size(), 2u);
  EXPECT_EQ(metadata.topics[0].partitions[1].leader_id, 1);

  EXPECT_EQ(create("unknown", {{7}}).error_code,
            kafka::error::kInvalidReplicaAssignment);
  EXPECT_EQ(create("twice", {{1, 1}}).error_code,
            kafka::error::kInvalidReplicaAssignment);
  EXPECT_EQ(create("negative", {{-1}}).error_code,
            kafka::error::kInvalidReplicaAssignment);
  EXPECT_EQ(create("both", {{1}}, /*partitions=*/1).error_code,
            kafka::error::kInvalidRequest);
}

TEST_F(KafkaAnswersTest, CreatePartitionsValidatesItsAssignment) {
  ASSERT_EQ(CreateTopic("grows", 1).topics.at(0).error_code, 0);
  auto grow = [this](int32_t count, std::vector<std::vector<int32_t>> lists) {
    kafka::CreatePartitionsRequest request;
    kafka::CreatePartitionsRequest::CreatePartitionsTopic topic;
    topic.name = "grows";
    topic.count = count;
    std::vector<kafka::CreatePartitionsRequest::CreatePartitionsAssignment>
        assignments;
    for (auto& list : lists) assignments.push_back({list});
    topic.assignments = assignments;
    request.topics.push_back(topic);
    request.timeout_ms = 5000;
    return Call<kafka::CreatePartitionsResponse>(request, 1).results.at(0);
  };
  EXPECT_EQ(grow(2, {{9}}).error_code, kafka::error::kInvalidReplicaAssignment)
      << "broker 9 does not exist";
  EXPECT_EQ(grow(3, {{1}}).error_code, kafka::error::kInvalidReplicaAssignment)
      << "one list for two new partitions";
  EXPECT_EQ(grow(2, {{1}}).error_code, 0);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_EQ(metadata.topics.size(), 1u);
  EXPECT_EQ(metadata.topics[0].partitions.size(), 2u);
}

TEST_F(KafkaAnswersTest, ConfigAnswersCarryANullMessageUnlessAnError) {
  ASSERT_EQ(CreateTopic("configured", 1).topics.at(0).error_code, 0);
  kafka::DescribeConfigsRequest describe;
  describe.resources.push_back({2, "configured", std::nullopt});
  describe.resources.push_back({2, "absent", std::nullopt});
  auto described = Call<kafka::DescribeConfigsResponse>(describe, 1);
  ASSERT_EQ(described.results.size(), 2u);
  EXPECT_EQ(described.results[0].error_code, 0);
  EXPECT_EQ(described.results[0].error_message, std::nullopt);
  EXPECT_EQ(described.results[1].error_code,
            kafka::error::kUnknownTopicOrPartition);
  EXPECT_NE(described.results[1].error_message, std::nullopt);

  kafka::AlterConfigsRequest alter;
  kafka::AlterConfigsRequest::AlterConfigsResource resource;
  resource.resource_type = 2;
  resource.resource_name = "configured";
  resource.configs.push_back({"retention.ms", std::string("60000")});
  alter.resources.push_back(resource);
  resource.resource_name = "absent";
  alter.resources.push_back(resource);
  auto altered = Call<kafka::AlterConfigsResponse>(alter, 1);
  ASSERT_EQ(altered.responses.size(), 2u);
  EXPECT_EQ(altered.responses[0].error_code, 0);
  EXPECT_EQ(altered.responses[0].error_message, std::nullopt);
  EXPECT_EQ(altered.responses[1].error_code,
            kafka::error::kUnknownTopicOrPartition);
  EXPECT_NE(altered.responses[1].error_message, std::nullopt);
}

}  // namespace
}  // namespace chronik::broker
