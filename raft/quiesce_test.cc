// Quiescence (Config::quiesce, raft_quiesce.cc): idle groups stop ticking and
// wake on inputs or on the driver's word that members' nodes went silent.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "raft/raw_node.h"
#include "raft/test_cluster.h"
#include "raft/types.h"

namespace chronik::raft {
namespace {

void Quiesce(Config& c) { c.quiesce = true; }

// Ticks every node (quiesced ones ignore it) and lets everything settle.
void RunTicks(TestCluster& c, int ticks) {
  for (int i = 0; i < ticks; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
}

bool AllQuiesced(TestCluster& c) {
  for (NodeId id : c.ids()) {
    if (!c.node(id).quiesced()) return false;
  }
  return true;
}

NodeId LeaderOf(TestCluster& c) {
  NodeId leader = kNoNode;
  for (NodeId id : c.ids()) {
    if (c.node(id).is_leader()) leader = id;
  }
  return leader;
}

TEST(QuiesceTest, IdleGroupQuiescesAndThenSendsNothing) {
  TestCluster c(3, Quiesce);
  c.Elect(1);
  RunTicks(c, 3);
  ASSERT_TRUE(AllQuiesced(c));
  for (int i = 0; i < 50; ++i) {
    c.TickAll(1);
    for (NodeId id : c.ids()) EXPECT_FALSE(c.node(id).HasReady()) << id;
  }
  EXPECT_TRUE(c.network().empty());
  EXPECT_TRUE(c.node(1).is_leader());
}

TEST(QuiesceTest, WithoutTheOptionNothingQuiesces) {
  TestCluster c(3);
  c.Elect(1);
  RunTicks(c, 5);
  for (NodeId id : c.ids()) EXPECT_FALSE(c.node(id).quiesced()) << id;
}

TEST(QuiesceTest, ProposalWakesTheLeaderAndTheGroupQuiescesAgain) {
  TestCluster c(3, Quiesce);
  c.Elect(1);
  RunTicks(c, 3);
  ASSERT_TRUE(AllQuiesced(c));
  ASSERT_TRUE(c.node(1).Propose(Bytes::Own("x")).ok());
  EXPECT_FALSE(c.node(1).quiesced());
  c.Stabilize();
  EXPECT_FALSE(c.node(2).quiesced());  // the append woke it
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.storage(id).applied_entries.back().data.view(), "x") << id;
  }
  RunTicks(c, 3);
  EXPECT_TRUE(AllQuiesced(c));
}

TEST(QuiesceTest, LeaderDoesNotQuiesceWhileAFollowerLags) {
  TestCluster c(3, Quiesce);
  c.Elect(1);
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Own("x")).ok());
  RunTicks(c, 30);
  EXPECT_FALSE(c.node(1).quiesced());
  EXPECT_TRUE(c.node(1).is_leader());
  c.Heal();
  RunTicks(c, 5);
  EXPECT_TRUE(AllQuiesced(c));
  EXPECT_EQ(c.storage(3).applied_entries.back().data.view(), "x");
}

TEST(QuiesceTest, SilentLeaderNodeWakesFollowersWhichElectANewLeader) {
  TestCluster c(3, Quiesce);
  c.Elect(1);
  RunTicks(c, 3);
  ASSERT_TRUE(AllQuiesced(c));
  c.Isolate(1);  // its node crashed
  RunTicks(c, 40);
  EXPECT_EQ(LeaderOf(c), 1u) << "quiesced followers must wait for the driver";
  c.node(2).Wake({1});
  c.node(3).Wake({1});
  RunTicks(c, 25);
  const NodeId leader = c.node(2).leader();
  EXPECT_TRUE(leader == 2 || leader == 3) << leader;
  EXPECT_TRUE(c.node(leader).is_leader());
}

TEST(QuiesceTest, SilentLeaderNodeEndsItsLeaseAtOnce) {
  TestCluster c(3, Quiesce);
  c.Elect(1);
  RunTicks(c, 3);
  ASSERT_TRUE(AllQuiesced(c));
  c.Isolate(1);
  c.node(2).Wake({1});
  c.node(3).Wake({1});
  // Node 3 heard nothing of node 1 for an election timeout: it grants node
  // 2's votes now, as it would have had it been ticking all along.
  c.node(2).Campaign();
  c.Stabilize();
  EXPECT_TRUE(c.node(2).is_leader());
}

TEST(QuiesceTest, QuiescedLeaderStepsDownWhenAQuorumIsSilent) {
  TestCluster c(3, Quiesce);
  c.Elect(1);
  RunTicks(c, 3);
  ASSERT_TRUE(AllQuiesced(c));
  c.node(1).Wake({2});  // one follower silent: a quorum is still there
  EXPECT_TRUE(c.node(1).is_leader());
  EXPECT_FALSE(c.node(1).quiesced());
  c.node(1).Wake({2, 3});
  EXPECT_FALSE(c.node(1).is_leader());
}

TEST(QuiesceTest, LeaderStaysAwakeWhileAFollowerIsSilent) {
  TestCluster c(3, Quiesce);
  c.Elect(1);
  RunTicks(c, 3);
  ASSERT_TRUE(AllQuiesced(c));
  c.Isolate(3);
  c.node(1).Wake({3});
  RunTicks(c, 30);
  EXPECT_FALSE(c.node(1).quiesced()) << "keeps heartbeating a silent follower";
  EXPECT_TRUE(c.node(1).is_leader());
}

TEST(QuiesceTest, AVoteRequestWakesAFollowerWhichWakesItsLeader) {
  TestCluster c(3, Quiesce);
  c.Elect(1);
  RunTicks(c, 3);
  ASSERT_TRUE(AllQuiesced(c));
  const Term term = c.node(1).term();
  // Node 3 lost its leader's node (it alone), so it campaigns.
  c.node(3).Wake({1});
  c.Isolate(3);
  RunTicks(c, 30);  // 3's pre-votes are lost while isolated
  c.Heal();
  c.node(3).Campaign();
  c.ProcessReady(3);
  // Only node 2 hears node 3's pre-vote: node 1 must learn of it from 2.
  c.Drop([](const Message& m) { return m.from == 3 && m.to == 1; });
  c.Stabilize();
  EXPECT_FALSE(c.node(2).quiesced());
  EXPECT_FALSE(c.node(1).quiesced()) << "node 2 did not wake its leader";
  RunTicks(c, 40);
  EXPECT_EQ(LeaderOf(c), 1u);
  EXPECT_EQ(c.node(1).term(), term);
  for (NodeId id : c.ids()) {
    EXPECT_TRUE(c.node(id).quiesced())
        << id << " role " << RoleName(c.node(id).Status().role) << " lead "
        << c.node(id).leader();
  }
}

}  // namespace
}  // namespace chronik::raft
