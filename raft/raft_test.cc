// Unit tests of the Raft rules, each on a small in-process cluster
// (test_cluster.h).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "raft/raw_node.h"
#include "raft/test_cluster.h"
#include "raft/types.h"

namespace chronik::raft {
namespace {

std::vector<Entry> EntriesWithTerms(const std::vector<Term>& terms) {
  std::vector<Entry> out;
  for (size_t i = 0; i < terms.size(); ++i) {
    out.push_back(Entry{terms[i], i + 1, EntryType::kNormal,
                        Bytes::Own(std::to_string(terms[i]))});
  }
  return out;
}

// Rewrites node `id`'s storage with `terms` and restarts it.
void SetLog(TestCluster& c, NodeId id, const std::vector<Term>& terms,
            Term term, Index commit) {
  MemStorage& s = c.storage(id);
  s.entries = EntriesWithTerms(terms);
  s.hard_state = HardState{term, kNoNode, commit};
  s.applied = commit;
  s.applied_entries.assign(s.entries.begin(), s.entries.begin() + commit);
  c.Restart(id);
}

std::vector<Term> Terms(const MemStorage& s) {
  std::vector<Term> out;
  for (const Entry& e : s.entries) out.push_back(e.term);
  return out;
}

NodeId LeaderOf(TestCluster& c) {
  NodeId leader = kNoNode;
  for (NodeId id : c.ids()) {
    if (c.node(id).is_leader()) {
      EXPECT_EQ(leader, kNoNode) << "two leaders";
      leader = id;
    }
  }
  return leader;
}

void NoPreVote(Config& c) {
  c.pre_vote = false;
  c.check_quorum = false;
}

TEST(ElectionTest, SingleNodeElectsItselfOnlyAfterPersistingItsVote) {
  TestCluster c(1, NoPreVote);
  c.node(1).Campaign();
  Ready rd = c.node(1).GetReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term, 1u);
  EXPECT_EQ(rd.hard_state->vote, 1u);
  EXPECT_FALSE(c.node(1).is_leader()) << "counted a vote that is not durable";
  c.node(1).OnPersisted(rd.persist_ack);
  EXPECT_TRUE(c.node(1).is_leader());
}

TEST(ElectionTest, ThreeNodesElectAndReplicate) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("a")).ok());
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("b")).ok());
  c.Stabilize();
  for (NodeId id : c.ids()) {
    const MemStorage& s = c.storage(id);
    ASSERT_EQ(s.applied_entries.size(), 3u)
        << id;  // empty leader entry + a + b
    EXPECT_EQ(s.applied_entries[1].data.view(), "a");
    EXPECT_EQ(s.applied_entries[2].data.view(), "b");
    EXPECT_EQ(c.node(id).leader(), 1u);
  }
}

TEST(ElectionTest, StaleLogIsRejected) {
  TestCluster c(3, NoPreVote);
  SetLog(c, 1, {1}, 2, 0);
  SetLog(c, 2, {1, 2}, 2, 0);
  SetLog(c, 3, {1, 2}, 2, 0);
  c.node(1).Campaign();
  c.Stabilize();
  EXPECT_FALSE(c.node(1).is_leader());
  EXPECT_EQ(c.node(1).Status().hard_state.term, 3u);
  c.node(2).Campaign();
  c.Stabilize();
  EXPECT_TRUE(c.node(2).is_leader());
}

