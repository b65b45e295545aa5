#include "sim/cluster_checker.h"

#include <vector>

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

TEST(ClusterCheckerTest, OneLeaderPerTermPasses) {
  ClusterChecker checker;
  checker.OnLeader(0, 0, 0, 1);
  checker.OnLeader(kSecond, 0, 0, 1);  // reported again
  checker.OnLeader(2 * kSecond, 1, 0, 2);
  checker.OnLeader(2 * kSecond, 2, 7, 2);  // another group, same term
  EXPECT_FALSE(checker.violation().has_value());
}

TEST(ClusterCheckerTest, TwoLeadersOfOneTermAreNamed) {
  ClusterChecker checker;
  checker.OnLeader(0, 0, 0, 1);
  checker.OnLeader(kMillisecond, 2, 0, 1);
  ASSERT_TRUE(checker.violation().has_value());
  EXPECT_NE(checker.violation()->find("TWO LEADERS"), std::string::npos);
  EXPECT_NE(checker.violation()->find("n1 and n3"), std::string::npos);
  EXPECT_NE(checker.violation()->find("metadata group in term 1"),
            std::string::npos);
}

TEST(ClusterCheckerTest, CreateRequestsOncePerSecondPass) {
  ClusterChecker checker;
  for (int i = 0; i < 20; ++i) checker.OnCreateRequest(i * kSecond, 1, "t");
  // Two brokers asking at once are two askers.
  checker.OnCreateRequest(20 * kSecond, 0, "t");
  checker.OnCreateRequest(20 * kSecond, 2, "t");
  EXPECT_FALSE(checker.violation().has_value());
}

TEST(ClusterCheckerTest, CreateRequestsWithoutBoundAreAFlood) {
  ClusterChecker checker;
  checker.OnCreateRequest(0, 1, "t");
  checker.OnCreateRequest(100 * kMillisecond, 1, "u");
  checker.OnCreateRequest(200 * kMillisecond, 1, "t");
  EXPECT_FALSE(checker.violation().has_value());
  checker.OnCreateRequest(300 * kMillisecond, 1, "t");
  ASSERT_TRUE(checker.violation().has_value());
  EXPECT_NE(checker.violation()->find("CREATE FLOOD"), std::string::npos);
  EXPECT_NE(checker.violation()->find("n2 asked 3 times"), std::string::npos);
}

// Three nodes up; n1 leads the metadata group from 1 s; n3 dies at 2 s.
ClusterChecker ThreeNodesWithDeadN3() {
  ClusterChecker checker;
  for (int node = 0; node < 3; ++node) checker.OnNodeUp(0, node);
  checker.OnLeader(kSecond, 0, 0, 1);
  checker.OnNodeDown(2 * kSecond, 2);
  return checker;
}

TEST(ClusterCheckerTest, ADeadBrokerListedPastTheSessionTimeoutIsNotFenced) {
  constexpr Nanos kSession = kSecond;  // bound: 1.25 s + 1 s slack
  ClusterChecker checker = ThreeNodesWithDeadN3();
  checker.OnControllerMetadata(4 * kSecond, 0, {0, 1, 2}, kSession);
  EXPECT_FALSE(checker.violation().has_value()) << "within the bound";
  checker.OnControllerMetadata(5 * kSecond, 0, {0, 1}, kSession);
  EXPECT_FALSE(checker.violation().has_value()) << "fenced: not listed";
  checker.OnControllerMetadata(5 * kSecond, 0, {0, 1, 2}, kSession);
  ASSERT_TRUE(checker.violation().has_value());
  EXPECT_NE(checker.violation()->find("FENCING at 5.000000s: controller n1 "
                                      "still lists n3"),
            std::string::npos)
      << *checker.violation();
}

