// Leader epochs on one broker (in process, real request frames): a batch is
// stored with the Raft term of the leader that appended it, Metadata answers
// that epoch, OffsetForLeaderEpoch answers each epoch's end as Kafka's leader
// does (the cache rebuilt from the stored log after a restart), and Fetch,
// ListOffsets and OffsetForLeaderEpoch fence an older current leader epoch
// (FENCED_LEADER_EPOCH) and refuse a newer one (UNKNOWN_LEADER_EPOCH); Fetch
// v13 names topics by id (UNKNOWN_TOPIC_ID) and v12+ reports a diverging
// epoch; ListOffsets answers leader epochs, MAX_TIMESTAMP and v8's
// EARLIEST_LOCAL.
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
using EpochResult =
    kafka::OffsetForLeaderEpochResponse::OffsetForLeaderPartitionResult;

class LeaderEpochTest : public BrokerTest {
 protected:
  // Partition 0 of `topic` as Metadata v12 describes it.
  kafka::MetadataResponse::MetadataResponsePartition Describe(
      const std::string& topic) {
    auto response = Call<kafka::MetadataResponse>(AllTopics(), 12);
    for (const auto& t : response.topics) {
      if (t.name == topic) return t.partitions.at(0);
    }
    ADD_FAILURE() << "no topic " << topic;
    return {};
  }

  kafka::Uuid TopicId(const std::string& topic) {
    auto response = Call<kafka::MetadataResponse>(AllTopics(), 12);
    for (const auto& t : response.topics) {
      if (t.name == topic) return t.topic_id;
    }
    return {};
  }

  EpochResult EndOffset(const std::string& topic, int32_t partition,
                        int32_t epoch, int32_t current_epoch = -1,
                        int16_t version = 4) {
    kafka::OffsetForLeaderEpochRequest request;
    request.replica_id = -1;
    request.topics.push_back({topic, {{partition, current_epoch, epoch}}});
    auto response = Call<kafka::OffsetForLeaderEpochResponse>(request, version);
    return response.topics.at(0).partitions.at(0);
  }

  kafka::FetchResponse::PartitionData FetchAt(const std::string& topic,
                                              int64_t offset,
                                              int32_t current_epoch,
                                              int32_t last_fetched_epoch = -1,
                                              int16_t version = 12) {
    kafka::FetchRequest request;
    request.max_wait_ms = 0;
    request.min_bytes = 1;
    kafka::FetchRequest::FetchTopic t;
    t.topic = topic;
    t.topic_id = TopicId(topic);
    t.partitions.push_back(
        {0, current_epoch, offset, last_fetched_epoch, -1, 1 << 20});
    request.topics.push_back(t);
    return Call<kafka::FetchResponse>(request, version)
        .responses.at(0)
        .partitions.at(0);
  }

  kafka::ListOffsetsResponse::ListOffsetsPartitionResponse ListAt(
      const std::string& topic, int64_t timestamp, int32_t current_epoch = -1,
      int16_t version = 8) {
    kafka::ListOffsetsRequest request;
    request.replica_id = -1;
    request.topics.push_back({topic, {{0, current_epoch, timestamp, 1}}});
    return Call<kafka::ListOffsetsResponse>(request, version)
        .topics.at(0)
        .partitions.at(0);
  }

  // The partition leader epoch of every batch from offset 0.
  std::vector<int32_t> StoredEpochs(const std::string& topic) {
    std::vector<int32_t> epochs;
    auto fetched = Fetch(topic, 0, 0);
    const auto& records = fetched.responses.at(0).partitions.at(0).records;
    auto batches = kafka::ParseRecordBatches(records.value_or(""));
    CHRONIK_CHECK(batches.ok()) << batches.status();
    for (const auto& b : *batches) {
      epochs.push_back(b.header.partition_leader_epoch);
    }
    return epochs;
  }

  void ProduceBatches(const std::string& topic, int batches, int records) {
    for (int i = 0; i < batches; ++i) {
      ASSERT_EQ(Produce(topic, 0, Batch(records))
                    .responses[0]
                    .partitions[0]
                    .error_code,
                0);
    }
  }
};