TEST(ElectionTest, SplitVoteThenRandomizedTimeoutsElectOne) {
  TestCluster c(4, NoPreVote);
  c.node(1).Campaign();
  c.node(2).Campaign();
  for (NodeId id : {1, 2}) c.ProcessReady(id);
  // 3 hears from 1 first, 4 from 2 first: 2 votes each, 3 needed.
  c.Drop([](const Message& m) {
    return m.type == MessageType::kVote &&
           ((m.to == 3 && m.from == 2) || (m.to == 4 && m.from == 1));
  });
  c.Stabilize();
  EXPECT_EQ(LeaderOf(c), kNoNode);
  for (int i = 0; i < 100 && LeaderOf(c) == kNoNode; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  const NodeId leader = LeaderOf(c);
  ASSERT_NE(leader, kNoNode);
  EXPECT_GE(c.node(leader).Status().hard_state.term, 2u);
}

TEST(ElectionTest, PartitionedLeaderStepsDownWithCheckQuorum) {
  TestCluster c(3);
  c.Elect(1);
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(c.node(id).Status().election_timeouts, 0u) << id;
    EXPECT_EQ(c.node(id).Status().quorum_step_downs, 0u) << id;
  }
  c.Isolate(1);
  for (int i = 0; i < 25; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  EXPECT_FALSE(c.node(1).is_leader());
  const NodeId leader = LeaderOf(c);
  ASSERT_TRUE(leader == 2 || leader == 3);
  // The counters say why: the old leader lost its quorum, the new one's
  // election timer ran out.
  EXPECT_EQ(c.node(1).Status().quorum_step_downs, 1u);
  EXPECT_GE(c.node(leader).Status().election_timeouts, 1u);
  EXPECT_EQ(c.node(leader).Status().quorum_step_downs, 0u);
  c.Heal();
  c.TickAll(1);
  c.Stabilize();
  EXPECT_EQ(c.node(1).leader(), leader);
  EXPECT_EQ(c.node(1).Status().hard_state.term,
            c.node(leader).Status().hard_state.term);
}

TEST(ElectionTest, PreVoteKeepsIsolatedNodeFromBumpingTerms) {
  TestCluster c(3);
  c.Elect(1);
  const Term term = c.node(1).Status().hard_state.term;
  c.Isolate(3);
  for (int i = 0; i < 50; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.node(3).Status().hard_state.term, term);
  c.Heal();
  for (int i = 0; i < 5; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  EXPECT_TRUE(c.node(1).is_leader());
  EXPECT_EQ(c.node(1).Status().hard_state.term, term);
}

TEST(ElectionTest, LeaseIgnoresDisruptiveVoteRequests) {
  TestCluster c(3, [](Config& cfg) { cfg.pre_vote = false; });
  c.Elect(1);
  c.node(3).Campaign();  // term 2, but 1 and 2 heard from the leader recently
  c.Stabilize();
  EXPECT_TRUE(c.node(1).is_leader() || c.node(2).is_leader() ||
              c.node(3).is_leader());
  EXPECT_EQ(c.node(2).Status().hard_state.term, 1u);
}

TEST(PersistenceTest, FollowerAcksAppendsOnlyAfterPersist) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  c.ProcessReady(1);
  c.Deliver(2);
  Ready rd = c.node(2).GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  for (const Message& m : rd.messages) {
    EXPECT_NE(m.type, MessageType::kAppendResponse) << DescribeMessage(m);
  }
  ASSERT_EQ(rd.messages_after_persist.size(), 1u);
  EXPECT_EQ(rd.messages_after_persist[0].type, MessageType::kAppendResponse);
  EXPECT_EQ(rd.messages_after_persist[0].index, rd.entries.back().index);
}

TEST(PersistenceTest, VoteResponsesWaitForPersist) {
  for (bool bug : {false, true}) {
    TestCluster c(3, [bug](Config& cfg) {
      NoPreVote(cfg);
      cfg.injected_bugs.answer_vote_before_persisting = bug;
    });
    c.node(1).Campaign();
    c.ProcessReady(1);
    c.Deliver(2);
    Ready rd = c.node(2).GetReady();
    ASSERT_TRUE(rd.hard_state.has_value());
    EXPECT_EQ(rd.hard_state->vote, 1u);
    const auto& early = rd.messages;
    const bool sent_early =
        std::any_of(early.begin(), early.end(), [](const Message& m) {
          return m.type == MessageType::kVoteResponse && !m.reject;
        });
    EXPECT_EQ(sent_early, bug);
    EXPECT_EQ(rd.messages_after_persist.size(), bug ? 0u : 1u);
  }
}

TEST(PersistenceTest, LeaderCountsItselfOnlyOnceDurable) {
  TestCluster c(3);
  c.Elect(1);
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  Ready rd = c.node(1).GetReady();
  const Index index = rd.entries.back().index;
  // Appends go out before the leader's own write is durable.
  ASSERT_FALSE(rd.messages.empty());
  for (Message& m : rd.messages) {
    if (m.to == 2) c.network().push_back(m);
  }
  c.Deliver(2);
  c.ProcessReady(2);
  c.Deliver(1);
  // Only 2 of 3 hold it durably if the leader counts itself: it must not yet.
  EXPECT_LT(c.node(1).Status().hard_state.commit, index);
  c.node(1).OnPersisted(rd.persist_ack);
  EXPECT_EQ(c.node(1).Status().hard_state.commit, index);
}

// The Raft paper's figure 8: a leader must not commit an entry of an earlier
// term by counting replicas; only an entry of its own term commits (and
// everything before).
TEST(CommitTest, Figure8OnlyCurrentTermEntriesCommitByCounting) {
  for (bool bug : {false, true}) {
    TestCluster c(3, [bug](Config& cfg) {
      NoPreVote(cfg);
      cfg.injected_bugs.commit_old_term_by_counting = bug;
    });
    SetLog(c, 1, {1, 2}, 3, 1);
    SetLog(c, 2, {1}, 3, 1);
    SetLog(c, 3, {1}, 3, 1);
    c.node(1).Campaign();
    c.Stabilize();
    ASSERT_TRUE(c.node(1).is_leader());
    // Restart the same logs under the term-4 leader, and let the leader see
    // only an ack of index 2 (term 2) from node 2: a majority holds it.
    c.network().clear();
    TestCluster d(3, [bug](Config& cfg) {
      NoPreVote(cfg);
      cfg.injected_bugs.commit_old_term_by_counting = bug;
    });
    SetLog(d, 1, {1, 2}, 3, 1);
    SetLog(d, 2, {1}, 3, 1);
    SetLog(d, 3, {1}, 3, 1);
    d.node(1).Campaign();
    d.ProcessReady(1);
    d.Deliver(2);
    d.Deliver(3);
    d.ProcessReady(2);
    d.ProcessReady(3);
    d.Drop([](const Message& m) { return m.to != 1; });
    d.Deliver(1);
    ASSERT_TRUE(d.node(1).is_leader());
    d.ProcessReady(1);  // persists the term-4 entry 3/4 locally
    d.network().clear();
    Message ack;
    ack.type = MessageType::kAppendResponse;
    ack.from = 2;
    ack.to = 1;
    ack.term = 4;
    ack.index = 2;
    ASSERT_TRUE(d.node(1).Step(ack).ok());
    EXPECT_EQ(d.node(1).Status().hard_state.commit, bug ? 2u : 1u);
    ack.index = 3;
    ASSERT_TRUE(d.node(1).Step(ack).ok());
    EXPECT_EQ(d.node(1).Status().hard_state.commit, 3u);
  }
}

// The Raft paper's figure 7: a new leader brings every follower's log to its
// own.
TEST(ReplicationTest, Figure7LeaderRepairsEveryFollowerLog) {
  TestCluster c(7, NoPreVote);
  const std::vector<Term> leader = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  SetLog(c, 1, leader, 7, 3);
  SetLog(c, 2, {1, 1, 1, 4, 4, 5, 5, 6, 6}, 7, 3);           // a
  SetLog(c, 3, {1, 1, 1, 4}, 7, 3);                          // b
  SetLog(c, 4, {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}, 7, 3);     // c
  SetLog(c, 5, {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}, 7, 3);  // d
  SetLog(c, 6, {1, 1, 1, 4, 4, 4, 4}, 7, 3);                 // e
  SetLog(c, 7, {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}, 7, 3);     // f
  c.node(1).Campaign();
  std::string transcript = c.Stabilize();
  ASSERT_TRUE(c.node(1).is_leader());
  std::vector<Term> want = leader;
  want.push_back(8);
  for (NodeId id : c.ids()) {
    EXPECT_EQ(Terms(c.storage(id)), want) << "node " << id;
    EXPECT_EQ(c.storage(id).applied, 11u) << "node " << id;
  }
  // Fast backtracking: no follower needs more than two rejections.
  for (NodeId id = 2; id <= 7; ++id) {
    int rejections = 0;
    size_t pos = 0;
    const std::string needle = absl::StrCat(id, "->1 AppResp Term:8 Log:0/");
    while ((pos = transcript.find(needle, pos)) != std::string::npos) {
      size_t eol = transcript.find('\n', pos);
      if (transcript.substr(pos, eol - pos).find("Rejected") !=
          std::string::npos) {
        ++rejections;
      }
      pos = eol;
    }
    EXPECT_LE(rejections, 2) << "node " << id;
  }
}

TEST(ReplicationTest, FollowerProposalRejectedWithLeaderId) {
  TestCluster c(3);
  c.Elect(2);
  absl::Status s = c.node(1).Propose(Bytes::Copy("x"));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(s.message(), "leader=2")) << s;
}

