// RaftHost membership changes: a node joins a running group as a learner,
// the group moves by joint consensus, and restarts, compaction and snapshots
// keep the applied membership.
#include <map>

#include "broker/replication/raft_host.h"
#include "broker/replication/raft_host_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::replication {
namespace {

using ::testing::ElementsAre;
using testing::Settle;
using testing::TestNode;

raft::ConfChange Change(std::vector<raft::ConfChangeSingle> changes) {
  raft::ConfChange change;
  change.changes = std::move(changes);
  return change;
}

// Snapshots of this test's groups carry no state worth restoring.
class RestoringApplier : public testing::RecordingApplier {
 public:
  absl::Status RestoreSnapshot(GroupId, const SnapshotImage&) override {
    return absl::OkStatus();
  }
};

class RaftHostMembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (raft::NodeId id = 1; id <= 4; ++id) {
      nodes_[id] = std::make_unique<TestNode>(id, id);
      all_[id] = nodes_[id].get();
      AddGroup(id);
    }
  }
  void AddGroup(raft::NodeId id) {
    appliers_[id] = RestoringApplier();
    GroupSpec spec{0, {1, 2, 3}, false, &appliers_[id]};
    spec.joining = id == 4;
    ASSERT_TRUE(nodes_[id]->host->AddGroup(spec).ok());
  }
  // Ticks everyone until a node leads; returns it (0: none).
  raft::NodeId ElectLeader() {
    for (int tick = 0; tick < 200; ++tick) {
      for (auto& [id, node] : nodes_) {
        if (node->host->is_leader(0)) return id;
      }
      for (auto& [id, node] : nodes_) node->host->Tick();
      Settle(all_);
    }
    return raft::kNoNode;
  }
  void Propose(raft::NodeId leader, const char* value) {
    ASSERT_TRUE(
        nodes_[leader]->host->Propose(0, raft::Bytes::Copy(value)).ok());
    Settle(all_);
  }
  std::vector<raft::NodeId> Voters(raft::NodeId id) {
    return nodes_[id]->host->membership(0)->voters;
  }
  std::map<raft::NodeId, std::unique_ptr<TestNode>> nodes_;
  std::map<raft::NodeId, TestNode*> all_;
  std::map<raft::NodeId, RestoringApplier> appliers_;
};

TEST_F(RaftHostMembershipTest, JoiningNodeNeverCampaignsBeforeItIsAVoter) {
  // Only node 4 runs: a joining node must not elect itself in a group it is
  // not a member of.
  for (int tick = 0; tick < 100; ++tick) nodes_[4]->host->Tick();
  std::vector<OutgoingMessage> outbox;
  nodes_[4]->host->Process(&outbox);
  EXPECT_TRUE(outbox.empty());
  EXPECT_FALSE(nodes_[4]->host->is_leader(0));
}

// A replica removed from a group, its log deleted, then added again starts
// with the group's initial voters, which may name it (even alone): it must
// not elect itself on an empty log (found by the simulator: a second leader
// of a partition in term 1).
TEST(RaftHostJoiningTest, JoiningInitialVoterWaitsForTheLeader) {
  TestNode node(3, 7);
  RestoringApplier applier;
  GroupSpec spec{5, {3}, false, &applier};
  spec.joining = true;
  ASSERT_TRUE(node.host->AddGroup(spec).ok());
  for (int tick = 0; tick < 100; ++tick) {
    node.host->Tick();
    std::vector<OutgoingMessage> outbox;
    node.host->Process(&outbox);
  }
  EXPECT_FALSE(node.host->is_leader(5));
  EXPECT_TRUE(node.host->Campaign(5).ok());
  std::vector<OutgoingMessage> outbox;
  node.host->Process(&outbox);
  EXPECT_FALSE(node.host->is_leader(5)) << "not even when asked to";
}

TEST_F(RaftHostMembershipTest, AddLearnerThenMoveByJointConsensus) {
  ASSERT_TRUE(nodes_[1]->host->Campaign(0).ok());
  Settle(all_);
  ASSERT_TRUE(nodes_[1]->host->is_leader(0));
  Propose(1, "a");
  ASSERT_TRUE(nodes_[1]
                  ->host
                  ->ProposeConfChange(
                      0, Change({{raft::ConfChangeType::kAddLearner, 4}}))
                  .ok());
  Settle(all_);
  for (raft::NodeId id = 1; id <= 4; ++id) {
    EXPECT_THAT(nodes_[id]->host->membership(0)->learners, ElementsAre(4))
        << "node " << id;
  }
  EXPECT_THAT(appliers_[4].applied[0], ElementsAre("a"));

  // Replace 1 by 4 in one joint change; the leader leaves the joint config
  // by itself, is no longer a voter and steps down.
  ASSERT_TRUE(nodes_[1]
                  ->host
                  ->ProposeConfChange(
                      0, Change({{raft::ConfChangeType::kAddVoter, 4},
                                 {raft::ConfChangeType::kRemoveNode, 1}}))
                  .ok());
  Settle(all_);
  for (raft::NodeId id = 2; id <= 4; ++id) {
    EXPECT_THAT(Voters(id), ElementsAre(2, 3, 4)) << "node " << id;
    EXPECT_TRUE(nodes_[id]->host->membership(0)->voters_outgoing.empty());
  }
  EXPECT_FALSE(nodes_[1]->host->is_leader(0));
  const raft::NodeId leader = ElectLeader();
  ASSERT_NE(leader, raft::kNoNode);
  EXPECT_NE(leader, 1u);
  Propose(leader, "b");
  EXPECT_THAT(appliers_[4].applied[0], ElementsAre("a", "b"));

  // A restart replays the conf changes from the log onto the initial voters.
  nodes_[4]->Restart(4, /*crash=*/true);
  AddGroup(4);
  EXPECT_THAT(Voters(4), ElementsAre(2, 3, 4));
  EXPECT_EQ(nodes_[4]->host->node(0)->Status().conf_state,
            *nodes_[4]->host->membership(0));
}

TEST_F(RaftHostMembershipTest, CompactionStoresTheMembershipAtItsIndex) {
  ASSERT_TRUE(nodes_[1]->host->Campaign(0).ok());
  Settle(all_);
  Propose(1, "a");
  const raft::Index before_change = appliers_[2].last_index[0];
  ASSERT_TRUE(nodes_[1]
                  ->host
                  ->ProposeConfChange(
                      0, Change({{raft::ConfChangeType::kAddLearner, 4}}))
                  .ok());
  Settle(all_);
  Propose(1, "b");
  TestNode& node = *nodes_[2];
  const raft::Index applied = appliers_[2].last_index[0];
  const raft::Term term = node.host->node(0)->term();
  // The membership at an index before the change is not known any more.
  EXPECT_EQ(
      node.host->CompactLog(0, SnapshotImage{before_change, term, 0, "img"})
          .code(),
      absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(
      node.host->CompactLog(0, SnapshotImage{applied, term, 0, "img"}).ok());
  Settle(all_);
  EXPECT_FALSE(node.store->group(0)->snapshot_meta().conf_state.empty());
  node.Restart(2, /*crash=*/false);
  AddGroup(2);
  EXPECT_THAT(node.host->membership(0)->voters, ElementsAre(1, 2, 3));
  EXPECT_THAT(node.host->membership(0)->learners, ElementsAre(4));
}

}  // namespace
}  // namespace chronik::replication
