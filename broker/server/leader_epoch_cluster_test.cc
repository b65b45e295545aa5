// Leader epochs in a three-broker cluster (in process, in-memory network):
// a leader change starts a new epoch that every broker's Metadata answers;
// the batches keep the epoch of the leader that appended them on every
// replica; OffsetForLeaderEpoch answers each epoch's end on the new leader,
// and the same on a restarted replica that leads later (its older epochs
// rebuilt from its stored log) and on one that installed a snapshot at the
// log start cut; older and newer current epochs are fenced and refused.
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
using EpochResult =
    kafka::OffsetForLeaderEpochResponse::OffsetForLeaderPartitionResult;

class LeaderEpochClusterTest : public ::testing::Test {
 protected:
  bool StepUntil(const std::function<bool()>& done) {
    return cluster_.StepUntil(done, 400);
  }

  // Partition 0 of `topic` as broker `id`'s Metadata describes it.
  std::optional<kafka::MetadataResponse::MetadataResponsePartition> Describe(
      raft::NodeId id, const std::string& topic) {
    for (const auto& t : cluster_.Metadata(id).topics) {
      if (t.name == topic && !t.partitions.empty()) return t.partitions[0];
    }
    return std::nullopt;
  }

  // Steps until broker `id` names a leader of `topic` other than `not_this`
  // (and with an epoch above `above`): that leader and its epoch.
  std::pair<raft::NodeId, int32_t> WaitForLeader(raft::NodeId id,
                                                 const std::string& topic,
                                                 raft::NodeId not_this = 0,
                                                 int32_t above = 0) {
    std::pair<raft::NodeId, int32_t> found = {0, -1};
    EXPECT_TRUE(StepUntil([&] {
      auto p = Describe(id, topic);
      if (!p.has_value() || p->leader_id <= 0 ||
          static_cast<raft::NodeId>(p->leader_id) == not_this ||
          p->leader_epoch <= above) {
        return false;
      }
      found = {static_cast<raft::NodeId>(p->leader_id), p->leader_epoch};
      return true;
    })) << "no new leader of "
        << topic;
    return found;
  }