TEST(ReplicationTest, ProposalsAreBatchedPerMessage) {
  TestCluster c(3);
  c.Elect(1);
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("p")).ok());
  Ready rd = c.node(1).GetReady();
  int appends_to_2 = 0;
  for (const Message& m : rd.messages) {
    if (m.to == 2 && m.type == MessageType::kAppend) {
      ++appends_to_2;
      EXPECT_EQ(m.entries.size(), 50u);
    }
  }
  EXPECT_EQ(appends_to_2, 1);
}

TEST(ReplicationTest, PayloadsAreSharedNotCopied) {
  TestCluster c(3);
  c.Elect(1);
  Bytes payload = Bytes::Copy("shared");
  ASSERT_TRUE(c.node(1).Propose(payload).ok());
  Ready rd = c.node(1).GetReady();
  for (const Message& m : rd.messages) {
    ASSERT_EQ(m.entries.size(), 1u);
    EXPECT_TRUE(m.entries[0].data.SharesBufferWith(payload));
  }
  EXPECT_TRUE(rd.entries[0].data.SharesBufferWith(payload));
}

TEST(FlowControlTest, InflightLimitsByCountAndBytes) {
  for (bool by_bytes : {false, true}) {
    TestCluster c(3, [by_bytes](Config& cfg) {
      cfg.max_entries_bytes_per_msg = 10;
      if (by_bytes) {
        cfg.max_inflight_bytes = 30;
      } else {
        cfg.max_inflight_msgs = 2;
      }
    });
    c.Elect(1);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("0123456789")).ok());
    }
    Ready rd = c.node(1).GetReady();
    int to_2 = 0;
    for (const Message& m : rd.messages) to_2 += m.to == 2;
    EXPECT_EQ(to_2, by_bytes ? 3 : 2);
    EXPECT_EQ(c.node(1).Status().progress[0].state, ProgressState::kReplicate);
    // Everything still gets through once acks flow.
    c.node(1).OnPersisted(rd.persist_ack);
    for (Message& m : rd.messages) c.network().push_back(std::move(m));
    c.Stabilize();
    EXPECT_EQ(c.storage(2).applied, 21u);
  }
}

