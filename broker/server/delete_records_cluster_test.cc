// DeleteRecords in a three-broker cluster (in process, in-memory network):
// the log start is replicated with the data; a follower that was down while
// the leader cut its log below the deleted prefix installs the leader's
// snapshot, catches up and, as the new leader, serves the same log start;
// DeleteRecords waits for the commit (REQUEST_TIMED_OUT without a quorum)
// and only the leader takes it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr auto Batch = testing::ValuesBatch;

class DeleteRecordsClusterTest : public ::testing::Test {
 protected:
  // Steps until `done` holds (at most 400 ticks); whether it does.
  bool StepUntil(const std::function<bool()>& done) {
    return cluster_.StepUntil(done, 400);
  }

  void CreateReplicated(const std::string& topic) {
    const raft::NodeId controller =
        static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
    kafka::CreateTopicsRequest create;
    // The records (timestamp 0) never expire: only DeleteRecords cuts.
    create.topics.push_back({topic, 1, 3, {}, {{"retention.ms", "-1"}}});
    auto created =
        cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
    ASSERT_TRUE(created.has_value());
    ASSERT_EQ(created->topics.at(0).error_code, 0);
  }

  void Produce(raft::NodeId leader, const std::string& topic, int batches) {
    kafka::ProduceRequest produce;
    produce.acks = -1;
    produce.timeout_ms = 5000;
    produce.topics.push_back({topic, {{0, Batch(10)}}});
    for (int i = 0; i < batches; ++i) {
      auto produced = cluster_.Call<kafka::ProduceResponse>(leader, produce, 9);
      ASSERT_TRUE(produced.has_value());
      ASSERT_EQ(produced->responses[0].partitions[0].error_code, 0);
    }
  }

  std::optional<kafka::DeleteRecordsResponse> Delete(raft::NodeId id,
                                                     const std::string& topic,
                                                     int64_t offset,
                                                     int32_t timeout_ms) {
    kafka::DeleteRecordsRequest request;
    request.timeout_ms = timeout_ms;
    request.topics.push_back({topic, {{0, offset}}});
    return cluster_.Call<kafka::DeleteRecordsResponse>(id, request, 1);
  }

  // ListOffsets of partition 0 at `timestamp` (-2 earliest, -1 latest) from
  // `id`: (error, offset).
  std::pair<int16_t, int64_t> ListOffset(raft::NodeId id,
                                         const std::string& topic,
                                         int64_t timestamp) {
    kafka::ListOffsetsRequest list;
    kafka::ListOffsetsRequest::ListOffsetsTopic t;
    t.name = topic;
    t.partitions.push_back({0, -1, timestamp, 1});
    list.topics.push_back(t);
    auto response = cluster_.Call<kafka::ListOffsetsResponse>(id, list, 7);
    if (!response.has_value()) return {-1, -1};
    const auto& p = response->topics.at(0).partitions.at(0);
    return {p.error_code, p.offset};
  }

  std::optional<kafka::FetchResponse::PartitionData> Fetch(
      raft::NodeId id, const std::string& topic, int64_t offset) {
    kafka::FetchRequest fetch;
    fetch.topics.push_back({topic, {{0, -1, offset, -1, -1, 1 << 20}}});
    auto fetched = cluster_.Call<kafka::FetchResponse>(id, fetch, 11);
    if (!fetched.has_value()) return std::nullopt;
    return fetched->responses.at(0).partitions.at(0);
  }

  // Small segments, so the log start cut removes some, checked often.
  testing::InProcessCluster cluster_{3, /*seed=*/4, /*first_id=*/1,
                                     [](BrokerOptions& options) {
                                       options.segment_max_bytes = 2048;
                                       options.retention_check_ticks = 5;
                                       // Followers behind are served from
                                       // storage, not the Raft tail.
                                       options.max_log_tail_bytes = 512;
                                     }};
};

