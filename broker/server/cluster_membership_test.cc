// Growing and shrinking a cluster (cluster_membership.h): the controller's
// pure decisions, the metadata voters file, and on in-process brokers a node
// that joins with --join (learner, then voter; it takes the metadata from a
// snapshot) and a broker decommissioned (replicas moved away, then out of the
// metadata group and the broker list), with data and writes kept throughout.
#include "broker/server/cluster_membership.h"

#include <set>
#include <string>
#include <vector>

#include "broker/config/node_ids.h"
#include "broker/server/in_process_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::broker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

raft::NodeId R(uint64_t kafka_id) { return config::RaftNodeId(kafka_id); }

metapb::MetadataCommand Register(uint64_t id) {
  metapb::MetadataCommand command;
  metapb::BrokerInfo* broker =
      command.mutable_register_broker()->mutable_broker();
  broker->set_node_id(id);
  broker->set_host("h");
  broker->set_kafka_port(9000 + static_cast<int>(id));
  broker->set_raft_port(9100 + static_cast<int>(id));
  return command;
}

metapb::MetadataCommand CreateTopic(const std::string& name,
                                    std::vector<std::vector<uint64_t>> lists) {
  metapb::MetadataCommand command;
  metapb::CreateTopic* create = command.mutable_create_topic();
  create->set_name(name);
  create->set_partitions(static_cast<int32_t>(lists.size()));
  create->set_replication_factor(static_cast<int32_t>(lists[0].size()));
  create->set_topic_id(std::string(15, '\0') + name.substr(0, 1));
  for (const auto& list : lists) {
    metapb::ReplicaList* out = create->add_assignments();
    for (uint64_t id : list) out->add_replicas(id);
  }
  return command;
}

metapb::MetadataCommand Decommission(uint64_t id, bool cancel = false) {
  metapb::MetadataCommand command;
  command.mutable_decommission_broker()->set_node_id(id);
  command.mutable_decommission_broker()->set_cancel(cancel);
  return command;
}

class MembershipDecisionsTest : public ::testing::Test {
 protected:
  void Apply(const metapb::MetadataCommand& command, int16_t error = 0) {
    EXPECT_EQ(state_.Apply(++index_, command).error_code, error)
        << command.DebugString();
  }
  metadata::MetadataState state_;
  uint64_t index_ = 0;
};

TEST_F(MembershipDecisionsTest, TargetAddsRegisteredBrokersAndDropsLeftOnes) {
  for (uint64_t id : {1, 2, 3, 4}) Apply(Register(id));
  raft::ConfState conf;
  conf.voters = {1, 2, 3};
  EXPECT_THAT(MetadataTargetVoters(state_, conf), ElementsAre(1, 2, 3, 4));
  // A fenced newcomer is not added; a fenced voter stays.
  metapb::MetadataCommand fence;
  fence.mutable_fence_broker()->set_node_id(4);
  Apply(fence);
  fence.mutable_fence_broker()->set_node_id(3);
  Apply(fence);
  EXPECT_THAT(MetadataTargetVoters(state_, conf), ElementsAre(1, 2, 3));
  // A decommissioned voter leaves once no partition names it.
  Apply(CreateTopic("t", {{1, 2}}));
  Apply(Decommission(2));
  EXPECT_THAT(MetadataTargetVoters(state_, conf), ElementsAre(1, 2, 3));
  metapb::MetadataCommand move;
  move.mutable_alter_reassignment()->set_topic("t");
  move.mutable_alter_reassignment()->add_target_replicas(1);
  Apply(move);
  EXPECT_THAT(MetadataTargetVoters(state_, conf), ElementsAre(1, 2, 3));
  metapb::MetadataCommand complete;
  complete.mutable_complete_reassignment()->set_group_id(1);
  complete.mutable_complete_reassignment()->add_replicas(1);
  Apply(complete);
  EXPECT_THAT(MetadataTargetVoters(state_, conf), ElementsAre(1, 3));
}