TEST(FlowControlTest, MaxUncommittedBytes) {
  TestCluster c(3, [](Config& cfg) { cfg.max_uncommitted_entries_bytes = 10; });
  c.Elect(1);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("12345678")).ok());
  EXPECT_EQ(c.node(1).Propose(Bytes::Copy("12345")).code(),
            absl::StatusCode::kUnavailable);
  c.Stabilize();
  EXPECT_TRUE(c.node(1).Propose(Bytes::Copy("12345")).ok());
}

TEST(FlowControlTest, LostAppendIsRecoveredByHeartbeat) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  c.Isolate(3);
  c.Stabilize();
  c.Heal();
  EXPECT_LT(c.storage(3).applied, 2u);
  for (int i = 0; i < 3; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.storage(3).applied, 2u);
}

TEST(TransferTest, TimeoutNowTransfersAndProposalsAreRefusedMeanwhile) {
  TestCluster c(3);
  c.Elect(1);
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  c.Stabilize();
  c.Heal();
  ASSERT_TRUE(c.node(1).TransferLeadership(3).ok());
  EXPECT_EQ(c.node(1).Propose(Bytes::Copy("y")).code(),
            absl::StatusCode::kUnavailable);
  for (int i = 0; i < 3; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  EXPECT_TRUE(c.node(3).is_leader());
  EXPECT_EQ(c.node(1).leader(), 3u);
  EXPECT_TRUE(c.node(3).Propose(Bytes::Copy("z")).ok());
}

TEST(TransferTest, TransferTimesOut) {
  TestCluster c(3);
  c.Elect(1);
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).TransferLeadership(3).ok());
  c.Stabilize();
  c.TickAll(10);
  c.Stabilize();
  EXPECT_TRUE(c.node(1).is_leader());
  EXPECT_TRUE(c.node(1).Propose(Bytes::Copy("y")).ok());
}

// A node told not to campaign (a broker shutting down) starts no election:
// not on its timeout, not on Campaign(), not on a leader's TimeoutNow; a
// candidate gives up. Allowed again, it campaigns as before.
TEST(ElectionTest, NodeThatMayNotCampaignNeverStartsAnElection) {
  TestCluster c(3);
  c.Elect(1);
  c.node(2).SetCampaignAllowed(false);
  c.Isolate(1);
  c.Isolate(3);  // node 2 hears from nobody: its election timer fires
  for (int i = 0; i < 10; ++i) {
    c.TickAll(5);
    c.Stabilize();
  }
  c.node(2).Campaign();
  c.Stabilize();
  EXPECT_EQ(c.node(2).Status().role, Role::kFollower);
  EXPECT_EQ(c.node(2).term(), 1u);
  c.Heal();
  NodeId leader = kNoNode;
  for (int i = 0; i < 40 && leader == kNoNode; ++i) {
    c.TickAll(1);
    c.Stabilize();
    leader = LeaderOf(c);
  }
  ASSERT_NE(leader, kNoNode);
  EXPECT_NE(leader, 2u);
  // Leadership offered to it is declined.
  ASSERT_TRUE(c.node(leader).TransferLeadership(2).ok());
  for (int i = 0; i < 3; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  EXPECT_FALSE(c.node(2).is_leader());
  EXPECT_EQ(c.node(2).term(), c.node(leader).term());
  // A candidate told to stop gives up its election.
  c.node(2).SetCampaignAllowed(true);
  c.Isolate(1);
  c.Isolate(3);
  c.node(2).Campaign();
  EXPECT_EQ(c.node(2).Status().role, Role::kPreCandidate);
  c.node(2).SetCampaignAllowed(false);
  EXPECT_EQ(c.node(2).Status().role, Role::kFollower);
  // Allowed again, it campaigns.
  c.node(2).SetCampaignAllowed(true);
  c.Heal();
  c.Stabilize();
  c.Isolate(leader);
  const NodeId other = leader == 1 ? 3 : 1;
  for (int i = 0;
       i < 60 && !c.node(2).is_leader() && !c.node(other).is_leader(); ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  EXPECT_TRUE(c.node(2).is_leader() || c.node(other).is_leader());
}

ConfChange Change(std::vector<ConfChangeSingle> changes, bool joint = false) {
  ConfChange cc;
  cc.changes = std::move(changes);
  cc.joint = joint;
  return cc;
}

TEST(MembershipTest, LearnerCatchesUpButDoesNotVoteOrCount) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("before")).ok());
  c.Stabilize();
  c.AddNode(4, {1, 2, 3}, {});
  ASSERT_TRUE(c.node(1)
                  .ProposeConfChange(Change({{ConfChangeType::kAddLearner, 4}}))
                  .ok());
  c.Stabilize();
  EXPECT_EQ(c.node(1).Status().conf_state.learners, std::vector<NodeId>{4});
  EXPECT_EQ(c.storage(4).applied, c.storage(1).applied);
  // The learner is not counted: with 2 and 3 down nothing commits.
  c.Isolate(2);
  c.Isolate(3);
  const Index commit = c.node(1).Status().hard_state.commit;
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("after")).ok());
  c.Stabilize();
  EXPECT_EQ(c.node(1).Status().hard_state.commit, commit);
  // A learner never campaigns.
  c.TickAll(100);
  c.Stabilize();
  EXPECT_FALSE(c.node(4).is_leader());
}

