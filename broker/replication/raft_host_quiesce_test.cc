// RaftHost quiescence: idle groups cost nothing but one heartbeat per pair of
// nodes; silent or restarted member nodes wake them (raft_host.h).
#include <map>
#include <string>
#include <vector>

#include "broker/replication/raft_host.h"
#include "broker/replication/raft_host_test_util.h"
#include "gtest/gtest.h"

namespace chronik::replication {
namespace {

using testing::RecordingApplier;
using testing::TestNode;

constexpr int kElectionTicks = 10;  // HostOptions' default

class RaftHostQuiesceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (raft::NodeId id : {1, 2, 3}) {
      nodes_[id] = std::make_unique<TestNode>(id, id);
      nodes_[id]->quiesce = true;
      nodes_[id]->incarnation = 100 + id;
      nodes_[id]->Restart(id, /*crash=*/false);
      for (GroupId g = 1; g <= kGroups; ++g) AddGroup(id, g);
    }
    for (GroupId g = 1; g <= kGroups; ++g) {
      ASSERT_TRUE(nodes_[1]->host->Campaign(g).ok());
    }
    Run({1, 2, 3}, 5);
  }
  void AddGroup(raft::NodeId id, GroupId g) {
    GroupSpec spec;
    spec.group_id = g;
    spec.voters = {1, 2, 3};
    spec.applier = &nodes_[id]->applier;
    spec.quiesce = true;
    ASSERT_TRUE(nodes_[id]->host->AddGroup(spec).ok());
  }
  // Ticks the `live` nodes `ticks` times, delivering their messages among
  // them after each tick (what goes to others is lost); returns how many
  // messages of each type were sent.
  std::map<raft::MessageType, int> Run(const std::vector<raft::NodeId>& live,
                                       int ticks) {
    std::map<raft::MessageType, int> sent;
    for (int t = 0; t < ticks; ++t) {
      for (raft::NodeId id : live) nodes_[id]->host->Tick();
      Pump(live, &sent);
    }
    return sent;
  }
  void Pump(const std::vector<raft::NodeId>& live,
            std::map<raft::MessageType, int>* sent) {
    for (int round = 0; round < 100; ++round) {
      std::vector<OutgoingMessage> outbox;
      for (raft::NodeId id : live) nodes_[id]->host->Process(&outbox);
      if (outbox.empty()) return;
      for (OutgoingMessage& out : outbox) {
        ++(*sent)[out.message.type];
        const raft::NodeId to = out.message.to;
        if (std::find(live.begin(), live.end(), to) == live.end()) continue;
        nodes_[to]
            ->host->Step(out.group_id, std::move(out.message))
            .IgnoreError();
      }
    }
    FAIL() << "did not settle";
  }
  size_t Quiesced(raft::NodeId id) {
    return nodes_[id]->host->quiesced_groups();
  }
  raft::NodeId LeaderOf(GroupId g, const std::vector<raft::NodeId>& among) {
    for (raft::NodeId id : among) {
      if (nodes_[id]->host->is_leader(g)) return id;
    }
    return raft::kNoNode;
  }

  static constexpr GroupId kGroups = 10;
  std::map<raft::NodeId, std::unique_ptr<TestNode>> nodes_;
};

TEST_F(RaftHostQuiesceTest, IdleGroupsSendOnlyOneHeartbeatPerNodePair) {
  for (raft::NodeId id : {1, 2, 3}) EXPECT_EQ(Quiesced(id), kGroups) << id;
  std::map<raft::MessageType, int> sent = Run({1, 2, 3}, 20);
  // Each node tells each of its 2 peers once per tick (heartbeat interval),
  // whatever the number of groups.
  EXPECT_EQ(sent[raft::MessageType::kNodeHeartbeat], 20 * 3 * 2);
  EXPECT_EQ(sent.size(), 1u) << "only node heartbeats";
  EXPECT_EQ(LeaderOf(1, {1, 2, 3}), 1u);
}

TEST_F(RaftHostQuiesceTest, WithoutQuiescenceEveryGroupHeartbeats) {
  for (raft::NodeId id : {1, 2, 3}) {
    nodes_[id]->quiesce = false;
    nodes_[id]->Restart(id, /*crash=*/false);
    for (GroupId g = 1; g <= kGroups; ++g) AddGroup(id, g);
  }
  Run({1, 2, 3}, 30);
  std::map<raft::MessageType, int> sent = Run({1, 2, 3}, 20);
  EXPECT_EQ(Quiesced(1), 0u);
  EXPECT_EQ(sent[raft::MessageType::kNodeHeartbeat], 0);
  EXPECT_GE(sent[raft::MessageType::kHeartbeat], 20 * kGroups * 2);
}

