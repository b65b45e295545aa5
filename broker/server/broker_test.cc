// In-process tests of the broker core: a Broker on a simulated disk with a
// fake clock, driven with real Kafka request frames built by the codec, as a
// client would send them.
#include "broker/server/broker.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/testing/broker_fixture.h"
#include "broker/server/testing/test_driver.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::broker {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

using testing::FakeClock;
using testing::TestDriver;

using testing::BrokerTest;

TEST_F(BrokerTest, StandaloneRegistersItselfAndIsReady) {
  EXPECT_TRUE(broker_->IsReady());
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_THAT(metadata.brokers, SizeIs(1))
      << "the seed's brokers never appeared";
  EXPECT_EQ(metadata.brokers[0].node_id, 1);
  EXPECT_EQ(metadata.brokers[0].host, "127.0.0.1");
  EXPECT_EQ(metadata.brokers[0].port, 9092);
  EXPECT_EQ(metadata.controller_id, 1);
  EXPECT_THAT(driver_->TakePeerMessages(), SizeIs(0))
      << "a cluster of one talks to nobody";
}

TEST_F(BrokerTest, ApiVersionsListsServedApisAndUnknownVersionGetsV0Error) {
  auto versions =
      Call<kafka::ApiVersionsResponse>(kafka::ApiVersionsRequest{}, 3);
  EXPECT_EQ(versions.error_code, 0);
  EXPECT_GE(versions.api_keys.size(), 20u);
  // Version 99: the answer is a v0 body with UNSUPPORTED_VERSION.
  kafka::Writer w;
  std::string frame(4, '\0');
  w.WriteInt16(18);
  w.WriteInt16(99);
  w.WriteInt32(7);
  w.WriteInt16(-1);
  std::string body = w.Release();
  frame[3] = static_cast<char>(body.size());
  Write(kConn, frame + body);
  auto answer = Receive<kafka::ApiVersionsResponse>(0);
  EXPECT_EQ(answer.error_code, kafka::error::kUnsupportedVersion);
  EXPECT_THAT(answer.api_keys, SizeIs(1));
  EXPECT_EQ(answer.api_keys[0].api_key, 18);
}

