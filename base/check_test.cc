#include "base/check.h"

#include "gtest/gtest.h"

namespace chronik {
namespace {

TEST(CheckTest, PassingChecksDoNothing) {
  int evaluations = 0;
  CHRONIK_CHECK(++evaluations == 1) << "evaluated once";
  CHRONIK_CHECK_EQ(evaluations, 1);
  CHRONIK_CHECK_LT(1, 2);
  EXPECT_EQ(evaluations, 1);
}

TEST(CheckDeathTest, FailingCheckAbortsWithMessageAndOperands) {
  const int term = 3;
  EXPECT_DEATH(CHRONIK_CHECK_EQ(term, 4) << "term moved",
               "term == 4.*3 vs 4.*term moved");
  EXPECT_DEATH(CHRONIK_CHECK(term > 5) << "context",
               "check_test.cc:.*term > 5.*context");
}

}  // namespace
}  // namespace chronik