TEST_F(LeaderEpochTest, EpochIsTheTermAndSurvivesARestart) {
  ASSERT_EQ(CreateTopic("epochs", 1).topics.at(0).error_code, 0);
  const int32_t first = Describe("epochs").leader_epoch;
  ASSERT_GT(first, 0);
  ProduceBatches("epochs", 2, 5);  // offsets 0..9
  EXPECT_EQ(StoredEpochs("epochs"), (std::vector<int32_t>{first, first}));
  EXPECT_EQ(EndOffset("epochs", 0, first).end_offset, 10);
  EXPECT_EQ(EndOffset("epochs", 0, first).leader_epoch, first);

  // A restart elects the node again, in a newer term: a new epoch.
  Restart(/*crash=*/false);
  for (int i = 0; i < 40 && Describe("epochs").error_code != 0; ++i) Tick();
  const int32_t second = Describe("epochs").leader_epoch;
  ASSERT_GT(second, first);
  ProduceBatches("epochs", 1, 3);  // offsets 10..12
  EXPECT_EQ(StoredEpochs("epochs"),
            (std::vector<int32_t>{first, first, second}));
  // The epochs before the restart came back from the stored log.
  EpochResult old = EndOffset("epochs", 0, first);
  EXPECT_EQ(old.error_code, 0);
  EXPECT_EQ(old.leader_epoch, first);
  EXPECT_EQ(old.end_offset, 10);
  EpochResult now = EndOffset("epochs", 0, second, second);
  EXPECT_EQ(now.leader_epoch, second);
  EXPECT_EQ(now.end_offset, 13);
  // An epoch between the two that wrote nothing: the one before it.
  if (second > first + 1) {
    EXPECT_EQ(EndOffset("epochs", 0, first + 1).leader_epoch, first);
    EXPECT_EQ(EndOffset("epochs", 0, first + 1).end_offset, 10);
  }
  // Newer than every epoch: undefined; older than the log's first epoch:
  // the requested one, ending where the log's first epoch starts.
  EpochResult newer = EndOffset("epochs", 0, second + 1);
  EXPECT_EQ(newer.error_code, 0);
  EXPECT_EQ(newer.leader_epoch, -1);
  EXPECT_EQ(newer.end_offset, -1);
  EpochResult older = EndOffset("epochs", 0, first - 1);
  EXPECT_EQ(older.leader_epoch, first - 1);
  EXPECT_EQ(older.end_offset, 0);
  // Version 0 has no leader epoch in the answer.
  EXPECT_EQ(EndOffset("epochs", 0, first, -1, 0).end_offset, 10);
}

TEST_F(LeaderEpochTest, OffsetForLeaderEpochErrors) {
  ASSERT_EQ(CreateTopic("errs", 1).topics.at(0).error_code, 0);
  const int32_t epoch = Describe("errs").leader_epoch;
  ProduceBatches("errs", 1, 2);
  EXPECT_EQ(EndOffset("errs", 0, epoch, epoch - 1).error_code,
            kafka::error::kFencedLeaderEpoch);
  EXPECT_EQ(EndOffset("errs", 0, epoch, epoch + 1).error_code,
            kafka::error::kUnknownLeaderEpoch);
  EpochResult fenced = EndOffset("errs", 0, epoch, epoch - 1);
  EXPECT_EQ(fenced.leader_epoch, -1);
  EXPECT_EQ(fenced.end_offset, -1);
  EXPECT_EQ(EndOffset("errs", 0, epoch, epoch).error_code, 0);
  EXPECT_EQ(EndOffset("errs", 3, epoch).error_code,
            kafka::error::kUnknownTopicOrPartition);
  EXPECT_EQ(EndOffset("nope", 0, epoch).error_code,
            kafka::error::kUnknownTopicOrPartition);
  EXPECT_EQ(EndOffset("errs", 0, -1).end_offset, -1);
}

TEST_F(LeaderEpochTest, FetchChecksEpochsAndNamesTopicsById) {
  ASSERT_EQ(CreateTopic("fetched", 1).topics.at(0).error_code, 0);
  const int32_t epoch = Describe("fetched").leader_epoch;
  ProduceBatches("fetched", 2, 4);  // offsets 0..7
  EXPECT_EQ(FetchAt("fetched", 0, epoch - 1).error_code,
            kafka::error::kFencedLeaderEpoch);
  kafka::FetchResponse::PartitionData fenced = FetchAt("fetched", 0, epoch - 1);
  EXPECT_EQ(fenced.current_leader.leader_id, 1);
  EXPECT_EQ(fenced.current_leader.leader_epoch, epoch);
  EXPECT_EQ(FetchAt("fetched", 0, epoch + 1).error_code,
            kafka::error::kUnknownLeaderEpoch);
  kafka::FetchResponse::PartitionData ok = FetchAt("fetched", 0, epoch);
  EXPECT_EQ(ok.error_code, 0);
  EXPECT_EQ(ok.high_watermark, 8);

  // v13: by topic id; the answer names the id.
  ok = FetchAt("fetched", 4, epoch, -1, 13);
  EXPECT_EQ(ok.error_code, 0);
  EXPECT_EQ(FetchedOffsets([&] {
              kafka::FetchResponse r;
              r.responses.push_back({});
              r.responses[0].partitions.push_back(ok);
              return r;
            }()),
            (std::vector<int64_t>{4, 5, 6, 7}));
  kafka::FetchRequest unknown;
  kafka::FetchRequest::FetchTopic t;
  t.topic_id[0] = 0x42;  // no such topic
  t.partitions.push_back({0, -1, 0, -1, -1, 1 << 20});
  unknown.topics.push_back(t);
  auto answer = Call<kafka::FetchResponse>(unknown, 13);
  EXPECT_EQ(answer.responses.at(0).topic_id, t.topic_id);
  EXPECT_EQ(answer.responses.at(0).partitions.at(0).error_code,
            kafka::error::kUnknownTopicId);
  auto by_id = Call<kafka::FetchResponse>(
      [&] {
        kafka::FetchRequest r;
        kafka::FetchRequest::FetchTopic known;
        known.topic_id = TopicId("fetched");
        known.partitions.push_back({0, -1, 0, -1, -1, 1 << 20});
        r.topics.push_back(known);
        return r;
      }(),
      13);
  EXPECT_EQ(by_id.responses.at(0).topic_id, TopicId("fetched"));
  EXPECT_EQ(by_id.responses.at(0).partitions.at(0).error_code, 0);
}