TEST_F(MembershipDecisionsTest, MovesGoToTheLeastLoadedPlaceableBrokers) {
  for (uint64_t id : {1, 2, 3, 4, 5}) Apply(Register(id));
  Apply(CreateTopic("a", {{1, 2}, {2, 3}, {3, 4}, {1, 3}}));
  Apply(Decommission(3));
  // Loads: 1:2, 2:2, 4:1, 5:0; each replacement takes the least loaded
  // broker not in the list (ties: the lowest id) and adds to its load:
  // a-1 [2,3] -> [2,5]; a-2 [3,4] -> [5,4]; a-3 [1,3] -> [1,4].
  const std::vector<metapb::AlterReassignment> moves =
      DecommissionMoves(state_, 10);
  ASSERT_EQ(moves.size(), 3u);
  EXPECT_EQ(moves[0].partition(), 1);
  EXPECT_THAT(moves[0].target_replicas(), ElementsAre(2, 5));
  EXPECT_EQ(moves[1].partition(), 2);
  EXPECT_THAT(moves[1].target_replicas(), ElementsAre(5, 4));
  EXPECT_EQ(moves[2].partition(), 3);
  EXPECT_THAT(moves[2].target_replicas(), ElementsAre(1, 4));
  EXPECT_EQ(DecommissionMoves(state_, 2).size(), 2u);
  // A partition in a reassignment is left to it; a decommissioning broker
  // is no target of a new one.
  metapb::MetadataCommand move;
  move.mutable_alter_reassignment()->set_topic("a");
  move.mutable_alter_reassignment()->set_partition(1);
  move.mutable_alter_reassignment()->add_target_replicas(2);
  move.mutable_alter_reassignment()->add_target_replicas(3);
  Apply(move, kafka::error::kInvalidReplicaAssignment);
  move.mutable_alter_reassignment()->set_target_replicas(1, 4);
  Apply(move);
  EXPECT_EQ(DecommissionMoves(state_, 10).size(), 2u);
  // Nothing can take a replica when every other broker already holds one.
  metadata::MetadataState small;
  ASSERT_EQ(small.Apply(1, Register(1)).error_code, 0);
  ASSERT_EQ(small.Apply(2, Register(2)).error_code, 0);
  ASSERT_EQ(small.Apply(3, CreateTopic("b", {{1, 2}})).error_code, 0);
  ASSERT_EQ(small.Apply(4, Decommission(2)).error_code, 0);
  EXPECT_TRUE(DecommissionMoves(small, 10).empty());
}

TEST_F(MembershipDecisionsTest, RemovedBrokersComeBackOnlyByJoining) {
  for (uint64_t id : {1, 2}) Apply(Register(id));
  metapb::MetadataCommand remove;
  remove.mutable_remove_broker()->set_node_id(2);
  Apply(remove, kafka::error::kInvalidRequest);  // not decommissioning
  Apply(CreateTopic("t", {{2}}));
  Apply(Decommission(2));
  Apply(remove, kafka::error::kInvalidRequest);  // still hosts t-0
  Apply(Decommission(2, /*cancel=*/true));
  EXPECT_FALSE(state_.FindBroker(2)->decommissioning());
  metapb::MetadataCommand del;
  del.mutable_delete_topic()->set_name("t");
  Apply(del);
  Apply(Decommission(2));
  Apply(remove);
  EXPECT_EQ(state_.FindBroker(2), nullptr);
  EXPECT_TRUE(state_.IsRemoved(2));
  Apply(Register(2), kafka::error::kInvalidRequest);
  // Survives a snapshot.
  absl::StatusOr<metadata::MetadataState> copy =
      metadata::MetadataState::FromSnapshot(state_.ToSnapshot());
  ASSERT_TRUE(copy.ok());
  EXPECT_TRUE(copy->IsRemoved(2));
  metapb::MetadataCommand rejoin = Register(2);
  rejoin.mutable_register_broker()->set_join(true);
  Apply(rejoin);
  EXPECT_FALSE(state_.IsRemoved(2));
  Apply(Decommission(7), kafka::error::kBrokerNotAvailable);
}