TEST(MembershipTest, JointConsensusEntersAndLeavesAutomatically) {
  TestCluster c(3);
  c.Elect(1);
  c.AddNode(4, {1, 2, 3}, {});
  c.AddNode(5, {1, 2, 3}, {});
  ASSERT_TRUE(c.node(1)
                  .ProposeConfChange(Change({{ConfChangeType::kAddVoter, 4},
                                             {ConfChangeType::kAddVoter, 5},
                                             {ConfChangeType::kRemoveNode, 3}}))
                  .ok());
  c.Stabilize();
  for (NodeId id : {1, 2, 4, 5}) {
    const ConfState cs = c.node(id).Status().conf_state;
    EXPECT_EQ(cs.voters, (std::vector<NodeId>{1, 2, 4, 5})) << id;
    EXPECT_TRUE(cs.voters_outgoing.empty()) << id;
  }
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  c.Stabilize();
  EXPECT_EQ(c.storage(5).applied_entries.back().data.view(), "x");
}

TEST(MembershipTest, RemovedLeaderStepsDownAndOthersElect) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1)
                  .ProposeConfChange(Change({{ConfChangeType::kRemoveNode, 1}}))
                  .ok());
  c.Stabilize();
  EXPECT_FALSE(c.node(1).is_leader());
  EXPECT_EQ(c.node(2).Status().conf_state.voters, (std::vector<NodeId>{2, 3}));
  for (int i = 0; i < 50 && LeaderOf(c) == kNoNode; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  const NodeId leader = LeaderOf(c);
  EXPECT_TRUE(leader == 2 || leader == 3);
}

TEST(MembershipTest, OneConfChangeAtATime) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1)
                  .ProposeConfChange(Change({{ConfChangeType::kAddLearner, 4}}))
                  .ok());
  EXPECT_EQ(c.node(1)
                .ProposeConfChange(Change({{ConfChangeType::kAddLearner, 5}}))
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(c.node(1).ProposeConfChange(Change({})).ok());  // not joint
  c.Stabilize();
  EXPECT_EQ(c.node(1)
                .ProposeConfChange(Change({{ConfChangeType::kAddVoter, 5},
                                           {ConfChangeType::kRemoveNode, 5}}))
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.node(1)
                .ProposeConfChange(Change({{ConfChangeType::kRemoveNode, 1},
                                           {ConfChangeType::kRemoveNode, 2},
                                           {ConfChangeType::kRemoveNode, 3}}))
                .code(),
            absl::StatusCode::kInvalidArgument);  // no voters left
}

TEST(SnapshotTest, FarBehindFollowerGetsSnapshot) {
  TestCluster c(3, [](Config& cfg) { cfg.max_log_tail_entries = 2; });
  c.Elect(1);
  c.Isolate(3);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("e")).ok());
    c.Stabilize();
  }
  ASSERT_TRUE(c.Compact(1));
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("last")).ok());
  c.Stabilize();
  c.Heal();
  std::string transcript;
  for (int i = 0; i < 3; ++i) {
    c.TickAll(1);
    transcript += c.Stabilize();
  }
  EXPECT_TRUE(absl::StrContains(transcript, "Snapshot Index:21")) << transcript;
  EXPECT_EQ(c.storage(3).snapshot.metadata.index, 21u);
  EXPECT_EQ(c.storage(3).snapshot.data.view(), "snap@21");
  EXPECT_EQ(c.storage(3).applied, 22u);
  EXPECT_EQ(c.storage(3).applied_entries.back().data.view(), "last");
}

