#include "broker/metadata/transactions.h"

#include <string>

#include "broker/kafka/errors.h"
#include "gtest/gtest.h"

namespace chronik::metadata {
namespace {

namespace error = kafka::error;

class TransactionTableTest : public ::testing::Test {
 protected:
  TxnApply Init(const std::string& id, int64_t expected_pid = -1,
                int32_t expected_epoch = -1, int32_t timeout_ms = 60'000) {
    metapb::InitTxnProducer command;
    command.set_transactional_id(id);
    command.set_timeout_ms(timeout_ms);
    command.set_expected_producer_id(expected_pid);
    command.set_expected_producer_epoch(expected_epoch);
    return table_.Init(command, &next_producer_id_);
  }
  TxnApply Add(const std::string& id, int64_t pid, int32_t epoch,
               uint64_t group_id, const std::string& group = "") {
    metapb::AddTxnPartitions command;
    command.set_transactional_id(id);
    command.set_producer_id(pid);
    command.set_producer_epoch(epoch);
    if (group_id != 0) {
      metapb::TxnPartition* p = command.add_partitions();
      p->set_topic("t");
      p->set_partition(static_cast<int32_t>(group_id));
      p->set_group_id(group_id);
    }
    if (!group.empty()) command.add_groups(group);
    return table_.Add(command);
  }
  TxnApply End(const std::string& id, int64_t pid, int32_t epoch, bool commit) {
    metapb::EndTxn command;
    command.set_transactional_id(id);
    command.set_producer_id(pid);
    command.set_producer_epoch(epoch);
    command.set_commit(commit);
    return table_.End(command);
  }
  void Marker(const std::string& id, int32_t seq, uint64_t group_id) {
    metapb::TxnMarkerWritten command;
    command.set_transactional_id(id);
    command.set_txn_seq(seq);
    command.set_group_id(group_id);
    table_.MarkerWritten(command);
  }
  metapb::TxnStatus Status(const std::string& id) {
    return table_.Find(id)->status();
  }

