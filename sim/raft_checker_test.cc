#include "sim/raft_checker.h"

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

raft::Entry E(raft::Index index, raft::Term term, std::string data = "x") {
  return raft::Entry{term, index, raft::EntryType::kNormal,
                     raft::Bytes::Copy(data)};
}

TEST(RaftCheckerTest, HealthyHistoryPasses) {
  RaftChecker c(3);
  c.OnLeader(0, 1);
  c.OnLeader(0, 1);
  for (int node = 0; node < 3; ++node) {
    c.OnLogAppend(node, {E(1, 1, "a"), E(2, 1, "b")});
    c.OnCommit(node, 1, 1, 2);
    c.OnApply(node, E(1, 1, "a"), 2);
    c.OnApply(node, E(2, 1, "b"), 2);
    c.OnStateMachineAppend(node, 0, 11);
    c.OnStateMachineAppend(node, 1, 12);
  }
  c.OnInvoke(11, 0);
  c.OnInvoke(12, 5);
  c.OnAck(11, 0, 10);
  c.OnAck(12, 1, 20);
  c.OnRead(25, 30, 2, 12);
  c.OnLeader(1, 2);  // n1 holds the committed prefix
  c.OnFinal({11, 12});
  EXPECT_TRUE(c.ok()) << c.failure();
  EXPECT_EQ(c.committed_index(), 2u);
}

TEST(RaftCheckerTest, TwoLeadersInOneTerm) {
  RaftChecker c(3);
  c.OnLeader(0, 4);
  c.OnLeader(1, 4);
  EXPECT_NE(c.failure().find("election safety"), std::string::npos);
}

TEST(RaftCheckerTest, LogMatchingViolation) {
  RaftChecker c(3);
  c.OnLogAppend(0, {E(1, 1, "a"), E(2, 2, "b")});
  c.OnLogAppend(1, {E(1, 1, "z"), E(2, 2, "b")});  // same (2, 2), other prefix
  EXPECT_NE(c.failure().find("log matching"), std::string::npos);
}

TEST(RaftCheckerTest, TruncationIsAllowedBeforeCommit) {
  RaftChecker c(3);
  c.OnLogAppend(0, {E(1, 1), E(2, 1), E(3, 1)});
  c.OnLogAppend(0, {E(2, 2), E(3, 2)});
  c.OnCommit(0, 1, 1, 3);
  EXPECT_TRUE(c.ok()) << c.failure();
}

TEST(RaftCheckerTest, CommittedEntryOverwritten) {
  RaftChecker c(3);
  c.OnLogAppend(0, {E(1, 1, "a"), E(2, 1, "b")});
  c.OnCommit(0, 1, 1, 2);
  c.OnLogAppend(1, {E(1, 1, "a"), E(2, 2, "c")});
  c.OnCommit(1, 1, 1, 2);
  EXPECT_NE(c.failure().find("committed entry lost"), std::string::npos);
}

TEST(RaftCheckerTest, CommitMovesBackwards) {
  RaftChecker c(3);
  c.OnLogAppend(0, {E(1, 1), E(2, 1)});
  c.OnCommit(0, 1, 1, 2);
  c.OnCommit(0, 2, 1, 1);  // after a restart: allowed
  EXPECT_TRUE(c.ok()) << c.failure();
  c.OnCommit(0, 2, 1, 2);
  c.OnCommit(0, 2, 1, 1);
  EXPECT_NE(c.failure().find("backwards"), std::string::npos);
}

TEST(RaftCheckerTest, LeaderWithoutCommittedPrefix) {
  RaftChecker c(3);
  c.OnLogAppend(0, {E(1, 1), E(2, 1)});
  c.OnCommit(0, 1, 1, 2);
  c.OnLogAppend(2, {E(1, 1)});
  c.OnLeader(2, 1);  // a leader of the same (or an older) term may lag
  EXPECT_TRUE(c.ok()) << c.failure();
  c.OnLeader(2, 3);
  EXPECT_NE(c.failure().find("leader completeness"), std::string::npos);
}