TEST(MetadataVotersFileTest, FoundersWriteItOnceJoinersNever) {
  std::mt19937_64 rng(1);
  sim::SimDisk disk(sim::SimDiskOptions{}, rng);
  config::ServerConfig config;
  config.mode = config::ServerConfig::Mode::kCluster;
  config.node_id = R(1);
  config.peers = {{R(0), "h", 1, 2, 0}, {R(1), "h", 3, 4, 0}};
  absl::StatusOr<MetadataGroupStart> first = StartMetadataGroup(&disk, config);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(first->voters, ElementsAre(R(1), R(0)));  // sorted Raft ids
  EXPECT_FALSE(first->joining);
  // The file wins over a cluster file that lists more peers since.
  config.peers.push_back({R(2), "h", 5, 6, 0});
  disk.Crash();  // it was synced
  absl::StatusOr<MetadataGroupStart> again = StartMetadataGroup(&disk, config);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->voters, first->voters);

  sim::SimDisk joiner_disk(sim::SimDiskOptions{}, rng);
  config.node_id = R(2);
  config.join = true;
  absl::StatusOr<MetadataGroupStart> joiner =
      StartMetadataGroup(&joiner_disk, config);
  ASSERT_TRUE(joiner.ok());
  EXPECT_TRUE(joiner->joining);
  EXPECT_TRUE(joiner->voters_unknown);
  EXPECT_FALSE(*joiner_disk.Exists(kMetadataVotersFile));

  auto file = disk.Create(kMetadataVotersFile);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("chronik-metadata-voters 1 0,x\n").ok());
  absl::StatusOr<MetadataGroupStart> bad = StartMetadataGroup(&disk, config);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(bad.status().message(), HasSubstr("metadata-voters"));
}

// --------------------------------------------------------- in process --

constexpr auto Batch = testing::ValuesBatch;

class ClusterMembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.StepUntil([&] { return cluster_.AllReady(); }));
    Create("t", 3, 3);
    ASSERT_EQ(Produce("t", 0, 5), 0);
  }

  int32_t Controller() { return cluster_.Metadata(1).controller_id; }

  void Create(const std::string& name, int partitions, int factor) {
    kafka::CreateTopicsRequest create;
    create.topics.push_back(
        {name, partitions, static_cast<int16_t>(factor), {}, {}});
    auto created =
        cluster_.Call<kafka::CreateTopicsResponse>(Controller(), create, 4);
    ASSERT_TRUE(created.has_value());
    ASSERT_EQ(created->topics.at(0).error_code, 0);
  }

  // Produces acks=all through the partition's leader; the base offset.
  int64_t Produce(const std::string& topic, int32_t partition, int records,
                  raft::NodeId ask = 1) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      int32_t leader = -1;
      for (const auto& t : cluster_.Metadata(ask).topics) {
        if (t.name == topic) leader = t.partitions.at(partition).leader_id;
      }
      if (leader >= 0 && cluster_.up(leader)) {
        kafka::ProduceRequest produce;
        produce.acks = -1;
        produce.timeout_ms = 5000;
        produce.topics.push_back({topic, {{partition, Batch(records)}}});
        auto r = cluster_.Call<kafka::ProduceResponse>(leader, produce, 9);
        if (r.has_value() && r->responses[0].partitions[0].error_code == 0) {
          return r->responses[0].partitions[0].base_offset;
        }
      }
      cluster_.Step();
    }
    return -1;
  }

  std::vector<int32_t> Voters(raft::NodeId id) {
    return cluster_.broker(id).Status().metadata.voters;
  }
  std::set<int32_t> Brokers(raft::NodeId id) {
    std::set<int32_t> ids;
    for (const auto& b : cluster_.Metadata(id).brokers) ids.insert(b.node_id);
    return ids;
  }
  int PartitionsOn(raft::NodeId observer, int32_t broker) {
    int count = 0;
    for (const auto& t : cluster_.Metadata(observer).topics) {
      for (const auto& p : t.partitions) {
        for (int32_t r : p.replica_nodes) count += r == broker ? 1 : 0;
      }
    }
    return count;
  }

  testing::InProcessCluster cluster_{
      3, /*seed=*/11, /*first_id=*/1, [](BrokerOptions& options) {
        // Snapshots stay rare: the joiner
        // forces one.
        options.metadata_snapshot_entries = 1'000'000;
      }};
};

