#include "sim/kafka_checker.h"

#include <string>

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

// A clean history: two values acknowledged and read where the acks said.
KafkaChecker Clean() {
  KafkaChecker checker;
  checker.OnSend(0, "p0-1");
  checker.OnSend(0, "p0-2");
  checker.OnAck(0, "p0-1", 0);
  checker.OnAck(0, "p0-2", 1);
  return checker;
}

TEST(KafkaCheckerTest, ConsistentHistoryPasses) {
  KafkaChecker checker = Clean();
  checker.OnRead(0, 0, "p0-1");
  checker.OnRead(0, 1, "p0-2");
  checker.OnReadDone(0, 2);
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(KafkaCheckerTest, UnknownFateSendMayBeReadOrNot) {
  KafkaChecker checker = Clean();
  checker.OnSend(0, "p0-3");  // timed out, never acknowledged
  checker.OnRead(0, 0, "p0-1");
  checker.OnRead(0, 1, "p0-2");
  EXPECT_EQ(checker.Check(), std::nullopt);
  checker.OnRead(0, 2, "p0-3");
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(KafkaCheckerTest, LostWriteIsNamedWithPartitionAndOffset) {
  KafkaChecker checker = Clean();
  checker.OnRead(0, 0, "p0-1");
  checker.OnReadDone(0, 1);
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_EQ(*checker.Check(),
            "LOST: partition 0 offset 1 value p0-2 was acknowledged and never "
            "read");
}

TEST(KafkaCheckerTest, DuplicateIsNamed) {
  KafkaChecker checker = Clean();
  checker.OnRead(0, 0, "p0-1");
  checker.OnRead(0, 1, "p0-2");
  checker.OnRead(0, 2, "p0-2");
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_EQ(*checker.Check(),
            "DUPLICATE: partition 0 offset 2 holds p0-2, already at partition "
            "0 offset 1");
}

TEST(KafkaCheckerTest, LostAndDuplicateTogetherNameTheDuplicateFirst) {
  KafkaChecker checker = Clean();
  checker.OnRead(0, 0, "p0-1");
  checker.OnRead(0, 1, "p0-1");  // p0-2 lost, p0-1 twice
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_EQ(checker.Check()->rfind("DUPLICATE: partition 0 offset 1", 0), 0u)
      << *checker.Check();
}

TEST(KafkaCheckerTest, InconsistentOffsetIsNamed) {
  KafkaChecker checker = Clean();
  checker.OnRead(0, 0, "p0-2");
  checker.OnRead(0, 1, "p0-1");
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_EQ(checker.Check()->rfind("INCONSISTENT OFFSET: partition 0", 0), 0u)
      << *checker.Check();
}

TEST(KafkaCheckerTest, TwoAcksAtDifferentOffsetsAreInconsistent) {
  KafkaChecker checker = Clean();
  checker.OnAck(0, "p0-2", 7);
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_EQ(checker.Check()->rfind("INCONSISTENT OFFSET", 0), 0u);
}

TEST(KafkaCheckerTest, UnexpectedValueAndGapAreNamed) {
  KafkaChecker checker = Clean();
  checker.OnRead(0, 0, "p0-1");
  checker.OnRead(0, 1, "p0-2");
  checker.OnRead(1, 0, "zz");
  EXPECT_EQ(checker.Check()->rfind("UNEXPECTED: partition 1 offset 0", 0), 0u);
  KafkaChecker gap = Clean();
  gap.OnRead(0, 0, "p0-1");
  gap.OnRead(0, 2, "p0-2");
  gap.OnAck(0, "p0-2", 2);
  gap.OnReadDone(0, 3);
  ASSERT_TRUE(gap.Check().has_value());
}

}  // namespace
}  // namespace chronik::sim