TEST_F(RaftHostQuiesceTest, ProposalWakesTheGroupWhichQuiescesAgain) {
  auto proposed = nodes_[1]->host->Propose(3, raft::Bytes::Own("x"));
  ASSERT_TRUE(proposed.ok()) << proposed.status();
  EXPECT_EQ(Quiesced(1), kGroups - 1);
  Run({1, 2, 3}, 1);
  for (raft::NodeId id : {1, 2, 3}) {
    EXPECT_EQ(nodes_[id]->applier.applied[3], std::vector<std::string>{"x"})
        << id;
  }
  Run({1, 2, 3}, 3);
  for (raft::NodeId id : {1, 2, 3}) EXPECT_EQ(Quiesced(id), kGroups) << id;
}

TEST_F(RaftHostQuiesceTest, LeaderNodeCrashElectsNewLeaders) {
  std::map<raft::MessageType, int> sent = Run({2, 3}, 4 * kElectionTicks);
  EXPECT_GT(sent[raft::MessageType::kPreVote], 0);
  for (GroupId g = 1; g <= kGroups; ++g) {
    EXPECT_NE(LeaderOf(g, {2, 3}), raft::kNoNode) << "group " << g;
  }
}

TEST_F(RaftHostQuiesceTest, IsolatedQuiescedLeaderStepsDown) {
  Run({1}, kElectionTicks + 1);
  for (GroupId g = 1; g <= kGroups; ++g) {
    EXPECT_FALSE(nodes_[1]->host->is_leader(g)) << "group " << g;
  }
}

TEST_F(RaftHostQuiesceTest, QuiescedLeaderKeepsLeadingWithoutOneFollower) {
  Run({1, 2}, 3 * kElectionTicks);
  for (GroupId g = 1; g <= kGroups; ++g) {
    EXPECT_TRUE(nodes_[1]->host->is_leader(g)) << "group " << g;
  }
  EXPECT_EQ(Quiesced(1), 0u) << "a silent follower keeps its leaders awake";
}

TEST_F(RaftHostQuiesceTest, RestartedLeaderNodeWakesItsFollowersAtOnce) {
  nodes_[1]->incarnation = 999;
  nodes_[1]->Restart(1, /*crash=*/false);
  for (GroupId g = 1; g <= kGroups; ++g) AddGroup(1, g);
  Run({1, 2, 3}, 1);  // the restarted node's first node heartbeat
  EXPECT_EQ(Quiesced(2), 0u);
  EXPECT_EQ(Quiesced(3), 0u);
  Run({1, 2, 3}, 3 * kElectionTicks);
  for (GroupId g = 1; g <= kGroups; ++g) {
    EXPECT_NE(LeaderOf(g, {1, 2, 3}), raft::kNoNode) << "group " << g;
  }
}

TEST_F(RaftHostQuiesceTest, RestartedFollowerNodeLearnsItsLeadersAtOnce) {
  // Node 3 restarts and runs group 1 at once (as a broker its metadata
  // group), the others only later (a broker creates its partitions' groups
  // once it has caught up with the metadata): the heartbeats its new
  // incarnation woke the leaders for find no group there. The leaders must
  // keep heartbeating until node 3 answers, not quiesce again on what they
  // knew of it before the restart.
  nodes_[3]->incarnation = 999;
  nodes_[3]->Restart(3, /*crash=*/false);
  AddGroup(3, 1);
  Run({1, 2, 3}, 2);  // node 3's first node heartbeat wakes node 1's groups
  for (GroupId g = 2; g <= kGroups; ++g) {
    EXPECT_EQ(nodes_[3]->host->leader(g), raft::kNoNode) << "group " << g;
    AddGroup(3, g);
  }
  Run({1, 2, 3}, 3);  // well within an election timeout
  for (GroupId g = 1; g <= kGroups; ++g) {
    EXPECT_EQ(nodes_[3]->host->leader(g), 1u) << "group " << g;
  }
  Run({1, 2, 3}, 3);
  for (raft::NodeId id : {1, 2, 3}) EXPECT_EQ(Quiesced(id), kGroups) << id;
}