  void Create(const std::string& topic) {
    const raft::NodeId controller =
        static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
    kafka::CreateTopicsRequest create;
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

  EpochResult EndOffset(raft::NodeId id, const std::string& topic,
                        int32_t epoch, int32_t current_epoch = -1) {
    kafka::OffsetForLeaderEpochRequest request;
    request.replica_id = -1;
    request.topics.push_back({topic, {{0, current_epoch, epoch}}});
    auto response =
        cluster_.Call<kafka::OffsetForLeaderEpochResponse>(id, request, 4);
    if (!response.has_value()) return EpochResult{};
    return response->topics.at(0).partitions.at(0);
  }

  // The partition leader epochs of the batches `id` serves from `offset`.
  std::vector<int32_t> StoredEpochs(raft::NodeId id, const std::string& topic,
                                    int64_t offset = 0) {
    kafka::FetchRequest fetch;
    fetch.topics.push_back({topic, {{0, -1, offset, -1, -1, 1 << 20}}});
    auto fetched = cluster_.Call<kafka::FetchResponse>(id, fetch, 11);
    std::vector<int32_t> epochs;
    if (!fetched.has_value()) return epochs;
    auto batches = kafka::ParseRecordBatches(
        fetched->responses.at(0).partitions.at(0).records.value_or(""));
    if (!batches.ok()) return epochs;
    for (const auto& b : *batches) {
      epochs.push_back(b.header.partition_leader_epoch);
    }
    return epochs;
  }

  static std::vector<int32_t> Repeat(int32_t epoch, int n) {
    return std::vector<int32_t>(static_cast<size_t>(n), epoch);
  }
  static std::vector<int32_t> Concat(std::vector<int32_t> a,
                                     const std::vector<int32_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  testing::InProcessCluster cluster_{3, /*seed=*/7, /*first_id=*/1,
                                     [](BrokerOptions& options) {
                                       options.segment_max_bytes = 2048;
                                       options.retention_check_ticks = 5;
                                       options.max_log_tail_bytes = 512;
                                     }};
};

TEST_F(LeaderEpochClusterTest, EpochsAcrossALeaderChangeAndARestart) {
  ASSERT_TRUE(StepUntil([&] { return cluster_.AllReady(); }));
  Create("moved");
  const auto [first_leader, e1] = WaitForLeader(1, "moved");
  ASSERT_GT(e1, 0);
  // Every broker answers the same epoch.
  ASSERT_TRUE(StepUntil([&] {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      auto p = Describe(id, "moved");
      if (!p.has_value() || p->leader_epoch != e1) return false;
    }
    return true;
  }));
  Produce(first_leader, "moved", 10);  // offsets 0..99 in e1

  cluster_.Crash(first_leader);
  const raft::NodeId live = first_leader % 3 + 1;
  const auto [second_leader, e2] =
      WaitForLeader(live, "moved", first_leader, e1);
  ASSERT_GT(e2, e1);
  Produce(second_leader, "moved", 5);  // offsets 100..149 in e2
  const raft::NodeId follower = 6 - first_leader - second_leader;

  EpochResult ended = EndOffset(second_leader, "moved", e1);
  EXPECT_EQ(ended.error_code, 0);
  EXPECT_EQ(ended.leader_epoch, e1);
  EXPECT_EQ(ended.end_offset, 100);
  EpochResult current = EndOffset(second_leader, "moved", e2, e2);
  EXPECT_EQ(current.error_code, 0);
  EXPECT_EQ(current.leader_epoch, e2);
  EXPECT_EQ(current.end_offset, 150);
  EXPECT_EQ(EndOffset(second_leader, "moved", e1, e1).error_code,
            kafka::error::kFencedLeaderEpoch);
  EXPECT_EQ(EndOffset(second_leader, "moved", e2, e2 + 1).error_code,
            kafka::error::kUnknownLeaderEpoch);
  // A follower: the epoch is checked first, then leadership.
  EXPECT_EQ(EndOffset(follower, "moved", e2, e2).error_code,
            kafka::error::kNotLeaderOrFollower);
  EXPECT_EQ(EndOffset(follower, "moved", e2, e1).error_code,
            kafka::error::kFencedLeaderEpoch);
  const std::vector<int32_t> want = Concat(Repeat(e1, 10), Repeat(e2, 5));
  EXPECT_EQ(StoredEpochs(second_leader, "moved"), want);

  // The old leader comes back as a follower and, once the others hand over
  // (one down, the other shutting down), leads with the same epochs: those
  // before its crash replayed from its own log.
  cluster_.Start(first_leader);
  ASSERT_TRUE(StepUntil([&] {
    auto p = Describe(first_leader, "moved");
    return cluster_.AllReady() && p.has_value() && p->leader_epoch == e2;
  }));
  cluster_.Crash(follower);
  cluster_.broker(second_leader).BeginShutdown();
  const auto [third_leader, e3] =
      WaitForLeader(first_leader, "moved", second_leader, e2);
  ASSERT_EQ(third_leader, first_leader);
  EXPECT_EQ(StoredEpochs(first_leader, "moved"), want);
  EXPECT_EQ(EndOffset(first_leader, "moved", e1).end_offset, 100);
  EXPECT_EQ(EndOffset(first_leader, "moved", e1).leader_epoch, e1);
  EXPECT_EQ(EndOffset(first_leader, "moved", e2).end_offset, 150);
  EXPECT_EQ(EndOffset(first_leader, "moved", e2).leader_epoch, e2);
  EXPECT_EQ(EndOffset(first_leader, "moved", e3, e3).end_offset, 150);
  EXPECT_EQ(EndOffset(first_leader, "moved", e3, e3).leader_epoch, e3);
}

TEST_F(LeaderEpochClusterTest, ReplicaThatInstalledTheCutAnswersTheSame) {
  ASSERT_TRUE(StepUntil([&] { return cluster_.AllReady(); }));
  Create("cut");
  const auto [l1, e1] = WaitForLeader(1, "cut");
  const raft::NodeId down = l1 % 3 + 1;
  const raft::NodeId other = down % 3 + 1;
  cluster_.Crash(down);
  Produce(l1, "cut", 20);  // offsets 0..199 in e1
  // The leader hands over to the only other live replica.
  cluster_.broker(l1).BeginShutdown();
  const auto [l2, e2] = WaitForLeader(other, "cut", l1, e1);
  ASSERT_EQ(l2, other);
  Produce(l2, "cut", 20);  // offsets 200..399 in e2
  kafka::DeleteRecordsRequest purge;
  purge.timeout_ms = 5000;
  purge.topics.push_back({"cut", {{0, 255}}});
  auto purged = cluster_.Call<kafka::DeleteRecordsResponse>(l2, purge, 1);
  ASSERT_TRUE(purged.has_value());
  ASSERT_EQ(purged->topics.at(0).partitions.at(0).error_code, 0);
  ASSERT_TRUE(
      StepUntil([&] { return cluster_.broker(l2).SnapshotStats().taken > 0; }));
  Produce(l2, "cut", 5);  // offsets 400..449 in e2
  // e1's data is gone: it ends where the log now starts.
  EpochResult gone = EndOffset(l2, "cut", e1);
  EXPECT_EQ(gone.leader_epoch, e1);
  EXPECT_EQ(gone.end_offset, 255);

  // The replica that was down installs the snapshot at the cut, catches up
  // and, once it leads, answers as l2 did.
  cluster_.Start(down);
  ASSERT_TRUE(StepUntil([&] {
    if (cluster_.broker(down).SnapshotStats().installed == 0) return false;
    auto p = Describe(down, "cut");
    return p.has_value() && p->leader_epoch == e2;
  }));
  ASSERT_TRUE(StepUntil([&] {
    for (const ClusterStatus::Partition& p :
         cluster_.broker(l2).Status().partitions) {
      if (p.topic == "cut" && p.lag.has_value()) {
        auto lag = p.lag->find(config::KafkaNodeId(down));
        return lag != p.lag->end() && lag->second == 0;
      }
    }
    return false;
  }));
  cluster_.Crash(l2);
  const auto [l3, e3] = WaitForLeader(down, "cut", l2, e2);
  ASSERT_EQ(l3, down);
  EpochResult still_gone = EndOffset(down, "cut", e1);
  EXPECT_EQ(still_gone.leader_epoch, e1);
  EXPECT_EQ(still_gone.end_offset, 255);
  EpochResult second = EndOffset(down, "cut", e2);
  EXPECT_EQ(second.leader_epoch, e2);
  EXPECT_EQ(second.end_offset, 450);
  EXPECT_EQ(EndOffset(down, "cut", e3, e3).end_offset, 450);
}

}  // namespace
}  // namespace chronik::broker