TEST_F(DeleteRecordsClusterTest, FollowerThatWasDownCatchesUpPastTheCut) {
  ASSERT_TRUE(StepUntil([&] { return cluster_.AllReady(); }));
  CreateReplicated("purged");
  raft::NodeId leader = 0;
  ASSERT_TRUE(StepUntil(
      [&] { return (leader = cluster_.PartitionLeader("purged")) != 0; }));
  const raft::NodeId down = leader % 3 + 1;
  const raft::NodeId other = down % 3 + 1;
  ASSERT_NE(other, leader);
  cluster_.Crash(down);

  Produce(leader, "purged", 40);  // offsets 0..399
  auto deleted = Delete(leader, "purged", 155, 5000);
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->topics.at(0).partitions.at(0).error_code, 0);
  EXPECT_EQ(deleted->topics.at(0).partitions.at(0).low_watermark, 155);
  // Both running replicas cut their logs below it (a snapshot each).
  ASSERT_TRUE(StepUntil([&] {
    return cluster_.broker(leader).SnapshotStats().taken > 0 &&
           cluster_.broker(other).SnapshotStats().taken > 0;
  })) << "no cut";
  Produce(leader, "purged", 5);  // offsets 400..449

  // The follower comes back behind the leader's log start: it installs the
  // snapshot at the cut, then replicates the tail (with the log start entry).
  cluster_.Start(down);
  ASSERT_TRUE(StepUntil([&] {
    if (cluster_.broker(down).SnapshotStats().installed == 0) return false;
    for (const ClusterStatus::Partition& p :
         cluster_.broker(leader).Status().partitions) {
      if (p.topic == "purged" && p.lag.has_value()) {
        auto lag = p.lag->find(config::KafkaNodeId(down));
        return lag != p.lag->end() && lag->second == 0;
      }
    }
    return false;
  })) << "the follower did not catch up (snapshots installed: "
      << cluster_.broker(down).SnapshotStats().installed << ")";

  // It leads now (the other follower gone, the leader hands over in its
  // controlled shutdown) and answers as the old leader did.
  cluster_.Crash(other);
  cluster_.broker(leader).BeginShutdown();
  ASSERT_TRUE(StepUntil([&] {
    return ListOffset(down, "purged", -2) ==
           std::make_pair(kafka::error::kNone, int64_t{155});
  })) << "the caught-up follower does not lead with the log start";
  EXPECT_EQ(ListOffset(down, "purged", -1),
            std::make_pair(kafka::error::kNone, int64_t{450}));
  auto below = Fetch(down, "purged", 154);
  ASSERT_TRUE(below.has_value());
  EXPECT_EQ(below->error_code, kafka::error::kOffsetOutOfRange);
  auto from = Fetch(down, "purged", 155);
  ASSERT_TRUE(from.has_value());
  ASSERT_EQ(from->error_code, 0);
  EXPECT_EQ(from->log_start_offset, 155);
  EXPECT_EQ(from->high_watermark, 450);
  auto batches = kafka::ParseRecordBatches(from->records.value_or(""));
  ASSERT_TRUE(batches.ok());
  ASSERT_FALSE(batches->empty());
  EXPECT_EQ(batches->front().header.base_offset, 150);
}

TEST_F(DeleteRecordsClusterTest, WaitsForTheCommitAndOnlyTheLeaderTakesIt) {
  ASSERT_TRUE(StepUntil([&] { return cluster_.AllReady(); }));
  CreateReplicated("guarded");
  raft::NodeId leader = 0;
  ASSERT_TRUE(StepUntil(
      [&] { return (leader = cluster_.PartitionLeader("guarded")) != 0; }));
  Produce(leader, "guarded", 3);
  const raft::NodeId follower = leader % 3 + 1;
  auto refused = Delete(follower, "guarded", 5, 5000);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->topics.at(0).partitions.at(0).error_code,
            kafka::error::kNotLeaderOrFollower);
  EXPECT_EQ(refused->topics.at(0).partitions.at(0).low_watermark, -1);

  // Without its followers the leader cannot commit: the request times out.
  for (raft::NodeId id = 1; id <= 3; ++id) {
    if (id != leader) cluster_.Crash(id);
  }
  auto timed_out = Delete(leader, "guarded", 5, /*timeout_ms=*/200);
  ASSERT_TRUE(timed_out.has_value());
  EXPECT_EQ(timed_out->topics.at(0).partitions.at(0).error_code,
            kafka::error::kRequestTimedOut);
  EXPECT_EQ(timed_out->topics.at(0).partitions.at(0).low_watermark, -1);
}

}  // namespace
}  // namespace chronik::broker
