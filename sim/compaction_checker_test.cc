#include "sim/compaction_checker.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "sim/kafka_checker.h"

namespace chronik::sim {
namespace {

// Partition 0 of a compacted topic: v1 (key a) at 0, v2 (key b) at 1, v3
// (key a) at 2, all acknowledged.
KafkaChecker Written() {
  KafkaChecker checker;
  checker.compaction().SetCompacted(true);
  const char* keys[] = {"a", "b", "a"};
  for (int i = 0; i < 3; ++i) {
    const std::string value = "v" + std::to_string(i + 1);
    checker.OnSend(0, value);
    checker.compaction().OnSend(value, keys[i]);
    checker.OnAck(0, value, i);
  }
  return checker;
}

void Read(KafkaChecker& checker, int64_t offset, const std::string& key,
          const std::string& value) {
  checker.compaction().OnBatch(0, offset, offset);
  checker.OnRead(0, offset, value);
  checker.compaction().OnRead(0, offset, key, value);
}

TEST(CompactionCheckerTest, AnOlderValueOfAKeyMayBeCompactedAway) {
  KafkaChecker checker = Written();
  checker.compaction().OnBatch(0, 0, 0);  // emptied by compaction
  Read(checker, 1, "b", "v2");
  Read(checker, 2, "a", "v3");
  checker.OnReadDone(0, 3);
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(CompactionCheckerTest, TheLatestValueOfAKeyMissingIsCompactedLost) {
  KafkaChecker checker = Written();
  Read(checker, 0, "a", "v1");
  Read(checker, 1, "b", "v2");
  checker.compaction().OnBatch(0, 2, 2);  // the latest of "a" removed
  checker.OnReadDone(0, 3);
  const std::optional<std::string> anomaly = checker.Check();
  ASSERT_TRUE(anomaly.has_value());
  EXPECT_EQ(anomaly->rfind("COMPACTED LOST: partition 0 offset 2 value v3", 0),
            0u)
      << *anomaly;
}

TEST(CompactionCheckerTest, WithoutCompactionAMissingValueIsLost) {
  KafkaChecker checker = Written();
  checker.compaction().SetCompacted(false);
  Read(checker, 1, "b", "v2");
  Read(checker, 2, "a", "v3");
  checker.OnReadDone(0, 3);
  const std::optional<std::string> anomaly = checker.Check();
  ASSERT_TRUE(anomaly.has_value());
  EXPECT_EQ(anomaly->rfind("LOST: partition 0 offset 0", 0), 0u) << *anomaly;
}

TEST(CompactionCheckerTest, AnOffsetOutsideEveryBatchIsAGap) {
  KafkaChecker checker = Written();
  Read(checker, 1, "b", "v2");  // offset 0 in no batch read
  Read(checker, 2, "a", "v3");
  checker.OnReadDone(0, 3);
  const std::optional<std::string> anomaly = checker.Check();
  ASSERT_TRUE(anomaly.has_value());
  EXPECT_EQ(anomaly->rfind("GAP: partition 0 offset 0", 0), 0u) << *anomaly;
}

TEST(CompactionCheckerTest, OffsetsThatDoNotIncreaseAreCaught) {
  KafkaChecker checker = Written();
  Read(checker, 1, "b", "v2");
  Read(checker, 0, "a", "v1");
  Read(checker, 2, "a", "v3");
  checker.OnReadDone(0, 3);
  const std::optional<std::string> anomaly = checker.Check();
  ASSERT_TRUE(anomaly.has_value());
  EXPECT_EQ(anomaly->rfind("COMPACTION ORDER: partition 0 offset 0", 0), 0u)
      << *anomaly;
}

TEST(CompactionCheckerTest, AValueReadWithAnotherKeyIsCaught) {
  KafkaChecker checker = Written();
  Read(checker, 0, "a", "v1");
  Read(checker, 1, "a", "v2");
  Read(checker, 2, "a", "v3");
  checker.OnReadDone(0, 3);
  const std::optional<std::string> anomaly = checker.Check();
  ASSERT_TRUE(anomaly.has_value());
  EXPECT_EQ(anomaly->rfind("WRONG KEY: partition 0 offset 1", 0), 0u)
      << *anomaly;
}

TEST(CompactionCheckerTest, AGroupDeliveryCompactedAwayLaterIsConsistent) {
  KafkaChecker checker = Written();
  checker.OnGroupOffsetFetched(0, 1, "m1", 0, -1);
  checker.OnGroupRead(2, "m1", 0, 0, "v1");
  checker.OnGroupRead(2, "m1", 0, 1, "v2");
  checker.compaction().OnBatch(0, 0, 0);
  Read(checker, 1, "b", "v2");
  Read(checker, 2, "a", "v3");
  checker.OnReadDone(0, 3);
  EXPECT_EQ(checker.Check(), std::nullopt);
}

}  // namespace
}  // namespace chronik::sim
