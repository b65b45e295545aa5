// Partition reassignment on four in-process brokers: a partition on 1, 2, 3
// moves to 2, 3, 4 by Raft membership changes (node 4 joins as a learner,
// then one joint change), while it keeps its data and takes writes; a
// cancel brings a partition back; bad requests get Kafka's errors.
#include <set>
#include <string>
#include <vector>

#include "broker/kafka/errors.h"
#include "broker/server/in_process_cluster.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr auto Batch = testing::ValuesBatch;

class ReassignmentClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.StepUntil([&] { return cluster_.AllReady(); }));
    controller_ = static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
    kafka::CreateTopicsRequest create;
    create.topics.push_back({"moving", -1, -1, {{0, {1, 2, 3}}}, {}});
    auto created =
        cluster_.Call<kafka::CreateTopicsResponse>(controller_, create, 4);
    ASSERT_TRUE(created.has_value());
    ASSERT_EQ(created->topics.at(0).error_code, 0);
  }

  // The partition as node `id`'s Metadata shows it.
  kafka::MetadataResponse::MetadataResponsePartition Partition(
      raft::NodeId id) {
    for (const auto& t : cluster_.Metadata(id).topics) {
      if (t.name == "moving" && !t.partitions.empty()) return t.partitions[0];
    }
    return {};
  }
  std::set<int32_t> Replicas(raft::NodeId id) {
    const auto p = Partition(id);
    return {p.replica_nodes.begin(), p.replica_nodes.end()};
  }

  // Produces `records` records acks=all through the current leader; the
  // base offset (-1 on failure).
  int64_t Produce(int records) {
    for (int attempt = 0; attempt < 50; ++attempt) {
      const int32_t leader = Partition(observer_).leader_id;
      if (leader > 0 && cluster_.up(leader)) {
        kafka::ProduceRequest produce;
        produce.acks = -1;
        produce.timeout_ms = 5000;
        produce.topics.push_back({"moving", {{0, Batch(records)}}});
        auto r = cluster_.Call<kafka::ProduceResponse>(leader, produce, 9);
        if (r.has_value() && r->responses[0].partitions[0].error_code == 0) {
          return r->responses[0].partitions[0].base_offset;
        }
      }
      cluster_.Step();
    }
    return -1;
  }

  kafka::AlterPartitionReassignmentsResponse Alter(
      std::optional<std::vector<int32_t>> replicas, int32_t partition = 0,
      std::string topic = "moving") {
    kafka::AlterPartitionReassignmentsRequest alter;
    alter.topics.push_back({topic, {{partition, std::move(replicas)}}});
    auto r = cluster_.Call<kafka::AlterPartitionReassignmentsResponse>(
        controller_, alter, 0);
    CHRONIK_CHECK(r.has_value());
    return *r;
  }

  kafka::ListPartitionReassignmentsResponse List() {
    auto r = cluster_.Call<kafka::ListPartitionReassignmentsResponse>(
        controller_, kafka::ListPartitionReassignmentsRequest{}, 0);
    CHRONIK_CHECK(r.has_value());
    return *r;
  }

  testing::InProcessCluster cluster_{4, /*seed=*/5};
  raft::NodeId controller_ = 0;
  raft::NodeId observer_ = 4;  // whose Metadata names the leader
};