TEST(RaftCheckerTest, LeaderCommitsOldTermEntryByCounting) {
  RaftChecker c(3);
  c.OnLogAppend(0, {E(1, 2), E(2, 4), E(3, 2)});
  c.OnLeaderCommit(0, 4, 2);
  EXPECT_TRUE(c.ok()) << c.failure();
  c.OnLeaderCommit(0, 4, 3);
  EXPECT_NE(c.failure().find("commit rule"), std::string::npos);
}

TEST(RaftCheckerTest, LeaderCommitsBeyondItsLog) {
  RaftChecker c(3);
  c.OnLogAppend(0, {E(1, 4)});
  c.OnLeaderCommit(0, 4, 2);
  EXPECT_NE(c.failure().find("beyond its log end"), std::string::npos);
}

TEST(RaftCheckerTest, VoteGrantedBeforeDurable) {
  RaftChecker c(3);
  c.OnVoteGranted(0, 3, 2, raft::HardState{3, 2, 0});
  c.OnVoteGranted(0, 3, 2, raft::HardState{5, 1, 0});  // moved on since
  EXPECT_TRUE(c.ok()) << c.failure();
  c.OnVoteGranted(0, 5, 2, raft::HardState{5, 1, 0});
  EXPECT_NE(c.failure().find("before it is durable"), std::string::npos);
  c.OnVoteGranted(0, 4, 2, raft::HardState{3, 2, 0});
  EXPECT_NE(c.failure().find("before it is durable"), std::string::npos);
}

TEST(RaftCheckerTest, DifferentEntriesAppliedAtOneIndex) {
  RaftChecker c(3);
  c.OnApply(0, E(1, 1, "a"), 1);
  c.OnApply(1, E(1, 2, "b"), 1);
  EXPECT_NE(c.failure().find("state machine safety"), std::string::npos);
}

TEST(RaftCheckerTest, ApplyBeyondCommit) {
  RaftChecker c(3);
  c.OnApply(0, E(1, 1, "a"), 0);
  EXPECT_NE(c.failure().find("beyond its commit"), std::string::npos);
}

TEST(RaftCheckerTest, StateMachinesDiverge) {
  RaftChecker c(3);
  c.OnInvoke(7, 0);
  c.OnStateMachineAppend(0, 0, 7);
  c.OnAck(7, 0, 1);
  c.OnStateMachineAppend(1, 0, 8);
  EXPECT_NE(c.failure().find("acknowledged: lost"), std::string::npos);
}

TEST(RaftCheckerTest, RealTimeOrderViolation) {
  RaftChecker c(3);
  c.OnStateMachineAppend(0, 0, 2);
  c.OnStateMachineAppend(0, 1, 1);
  c.OnInvoke(1, 0);
  c.OnAck(1, 1, 10);
  c.OnInvoke(2, 20);  // invoked after op 1 was acknowledged...
  c.OnAck(2, 0, 30);  // ...but ordered before it
  EXPECT_NE(c.failure().find("real-time order"), std::string::npos);
}

TEST(RaftCheckerTest, StaleRead) {
  RaftChecker c(3);
  c.OnStateMachineAppend(0, 0, 1);
  c.OnInvoke(1, 0);
  c.OnAck(1, 0, 10);
  c.OnRead(20, 30, 0, kNoOp);
  EXPECT_NE(c.failure().find("stale read"), std::string::npos);
}

TEST(RaftCheckerTest, ReadOfTheFuture) {
  RaftChecker c(3);
  c.OnStateMachineAppend(0, 0, 1);
  c.OnInvoke(1, 50);
  c.OnRead(20, 30, 1, 1);
  EXPECT_NE(c.failure().find("invoked after the read ended"),
            std::string::npos);
}