TEST(SnapshotTest, LaggingFollowerIsServedByAsyncLogRead) {
  TestCluster c(3, [](Config& cfg) { cfg.max_log_tail_entries = 2; });
  c.Elect(1);
  c.Isolate(3);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("e")).ok());
    c.Stabilize();
  }
  c.Heal();
  std::string transcript;
  for (int i = 0; i < 3; ++i) {
    c.TickAll(1);
    transcript += c.Stabilize();
  }
  EXPECT_TRUE(absl::StrContains(transcript, "LogRead for 3")) << transcript;
  EXPECT_FALSE(absl::StrContains(transcript, "Snapshot Index")) << transcript;
  EXPECT_EQ(c.storage(3).applied, 21u);
  EXPECT_EQ(Terms(c.storage(3)), Terms(c.storage(1)));
}

TEST(SnapshotTest, MemoryTailIsBoundedByBytes) {
  // Few but large entries: the count bound (4096) never bites, the byte bound
  // (3 entries' worth) does, and the lagging follower is served from storage.
  TestCluster c(3, [](Config& cfg) { cfg.max_log_tail_bytes = 3000; });
  c.Elect(1);
  c.Isolate(3);
  const std::string payload(1000, 'p');
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.node(1).Propose(Bytes::Copy(payload)).ok());
    c.Stabilize();
  }
  c.Heal();
  std::string transcript;
  for (int i = 0; i < 3; ++i) {
    c.TickAll(1);
    transcript += c.Stabilize();
  }
  EXPECT_TRUE(absl::StrContains(transcript, "LogRead for 3")) << transcript;
  EXPECT_EQ(c.storage(3).applied, 21u);
  EXPECT_EQ(Terms(c.storage(3)), Terms(c.storage(1)));
}

TEST(RestartTest, RestartedNodeKeepsTermVoteAndLog) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  c.Stabilize();
  c.Restart(2);
  NodeStatus s = c.node(2).Status();
  EXPECT_EQ(s.hard_state, c.storage(2).hard_state);
  EXPECT_EQ(s.last_index, 2u);
  EXPECT_EQ(s.conf_state.voters, (std::vector<NodeId>{1, 2, 3}));
  c.Restart(1);
  for (int i = 0; i < 50 && LeaderOf(c) == kNoNode; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  const NodeId leader = LeaderOf(c);
  ASSERT_NE(leader, kNoNode);
  ASSERT_TRUE(c.node(leader).Propose(Bytes::Copy("y")).ok());
  c.Stabilize();
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.storage(id).applied_entries.back().data.view(), "y") << id;
  }
}

TEST(RestartTest, InconsistentRecoveredStateIsAnError) {
  Config config;
  config.id = 1;
  RecoveredState r;
  r.hard_state = HardState{1, 0, 5};
  EXPECT_FALSE(RawNode::Restart(config, r).ok());  // commit beyond the log
  r.hard_state.commit = 0;
  r.entries = EntriesWithTerms({1, 1});
  r.entries[1].index = 7;
  EXPECT_FALSE(RawNode::Restart(config, r).ok());  // gap
}

TEST(ReadIndexTest, SafeReadNeedsAHeartbeatQuorum) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1).ReadIndex(Bytes::Copy("r1")).ok());
  Ready rd = c.node(1).GetReady();
  EXPECT_TRUE(rd.read_states.empty());
  int heartbeats = 0;
  for (Message& m : rd.messages) {
    heartbeats += m.type == MessageType::kHeartbeat;
    c.network().push_back(std::move(m));
  }
  EXPECT_EQ(heartbeats, 2);
  std::string transcript = c.Stabilize();
  EXPECT_TRUE(absl::StrContains(transcript, "1 handling Ready")) << transcript;
  EXPECT_TRUE(absl::StrContains(transcript, "ReadState Index:1 Context:r1"))
      << transcript;
}

TEST(ReadIndexTest, FollowerReadGoesThroughLeader) {
  TestCluster c(3);
  c.Elect(1);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  c.Stabilize();
  ASSERT_TRUE(c.node(2).ReadIndex(Bytes::Copy("f")).ok());
  std::string transcript = c.Stabilize();
  EXPECT_TRUE(
      absl::StrContains(transcript, "1->2 ReadIndexResp Term:1 Log:0/2"))
      << transcript;
  EXPECT_TRUE(absl::StrContains(transcript, "ReadState Index:2 Context:f"))
      << transcript;
}

TEST(ReadIndexTest, LeaseReadAnswersAtOnce) {
  TestCluster c(
      3, [](Config& cfg) { cfg.read_only_option = ReadOnlyOption::kLease; });
  c.Elect(1);
  ASSERT_TRUE(c.node(1).ReadIndex(Bytes::Copy("l")).ok());
  Ready rd = c.node(1).GetReady();
  ASSERT_EQ(rd.read_states.size(), 1u);
  EXPECT_EQ(rd.read_states[0].index, 1u);
}

