// Three brokers in one process, each with its own simulated disk, exchanging
// Raft messages through an in-memory network: the seed's cluster failures
// (one-member metadata groups, unregistered brokers) must not happen, and a
// partition must survive the loss of its leader.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr auto Batch = testing::ValuesBatch;

using ::testing::SizeIs;

class ClusterTest : public ::testing::Test {
 protected:
  void StepUntil(const std::function<bool()>& done, int max_steps = 400) {
    ASSERT_TRUE(cluster_.StepUntil(done, max_steps))
        << "condition not reached in " << max_steps << " ticks";
  }

  testing::InProcessCluster cluster_{3, /*seed=*/1};
};

TEST_F(ClusterTest, EveryBrokerRegistersThroughOneMetadataGroup) {
  StepUntil([&] { return cluster_.AllReady(); });
  std::set<int32_t> controllers;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    kafka::MetadataResponse metadata = cluster_.Metadata(id);
    EXPECT_THAT(metadata.brokers, SizeIs(3)) << "as seen by node " << id;
    controllers.insert(metadata.controller_id);
  }
  EXPECT_EQ(controllers.size(), 1u) << "one metadata leader for everyone";
  EXPECT_GT(*controllers.begin(), 0);
}

TEST_F(ClusterTest, EveryNodeHandsOutDistinctProducerIds) {
  StepUntil([&] { return cluster_.AllReady(); });
  std::set<int64_t> ids;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    for (int i = 0; i < 2; ++i) {
      auto init = cluster_.Call<kafka::InitProducerIdResponse>(
          id, kafka::InitProducerIdRequest{std::nullopt, 0, -1, -1}, 4);
      ASSERT_TRUE(init.has_value());
      EXPECT_EQ(init->error_code, 0) << "node " << id << " (followers too)";
      ids.insert(init->producer_id);
    }
  }
  EXPECT_EQ(ids.size(), 6u) << "no id handed out twice";
}

TEST_F(ClusterTest, ReplicatedPartitionSurvivesItsLeadersCrash) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId controller =
      static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"replicated", 1, 3, {}, {}});
  auto created =
      cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);

  raft::NodeId leader = 0;
  StepUntil(
      [&] { return (leader = cluster_.PartitionLeader("replicated")) != 0; });
  kafka::ProduceRequest produce;
  produce.acks = -1;
  produce.timeout_ms = 5000;
  produce.topics.push_back({"replicated", {{0, Batch(5)}}});
  auto produced = cluster_.Call<kafka::ProduceResponse>(leader, produce, 9);
  ASSERT_TRUE(produced.has_value());
  ASSERT_EQ(produced->responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(produced->responses[0].partitions[0].base_offset, 0);

  cluster_.Crash(leader);
  raft::NodeId next = 0;
  StepUntil([&] {
    next = cluster_.PartitionLeader("replicated");
    return next != 0 && next != leader;
  });
  auto again = cluster_.Call<kafka::ProduceResponse>(next, produce, 9);
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(again->responses[0].partitions[0].base_offset, 5)
      << "the acknowledged batch survived the leader's crash";

  kafka::FetchRequest fetch;
  fetch.topics.push_back({"replicated", {{0, -1, 0, -1, -1, 1 << 20}}});
  auto fetched = cluster_.Call<kafka::FetchResponse>(next, fetch, 11);
  ASSERT_TRUE(fetched.has_value());
  EXPECT_EQ(fetched->responses[0].partitions[0].high_watermark, 10);

  // The crashed node comes back and catches up.
  cluster_.Start(leader);
  StepUntil([&] { return cluster_.broker(leader).IsReady(); });
}

// Issue 12: node id 0 was refused (Kafka numbers brokers from 0; Raft keeps 0
// for "none"). Brokers 0, 1 and 2 register, elect, replicate and are named
// by their Kafka ids on the wire.
TEST(ClusterFromZeroTest, BrokerIdsFromZeroWork) {
  testing::InProcessCluster cluster(3, /*seed=*/3, /*first_id=*/0);
  for (int i = 0; i < 400 && !cluster.AllReady(); ++i) cluster.Step();
  ASSERT_TRUE(cluster.AllReady());
  kafka::MetadataResponse metadata = cluster.Metadata(0);
  std::set<int32_t> brokers;
  for (const auto& broker : metadata.brokers) brokers.insert(broker.node_id);
  EXPECT_EQ(brokers, (std::set<int32_t>{0, 1, 2}));
  ASSERT_GE(metadata.controller_id, 0);
  ASSERT_LE(metadata.controller_id, 2);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"zero", 1, 3, {}, {}});
  auto created = cluster.Call<kafka::CreateTopicsResponse>(
      metadata.controller_id, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);
  int32_t leader = -1;
  for (int i = 0; i < 400 && leader < 0; ++i) {
    for (const auto& topic : cluster.Metadata(0).topics) {
      if (topic.name == "zero" && !topic.partitions.empty()) {
        leader = topic.partitions[0].leader_id;
        EXPECT_EQ(std::set<int32_t>(topic.partitions[0].replica_nodes.begin(),
                                    topic.partitions[0].replica_nodes.end()),
                  (std::set<int32_t>{0, 1, 2}));
      }
    }
    if (leader < 0) cluster.Step();
  }
  ASSERT_GE(leader, 0);
  kafka::ProduceRequest produce;
  produce.acks = -1;
  produce.timeout_ms = 5000;
  produce.topics.push_back({"zero", {{0, Batch(3)}}});
  auto produced = cluster.Call<kafka::ProduceResponse>(leader, produce, 9);
  ASSERT_TRUE(produced.has_value());
  EXPECT_EQ(produced->responses[0].partitions[0].error_code, 0);
  kafka::FindCoordinatorRequest find;
  find.key = "g";
  auto coordinator = cluster.Call<kafka::FindCoordinatorResponse>(0, find, 3);
  ASSERT_TRUE(coordinator.has_value());
  EXPECT_EQ(coordinator->node_id, metadata.controller_id);
}