  TransactionTable table_;
  int64_t next_producer_id_ = 1000;
};

TEST_F(TransactionTableTest, InitAllocatesThenBumpsTheEpoch) {
  TxnApply first = Init("a");
  EXPECT_EQ(first.error_code, 0);
  EXPECT_EQ(first.producer_id, 1000);
  EXPECT_EQ(first.producer_epoch, 0);
  TxnApply second = Init("a");
  EXPECT_EQ(second.producer_id, 1000);
  EXPECT_EQ(second.producer_epoch, 1);
  EXPECT_EQ(Init("b").producer_id, 1001);
  EXPECT_EQ(Init("c", -1, -1, 0).error_code, error::kInvalidTransactionTimeout);
  EXPECT_EQ(Init("c", -1, -1, kMaxTransactionTimeoutMs + 1).error_code,
            error::kInvalidTransactionTimeout);
  // KIP-360: a stale id/epoch is fenced, the current one bumps.
  EXPECT_EQ(Init("a", 1000, 0).error_code, error::kProducerFenced);
  EXPECT_EQ(Init("a", 1000, 1).producer_epoch, 2);
}

TEST_F(TransactionTableTest, CommitGoesThroughPrepareToComplete) {
  const TxnApply init = Init("a");
  EXPECT_EQ(Add("a", init.producer_id, 0, 1).error_code, 0);
  EXPECT_EQ(Status("a"), metapb::TXN_ONGOING);
  EXPECT_EQ(Add("a", init.producer_id, 0, 2).error_code, 0);
  EXPECT_EQ(table_.Find("a")->partitions_size(), 2);
  EXPECT_EQ(End("a", init.producer_id, 0, true).error_code, 0);
  EXPECT_EQ(Status("a"), metapb::TXN_PREPARE_COMMIT);
  EXPECT_EQ(table_.Find("a")->txn_seq(), 1);
  // While markers are written: CONCURRENT_TRANSACTIONS.
  EXPECT_EQ(Add("a", init.producer_id, 0, 3).error_code,
            error::kConcurrentTransactions);
  EXPECT_EQ(End("a", init.producer_id, 0, true).error_code,
            error::kConcurrentTransactions);
  EXPECT_EQ(End("a", init.producer_id, 0, false).error_code,
            error::kConcurrentTransactions);
  EXPECT_EQ(Init("a").error_code, error::kConcurrentTransactions);
  Marker("a", 1, 1);
  Marker("a", 0, 2);  // another transaction's: ignored
  EXPECT_EQ(Status("a"), metapb::TXN_PREPARE_COMMIT);
  Marker("a", 1, 2);
  EXPECT_EQ(Status("a"), metapb::TXN_COMPLETE_COMMIT);
  // A retried EndTxn commit succeeds, an abort is refused.
  EXPECT_EQ(End("a", init.producer_id, 0, true).error_code, 0);
  EXPECT_EQ(End("a", init.producer_id, 0, false).error_code,
            error::kInvalidTxnState);
  // The next transaction starts.
  EXPECT_EQ(Add("a", init.producer_id, 0, 3).error_code, 0);
  EXPECT_EQ(Status("a"), metapb::TXN_ONGOING);
  EXPECT_EQ(table_.Find("a")->partitions_size(), 1);
}

TEST_F(TransactionTableTest, ProducerChecks) {
  const TxnApply init = Init("a");
  EXPECT_EQ(Add("nope", init.producer_id, 0, 1).error_code,
            error::kInvalidProducerIdMapping);
  EXPECT_EQ(Add("a", init.producer_id + 7, 0, 1).error_code,
            error::kInvalidProducerIdMapping);
  Init("a");  // epoch 1 now
  EXPECT_EQ(Add("a", init.producer_id, 0, 1).error_code,
            error::kProducerFenced);
  EXPECT_EQ(End("a", init.producer_id, 0, true).error_code,
            error::kProducerFenced);
  EXPECT_EQ(End("a", init.producer_id, 1, false).error_code,
            error::kInvalidTxnState);  // Empty: nothing to end
}

TEST_F(TransactionTableTest, InitFencesAnOpenTransactionByAborting) {
  const TxnApply init = Init("a");
  Add("a", init.producer_id, 0, 1);
  EXPECT_EQ(Init("a").error_code, error::kConcurrentTransactions);
  const metapb::TransactionInfo* txn = table_.Find("a");
  EXPECT_EQ(txn->status(), metapb::TXN_PREPARE_ABORT);
  EXPECT_EQ(txn->producer_epoch(), 1);  // markers carry the bumped epoch
  EXPECT_EQ(Add("a", init.producer_id, 0, 1).error_code,
            error::kProducerFenced);
  Marker("a", 1, 1);
  EXPECT_EQ(Status("a"), metapb::TXN_COMPLETE_ABORT);
  TxnApply again = Init("a");
  EXPECT_EQ(again.error_code, 0);
  EXPECT_EQ(again.producer_epoch, 2);
}

TEST_F(TransactionTableTest, StagedOffsetsAreHandedOutOnCommitOnly) {
  const TxnApply init = Init("a");
  metapb::StageTxnOffsets stage;
  stage.set_transactional_id("a");
  stage.set_producer_id(init.producer_id);
  stage.set_producer_epoch(0);
  stage.mutable_offsets()->set_group("g");
  metapb::OffsetCommitEntry* entry = stage.mutable_offsets()->add_offsets();
  entry->set_topic("t");
  entry->set_partition(0);
  entry->set_offset(42);
  // Not added to a transaction: INVALID_TXN_STATE.
  EXPECT_EQ(table_.Stage(stage).error_code, error::kInvalidTxnState);
  Add("a", init.producer_id, 0, 0, "g");
  EXPECT_EQ(table_.Stage(stage).error_code, 0);
  EXPECT_TRUE(table_.HasStagedOffset("g", "t", 0));
  TxnApply end = End("a", init.producer_id, 0, true);
  ASSERT_EQ(end.offsets_to_commit.size(), 1u);
  EXPECT_EQ(end.offsets_to_commit[0].offsets(0).offset(), 42);
  EXPECT_FALSE(table_.HasStagedOffset("g", "t", 0));
  // No partitions: complete at once.
  EXPECT_EQ(Status("a"), metapb::TXN_COMPLETE_COMMIT);

  Add("a", init.producer_id, 0, 0, "g");
  table_.Stage(stage);
  EXPECT_TRUE(End("a", init.producer_id, 0, false).offsets_to_commit.empty());
}

TEST_F(TransactionTableTest, TimeoutAbortOnlyHitsTheTransactionMeant) {
  const TxnApply init = Init("a");
  Add("a", init.producer_id, 0, 1);
  metapb::EndTxn abort;
  abort.set_transactional_id("a");
  abort.set_fence(true);
  abort.set_expected_txn_seq(5);
  EXPECT_EQ(table_.End(abort).error_code, error::kInvalidTxnState);
  EXPECT_EQ(Status("a"), metapb::TXN_ONGOING);
  abort.set_expected_txn_seq(0);
  EXPECT_EQ(table_.End(abort).error_code, 0);
  EXPECT_EQ(Status("a"), metapb::TXN_PREPARE_ABORT);
  EXPECT_EQ(table_.Find("a")->producer_epoch(), 1);
  // A deleted topic's markers are no longer waited for.
  table_.DropGroups({1});
  EXPECT_EQ(Status("a"), metapb::TXN_COMPLETE_ABORT);
}

TEST_F(TransactionTableTest, SnapshotRoundTrip) {
  const TxnApply init = Init("a");
  Add("a", init.producer_id, 0, 1);
  metapb::MetadataSnapshot snapshot;
  table_.ToSnapshot(&snapshot);
  TransactionTable restored;
  ASSERT_TRUE(restored.FromSnapshot(snapshot).ok());
  ASSERT_NE(restored.Find("a"), nullptr);
  EXPECT_EQ(restored.Find("a")->status(), metapb::TXN_ONGOING);
  snapshot.add_transactions()->set_transactional_id("a");
  EXPECT_FALSE(restored.FromSnapshot(snapshot).ok());
}

}  // namespace
}  // namespace chronik::metadata