TEST(ReadIndexTest, ReadBeforeFirstCommitInTermWaits) {
  TestCluster c(3);
  c.node(1).Campaign();
  // Elected, but the term's empty entry is not committed yet.
  for (int i = 0; i < 6 && !c.node(1).is_leader(); ++i) {
    c.ProcessReady(1);
    c.ProcessReady(2);
    c.ProcessReady(3);
    c.Deliver(0);
  }
  ASSERT_TRUE(c.node(1).is_leader());
  ASSERT_EQ(c.node(1).Status().hard_state.commit, 0u);
  ASSERT_TRUE(c.node(1).ReadIndex(Bytes::Copy("w")).ok());
  std::string transcript = c.Stabilize();
  EXPECT_TRUE(absl::StrContains(transcript, "ReadState Index:1 Context:w"))
      << transcript;
}

TEST(InjectedBugsTest, TwoVotesPerTermElectsTwoLeaders) {
  TestCluster c(3, [](Config& cfg) {
    NoPreVote(cfg);
    cfg.injected_bugs.grant_two_votes_per_term = true;
  });
  c.node(1).Campaign();
  c.node(2).Campaign();
  c.Stabilize();
  EXPECT_TRUE(c.node(1).is_leader() && c.node(2).is_leader() &&
              c.node(1).Status().hard_state.term ==
                  c.node(2).Status().hard_state.term);
}

TEST(InjectedBugsTest, ApplyBeforeCommitHandsOutUncommittedEntries) {
  TestCluster c(
      3, [](Config& cfg) { cfg.injected_bugs.apply_before_commit = true; });
  c.Elect(1);
  c.Isolate(2);
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  c.Stabilize();
  EXPECT_EQ(c.node(1).Status().hard_state.commit, 1u);
  EXPECT_EQ(c.storage(1).applied_entries.back().data.view(), "x");
}

TEST(StatusTest, DescribesProgress) {
  TestCluster c(3);
  c.Elect(1);
  const std::string s = c.node(1).Status().ToString();
  EXPECT_TRUE(absl::StrContains(s, "1 leader Term:1 Vote:1 Commit:1")) << s;
  EXPECT_TRUE(absl::StrContains(s, "2: replicate match=1 next=2")) << s;
}

TEST(TransitionLogTest, OneLinePerTransition) {
  std::vector<std::string> lines;
  TestCluster c(1, [&lines](Config& cfg) {
    cfg.transition_logger = [&lines](std::string_view l) {
      lines.emplace_back(l);
    };
  });
  c.Elect(1);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back(), "1 became leader at term 1");
  for (const std::string& l : lines) EXPECT_EQ(l.find('\n'), std::string::npos);
}

TEST(PersistenceTest, FollowerAppliesOnlyDurableEntries) {
  TestCluster c(3);
  c.Elect(1);
  c.Isolate(3);
  ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("x")).ok());
  c.Stabilize();  // committed by 1 and 2
  c.Heal();
  c.TickAll(1);
  c.ProcessReady(1);
  c.Deliver(3);
  c.ProcessReady(3);  // heartbeat reply
  c.Deliver(1);
  c.ProcessReady(1);  // empty append at next-1: rejected, then a probe
  c.Deliver(3);
  c.ProcessReady(3);
  c.Deliver(1);
  c.ProcessReady(1);
  c.Deliver(3);
  // Node 3 now knows commit 2 but has not persisted entry 2 yet.
  ASSERT_EQ(c.node(3).Status().hard_state.commit, 2u);
  Ready rd = c.node(3).GetReady();
  ASSERT_FALSE(rd.entries.empty());
  EXPECT_TRUE(rd.committed_entries.empty()) << "applied a non-durable entry";
  c.node(3).OnPersisted(rd.persist_ack);
  Ready next = c.node(3).GetReady();
  ASSERT_EQ(next.committed_entries.size(), 1u);
  EXPECT_EQ(next.committed_entries[0].data.view(), "x");
}

TEST(ReadyTest, CommittedEntriesAreBoundedPerReady) {
  TestCluster c(1, [](Config& cfg) { cfg.max_committed_bytes_per_ready = 4; });
  c.Elect(1);
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("abc")).ok());
  Ready rd = c.node(1).GetReady();
  c.node(1).OnPersisted(rd.persist_ack);
  size_t readies = 0;
  size_t applied = 0;
  while (c.node(1).HasReady()) {
    Ready r = c.node(1).GetReady();
    ++readies;
    EXPECT_LE(r.committed_entries.size(), 1u);
    applied += r.committed_entries.size();
    if (!r.committed_entries.empty()) {
      c.node(1).OnApplied(r.committed_entries.back().index);
    }
  }
  EXPECT_EQ(applied, 4u);
  EXPECT_GE(readies, 4u);
}