TEST(RaftCheckerTest, ReadOfAnotherHistory) {
  RaftChecker c(3);
  c.OnStateMachineAppend(0, 0, 1);
  c.OnInvoke(1, 0);
  c.OnInvoke(2, 0);
  c.OnRead(20, 30, 1, 2);
  EXPECT_NE(c.failure().find("returned last op"), std::string::npos);
}

TEST(RaftCheckerTest, AcknowledgedOpMissingOrDuplicatedAtTheEnd) {
  RaftChecker c(3);
  c.OnStateMachineAppend(0, 0, 1);
  c.OnInvoke(1, 0);
  c.OnAck(1, 0, 1);
  RaftChecker missing = c;
  missing.OnFinal({});
  EXPECT_NE(missing.failure().find("missing from the final log"),
            std::string::npos);
  RaftChecker twice = c;
  twice.OnFinal({1, 1});
  EXPECT_NE(twice.failure().find("twice"), std::string::npos);
}

TEST(RaftCheckerTest, AckAtWrongOffset) {
  RaftChecker c(3);
  c.OnStateMachineAppend(0, 0, 1);
  c.OnInvoke(1, 0);
  c.OnAck(1, 3, 1);
  EXPECT_FALSE(c.ok());
}

TEST(CheckingObserverTest, FeedsTheCheckerFromHostObservations) {
  RaftChecker c(3);
  CheckingObserver n0(&c, 0, /*rule_checks=*/true);
  n0.OnRecover(0, replication::RecoveredGroup{raft::HardState{2, 1, 1}, 0, 2});
  const std::vector<raft::Entry> stored = {E(1, 1), E(2, 2)};
  n0.OnRecoveredEntries(0, stored);
  n0.Started(1);
  EXPECT_EQ(c.committed_index(), 1u) << "the recovered commit is reported";
  EXPECT_EQ(n0.durable(), (raft::HardState{2, 1, 1}));
  n0.OnRoleChange(0, replication::RoleState{true, 2, 1});
  const std::vector<raft::Entry> appended = {E(3, 2)};
  n0.OnAppend(0, appended);
  n0.OnCommit(0, 2, 3);
  EXPECT_EQ(n0.commit(), 3u);
  EXPECT_EQ(c.committed_index(), 3u);
  n0.OnDurable(0, replication::DurableState{raft::HardState{3, 2, 3}, 2, 3});
  EXPECT_EQ(n0.durable(), (raft::HardState{3, 2, 3}));
  EXPECT_TRUE(c.ok()) << c.failure();
}

TEST(CheckingObserverTest, LeaderCommittingAnOldTermEntryBreaksTheRule) {
  RaftChecker c(3);
  CheckingObserver n0(&c, 0, /*rule_checks=*/true);
  n0.OnRecover(0, replication::RecoveredGroup{});
  n0.Started(1);
  const std::vector<raft::Entry> log = {E(1, 1), E(2, 3)};
  n0.OnAppend(0, log);
  n0.OnRoleChange(0, replication::RoleState{true, 3, 1});
  n0.OnCommit(0, 3, 1);  // index 1 is of term 1
  EXPECT_NE(c.failure().find("commit rule"), std::string::npos);
}

TEST(CheckingObserverTest, ANewLeadersFirstCommitIsNotCounted) {
  // A commit reported in the Ready that made the node leader was learned as a
  // follower: not the commit rule's business.
  RaftChecker c(3);
  CheckingObserver n0(&c, 0, /*rule_checks=*/true);
  n0.OnRecover(0, replication::RecoveredGroup{});
  n0.Started(1);
  const std::vector<raft::Entry> log = {E(1, 1), E(2, 3)};
  n0.OnAppend(0, log);
  n0.OnCommit(0, 3, 1);
  n0.OnRoleChange(0, replication::RoleState{true, 3, 1});
  EXPECT_TRUE(c.ok()) << c.failure();
}

}  // namespace
}  // namespace chronik::sim
