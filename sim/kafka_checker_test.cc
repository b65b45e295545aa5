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

// A transaction marker (control batch) takes an offset no record holds.
TEST(KafkaCheckerTest, ControlBatchOffsetsAreNoGap) {
  KafkaChecker checker;
  checker.OnSend(0, "a");
  checker.OnAck(0, "a", 0);
  checker.OnRead(0, 0, "a");
  checker.OnReadDone(0, 2);
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_EQ(checker.Check()->rfind("GAP: partition 0 offset 1", 0), 0u);
  checker.OnControl(0, 1, 1);
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

// A plain (non-idempotent) producer's retry may store a value twice; its
// acknowledgement must still name an offset that holds it.
TEST(KafkaCheckerTest, PlainProducerRetryMayDuplicateButNotMisplace) {
  KafkaChecker checker;
  checker.OnSend(0, "q1-1", /*idempotent=*/false);
  checker.OnAck(0, "q1-1", 1);   // the retry's acknowledgement
  checker.OnRead(0, 0, "q1-1");  // the first attempt, stored too
  checker.OnRead(0, 1, "q1-1");
  checker.OnReadDone(0, 2);
  EXPECT_EQ(checker.Check(), std::nullopt);

  KafkaChecker misplaced;
  misplaced.OnSend(0, "q1-1", /*idempotent=*/false);
  misplaced.OnSend(0, "q1-2", /*idempotent=*/false);
  misplaced.OnAck(0, "q1-1", 1);
  misplaced.OnRead(0, 0, "q1-1");
  misplaced.OnRead(0, 1, "q1-2");
  misplaced.OnReadDone(0, 2);
  ASSERT_TRUE(misplaced.Check().has_value());
  EXPECT_EQ(misplaced.Check()->rfind("INCONSISTENT OFFSET", 0), 0u)
      << *misplaced.Check();

  // The same history from an idempotent producer is a DUPLICATE.
  KafkaChecker idempotent;
  idempotent.OnSend(0, "p1-1");
  idempotent.OnAck(0, "p1-1", 1);
  idempotent.OnRead(0, 0, "p1-1");
  idempotent.OnRead(0, 1, "p1-1");
  idempotent.OnReadDone(0, 2);
  ASSERT_TRUE(idempotent.Check().has_value());
  EXPECT_EQ(idempotent.Check()->rfind("DUPLICATE", 0), 0u);
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

// ---------------------------------------------------------------- groups

constexpr int64_t kS = 1'000'000'000;  // one simulated second in nanoseconds

// Partition 0 holds a, b, c, d at offsets 0..3, as the final consumer read.
KafkaChecker FourRecords() {
  KafkaChecker checker;
  const char* values[] = {"a", "b", "c", "d"};
  for (int i = 0; i < 4; ++i) {
    checker.OnSend(0, values[i]);
    checker.OnAck(0, values[i], i);
    checker.OnRead(0, i, values[i]);
  }
  checker.OnReadDone(0, 4);
  return checker;
}

TEST(KafkaCheckerGroupTest, HandoverAfterCommitPasses) {
  KafkaChecker checker = FourRecords();
  checker.OnGroupOffsetFetched(1 * kS, 1 * kS, "m1.1", 0, -1);
  checker.OnGroupRead(2 * kS, "m1.1", 0, 0, "a");
  checker.OnGroupRead(2 * kS, "m1.1", 0, 1, "b");
  checker.OnGroupCommitAcked(3 * kS, "m1.1", 0, 2);
  checker.OnGroupRevoked("m1.1", 0);
  checker.OnGroupOffsetFetched(4 * kS, 4 * kS, "m2.1", 0, 2);
  checker.OnGroupRead(5 * kS, "m2.1", 0, 2, "c");
  checker.OnGroupRead(5 * kS, "m2.1", 0, 3, "d");
  EXPECT_EQ(checker.GroupLag(),
            "partition 0: the group committed 2 of the "
            "high watermark 4");
  checker.OnGroupCommitAcked(6 * kS, "m2.1", 0, 4);
  EXPECT_EQ(checker.GroupLag(), std::nullopt);
  EXPECT_EQ(checker.group_anomaly(), std::nullopt);
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(KafkaCheckerGroupTest, RedeliveryOfUncommittedRecordsIsAllowed) {
  KafkaChecker checker = FourRecords();
  checker.OnGroupOffsetFetched(1 * kS, 1 * kS, "m1.1", 0, -1);
  checker.OnGroupRead(2 * kS, "m1.1", 0, 0, "a");
  checker.OnGroupRead(2 * kS, "m1.1", 0, 1, "b");
  checker.OnGroupCommitAcked(3 * kS, "m1.1", 0, 1);  // b not committed
  checker.OnGroupRevoked("m1.1", 0);
  checker.OnGroupOffsetFetched(4 * kS, 4 * kS, "m2.1", 0, 1);
  checker.OnGroupRead(5 * kS, "m2.1", 0, 1, "b");
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(KafkaCheckerGroupTest, DuplicateDeliveryBelowACommittedOffsetIsNamed) {
  KafkaChecker checker = FourRecords();
  checker.OnGroupOffsetFetched(1 * kS, 1 * kS, "m1.1", 0, -1);
  checker.OnGroupRead(2 * kS, "m1.1", 0, 0, "a");
  checker.OnGroupRead(2 * kS, "m1.1", 0, 1, "b");
  checker.OnGroupCommitAcked(3 * kS, "m1.1", 0, 2);
  // The second member's OffsetFetch was sent after the commit of 2 was
  // acknowledged: offset 1 is below it, and it reads offset 1 again.
  checker.OnGroupOffsetFetched(4 * kS, 4 * kS, "m2.1", 0, 2);
  checker.OnGroupRead(5 * kS, "m2.1", 0, 1, "b");
  ASSERT_TRUE(checker.group_anomaly().has_value());
  EXPECT_EQ(*checker.group_anomaly(),
            "DUPLICATE DELIVERY: at 5.000000s member m2.1 read partition 0 "
            "offset 1 (b), delivered to member m1.1 at 2.000000s; offset 2 "
            "was committed (acknowledged to m1.1 at 3.000000s) before m2.1 "
            "fetched the group's offsets, which said 2");
  EXPECT_EQ(checker.Check(), checker.group_anomaly());
}

TEST(KafkaCheckerGroupTest, CommittedOffsetGoingBackIsNamed) {
  KafkaChecker checker = FourRecords();
  checker.OnGroupCommitAcked(3 * kS, "m1.1", 0, 3);
  // Sent at the instant of the ack: not after it, so no claim.
  checker.OnGroupOffsetFetched(3 * kS, 4 * kS, "m2.1", 0, 1);
  EXPECT_EQ(checker.group_anomaly(), std::nullopt);
  checker.OnGroupOffsetFetched(5 * kS, 6 * kS, "m2.1", 0, -1);
  ASSERT_TRUE(checker.group_anomaly().has_value());
  EXPECT_EQ(*checker.group_anomaly(),
            "COMMITTED OFFSET WENT BACK: at 6.000000s member m2.1 was told "
            "committed offset -1 of partition 0 by an OffsetFetch sent at "
            "5.000000s, but offset 3 had been committed (acknowledged to m1.1 "
            "at 3.000000s)");
}

TEST(KafkaCheckerGroupTest, RefusedRevocationCommitIsNamed) {
  KafkaChecker checker = FourRecords();
  checker.OnGroupCommitRefusedRebalancing(7 * kS, "m1.2", 3, 0, 2);
  ASSERT_TRUE(checker.group_anomaly().has_value());
  EXPECT_EQ(checker.group_anomaly()->rfind(
                "COMMIT REFUSED: at 7.000000s member m1.2's OffsetCommit of "
                "generation 3 (partition 0 offset 2)",
                0),
            0u)
      << *checker.group_anomaly();
}

TEST(KafkaCheckerGroupTest, PollSkipIsNamedAndRealLogGapsAreNot) {
  KafkaChecker checker = FourRecords();
  checker.OnGroupOffsetFetched(1 * kS, 1 * kS, "m1.1", 0, 1);
  checker.OnGroupRead(2 * kS, "m1.1", 0, 3, "d");  // skipped b and c
  EXPECT_EQ(checker.group_anomaly(), std::nullopt) << "needs the final log";
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_EQ(*checker.Check(),
            "POLL SKIP: at 2.000000s member m1.1 read partition 0 offset 3 at "
            "position 1 (its session started at committed offset 1), "
            "skipping offset 1 (b) of the log");
  // A log with nothing at offsets 1 and 2 (e.g. removed records): no skip.
  KafkaChecker gappy;
  gappy.OnSend(0, "a");
  gappy.OnSend(0, "d");
  gappy.OnRead(0, 0, "a");
  gappy.OnRead(0, 3, "d");
  gappy.OnGroupOffsetFetched(1 * kS, 1 * kS, "m1.1", 0, 1);
  gappy.OnGroupRead(2 * kS, "m1.1", 0, 3, "d");
  EXPECT_EQ(gappy.Check(), std::nullopt);
}

TEST(KafkaCheckerGroupTest, GroupReadsMustMatchTheFinalLog) {
  KafkaChecker checker = FourRecords();
  checker.OnGroupOffsetFetched(1 * kS, 1 * kS, "m1.1", 0, 0);
  checker.OnGroupRead(2 * kS, "m1.1", 0, 0, "b");
  EXPECT_EQ(checker.group_anomaly(), std::nullopt);
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_EQ(*checker.Check(),
            "INCONSISTENT OFFSET: at 2.000000s member m1.1 read partition 0 "
            "offset 0 as b, the final log holds a");
  // Two members disagreeing is found online.
  checker.OnGroupOffsetFetched(3 * kS, 3 * kS, "m2.1", 0, 0);
  checker.OnGroupRead(4 * kS, "m2.1", 0, 0, "a");
  ASSERT_TRUE(checker.group_anomaly().has_value());
  EXPECT_EQ(checker.group_anomaly()->rfind("INCONSISTENT OFFSET: at 4.0", 0),
            0u);
}

// ------------------------------------------------------------- log starts

// Four acknowledged values at offsets 0..3 of partition 0.
KafkaChecker FourAcked() {
  KafkaChecker checker;
  for (int i = 0; i < 4; ++i) {
    const std::string value(1, static_cast<char>('a' + i));
    checker.OnSend(0, value);
    checker.OnAck(0, value, i);
  }
  return checker;
}

TEST(KafkaCheckerLogStartTest, RecordsBelowTheLogStartAreNotLost) {
  KafkaChecker checker = FourAcked();
  checker.SetLogStartByDeleteRecordsOnly(true);
  checker.OnDeleteRecordsSent(0, 2);
  checker.OnDeleteRecordsAcked(1 * kS, 2 * kS, 0, 2, 2);
  checker.OnReadFrom(0, 2);  // the consumer reset to the log start
  checker.OnRead(0, 2, "c");
  checker.OnRead(0, 3, "d");
  checker.OnReadDone(0, 4);
  EXPECT_EQ(checker.log_start_anomaly(), std::nullopt);
  EXPECT_EQ(checker.Check(), std::nullopt);
  // Above the log start, an unread acknowledged value is still LOST.
  KafkaChecker lost = FourAcked();
  lost.OnReadFrom(0, 2);
  lost.OnRead(0, 2, "c");
  ASSERT_TRUE(lost.Check().has_value());
  EXPECT_EQ(*lost.Check(),
            "LOST: partition 0 offset 3 value d was acknowledged and never "
            "read (the log starts at 2)");
  // GAP counts from the log start.
  KafkaChecker gap = FourAcked();
  gap.OnReadFrom(0, 1);
  gap.OnRead(0, 1, "b");
  gap.OnRead(0, 3, "d");
  gap.OnReadDone(0, 4);
  ASSERT_TRUE(gap.Check().has_value());
  EXPECT_EQ(gap.Check()->rfind("LOST: partition 0 offset 2", 0), 0u)
      << *gap.Check();
}

TEST(KafkaCheckerLogStartTest, LogStartBeyondWhatWasAskedIsNamed) {
  KafkaChecker checker = FourAcked();
  checker.SetLogStartByDeleteRecordsOnly(true);
  checker.OnDeleteRecordsSent(0, 2);
  checker.OnLogStartSeen(-1, 1 * kS, 0, 2, "Fetch");
  EXPECT_EQ(checker.log_start_anomaly(), std::nullopt);
  checker.OnDeleteRecordsAcked(1 * kS, 2 * kS, 0, 2, 3);
  ASSERT_TRUE(checker.log_start_anomaly().has_value());
  EXPECT_EQ(*checker.log_start_anomaly(),
            "LOG START BEYOND REQUEST: at 2.000000s DeleteRecords reported "
            "log start 3 of partition 0, but DeleteRecords was asked for "
            "offset 2 at most (and nothing else trims the topic)");
  // With retention (or a DeleteRecords up to the high watermark) any log
  // start may be legitimate.
  KafkaChecker retained = FourAcked();
  retained.OnLogStartSeen(-1, 1 * kS, 0, 3, "Fetch");
  EXPECT_EQ(retained.log_start_anomaly(), std::nullopt);
  KafkaChecker to_end = FourAcked();
  to_end.SetLogStartByDeleteRecordsOnly(true);
  to_end.OnDeleteRecordsSent(0, -1);
  to_end.OnLogStartSeen(-1, 1 * kS, 0, 4, "ListOffsets");
  EXPECT_EQ(to_end.log_start_anomaly(), std::nullopt);
}

TEST(KafkaCheckerLogStartTest, ForgottenDeletionIsNamed) {
  KafkaChecker checker = FourAcked();
  checker.OnDeleteRecordsSent(0, 3);
  checker.OnDeleteRecordsAcked(1 * kS, 2 * kS, 0, 3, 3);
  // Sent before the acknowledgement: it may have been answered before the
  // deletion applied.
  checker.OnLogStartSeen(1 * kS, 3 * kS, 0, 0, "ListOffsets");
  // A Fetch's log start is not judged (a leader not yet caught up).
  checker.OnLogStartSeen(-1, 3 * kS, 0, 1, "Fetch");
  EXPECT_EQ(checker.log_start_anomaly(), std::nullopt);
  checker.OnLogStartSeen(4 * kS, 5 * kS, 0, 2, "ListOffsets");
  ASSERT_TRUE(checker.log_start_anomaly().has_value());
  EXPECT_EQ(*checker.log_start_anomaly(),
            "LOG START WENT BACK: at 5.000000s ListOffsets (sent at "
            "4.000000s) reported log start 2 of partition 0, but "
            "DeleteRecords(3) had been acknowledged before");
  KafkaChecker short_ack = FourAcked();
  short_ack.OnDeleteRecordsSent(0, 3);
  short_ack.OnDeleteRecordsAcked(1 * kS, 2 * kS, 0, 3, 1);
  ASSERT_TRUE(short_ack.log_start_anomaly().has_value());
  EXPECT_EQ(short_ack.log_start_anomaly()->rfind("LOG START WENT BACK", 0), 0u);
}

TEST(KafkaCheckerLogStartTest, MemberResetToTheLogStartIsNoSkip) {
  KafkaChecker checker = FourRecords();
  checker.OnGroupOffsetFetched(1 * kS, 1 * kS, "m1.1", 0, 0);
  checker.OnGroupReset(2 * kS, "m1.1", 0, 2);  // a and b deleted
  checker.OnGroupRead(3 * kS, "m1.1", 0, 2, "c");
  EXPECT_EQ(checker.Check(), std::nullopt);
  // A delivery of a record deleted before the final read is not compared.
  KafkaChecker deleted = FourAcked();
  deleted.OnGroupOffsetFetched(1 * kS, 1 * kS, "m1.1", 0, 0);
  deleted.OnGroupRead(2 * kS, "m1.1", 0, 0, "a");
  deleted.OnReadFrom(0, 2);
  deleted.OnRead(0, 2, "c");
  deleted.OnRead(0, 3, "d");
  deleted.OnReadDone(0, 4);
  EXPECT_EQ(deleted.Check(), std::nullopt);
}

}  // namespace
}  // namespace chronik::sim