// Defect found in testing: a broker that holds no replica of a partition
// answered leader -1 for it (any topic with replication factor below the
// cluster size), and clients failed on it.
TEST_F(ClusterTest, EveryBrokerNamesTheLeaderOfEveryPartition) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId controller =
      static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"single", 3, 1, {}, {}});  // RF 1 on 3 brokers
  auto created =
      cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);
  // CreateTopics answers only once the answering broker names every leader
  // (clients ask Metadata right after and used to get -1).
  for (const auto& t : cluster_.Metadata(controller).topics) {
    if (t.name != "single") continue;
    ASSERT_THAT(t.partitions, SizeIs(3));
    for (const auto& p : t.partitions) {
      EXPECT_GE(p.leader_id, 1)
          << "partition " << p.partition_index << " right after CreateTopics";
    }
  }
  // Leaders as each broker names them: partition -> leader, per broker.
  auto leaders_seen_by = [&](raft::NodeId id) {
    std::vector<int32_t> leaders;
    for (const auto& t : cluster_.Metadata(id).topics) {
      if (t.name != "single") continue;
      for (const auto& p : t.partitions) leaders.push_back(p.leader_id);
    }
    return leaders;
  };
  StepUntil([&] {
    const std::vector<int32_t> first = leaders_seen_by(1);
    if (first.size() != 3) return false;
    for (int32_t leader : first) {
      if (leader <= 0) return false;
    }
    return leaders_seen_by(2) == first && leaders_seen_by(3) == first;
  });
  // Each partition's only replica leads it.
  for (const auto& t : cluster_.Metadata(1).topics) {
    if (t.name != "single") continue;
    for (const auto& p : t.partitions) {
      ASSERT_THAT(p.replica_nodes, SizeIs(1));
      EXPECT_EQ(p.leader_id, p.replica_nodes[0]);
    }
  }
}

// Defect found in testing: CreateTopics answered as soon as the topic was in
// the metadata, and clients asking Metadata right after got leader -1.
TEST_F(ClusterTest, CreateTopicsAnswersOnceEveryPartitionHasALeader) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId controller =
      static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"triple", 4, 3, {}, {}});
  auto created =
      cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);
  int partitions = 0;
  for (const auto& t : cluster_.Metadata(controller).topics) {
    if (t.name != "triple") continue;
    for (const auto& p : t.partitions) {
      ++partitions;
      EXPECT_GE(p.leader_id, 1)
          << "partition " << p.partition_index << " right after CreateTopics";
    }
  }
  EXPECT_EQ(partitions, 4);
}

TEST_F(ClusterTest, MinorityCannotCommitMetadata) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId controller =
      static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
  // Cut the controller off from both others: nothing it proposes commits.
  for (raft::NodeId id = 1; id <= 3; ++id) {
    if (id != controller) cluster_.Crash(id);
  }
  kafka::CreateTopicsRequest create;
  create.timeout_ms = 2000;
  create.topics.push_back({"lonely", 1, 1, {}, {}});
  auto created =
      cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  EXPECT_NE(created->topics.at(0).error_code, 0)
      << "a node alone must never commit (the seed's one-member groups did)";
}