TEST(RestartTest, TailMayStartBelowAppliedAsAnAnchor) {
  Config config;
  config.id = 1;
  RecoveredState r;
  r.hard_state = HardState{3, 0, 7};
  r.applied = 6;
  r.conf_state.voters = {1};
  for (Index i = 5; i <= 8; ++i) {
    r.entries.push_back(Entry{3, i, EntryType::kNormal, Bytes::Copy("e")});
  }
  absl::StatusOr<std::unique_ptr<RawNode>> node = RawNode::Restart(config, r);
  ASSERT_TRUE(node.ok()) << node.status();
  NodeStatus s = (*node)->Status();
  EXPECT_EQ(s.last_index, 8u);
  EXPECT_EQ(s.applied, 6u);
  // Entry 7 is committed but not applied yet: handed out again.
  Ready rd = (*node)->GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].index, 7u);
  // A tail that does not reach back to `applied` cannot be used.
  r.entries.erase(r.entries.begin(), r.entries.begin() + 3);
  EXPECT_FALSE(RawNode::Restart(config, r).ok());
}

TEST(SnapshotTest, StaleLogReadAnswerIsIgnored) {
  TestCluster c(3, [](Config& cfg) { cfg.max_log_tail_entries = 2; });
  c.Elect(1);
  c.Isolate(3);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(c.node(1).Propose(Bytes::Copy("e")).ok());
    c.Stabilize();
  }
  LogRead bogus;
  bogus.to = 3;
  bogus.lo = 2;
  bogus.hi = 3;
  c.node(1).OnLogRead(bogus, std::vector<Entry>{});  // nothing pending: ignored
  EXPECT_FALSE(c.node(1).HasReady());
  c.Heal();
  for (int i = 0; i < 3; ++i) {
    c.TickAll(1);
    c.Stabilize();
  }
  EXPECT_EQ(c.storage(3).applied, 11u);
}

TEST(SnapshotTest, SnapshotMustNotPassApplied) {
  TestCluster c(1);
  c.Elect(1);
  EXPECT_FALSE(c.node(1).OnSnapshotTaken(5, Bytes::Copy("s")).ok());
  EXPECT_TRUE(c.node(1).OnSnapshotTaken(1, Bytes::Copy("s")).ok());
  EXPECT_FALSE(c.node(1).OnSnapshotTaken(1, Bytes::Copy("s")).ok());
}

// A driver's compaction names term and membership from its storage; what the
// core still knows must agree.
TEST(SnapshotTest, LogCompactedChecksTermAndMembershipItKnows) {
  TestCluster c(1);
  c.Elect(1);
  SnapshotMetadata at;
  at.index = 1;
  at.term = 7;  // the entry at 1 has term 1
  at.conf_state.voters = {1};
  EXPECT_FALSE(c.node(1).OnLogCompacted(at, Bytes::Copy("s")).ok());
  at.term = 1;
  at.conf_state.voters = {1, 2};
  EXPECT_FALSE(c.node(1).OnLogCompacted(at, Bytes::Copy("s")).ok());
  at.conf_state.voters = {1};
  EXPECT_TRUE(c.node(1).OnLogCompacted(at, Bytes::Copy("s")).ok());
  EXPECT_EQ(c.node(1).Status().snapshot_index, 1u);
  EXPECT_FALSE(c.node(1).OnLogCompacted(at, Bytes::Copy("s")).ok())
      << "not newer than the current snapshot";
}

TEST(ReadIndexTest, PendingReadsAreBoundedAndShareOneHeartbeatRound) {
  TestCluster c(3, [](Config& cfg) { cfg.max_pending_read_requests = 2; });
  c.Elect(1);
  ASSERT_TRUE(c.node(1).ReadIndex(Bytes::Copy("a")).ok());
  ASSERT_TRUE(c.node(1).ReadIndex(Bytes::Copy("b")).ok());
  EXPECT_EQ(c.node(1).ReadIndex(Bytes::Copy("c")).code(),
            absl::StatusCode::kUnavailable);
  Ready rd = c.node(1).GetReady();
  int heartbeats = 0;
  for (Message& m : rd.messages) {
    heartbeats += m.type == MessageType::kHeartbeat;
    c.network().push_back(std::move(m));
  }
  EXPECT_EQ(heartbeats, 2);  // one round for both reads
  const std::string t = c.Stabilize();
  EXPECT_TRUE(absl::StrContains(t, "ReadState Index:1 Context:a")) << t;
  EXPECT_TRUE(absl::StrContains(t, "ReadState Index:1 Context:b")) << t;
  EXPECT_TRUE(c.node(1).ReadIndex(Bytes::Copy("c")).ok());
}

}  // namespace
}  // namespace chronik::raft