TEST(ClusterCheckerTest, FencingIsNotJudgedUnlessTheWorldIsCalm) {
  constexpr Nanos kSession = kSecond;
  ClusterChecker disturbed = ThreeNodesWithDeadN3();
  disturbed.OnDisturbance(2 * kSecond, true);
  disturbed.OnControllerMetadata(9 * kSecond, 0, {0, 1, 2}, kSession);
  EXPECT_FALSE(disturbed.violation().has_value()) << "a fault is on";
  ClusterChecker new_controller = ThreeNodesWithDeadN3();
  new_controller.OnLeader(4 * kSecond, 1, 0, 2);
  new_controller.OnControllerMetadata(6 * kSecond, 1, {0, 1, 2}, kSession);
  EXPECT_FALSE(new_controller.violation().has_value()) << "n2 led since 4 s";
  ClusterChecker no_majority = ThreeNodesWithDeadN3();
  no_majority.OnNodeDown(2 * kSecond, 1);
  no_majority.OnControllerMetadata(9 * kSecond, 0, {0, 1, 2}, kSession);
  EXPECT_FALSE(no_majority.violation().has_value()) << "no quorum to fence";
}

ClusterChecker::PartitionView PartitionLedByN1(std::vector<int> isr) {
  ClusterChecker::PartitionView view;
  view.partition = 0;
  view.leader = 0;
  view.replicas = {0, 1, 2};
  view.isr = std::move(isr);
  return view;
}

TEST(ClusterCheckerTest, ADeadReplicaKeptInTheIsrPastTheLagIsCaught) {
  constexpr Nanos kLag = kSecond;  // bound: 1.25 s + 1 s slack
  ClusterChecker checker = ThreeNodesWithDeadN3();
  checker.OnControllerPartition(kSecond, 0, PartitionLedByN1({0, 1, 2}), kLag);
  checker.OnControllerPartition(4 * kSecond, 0, PartitionLedByN1({0, 1, 2}),
                                kLag);
  EXPECT_FALSE(checker.violation().has_value()) << "within the bound";
  checker.OnControllerPartition(5 * kSecond, 0, PartitionLedByN1({0, 1}), kLag);
  EXPECT_FALSE(checker.violation().has_value()) << "shrunk: not listed";
  checker.OnControllerPartition(5 * kSecond, 0, PartitionLedByN1({0, 1, 2}),
                                kLag);
  ASSERT_TRUE(checker.violation().has_value());
  EXPECT_NE(checker.violation()->find("ISR at 5.000000s: controller n1 keeps "
                                      "n3 in the ISR of partition 0"),
            std::string::npos)
      << *checker.violation();
}

TEST(ClusterCheckerTest, IsrIsJudgedFromTheLeadersStartAndOnlyWithAQuorum) {
  constexpr Nanos kLag = kSecond;
  // The controller names a new leader (n2) at 4 s: it counts the inherited
  // ISR as caught up from its start.
  ClusterChecker new_leader = ThreeNodesWithDeadN3();
  ClusterChecker::PartitionView led_by_n2 = PartitionLedByN1({0, 1, 2});
  led_by_n2.leader = 1;
  new_leader.OnControllerPartition(4 * kSecond, 0, led_by_n2, kLag);
  new_leader.OnControllerPartition(6 * kSecond, 0, led_by_n2, kLag);
  EXPECT_FALSE(new_leader.violation().has_value()) << "n2 named since 4 s";
  new_leader.OnControllerPartition(7 * kSecond, 0, led_by_n2, kLag);
  EXPECT_TRUE(new_leader.violation().has_value()) << "past 4 s + 2.25 s";
  // Half the partition's replicas down: its leader loses its quorum.
  ClusterChecker no_quorum = ThreeNodesWithDeadN3();
  ClusterChecker::PartitionView two_replicas = PartitionLedByN1({0, 2});
  two_replicas.replicas = {0, 2};
  no_quorum.OnControllerPartition(kSecond, 0, two_replicas, kLag);
  no_quorum.OnControllerPartition(9 * kSecond, 0, two_replicas, kLag);
  EXPECT_FALSE(no_quorum.violation().has_value()) << "one of two replicas up";
  ClusterChecker disturbed = ThreeNodesWithDeadN3();
  disturbed.OnControllerPartition(kSecond, 0, PartitionLedByN1({0, 1, 2}),
                                  kLag);
  disturbed.OnDisturbance(3 * kSecond, true);
  disturbed.OnControllerPartition(9 * kSecond, 0, PartitionLedByN1({0, 1, 2}),
                                  kLag);
  EXPECT_FALSE(disturbed.violation().has_value()) << "a fault is on";
}

