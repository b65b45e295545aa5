#include "sim/cluster_checker.h"

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

}  // namespace
}  // namespace chronik::sim