TEST_F(BrokerTest, CreateProduceFetchListOffsets) {
  auto created = CreateTopic("orders", 3);
  ASSERT_EQ(created.topics.at(0).error_code, 0);
  EXPECT_EQ(CreateTopic("orders", 3).topics.at(0).error_code,
            kafka::error::kTopicAlreadyExists);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_THAT(metadata.topics, SizeIs(1));
  ASSERT_THAT(metadata.topics[0].partitions, SizeIs(3));
  EXPECT_EQ(metadata.topics[0].partitions[2].leader_id, 1);
  EXPECT_EQ(metadata.topics[0].partitions[2].error_code, 0);

  auto first = Produce("orders", 1, Batch(3));
  ASSERT_EQ(first.responses.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(first.responses[0].partitions[0].base_offset, 0);
  auto second = Produce("orders", 1, Batch(2, -1, -1, 5000));
  EXPECT_EQ(second.responses[0].partitions[0].base_offset, 3);

  auto fetched = Fetch("orders", 1, 0);
  EXPECT_EQ(fetched.responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(fetched.responses[0].partitions[0].high_watermark, 5);
  EXPECT_THAT(FetchedOffsets(fetched), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_THAT(FetchedOffsets(Fetch("orders", 1, 3)), ElementsAre(3, 4));
  EXPECT_EQ(Fetch("orders", 1, 6).responses[0].partitions[0].error_code,
            kafka::error::kOffsetOutOfRange);

  kafka::ListOffsetsRequest list;
  kafka::ListOffsetsRequest::ListOffsetsTopic topic;
  topic.name = "orders";
  for (int64_t ts : {-1, -2, 5010, 1015, 99999}) {
    kafka::ListOffsetsRequest::ListOffsetsPartition p;
    p.partition_index = 1;
    p.timestamp = ts;
    topic.partitions.push_back(p);
  }
  list.topics.push_back(topic);
  auto offsets = Call<kafka::ListOffsetsResponse>(list, 7);
  const auto& parts = offsets.topics.at(0).partitions;
  EXPECT_EQ(parts.at(0).offset, 5);  // latest
  EXPECT_EQ(parts.at(1).offset, 0);  // earliest
  EXPECT_EQ(parts.at(2).offset, 4);  // first record at or after 5010
  EXPECT_EQ(parts.at(2).timestamp, 5010);
  EXPECT_EQ(parts.at(3).offset, 2);   // 1000, 1010, [1020]
  EXPECT_EQ(parts.at(4).offset, -1);  // nothing that late
}

TEST_F(BrokerTest, CompressedBatchesAreStoredAsSent) {
  ASSERT_EQ(CreateTopic("z", 1).topics.at(0).error_code, 0);
  for (auto codec : {kafka::Compression::kGzip, kafka::Compression::kSnappy,
                     kafka::Compression::kLz4, kafka::Compression::kZstd}) {
    auto produced = Produce("z", 0, Batch(4, -1, -1, 1000, codec));
    ASSERT_EQ(produced.responses[0].partitions[0].error_code, 0)
        << kafka::CompressionName(codec);
  }
  EXPECT_THAT(FetchedOffsets(Fetch("z", 0, 0)), SizeIs(16));
}

TEST_F(BrokerTest, CorruptBatchIsRejectedAndBrokerKeepsServing) {
  ASSERT_EQ(CreateTopic("t", 1).topics.at(0).error_code, 0);
  std::string batch = Batch(2);
  batch[batch.size() - 1] ^= 0x40;  // breaks the CRC
  auto produced = Produce("t", 0, batch);
  EXPECT_EQ(produced.responses[0].partitions[0].error_code,
            kafka::error::kCorruptMessage);
  EXPECT_EQ(Produce("t", 0, Batch(1)).responses[0].partitions[0].base_offset,
            0);
}

// The production event loop reads a large frame straight into the room
// reserved for it (broker/runtime/event_loop.h): the header of a frame
// reserves its size and 16 KiB past it (its tail is read directly too), at
// most 8 MiB however large it claims to be.
TEST_F(BrokerTest, FrameHeaderReservesRoomForItsFrameBounded) {
  auto header = [](uint32_t size) {
    return std::string{static_cast<char>(size >> 24),
                       static_cast<char>(size >> 16),
                       static_cast<char>(size >> 8), static_cast<char>(size)};
  };
  const ConnectionId conn = 7;
  driver_->Open(conn, "127.0.0.1:5556", env::SecurityProtocol::kPlaintext);
  driver_->Write(conn, header(1 << 20) + "abc");
  EXPECT_GE(driver_->connection(conn).input.capacity(),
            (1u << 20) + 4 + (16u << 10));
  const ConnectionId huge = 8;
  driver_->Open(huge, "127.0.0.1:5557", env::SecurityProtocol::kPlaintext);
  driver_->Write(huge, header(90 << 20));
  EXPECT_GE(driver_->connection(huge).input.capacity(), 8u << 20);
  EXPECT_LT(driver_->connection(huge).input.capacity(), 16u << 20);
}

// Complete frames are taken over as the shared buffer requests slice; the
// bytes after them go back into the input, which reserves the room of the
// frame they start before they are copied in.
TEST_F(BrokerTest, TheBytesAfterCompleteFramesReserveTheNextFrame) {
  const ConnectionId conn = 7;
  driver_->Open(conn, "127.0.0.1:5556", env::SecurityProtocol::kPlaintext);
  const std::string request =
      kafka::EncodeRequestFrame(3, 1, std::string("t"), AllTopics());
  const uint32_t next = 1 << 20;
  const std::string rest =
      std::string{static_cast<char>(next >> 24), static_cast<char>(next >> 16),
                  static_cast<char>(next >> 8), static_cast<char>(next)} +
      "partial";
  driver_->Write(conn, request + rest);
  const InputBuffer& input = driver_->connection(conn).input;
  EXPECT_EQ(input.view(), rest);
  EXPECT_GE(input.capacity(), next + 4 + (16u << 10));
}

TEST_F(BrokerTest, IdempotentProducerDeduplicatesAndDetectsGaps) {
  ASSERT_EQ(CreateTopic("idem", 1).topics.at(0).error_code, 0);
  auto init = Call<kafka::InitProducerIdResponse>(
      kafka::InitProducerIdRequest{std::nullopt, 0, -1, -1}, 4);
  ASSERT_EQ(init.error_code, 0);
  ASSERT_GE(init.producer_id, 0);
  const int64_t pid = init.producer_id;
  EXPECT_EQ(Produce("idem", 0, Batch(3, pid, 0))
                .responses[0]
                .partitions[0]
                .base_offset,
            0);
  EXPECT_EQ(Produce("idem", 0, Batch(2, pid, 3))
                .responses[0]
                .partitions[0]
                .base_offset,
            3);
  // A retry of the first batch: acknowledged with its original offset.
  auto duplicate = Produce("idem", 0, Batch(3, pid, 0));
  EXPECT_EQ(duplicate.responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(duplicate.responses[0].partitions[0].base_offset, 0);
  auto gap = Produce("idem", 0, Batch(1, pid, 9));
  EXPECT_EQ(gap.responses[0].partitions[0].error_code,
            kafka::error::kOutOfOrderSequenceNumber);
  EXPECT_EQ(Fetch("idem", 0, 0).responses[0].partitions[0].high_watermark, 5)
      << "the duplicate was not appended";
  auto next = Call<kafka::InitProducerIdResponse>(
      kafka::InitProducerIdRequest{std::nullopt, 0, -1, -1}, 4);
  EXPECT_NE(next.producer_id, pid);
}

TEST_F(BrokerTest,
       AutoCreationHappensOnceAndReportsLeaderNotAvailableMeanwhile) {
  kafka::MetadataRequest request;
  request.topics = std::vector<kafka::MetadataRequest::MetadataRequestTopic>{
      {kafka::Uuid{}, std::string("auto")}};
  // Many asks before anything is processed further: one creation.
  auto first = Call<kafka::MetadataResponse>(request, 12);
  const int16_t first_error = first.topics.at(0).error_code;
  EXPECT_TRUE(first_error == kafka::error::kLeaderNotAvailable ||
              first_error == 0);
  for (int i = 0; i < 5; ++i) Call<kafka::MetadataResponse>(request, 12);
  auto all = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_THAT(all.topics, SizeIs(1));
  EXPECT_EQ(all.topics[0].name, "auto");
  EXPECT_THAT(all.topics[0].partitions, SizeIs(2));  // default_partitions
  // Produce to a missing topic also creates it.
  auto produced = Produce("auto2", 0, Batch(1));
  EXPECT_EQ(produced.responses[0].partitions[0].error_code,
            kafka::error::kLeaderNotAvailable);
  EXPECT_EQ(Produce("auto2", 0, Batch(1)).responses[0].partitions[0].error_code,
            0);
  // Invalid names are refused, never created.
  request.topics->at(0).name = "bad/name";
  EXPECT_EQ(Call<kafka::MetadataResponse>(request, 12).topics.at(0).error_code,
            kafka::error::kInvalidTopic);
}

TEST_F(BrokerTest, ConsumerGroupJoinSyncCommitFetchOffsets) {
  ASSERT_EQ(CreateTopic("g", 1).topics.at(0).error_code, 0);
  kafka::FindCoordinatorRequest find;
  find.key = "grp";
  auto coordinator = Call<kafka::FindCoordinatorResponse>(find, 3);
  EXPECT_EQ(coordinator.error_code, 0);
  EXPECT_EQ(coordinator.node_id, 1);

  kafka::JoinGroupRequest join;
  join.group_id = "grp";
  join.session_timeout_ms = 10000;
  join.rebalance_timeout_ms = 10000;
  join.protocol_type = "consumer";
  join.protocols.push_back({"range", "meta"});
  auto required = Call<kafka::JoinGroupResponse>(join, 5);
  EXPECT_EQ(required.error_code, kafka::error::kMemberIdRequired);
  join.member_id = required.member_id;
  auto joined = Call<kafka::JoinGroupResponse>(join, 5);
  ASSERT_EQ(joined.error_code, 0);
  EXPECT_EQ(joined.leader, joined.member_id);

  kafka::SyncGroupRequest sync;
  sync.group_id = "grp";
  sync.generation_id = joined.generation_id;
  sync.member_id = joined.member_id;
  sync.assignments.push_back({joined.member_id, "assignment"});
  auto synced = Call<kafka::SyncGroupResponse>(sync, 3);
  EXPECT_EQ(synced.error_code, 0);
  EXPECT_EQ(synced.assignment, "assignment");

  kafka::OffsetCommitRequest commit;
  commit.group_id = "grp";
  commit.generation_id = joined.generation_id;
  commit.member_id = joined.member_id;
  kafka::OffsetCommitRequest::OffsetCommitRequestTopic topic;
  topic.name = "g";
  kafka::OffsetCommitRequest::OffsetCommitRequestPartition partition;
  partition.partition_index = 0;
  partition.committed_offset = 42;
  topic.partitions.push_back(partition);
  commit.topics.push_back(topic);
  auto committed = Call<kafka::OffsetCommitResponse>(commit, 7);
  EXPECT_EQ(committed.topics.at(0).partitions.at(0).error_code, 0);

  kafka::OffsetFetchRequest fetch;
  fetch.group_id = "grp";
  fetch.topics =
      std::vector<kafka::OffsetFetchRequest::OffsetFetchRequestTopic>{
          {"g", {0}}};
  auto offsets = Call<kafka::OffsetFetchResponse>(fetch, 5);
  EXPECT_EQ(offsets.topics.at(0).partitions.at(0).committed_offset, 42);

  // Committed offsets survive a crash and restart (the group itself does not).
  Restart(/*crash=*/true);
  auto after = Call<kafka::OffsetFetchResponse>(fetch, 5);
  EXPECT_EQ(after.topics.at(0).partitions.at(0).committed_offset, 42);
}

TEST_F(BrokerTest, AcknowledgedDataSurvivesCrashAndRestart) {
  ASSERT_EQ(CreateTopic("durable", 1).topics.at(0).error_code, 0);
  ASSERT_EQ(
      Produce("durable", 0, Batch(3)).responses[0].partitions[0].error_code, 0);
  ASSERT_EQ(
      Produce("durable", 0, Batch(4)).responses[0].partitions[0].error_code, 0);
  Restart(/*crash=*/true);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_THAT(metadata.topics, SizeIs(1));
  EXPECT_EQ(metadata.topics[0].partitions.at(0).leader_id, 1);
  EXPECT_THAT(FetchedOffsets(Fetch("durable", 0, 0)),
              ElementsAre(0, 1, 2, 3, 4, 5, 6));
  EXPECT_EQ(
      Produce("durable", 0, Batch(1)).responses[0].partitions[0].base_offset,
      7);
}

TEST_F(BrokerTest, LongPollFetchWaitsAndResponsesStayInOrder) {
  ASSERT_EQ(CreateTopic("lp", 1).topics.at(0).error_code, 0);
  kafka::FetchRequest request;
  request.max_wait_ms = 500;
  request.min_bytes = 1;
  kafka::FetchRequest::FetchTopic topic;
  topic.topic = "lp";
  kafka::FetchRequest::FetchPartition p;
  p.partition = 0;
  p.fetch_offset = 0;
  p.partition_max_bytes = 1 << 20;
  topic.partitions.push_back(p);
  request.topics.push_back(topic);
  SendOnly(request, 11);
  SendOnly(AllTopics(), 12);
  EXPECT_TRUE(Sent().empty()) << "metadata must wait behind the fetch";
  Tick();
  EXPECT_TRUE(Sent().empty());
  for (int i = 0; i < 10; ++i) Tick();  // 550 ms: the fetch expires empty
  auto fetched = Receive<kafka::FetchResponse>(11);
  EXPECT_THAT(FetchedOffsets(fetched), SizeIs(0));
  auto metadata = Receive<kafka::MetadataResponse>(12);
  EXPECT_THAT(metadata.topics, SizeIs(1));

  // A parked fetch is answered as soon as data arrives.
  SendOnly(request, 11);
  EXPECT_TRUE(Sent().empty());
  kafka::ProduceRequest produce;
  produce.acks = 1;
  produce.timeout_ms = 1000;
  produce.topics.push_back({"lp", {{0, Batch(2)}}});
  SendOnly(produce, 9);
  EXPECT_THAT(FetchedOffsets(Receive<kafka::FetchResponse>(11)),
              ElementsAre(0, 1));
  EXPECT_EQ(
      Receive<kafka::ProduceResponse>(9).responses[0].partitions[0].error_code,
      0);
}

TEST_F(BrokerTest, InFlightLimitPausesReadingAndResumeRedeliversSafely) {
  max_inflight_ = 1;
  Restart(/*crash=*/false);
  ASSERT_EQ(CreateTopic("bp", 1).topics.at(0).error_code, 0);
  kafka::FetchRequest request;
  request.max_wait_ms = 200;
  request.min_bytes = 1;
  request.topics.push_back({"bp", {{0, -1, 0, -1, -1, 1 << 20}}});
  // Both frames arrive together; only the first may be in flight.
  Write(kConn,
        kafka::EncodeRequestFrame(11, 100, std::string("t"), request) +
            kafka::EncodeRequestFrame(12, 101, std::string("t"), AllTopics()));
  EXPECT_TRUE(driver_->connection(kConn).paused);
  EXPECT_FALSE(driver_->connection(kConn).input.empty())
      << "the second request waits in the buffer";
  for (int i = 0; i < 5; ++i) Tick();
  EXPECT_FALSE(driver_->connection(kConn).paused);
  EXPECT_TRUE(driver_->connection(kConn).input.empty());
  EXPECT_EQ(Receive<kafka::FetchResponse>(11)
                .responses.at(0)
                .partitions.at(0)
                .error_code,
            0);
  EXPECT_THAT(Receive<kafka::MetadataResponse>(12).topics, SizeIs(1));
  EXPECT_TRUE(Sent().empty()) << "each request answered exactly once";
}

TEST_F(BrokerTest, ResumeFromInsideReplicationCallbackIsSafe) {
  max_inflight_ = 1;
  Restart(/*crash=*/false);
  ASSERT_EQ(CreateTopic("cb", 1).topics.at(0).error_code, 0);
  // The produce completes inside the Raft apply callback, which resumes the
  // connection, which delivers the next produce from inside that callback.
  std::string frames;
  for (int i = 0; i < 3; ++i) {
    kafka::ProduceRequest produce;
    produce.acks = -1;
    produce.timeout_ms = 1000;
    produce.topics.push_back({"cb", {{0, Batch(2)}}});
    frames += kafka::EncodeRequestFrame(9, 200 + i, std::string("t"), produce);
  }
  Write(kConn, frames);
  for (int i = 0; i < 3; ++i) Tick();
  std::vector<int64_t> bases;
  for (int i = 0; i < 3; ++i) {
    bases.push_back(Receive<kafka::ProduceResponse>(9)
                        .responses.at(0)
                        .partitions.at(0)
                        .base_offset);
  }
  EXPECT_THAT(bases, ElementsAre(0, 2, 4));
  EXPECT_THAT(FetchedOffsets(Fetch("cb", 0, 0)), SizeIs(6));
}

TEST_F(BrokerTest, RetentionBySizeDropsOldSegmentsAndMovesTheLogStart) {
  segment_max_bytes_ = 4096;
  Restart(/*crash=*/false);
  kafka::CreateTopicsRequest request;
  kafka::CreateTopicsRequest::CreatableTopic topic;
  topic.name = "short";
  topic.num_partitions = 1;
  topic.replication_factor = 1;
  topic.configs.push_back({"retention.bytes", std::string("8192")});
  request.topics.push_back(topic);
  ASSERT_EQ(
      Call<kafka::CreateTopicsResponse>(request, 4).topics.at(0).error_code, 0);
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(
        Produce("short", 0, Batch(10)).responses[0].partitions[0].error_code,
        0);
  }
  for (int i = 0; i < 20; ++i) Tick();
  const auto [earliest, latest] = EarliestAndLatest("short");
  EXPECT_GT(earliest, 0) << "old segments were removed";
  EXPECT_EQ(latest, 400);
  EXPECT_EQ(Fetch("short", 0, 0).responses[0].partitions[0].error_code,
            kafka::error::kOffsetOutOfRange);
  auto tail = Fetch("short", 0, earliest);
  EXPECT_EQ(tail.responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(FetchedOffsets(tail).front(), earliest);
  // Retention compacted the partition's Raft log (a snapshot at the cut): a
  // restart starts after it, with the same offsets.
  Restart(/*crash=*/true);
  EXPECT_EQ(EarliestAndLatest("short"), std::make_pair(earliest, latest));
  EXPECT_EQ(
      Produce("short", 0, Batch(10)).responses[0].partitions[0].base_offset,
      400);
  // Without retention.bytes, recent data stays; data older than
  // retention.ms (7 days by default) goes.
  ASSERT_EQ(CreateTopic("recent", 1).topics.at(0).error_code, 0);
  ASSERT_EQ(CreateTopic("ancient", 1).topics.at(0).error_code, 0);
  for (int i = 0; i < 40; ++i) {
    Produce("recent", 0, Batch(10, -1, -1, clock_.now_ms));
    Produce("ancient", 0, Batch(10, -1, -1, /*timestamp=*/1000));
  }
  for (int i = 0; i < 20; ++i) Tick();
  EXPECT_EQ(FetchedOffsets(Fetch("recent", 0, 0)).front(), 0);
  EXPECT_EQ(Fetch("ancient", 0, 0).responses[0].partitions[0].error_code,
            kafka::error::kOffsetOutOfRange);
}

TEST_F(BrokerTest, MalformedFramesCloseOnlyThatConnection) {
  driver_->Open(2, "peer2");
  Write(2, std::string("\x00\x00\x00\x05", 4) + "abcde");
  driver_->Open(3, "peer3");
  Write(3, std::string("\x7f\xff\xff\xff", 4));
  EXPECT_THAT(driver_->closed(), ElementsAre(2, 3));
  EXPECT_EQ(broker_->Metrics().malformed_requests, 2u);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  EXPECT_THAT(metadata.brokers, SizeIs(1)) << "other connections still served";
}

TEST_F(BrokerTest, AcksZeroGetsNoResponse) {
  ASSERT_EQ(CreateTopic("a0", 1).topics.at(0).error_code, 0);
  kafka::ProduceRequest produce;
  produce.acks = 0;
  produce.timeout_ms = 1000;
  produce.topics.push_back({"a0", {{0, Batch(2)}}});
  SendOnly(produce, 9);
  EXPECT_TRUE(Sent().empty());
  EXPECT_THAT(FetchedOffsets(Fetch("a0", 0, 0)), ElementsAre(0, 1));
}

TEST_F(BrokerTest, DeleteTopicRemovesIt) {
  ASSERT_EQ(CreateTopic("gone", 2).topics.at(0).error_code, 0);
  kafka::DeleteTopicsRequest request;
  request.topic_names = {"gone", "never"};
  auto deleted = Call<kafka::DeleteTopicsResponse>(request, 4);
  EXPECT_EQ(deleted.responses.at(0).error_code, 0);
  EXPECT_EQ(deleted.responses.at(1).error_code,
            kafka::error::kUnknownTopicOrPartition);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  EXPECT_THAT(metadata.topics, SizeIs(0));
  EXPECT_EQ(broker_->Metrics().partitions, 0u);
}

// The step contract: requests that arrive together (here from eight
// connections, as one event-loop batch would deliver them) are made durable by
// ONE storage flush in ONE step, and nothing is answered before that step.
TEST_F(BrokerTest, OneFlushMakesAWholeBatchOfProducesDurable) {
  ASSERT_EQ(CreateTopic("batch", 4).topics.at(0).error_code, 0);
  constexpr int kConnections = 8;
  for (ConnectionId id = 10; id < 10 + kConnections; ++id) {
    driver_->Open(id, absl::StrCat("client", id));
    kafka::ProduceRequest produce;
    produce.acks = -1;
    produce.timeout_ms = 1000;
    produce.topics.push_back(
        {"batch", {{static_cast<int32_t>(id % 4), Batch(3)}}});
    driver_->Write(id,
                   kafka::EncodeRequestFrame(9, 1, std::string("t"), produce));
  }
  for (ConnectionId id = 10; id < 10 + kConnections; ++id) {
    EXPECT_TRUE(Sent(id).empty()) << "outputs leave only through Process";
  }
  const uint64_t flushes_before = broker_->StoreStats().flushes;
  driver_->Step();
  EXPECT_EQ(broker_->StoreStats().flushes, flushes_before + 1)
      << "one group-commit flush per step";
  for (ConnectionId id = 10; id < 10 + kConnections; ++id) {
    ASSERT_EQ(Sent(id).size(), 1u) << "connection " << id;
  }
  EXPECT_FALSE(broker_->HasWork());
}

// Async fsyncs: a step hands out the flush's files and acknowledges nothing
// until the driver reports them synced; the acknowledgement follows then.
TEST(BrokerAsyncFsyncTest, AcksWaitForTheReportedFsync) {
  std::mt19937_64 rng(9);
  sim::SimDisk disk(sim::SimDiskOptions{}, rng);
  FakeClock clock;
  BrokerOptions options;
  options.config.node_id = 1;
  options.config.advertised_host = "127.0.0.1";
  TestDriver driver(options, &disk, &clock, 9, /*async_fsync=*/true);
  ASSERT_TRUE(driver.Start().ok());
  driver.Open(1, "client");
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"t", 1, 1, {}, {}});
  driver.Write(1, kafka::EncodeRequestFrame(4, 1, std::string("c"), create));
  driver.Settle();
  ASSERT_EQ(driver.connection(1).responses.size(), 1u);
  driver.connection(1).responses.clear();

  kafka::ProduceRequest produce;
  produce.acks = -1;
  produce.timeout_ms = 1000;
  kafka::RecordBatchSpec spec;
  kafka::Record record;
  record.value = "v";
  produce.topics.push_back(
      {"t", {{0, *kafka::BuildRecordBatch(spec, {record})}}});
  driver.Write(1, kafka::EncodeRequestFrame(9, 2, std::string("c"), produce));
  driver.Step();
  ASSERT_FALSE(driver.syncs_in_flight().empty()) << "the step's flush";
  EXPECT_TRUE(driver.connection(1).responses.empty())
      << "acknowledged before the fsync finished";
  driver.Step();
  EXPECT_TRUE(driver.connection(1).responses.empty())
      << "still waiting for the fsync";
  ASSERT_TRUE(driver.CompleteSync());
  driver.Step();
  ASSERT_EQ(driver.connection(1).responses.size(), 1u);
}

}  // namespace
}  // namespace chronik::broker