// Found by the nemesis suite (tests/e2e/nemesis_test.py): a partition leader
// cut off from its peers that Raft's check quorum had stepped down still
// judged produce requests as the leader until its next campaign. Of two
// pipelined batches of an idempotent producer the first was refused
// (NOT_LEADER_OR_FOLLOWER: Raft refused the proposal), the second answered
// OUT_OF_ORDER_SEQUENCE_NUMBER; librdkafka then bumps its epoch and resends
// batches the new leader had in fact stored: duplicates. Both batches must be
// refused alike.
TEST_F(ClusterTest, LeaderSteppedDownByCheckQuorumRefusesEveryBatchAlike) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId controller =
      static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"cutoff", 1, 3, {}, {}});
  auto created =
      cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);
  raft::NodeId leader = 0;
  StepUntil([&] { return (leader = cluster_.PartitionLeader("cutoff")) != 0; });
  auto init = cluster_.Call<kafka::InitProducerIdResponse>(
      leader, kafka::InitProducerIdRequest{std::nullopt, 0, -1, -1}, 4);
  ASSERT_TRUE(init.has_value());
  ASSERT_EQ(init->error_code, 0);
  auto produce = [&](int32_t sequence) {
    return testing::IdempotentProduce("cutoff", init->producer_id, sequence);
  };
  auto first = cluster_.Call<kafka::ProduceResponse>(leader, produce(0), 9);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->responses[0].partitions[0].error_code, 0);

  // Cut the leader off from its peers (its client still reaches it) until
  // Raft stepped it down in every group.
  const raft::NodeId raft_id = config::RaftNodeId(leader);
  cluster_.set_drop_filter([raft_id](const raft::Message& m) {
    return m.from == raft_id || m.to == raft_id;
  });
  StepUntil(
      [&] { return cluster_.broker(leader).Metrics().raft_groups_led == 0; });
  for (int32_t sequence : {1, 2}) {  // pipelined: sent before any answer
    cluster_.Send(leader,
                  kafka::EncodeRequestFrame(9, 100 + sequence, std::string("t"),
                                            produce(sequence)));
  }
  for (int32_t sequence : {1, 2}) {
    std::optional<std::string> frame = cluster_.TakeResponse(leader);
    ASSERT_TRUE(frame.has_value()) << "refused at once";
    kafka::ProduceResponse response;
    int32_t correlation = 0;
    ASSERT_TRUE(kafka::DecodeResponseFrame(absl::string_view(*frame).substr(4),
                                           9, &correlation, &response)
                    .ok());
    EXPECT_EQ(correlation, 100 + sequence);
    EXPECT_EQ(response.responses[0].partitions[0].error_code,
              kafka::error::kNotLeaderOrFollower)
        << "the batch with sequence " << sequence;
  }
}

// Found by the nemesis suite: a node restarted after kill -9 replays only
// the metadata its stored commit index covers (the commit index is not
// written on every commit) and, until its peers tell it more, its view lacks
// topics created since. Its Metadata answered such a topic
// UNKNOWN_TOPIC_OR_PARTITION (with no brokers): librdkafka takes that as the
// topic deleted, its consumers lose their partitions (and librdkafka 2.0.2
// then leaks references and hangs in close). Until the node has applied what
// it had stored, a topic is LEADER_NOT_AVAILABLE (retriable, the partition
// count is kept), and nothing is auto-created from the stale view.
TEST_F(ClusterTest, RestartedNodeNeverSaysAStoredTopicIsUnknown) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId controller =
      static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"kept", 2, 3, {}, {}});
  auto created =
      cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);
  const raft::NodeId victim = controller % 3 + 1;  // a follower
  StepUntil([&] {
    for (const auto& t : cluster_.Metadata(victim).topics) {
      if (t.name == "kept") return true;
    }
    return false;
  });
  // The follower crashes and comes back while its peers cannot reach it:
  // it has the topic's creation stored but does not know it committed.
  cluster_.Crash(victim);
  const raft::NodeId raft_id = config::RaftNodeId(victim);
  cluster_.set_drop_filter([raft_id](const raft::Message& m) {
    return m.from == raft_id || m.to == raft_id;
  });
  cluster_.Start(victim);
  kafka::MetadataRequest request;
  request.topics = std::vector<kafka::MetadataRequest::MetadataRequestTopic>(1);
  request.topics->at(0).name = "kept";
  request.allow_auto_topic_creation = false;
  auto metadata = cluster_.Call<kafka::MetadataResponse>(victim, request, 12);
  ASSERT_TRUE(metadata.has_value());
  ASSERT_EQ(metadata->topics.size(), 1u);
  EXPECT_EQ(metadata->topics[0].error_code, kafka::error::kLeaderNotAvailable)
      << "a topic the node has stored is not unknown";
  EXPECT_FALSE(cluster_.broker(victim).IsReady());

  // Healed, it catches up and describes the topic again.
  cluster_.set_drop_filter({});
  StepUntil([&] { return cluster_.broker(victim).IsReady(); });
  metadata = cluster_.Call<kafka::MetadataResponse>(victim, request, 12);
  ASSERT_TRUE(metadata.has_value());
  EXPECT_EQ(metadata->topics[0].error_code, 0);
  EXPECT_EQ(metadata->topics[0].partitions.size(), 2u);
}

}  // namespace
}  // namespace chronik::broker