// A move from voters {n1, n3} to {n2, n1} (seed 488 --nodes=5): the
// controller lists n2, n1, n3, and n3 is down.
ClusterChecker::PartitionView MovingFromN1N3ToN2N1() {
  ClusterChecker::PartitionView view = PartitionLedByN1({0, 2});
  view.replicas = {1, 0, 2};
  view.adding = {1};
  view.removing = {2};
  return view;
}

// Judges `view` at 1 s and past the bound.
bool IsrViolated(const ClusterChecker::PartitionView& view) {
  constexpr Nanos kLag = kSecond;
  ClusterChecker checker = ThreeNodesWithDeadN3();
  checker.OnControllerPartition(kSecond, 0, view, kLag);
  checker.OnControllerPartition(9 * kSecond, 0, view, kLag);
  return checker.violation().has_value();
}

TEST(ClusterCheckerTest, AMoveIsJudgedOnlyWithBothVoterMajorities) {
  ClusterChecker::PartitionView moving = MovingFromN1N3ToN2N1();
  EXPECT_FALSE(IsrViolated(moving)) << "one of the two old voters up";
  ClusterChecker::PartitionView still = moving;
  still.adding.clear();
  still.removing.clear();
  EXPECT_TRUE(IsrViolated(still)) << "no move: two of three replicas up";
  ClusterChecker::PartitionView unknown = still;
  unknown.move_unknown = true;
  EXPECT_FALSE(IsrViolated(unknown)) << "a move whose sets are not known";
  // Adding n3 (down) to voters {n1, n2}: both majorities ran.
  ClusterChecker::PartitionView growing = PartitionLedByN1({0, 1, 2});
  growing.adding = {2};
  EXPECT_TRUE(IsrViolated(growing)) << "two of two old, two of three new";
}

// Leader balancing every second: bound 5 s + 2 * 1.25 s after the last
// change (every node up at 3 s).
TEST(ClusterCheckerTest, LeadersOffPreferredAreJudgedOnlyAfterTheBound) {
  ClusterChecker checker;
  for (int node = 0; node < 3; ++node) checker.OnNodeUp(3 * kSecond, node);
  const std::vector<int> preferred = {0, 1, 2};
  EXPECT_TRUE(
      checker.OnBalancedAudit(4 * kSecond, {0, 1, 2}, preferred, kSecond));
  EXPECT_FALSE(
      checker.OnBalancedAudit(10 * kSecond, {1, 1, 2}, preferred, kSecond))
      << "too early: the audit asks again";
  EXPECT_FALSE(checker.violation().has_value());
  checker.OnDisturbance(10 * kSecond, true);
  EXPECT_FALSE(
      checker.OnBalancedAudit(20 * kSecond, {1, 1, 2}, preferred, kSecond))
      << "not judged while disturbed";
  checker.OnDisturbance(20 * kSecond, false);
  EXPECT_TRUE(
      checker.OnBalancedAudit(28 * kSecond, {1, 1, 2}, preferred, kSecond));
  ASSERT_TRUE(checker.violation().has_value());
  EXPECT_NE(checker.violation()->find("PREFERRED LEADER at 28.000000s: "
                                      "partition 0 is led by n2, not its "
                                      "preferred replica n1"),
            std::string::npos)
      << *checker.violation();
}

}  // namespace
}  // namespace chronik::sim