TEST_F(LeaderEpochTest, FetchReportsADivergingEpoch) {
  ASSERT_EQ(CreateTopic("diverged", 1).topics.at(0).error_code, 0);
  const int32_t first = Describe("diverged").leader_epoch;
  ProduceBatches("diverged", 1, 5);  // offsets 0..4 in `first`
  Restart(/*crash=*/false);
  for (int i = 0; i < 40 && Describe("diverged").error_code != 0; ++i) Tick();
  const int32_t second = Describe("diverged").leader_epoch;
  ProduceBatches("diverged", 1, 5);  // offsets 5..9 in `second`
  // A fetcher that read epoch `first` up to 7 (which the leader's log has
  // in `second`) diverged at 5.
  kafka::FetchResponse::PartitionData diverging =
      FetchAt("diverged", 7, second, first);
  EXPECT_EQ(diverging.error_code, 0);
  EXPECT_EQ(diverging.diverging_epoch.epoch, first);
  EXPECT_EQ(diverging.diverging_epoch.end_offset, 5);
  EXPECT_FALSE(diverging.records.has_value() && !diverging.records->empty());
  // One that read it up to 5 did not.
  kafka::FetchResponse::PartitionData fine =
      FetchAt("diverged", 5, second, first);
  EXPECT_EQ(fine.error_code, 0);
  EXPECT_EQ(fine.diverging_epoch.epoch, -1);
  ASSERT_TRUE(fine.records.has_value());
  EXPECT_FALSE(fine.records->empty());
  // An epoch newer than the leader's: its end is unknown.
  EXPECT_EQ(FetchAt("diverged", 5, second, second + 1).error_code,
            kafka::error::kOffsetOutOfRange);
}

TEST_F(LeaderEpochTest, ListOffsetsAnswersEpochsAndFences) {
  ASSERT_EQ(CreateTopic("listed", 1).topics.at(0).error_code, 0);
  const int32_t epoch = Describe("listed").leader_epoch;
  for (int64_t ts : {1000, 5000, 3000}) {
    ASSERT_EQ(Produce("listed", 0, Batch(2, -1, -1, ts))
                  .responses[0]
                  .partitions[0]
                  .error_code,
              0);
  }
  // Records: offsets 0-1 at 1000/1010, 2-3 at 5000/5010, 4-5 at 3000/3010.
  auto latest = ListAt("listed", -1);
  EXPECT_EQ(latest.offset, 6);
  EXPECT_EQ(latest.leader_epoch, epoch);
  auto earliest = ListAt("listed", -2);
  EXPECT_EQ(earliest.offset, 0);
  EXPECT_EQ(earliest.leader_epoch, epoch);
  auto local = ListAt("listed", -4);
  EXPECT_EQ(local.offset, 0);
  auto max = ListAt("listed", -3);
  EXPECT_EQ(max.offset, 3);
  EXPECT_EQ(max.timestamp, 5010);
  EXPECT_EQ(max.leader_epoch, epoch);
  auto by_time = ListAt("listed", 2000);
  EXPECT_EQ(by_time.offset, 2);
  EXPECT_EQ(by_time.leader_epoch, epoch);
  EXPECT_EQ(ListAt("listed", -1, epoch - 1).error_code,
            kafka::error::kFencedLeaderEpoch);
  EXPECT_EQ(ListAt("listed", -1, epoch + 1).error_code,
            kafka::error::kUnknownLeaderEpoch);
  EXPECT_EQ(ListAt("listed", -1, epoch).error_code, 0);
}

}  // namespace
}  // namespace chronik::broker