TEST_F(ReassignmentClusterTest, MovesAPartitionToANewBrokerWithItsData) {
  ASSERT_EQ(Produce(5), 0);
  auto altered = Alter(std::vector<int32_t>{2, 3, 4});
  ASSERT_EQ(altered.error_code, 0);
  ASSERT_EQ(altered.responses.at(0).partitions.at(0).error_code, 0);
  // While it moves, List shows what is added and removed.
  auto listed = List();
  ASSERT_EQ(listed.topics.size(), 1u);
  const auto& ongoing = listed.topics[0].partitions.at(0);
  EXPECT_EQ(ongoing.adding_replicas, std::vector<int32_t>{4});
  EXPECT_EQ(ongoing.removing_replicas, std::vector<int32_t>{1});
  EXPECT_EQ(std::set<int32_t>(ongoing.replicas.begin(), ongoing.replicas.end()),
            (std::set<int32_t>{1, 2, 3, 4}));

  ASSERT_TRUE(cluster_.StepUntil([&] {
    return Replicas(controller_) == std::set<int32_t>{2, 3, 4};
  }));
  EXPECT_TRUE(List().topics.empty());
  // Node 1 dropped its replica; node 4 hosts one.
  ASSERT_TRUE(cluster_.StepUntil(
      [&] { return cluster_.broker(1).Metrics().partitions == 0; }));
  EXPECT_EQ(cluster_.broker(4).Metrics().partitions, 1u);
  EXPECT_EQ(Produce(5), 5);

  // Node 4 holds the data: with 2 of the old replicas gone (1 removed, one
  // more crashed) the partition still serves all ten records.
  const int32_t leader = Partition(4).leader_id;
  ASSERT_NE(leader, 1);
  const raft::NodeId crashed =
      leader == 4 ? 2 : static_cast<raft::NodeId>(leader);
  cluster_.Crash(crashed);
  ASSERT_TRUE(cluster_.StepUntil([&] {
    const int32_t l = Partition(4).leader_id;
    return l > 0 && l != static_cast<int32_t>(crashed);
  }));
  EXPECT_EQ(Produce(1), 10);
}

TEST_F(ReassignmentClusterTest, CancelReturnsToTheOldReplicas) {
  // Block node 4 so the move cannot finish, then cancel it.
  observer_ = controller_;
  cluster_.Crash(4);
  ASSERT_EQ(Alter(std::vector<int32_t>{1, 2, 4})
                .responses[0]
                .partitions[0]
                .error_code,
            0);
  for (int i = 0; i < 20; ++i) cluster_.Step();
  ASSERT_EQ(List().topics.size(), 1u);
  EXPECT_EQ(Alter(std::nullopt).responses[0].partitions[0].error_code, 0);
  EXPECT_TRUE(List().topics.empty());
  EXPECT_EQ(Replicas(controller_), (std::set<int32_t>{1, 2, 3}));
  EXPECT_EQ(Produce(3), 0);
  // Nothing left to cancel.
  EXPECT_EQ(Alter(std::nullopt).responses[0].partitions[0].error_code,
            kafka::error::kNoReassignmentInProgress);
}

TEST_F(ReassignmentClusterTest, RefusesBadTargets) {
  EXPECT_EQ(
      Alter(std::vector<int32_t>{2, 9}).responses[0].partitions[0].error_code,
      kafka::error::kInvalidReplicaAssignment);
  EXPECT_EQ(
      Alter(std::vector<int32_t>{2, 2}).responses[0].partitions[0].error_code,
      kafka::error::kInvalidReplicaAssignment);
  EXPECT_EQ(Alter(std::vector<int32_t>{}).responses[0].partitions[0].error_code,
            kafka::error::kInvalidReplicaAssignment);
  EXPECT_EQ(
      Alter(std::vector<int32_t>{1}, 7).responses[0].partitions[0].error_code,
      kafka::error::kUnknownTopicOrPartition);
  EXPECT_EQ(Alter(std::vector<int32_t>{1}, 0, "nope")
                .responses[0]
                .partitions[0]
                .error_code,
            kafka::error::kUnknownTopicOrPartition);
  const raft::NodeId follower = controller_ == 1 ? 2 : 1;
  kafka::AlterPartitionReassignmentsRequest alter;
  alter.topics.push_back({"moving", {{0, std::vector<int32_t>{2, 3, 4}}}});
  auto r = cluster_.Call<kafka::AlterPartitionReassignmentsResponse>(follower,
                                                                     alter, 0);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error_code, kafka::error::kNotController);
}

}  // namespace
}  // namespace chronik::broker