// The per-step work is proportional to the active groups: idle steps visit
// no group, one busy group among many costs about what it alone would.
TEST_F(RaftHostQuiesceTest, StepsVisitOnlyActiveGroups) {
  constexpr GroupId kMany = 100;
  for (raft::NodeId id : {1, 2, 3}) {
    for (GroupId g = kGroups + 1; g <= kMany; ++g) AddGroup(id, g);
  }
  for (GroupId g = kGroups + 1; g <= kMany; ++g) {
    ASSERT_TRUE(nodes_[1]->host->Campaign(g).ok());
  }
  Run({1, 2, 3}, 10);
  std::map<raft::NodeId, uint64_t> before;
  for (raft::NodeId id : {1, 2, 3}) {
    ASSERT_EQ(Quiesced(id), kMany) << id;
    EXPECT_EQ(nodes_[id]->host->active_groups(), 0u) << id;
    before[id] = nodes_[id]->host->groups_visited();
  }
  constexpr int kTicks = 20;
  Run({1, 2, 3}, kTicks);
  for (raft::NodeId id : {1, 2, 3}) {
    EXPECT_EQ(nodes_[id]->host->groups_visited() - before[id], 0u)
        << "node " << id << ": idle ticks and steps visited groups";
    EXPECT_FALSE(nodes_[id]->host->HasWork());
    before[id] = nodes_[id]->host->groups_visited();
  }
  // One busy group: far fewer visits than one per group and tick.
  for (int i = 0; i < kTicks; ++i) {
    ASSERT_TRUE(nodes_[1]->host->Propose(7, raft::Bytes::Own("x")).ok());
    Run({1, 2, 3}, 1);
  }
  for (raft::NodeId id : {1, 2, 3}) {
    EXPECT_EQ(nodes_[id]->applier.applied[7].size(), size_t{kTicks}) << id;
    EXPECT_LT(nodes_[id]->host->groups_visited() - before[id], kTicks * kMany)
        << "node " << id;
  }
}

// No lost wakeups: every kind of input reaches a group outside the active
// set (a proposal's appends reach idle followers in the test above).
TEST_F(RaftHostQuiesceTest, IdleGroupsStillAnswerEveryInput) {
  for (raft::NodeId id : {1, 2, 3}) {
    ASSERT_EQ(nodes_[id]->host->active_groups(), 0u) << id;
  }
  // A campaign against a live leader: its pre-vote goes out (and loses).
  ASSERT_TRUE(nodes_[2]->host->Campaign(5).ok());
  EXPECT_GT(Run({1, 2, 3}, 1)[raft::MessageType::kPreVote], 0);
  ASSERT_TRUE(nodes_[1]->host->ReadIndex(4, raft::Bytes::Own("r")).ok());
  ASSERT_TRUE(nodes_[1]->host->TransferLeadership(6, 3).ok());
  Run({1, 2, 3}, 3 * kElectionTicks);
  ASSERT_EQ(nodes_[1]->applier.reads[4].size(), 1u);
  EXPECT_EQ(nodes_[1]->applier.reads[4][0].second, "r");
  EXPECT_EQ(LeaderOf(6, {1, 2, 3}), 3u);
  for (raft::NodeId id : {1, 2, 3}) {
    EXPECT_EQ(nodes_[id]->applier.leaders[6], 3u) << id;
    EXPECT_EQ(Quiesced(id), kGroups) << id;
  }
}

// A peer that falls silent long after its groups went idle (no tick watches
// them one by one any more) still wakes them: its groups elect new leaders.
TEST_F(RaftHostQuiesceTest, PeerFallingSilentLongAfterIdleWakesItsGroups) {
  Run({1, 2, 3}, 5 * kElectionTicks);
  for (raft::NodeId id : {1, 2, 3}) {
    ASSERT_EQ(nodes_[id]->host->active_groups(), 0u) << id;
  }
  Run({2, 3}, 4 * kElectionTicks);
  for (GroupId g = 1; g <= kGroups; ++g) {
    EXPECT_NE(LeaderOf(g, {2, 3}), raft::kNoNode) << "group " << g;
    EXPECT_NE(nodes_[2]->applier.leaders[g], 1u) << "group " << g;
  }
}

}  // namespace
}  // namespace chronik::replication
