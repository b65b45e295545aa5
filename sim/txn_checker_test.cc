#include "sim/txn_checker.h"

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

using Outcome = TxnChecker::Outcome;

// Transaction "t1.1" of producer 7: two records on partition 0 at offsets
// 10 and 11, its marker at 12.
TxnChecker TwoRecords(bool commit_sent, Outcome outcome, bool commit_marker) {
  TxnChecker checker;
  checker.OnRecordSent("t1.1", 0, "t1.1.0");
  checker.OnRecordSent("t1.1", 0, "t1.1.1");
  checker.OnRecordAcked("t1.1.0", 10);
  checker.OnRecordAcked("t1.1.1", 11);
  checker.OnEndSent("t1.1", commit_sent);
  checker.OnOutcome("t1.1", outcome);
  checker.OnLogRecord(0, 10, 7, "t1.1.0");
  checker.OnLogRecord(0, 11, 7, "t1.1.1");
  checker.OnMarker(0, 12, 7, commit_marker);
  return checker;
}

TEST(TxnCheckerTest, CommittedAndDeliveredWholePasses) {
  TxnChecker checker = TwoRecords(true, Outcome::kCommitted, true);
  checker.OnDelivered(0, 10, "t1.1.0");
  checker.OnDelivered(0, 11, "t1.1.1");
  EXPECT_EQ(checker.Check(), std::nullopt);
  EXPECT_EQ(checker.committed(), 1u);
}

TEST(TxnCheckerTest, AbortedAndNotDeliveredPasses) {
  TxnChecker checker = TwoRecords(false, Outcome::kAborted, false);
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(TxnCheckerTest, RecordOfAbortedTransactionIsAbortedRead) {
  TxnChecker checker = TwoRecords(false, Outcome::kAborted, true);
  checker.OnDelivered(0, 10, "t1.1.0");
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_NE(checker.Check()->find("ABORTED READ"), std::string::npos);
}

TEST(TxnCheckerTest, RecordBeforeAnAbortMarkerIsAbortedRead) {
  // The client does not know (commit sent, answer lost); the log says abort.
  TxnChecker checker = TwoRecords(true, Outcome::kUnknown, false);
  checker.OnDelivered(0, 10, "t1.1.0");
  checker.OnDelivered(0, 11, "t1.1.1");
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_NE(checker.Check()->find("abort marker"), std::string::npos);
}

TEST(TxnCheckerTest, CommittedWithARecordMissingIsTorn) {
  TxnChecker checker = TwoRecords(true, Outcome::kCommitted, true);
  checker.OnDelivered(0, 10, "t1.1.0");
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_NE(checker.Check()->find("TORN TXN"), std::string::npos);
}

TEST(TxnCheckerTest, CommittedWithNothingDeliveredIsTorn) {
  TxnChecker checker = TwoRecords(true, Outcome::kCommitted, false);
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_NE(checker.Check()->find("TORN TXN"), std::string::npos);
}

TEST(TxnCheckerTest, UnknownOutcomeMustBeAllOrNothing) {
  TxnChecker none = TwoRecords(true, Outcome::kUnknown, true);
  none.OnMarker(0, 12, 7, false);  // in fact aborted: nothing delivered
  EXPECT_EQ(none.Check(), std::nullopt);
  TxnChecker part;
  part.OnRecordSent("t1.1", 0, "t1.1.0");
  part.OnRecordSent("t1.1", 1, "t1.1.1");
  part.OnRecordAcked("t1.1.0", 10);
  part.OnRecordAcked("t1.1.1", 20);
  part.OnEndSent("t1.1", true);
  part.OnOutcome("t1.1", Outcome::kUnknown);
  part.OnDelivered(0, 10, "t1.1.0");
  ASSERT_TRUE(part.Check().has_value());
  EXPECT_NE(part.Check()->find("outcome unknown"), std::string::npos);
}

TEST(TxnCheckerTest, RecordsBelowTheLogStartAreNotRequired) {
  TxnChecker checker = TwoRecords(true, Outcome::kCommitted, true);
  checker.OnLogStart(0, 11);
  checker.OnDelivered(0, 11, "t1.1.1");
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(TxnCheckerTest, DeliveredAtTwoOffsetsIsDuplicate) {
  TxnChecker checker = TwoRecords(true, Outcome::kCommitted, true);
  checker.OnDelivered(0, 10, "t1.1.0");
  checker.OnDelivered(0, 11, "t1.1.1");
  checker.OnDelivered(0, 13, "t1.1.1");
  ASSERT_TRUE(checker.Check().has_value());
  EXPECT_NE(checker.Check()->find("DUPLICATE"), std::string::npos);
}

TEST(TxnCheckerTest, TheFinalReadMustDeliverEveryCommittedRecordAgain) {
  TxnChecker checker = TwoRecords(true, Outcome::kCommitted, true);
  checker.OnDelivered(0, 10, "t1.1.0");
  checker.OnDelivered(0, 11, "t1.1.1");
  checker.StartFinalRead();
  checker.OnDelivered(0, 10, "t1.1.0");      // the same record again: fine
  ASSERT_TRUE(checker.Check().has_value());  // 11 not read again
  EXPECT_NE(checker.Check()->find("TORN TXN"), std::string::npos);
  checker.OnDelivered(0, 11, "t1.1.1");
  EXPECT_EQ(checker.Check(), std::nullopt);
}

TEST(TxnCheckerTest, EarlierDeliveriesStillCountForAbortedReadAndDuplicates) {
  TxnChecker aborted = TwoRecords(false, Outcome::kAborted, false);
  aborted.OnDelivered(0, 10, "t1.1.0");
  aborted.StartFinalRead();
  ASSERT_TRUE(aborted.Check().has_value());
  EXPECT_NE(aborted.Check()->find("ABORTED READ"), std::string::npos);

  TxnChecker twice = TwoRecords(true, Outcome::kCommitted, true);
  twice.OnDelivered(0, 10, "t1.1.0");
  twice.StartFinalRead();
  twice.OnDelivered(0, 11, "t1.1.0");  // at another offset
  twice.OnDelivered(0, 11, "t1.1.1");
  ASSERT_TRUE(twice.Check().has_value());
  EXPECT_NE(twice.Check()->find("DUPLICATE"), std::string::npos);
}

}  // namespace
}  // namespace chronik::sim