TEST_F(ClusterMembershipTest, AJoinerBecomesAVoterAndServes) {
  cluster_.AddJoiningNode(4);
  ASSERT_TRUE(cluster_.StepUntil(
      [&] {
        return Voters(Controller()) == std::vector<int32_t>{1, 2, 3, 4};
      },
      600));
  ASSERT_TRUE(cluster_.StepUntil([&] { return cluster_.AllReady(); }));
  // It installed the controller's snapshot and holds the same state.
  EXPECT_GE(cluster_.broker(4).SnapshotStats().installed, 1u);
  ASSERT_TRUE(cluster_.StepUntil([&] {
    return cluster_.broker(4).MetadataImage() ==
           cluster_.broker(1).MetadataImage();
  }));
  EXPECT_EQ(Voters(4), (std::vector<int32_t>{1, 2, 3, 4}));
  EXPECT_EQ(Brokers(4), (std::set<int32_t>{1, 2, 3, 4}));
  EXPECT_TRUE(cluster_.broker(4).Status().metadata.config_mismatch.empty());
  // The old nodes' cluster file lists 1..3: they say it differs.
  EXPECT_THAT(cluster_.broker(1).Status().metadata.config_mismatch,
              HasSubstr("lists brokers [1,2,3]"));
  // New replicas go to it; with a voter down, four voters still commit.
  Create("four", 1, 4);
  EXPECT_EQ(Produce("four", 0, 3, 4), 0);
  cluster_.Crash(Controller() == 2 ? 3 : 2);
  EXPECT_EQ(Produce("t", 0, 1, 4), 5);
  // A founder restarted with the longer cluster file keeps its initial
  // voters (the metadata-voters file), so its membership stays right.
  const raft::NodeId restarted = Controller() == 1 ? 4 : 1;
  cluster_.Crash(restarted);
  cluster_.Start(restarted);
  ASSERT_TRUE(cluster_.StepUntil(
      [&] { return cluster_.broker(restarted).IsReady(); }, 600));
  EXPECT_EQ(Voters(restarted), (std::vector<int32_t>{1, 2, 3, 4}));
}

TEST_F(ClusterMembershipTest, ADecommissionedBrokerLeavesWithNothingLost) {
  cluster_.AddJoiningNode(4);
  ASSERT_TRUE(cluster_.StepUntil(
      [&] {
        return Voters(Controller()) == std::vector<int32_t>{1, 2, 3, 4};
      },
      600));
  const raft::NodeId leaving = static_cast<raft::NodeId>(Controller());
  const raft::NodeId observer = leaving == 1 ? 2 : 1;
  ASSERT_TRUE(cluster_.broker(observer).Decommission(leaving, false).ok());
  ASSERT_TRUE(cluster_.StepUntil(
      [&] {
        return Brokers(observer).count(leaving) == 0 &&
               PartitionsOn(observer, leaving) == 0;
      },
      2000));
  EXPECT_EQ(Voters(observer).size(), 3u);
  EXPECT_NE(Controller(), static_cast<int32_t>(leaving));
  ASSERT_TRUE(cluster_.StepUntil(
      [&] { return cluster_.broker(leaving).Status().removed; }));
  EXPECT_FALSE(cluster_.broker(leaving).IsReady());
  // The data moved with the replicas: the next offset follows the first 5.
  cluster_.Crash(leaving);
  EXPECT_EQ(Produce("t", 0, 1, observer), 5);
  // Judged on the committed view.
  EXPECT_EQ(cluster_.broker(observer).Decommission(leaving, false).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(cluster_.broker(observer).Decommission(99, false).code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(
      cluster_.broker(observer).Decommission(observer, false).message(),
      HasSubstr("topic 't' has replication factor 3 but only 2 live brokers"));
}

}  // namespace
}  // namespace chronik::broker
