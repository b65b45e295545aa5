// Transactions through real request frames on one in-process broker: the
// coordinator's state transitions and error codes, markers, the LSO,
// read_committed fetches and the aborted-transactions list, timeouts.
#include <string>
#include <vector>

#include "broker/kafka/control_batch.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

namespace error = kafka::error;

class TransactionsTest : public testing::BrokerTest {
 protected:
  kafka::InitProducerIdResponse Init(const std::string& id,
                                     int32_t timeout_ms = 60'000,
                                     int16_t version = 4, int64_t pid = -1,
                                     int16_t epoch = -1) {
    kafka::InitProducerIdRequest request;
    request.transactional_id = id;
    request.transaction_timeout_ms = timeout_ms;
    request.producer_id = pid;
    request.producer_epoch = epoch;
    return Call<kafka::InitProducerIdResponse>(request, version);
  }
  kafka::AddPartitionsToTxnResponse AddPartitions(
      const std::string& id, int64_t pid, int16_t epoch,
      const std::string& topic, std::vector<int32_t> partitions,
      int16_t version = 3) {
    kafka::AddPartitionsToTxnRequest request;
    request.transactional_id = id;
    request.producer_id = pid;
    request.producer_epoch = epoch;
    request.topics.push_back({topic, std::move(partitions)});
    return Call<kafka::AddPartitionsToTxnResponse>(request, version);
  }
  int16_t AddPartitionCode(const std::string& id, int64_t pid, int16_t epoch,
                           int16_t version = 3) {
    return AddPartitions(id, pid, epoch, "tx", {0}, version)
        .results.at(0)
        .results.at(0)
        .error_code;
  }
  int16_t End(const std::string& id, int64_t pid, int16_t epoch, bool commit,
              int16_t version = 3) {
    kafka::EndTxnRequest request;
    request.transactional_id = id;
    request.producer_id = pid;
    request.producer_epoch = epoch;
    request.committed = commit;
    return Call<kafka::EndTxnResponse>(request, version).error_code;
  }
  static std::string TxnBatch(int64_t pid, int16_t epoch, int32_t sequence,
                              int records) {
    kafka::RecordBatchSpec spec;
    spec.producer_id = pid;
    spec.producer_epoch = epoch;
    spec.base_sequence = sequence;
    spec.transactional = true;
    std::vector<kafka::Record> batch;
    for (int i = 0; i < records; ++i) {
      kafka::Record record;
      record.offset_delta = i;
      record.value = "v";
      batch.push_back(record);
    }
    return *kafka::BuildRecordBatch(spec, batch);
  }
  int16_t ProduceTxn(const std::string& id, int64_t pid, int16_t epoch,
                     int32_t sequence, int records) {
    kafka::ProduceRequest request;
    request.transactional_id = id;
    request.acks = -1;
    request.timeout_ms = 5000;
    kafka::ProduceRequest::TopicProduceData data;
    data.name = "tx";
    data.partitions.push_back({0, TxnBatch(pid, epoch, sequence, records)});
    request.topics.push_back(data);
    return Call<kafka::ProduceResponse>(request, 9)
        .responses.at(0)
        .partitions.at(0)
        .error_code;
  }
  kafka::FetchResponse::PartitionData FetchCommitted(int64_t offset) {
    kafka::FetchRequest request;
    request.max_wait_ms = 0;
    request.min_bytes = 1;
    request.isolation_level = 1;
    kafka::FetchRequest::FetchTopic topic;
    topic.topic = "tx";
    kafka::FetchRequest::FetchPartition p;
    p.partition = 0;
    p.fetch_offset = offset;
    p.partition_max_bytes = 1 << 20;
    topic.partitions.push_back(p);
    request.topics.push_back(topic);
    return Call<kafka::FetchResponse>(request, 11)
        .responses.at(0)
        .partitions.at(0);
  }
  int64_t ListLatest(int8_t isolation_level) {
    kafka::ListOffsetsRequest request;
    request.replica_id = -1;
    request.isolation_level = isolation_level;
    kafka::ListOffsetsRequest::ListOffsetsTopic topic;
    topic.name = "tx";
    kafka::ListOffsetsRequest::ListOffsetsPartition p;
    p.partition_index = 0;
    p.timestamp = -1;
    topic.partitions.push_back(p);
    request.topics.push_back(topic);
    return Call<kafka::ListOffsetsResponse>(request, 5)
        .topics.at(0)
        .partitions.at(0)
        .offset;
  }
  std::string State(const std::string& id) {
    kafka::DescribeTransactionsRequest request;
    request.transactional_ids = {id};
    return Call<kafka::DescribeTransactionsResponse>(request, 0)
        .transaction_states.at(0)
        .transaction_state;
  }
  void Ticks(int n) {
    for (int i = 0; i < n; ++i) Tick();
  }
  void SetUp() override {
    ASSERT_EQ(CreateTopic("tx", 1).topics[0].error_code, 0);
  }
};

TEST_F(TransactionsTest, FindCoordinatorServesTransactionKeys) {
  kafka::FindCoordinatorRequest request;
  request.key = "t1";
  request.key_type = 1;
  kafka::FindCoordinatorResponse response =
      Call<kafka::FindCoordinatorResponse>(request, 3);
  EXPECT_EQ(response.error_code, 0);
  EXPECT_EQ(response.node_id, 1);
  request.key_type = 2;
  EXPECT_EQ(Call<kafka::FindCoordinatorResponse>(request, 3).error_code,
            error::kInvalidRequest);
}

TEST_F(TransactionsTest, InitProducerIdAllocatesAndBumpsEpochs) {
  kafka::InitProducerIdResponse first = Init("t1");
  ASSERT_EQ(first.error_code, 0);
  EXPECT_GE(first.producer_id, 0);
  EXPECT_EQ(first.producer_epoch, 0);
  kafka::InitProducerIdResponse second = Init("t1");
  EXPECT_EQ(second.producer_id, first.producer_id);
  EXPECT_EQ(second.producer_epoch, 1);
  EXPECT_NE(Init("t2").producer_id, first.producer_id);
  EXPECT_EQ(Init("t3", 0).error_code, error::kInvalidTransactionTimeout);
  // KIP-360 (v3+): a stale id/epoch is fenced.
  EXPECT_EQ(Init("t1", 60'000, 4, first.producer_id, 0).error_code,
            error::kProducerFenced);
  EXPECT_EQ(Init("t1", 60'000, 3, first.producer_id, 0).error_code,
            error::kInvalidProducerEpoch);
  EXPECT_EQ(State("t1"), "Empty");
}

TEST_F(TransactionsTest, CommitMakesRecordsVisibleToReadCommitted) {
  const kafka::InitProducerIdResponse init = Init("t1");
  const int64_t pid = init.producer_id;
  ASSERT_EQ(AddPartitionCode("t1", pid, 0), 0);
  EXPECT_EQ(State("t1"), "Ongoing");
  ASSERT_EQ(ProduceTxn("t1", pid, 0, 0, 3), 0);
  // Open: read_committed sees nothing, the LSO is its first offset.
  kafka::FetchResponse::PartitionData open = FetchCommitted(0);
  EXPECT_EQ(open.error_code, 0);
  EXPECT_EQ(open.high_watermark, 3);
  EXPECT_EQ(open.last_stable_offset, 0);
  EXPECT_FALSE(open.records.has_value() && !open.records->empty());
  EXPECT_EQ(ListLatest(1), 0);
  EXPECT_EQ(ListLatest(0), 3);
  ASSERT_EQ(End("t1", pid, 0, /*commit=*/true), 0);
  Ticks(3);  // the marker is written and reported
  EXPECT_EQ(State("t1"), "CompleteCommit");
  kafka::FetchResponse::PartitionData done = FetchCommitted(0);
  EXPECT_EQ(done.high_watermark, 4);
  EXPECT_EQ(done.last_stable_offset, 4);
  ASSERT_TRUE(done.aborted_transactions.has_value());
  EXPECT_TRUE(done.aborted_transactions->empty());
  auto batches = kafka::ParseRecordBatches(*done.records);
  ASSERT_TRUE(batches.ok());
  ASSERT_EQ(batches->size(), 2u);
  EXPECT_TRUE((*batches)[0].header.is_transactional());
  EXPECT_TRUE((*batches)[1].header.is_control());
  absl::StatusOr<kafka::TxnMarker> marker =
      kafka::ReadTxnMarker((*batches)[1].bytes);
  ASSERT_TRUE(marker.ok());
  EXPECT_TRUE(marker->commit);
  EXPECT_EQ(marker->producer_id, pid);
  EXPECT_EQ(ListLatest(1), 4);
  // A retried commit succeeds; an abort now is refused.
  EXPECT_EQ(End("t1", pid, 0, true), 0);
  EXPECT_EQ(End("t1", pid, 0, false), error::kInvalidTxnState);
}

TEST_F(TransactionsTest, AbortListsTheAbortedTransaction) {
  const int64_t pid = Init("t1").producer_id;
  ASSERT_EQ(AddPartitionCode("t1", pid, 0), 0);
  ASSERT_EQ(ProduceTxn("t1", pid, 0, 0, 2), 0);
  ASSERT_EQ(End("t1", pid, 0, /*commit=*/false), 0);
  Ticks(3);
  EXPECT_EQ(State("t1"), "CompleteAbort");
  kafka::FetchResponse::PartitionData fetched = FetchCommitted(0);
  EXPECT_EQ(fetched.last_stable_offset, 3);
  ASSERT_TRUE(fetched.aborted_transactions.has_value());
  ASSERT_EQ(fetched.aborted_transactions->size(), 1u);
  EXPECT_EQ(fetched.aborted_transactions->at(0).producer_id, pid);
  EXPECT_EQ(fetched.aborted_transactions->at(0).first_offset, 0);
  // The next transaction of the producer continues its sequence.
  ASSERT_EQ(AddPartitionCode("t1", pid, 0), 0);
  EXPECT_EQ(ProduceTxn("t1", pid, 0, 2, 1), 0);
}

TEST_F(TransactionsTest, WhileMarkersAreWrittenRequestsWait) {
  const int64_t pid = Init("t1").producer_id;
  ASSERT_EQ(AddPartitionCode("t1", pid, 0), 0);
  ASSERT_EQ(End("t1", pid, 0, true), 0);
  // No tick yet: the marker is not written.
  EXPECT_EQ(State("t1"), "PrepareCommit");
  EXPECT_EQ(AddPartitionCode("t1", pid, 0), error::kConcurrentTransactions);
  EXPECT_EQ(End("t1", pid, 0, true), error::kConcurrentTransactions);
  EXPECT_EQ(Init("t1").error_code, error::kConcurrentTransactions);
  Ticks(3);
  EXPECT_EQ(AddPartitionCode("t1", pid, 0), 0);
}

TEST_F(TransactionsTest, ProducerErrors) {
  const int64_t pid = Init("t1").producer_id;
  Init("t1");  // epoch 1 fences epoch 0
  EXPECT_EQ(AddPartitionCode("t1", pid, 0), error::kProducerFenced);
  EXPECT_EQ(AddPartitionCode("t1", pid, 0, /*version=*/1),
            error::kInvalidProducerEpoch);
  EXPECT_EQ(AddPartitionCode("t1", pid + 100, 1),
            error::kInvalidProducerIdMapping);
  EXPECT_EQ(AddPartitionCode("nobody", pid, 1),
            error::kInvalidProducerIdMapping);
  EXPECT_EQ(End("t1", pid, 1, true), error::kInvalidTxnState);  // Empty
  kafka::AddPartitionsToTxnResponse unknown =
      AddPartitions("t1", pid, 1, "nope", {0});
  EXPECT_EQ(unknown.results[0].results[0].error_code,
            error::kUnknownTopicOrPartition);
  kafka::AddPartitionsToTxnRequest mixed;
  mixed.transactional_id = "t1";
  mixed.producer_id = pid;
  mixed.producer_epoch = 1;
  mixed.topics.push_back({"tx", {0}});
  mixed.topics.push_back({"tx", {7}});
  kafka::AddPartitionsToTxnResponse answer =
      Call<kafka::AddPartitionsToTxnResponse>(mixed, 3);
  EXPECT_EQ(answer.results[0].results[0].error_code,
            error::kOperationNotAttempted);
  EXPECT_EQ(answer.results[1].results[0].error_code,
            error::kUnknownTopicOrPartition);
  EXPECT_EQ(State("t1"), "Empty");
  // A fenced epoch's data is refused by the partition after the abort.
  ASSERT_EQ(AddPartitionCode("t1", pid, 1), 0);
  ASSERT_EQ(ProduceTxn("t1", pid, 1, 0, 1), 0);
  EXPECT_EQ(Init("t1").error_code, error::kConcurrentTransactions);
  Ticks(3);
  EXPECT_EQ(ProduceTxn("t1", pid, 1, 1, 1), error::kInvalidProducerEpoch);
  EXPECT_EQ(Init("t1").producer_epoch, 3);
}

TEST_F(TransactionsTest, OffsetsCommitWithTheTransaction) {
  const int64_t pid = Init("t1").producer_id;
  kafka::AddOffsetsToTxnRequest add;
  add.transactional_id = "t1";
  add.producer_id = pid;
  add.producer_epoch = 0;
  add.group_id = "g";
  ASSERT_EQ(Call<kafka::AddOffsetsToTxnResponse>(add, 1).error_code, 0);
  kafka::TxnOffsetCommitRequest commit;
  commit.transactional_id = "t1";
  commit.group_id = "g";
  commit.producer_id = pid;
  commit.producer_epoch = 0;
  kafka::TxnOffsetCommitRequest::TxnOffsetCommitRequestTopic topic;
  topic.name = "tx";
  topic.partitions.push_back({0, 17, -1, std::string("m")});
  topic.partitions.push_back({9, 17, -1, std::string("m")});
  commit.topics.push_back(topic);
  kafka::TxnOffsetCommitResponse staged =
      Call<kafka::TxnOffsetCommitResponse>(commit, 3);
  EXPECT_EQ(staged.topics[0].partitions[0].error_code, 0);
  EXPECT_EQ(staged.topics[0].partitions[1].error_code,
            error::kUnknownTopicOrPartition);
  kafka::OffsetFetchRequest fetch;
  fetch.group_id = "g";
  fetch.topics =
      std::vector<kafka::OffsetFetchRequest::OffsetFetchRequestTopic>{
          {"tx", {0}}};
  EXPECT_EQ(Call<kafka::OffsetFetchResponse>(fetch, 5)
                .topics[0]
                .partitions[0]
                .committed_offset,
            -1);
  // A read_committed consumer asks with require_stable (v7+): the staged
  // offset makes the partition's committed offset unstable until the end.
  fetch.require_stable = true;
  const kafka::OffsetFetchResponse unstable =
      Call<kafka::OffsetFetchResponse>(fetch, 7);
  EXPECT_EQ(unstable.topics[0].partitions[0].error_code,
            error::kUnstableOffsetCommit);
  EXPECT_EQ(unstable.topics[0].partitions[0].committed_offset, -1);
  kafka::OffsetFetchRequest fetch8;
  fetch8.require_stable = true;
  fetch8.groups.push_back(
      {"g", std::vector<kafka::OffsetFetchRequest::OffsetFetchRequestTopics>{
                {"tx", {0}}}});
  EXPECT_EQ(Call<kafka::OffsetFetchResponse>(fetch8, 8)
                .groups[0]
                .topics[0]
                .partitions[0]
                .error_code,
            error::kUnstableOffsetCommit);
  commit.producer_epoch = 5;
  EXPECT_EQ(Call<kafka::TxnOffsetCommitResponse>(commit, 3)
                .topics[0]
                .partitions[0]
                .error_code,
            error::kInvalidProducerEpoch);
  ASSERT_EQ(End("t1", pid, 0, true), 0);
  EXPECT_EQ(Call<kafka::OffsetFetchResponse>(fetch, 5)
                .topics[0]
                .partitions[0]
                .committed_offset,
            17);
  const kafka::OffsetFetchResponse stable =
      Call<kafka::OffsetFetchResponse>(fetch, 7);
  EXPECT_EQ(stable.topics[0].partitions[0].error_code, 0);
  EXPECT_EQ(stable.topics[0].partitions[0].committed_offset, 17);
}

TEST_F(TransactionsTest, TimeoutAbortsAndFencesTheProducer) {
  const int64_t pid = Init("t1", /*timeout_ms=*/1000).producer_id;
  ASSERT_EQ(AddPartitionCode("t1", pid, 0), 0);
  ASSERT_EQ(ProduceTxn("t1", pid, 0, 0, 1), 0);
  Ticks(10);  // 500 ms
  EXPECT_EQ(State("t1"), "Ongoing");
  Ticks(20);
  EXPECT_EQ(State("t1"), "CompleteAbort");
  EXPECT_EQ(End("t1", pid, 0, true), error::kProducerFenced);
  kafka::FetchResponse::PartitionData fetched = FetchCommitted(0);
  EXPECT_EQ(fetched.last_stable_offset, 2);
  EXPECT_EQ(fetched.aborted_transactions->size(), 1u);
}

TEST_F(TransactionsTest, DescribeAndListTransactionsAndProducers) {
  const int64_t pid = Init("t1").producer_id;
  Init("t2");
  ASSERT_EQ(AddPartitionCode("t1", pid, 0), 0);
  ASSERT_EQ(ProduceTxn("t1", pid, 0, 0, 2), 0);
  kafka::DescribeTransactionsRequest describe;
  describe.transactional_ids = {"t1", "none"};
  kafka::DescribeTransactionsResponse described =
      Call<kafka::DescribeTransactionsResponse>(describe, 0);
  ASSERT_EQ(described.transaction_states.size(), 2u);
  const auto& t1 = described.transaction_states[0];
  EXPECT_EQ(t1.transaction_state, "Ongoing");
  EXPECT_EQ(t1.producer_id, pid);
  EXPECT_EQ(t1.transaction_timeout_ms, 60'000);
  ASSERT_EQ(t1.topics.size(), 1u);
  EXPECT_EQ(t1.topics[0].topic, "tx");
  EXPECT_EQ(described.transaction_states[1].error_code,
            error::kTransactionalIdNotFound);

  kafka::ListTransactionsRequest list;
  EXPECT_EQ(
      Call<kafka::ListTransactionsResponse>(list, 0).transaction_states.size(),
      2u);
  list.state_filters = {"Ongoing", "Bogus"};
  kafka::ListTransactionsResponse listed =
      Call<kafka::ListTransactionsResponse>(list, 0);
  ASSERT_EQ(listed.transaction_states.size(), 1u);
  EXPECT_EQ(listed.transaction_states[0].transactional_id, "t1");
  EXPECT_EQ(listed.unknown_state_filters, std::vector<std::string>{"Bogus"});

  kafka::DescribeProducersRequest producers;
  producers.topics.push_back({"tx", {0, 5}});
  kafka::DescribeProducersResponse p =
      Call<kafka::DescribeProducersResponse>(producers, 0);
  const auto& partition = p.topics[0].partitions[0];
  ASSERT_EQ(partition.active_producers.size(), 1u);
  EXPECT_EQ(partition.active_producers[0].producer_id, pid);
  EXPECT_EQ(partition.active_producers[0].last_sequence, 1);
  EXPECT_EQ(partition.active_producers[0].current_txn_start_offset, 0);
  EXPECT_EQ(p.topics[0].partitions[1].error_code,
            error::kUnknownTopicOrPartition);
}

TEST_F(TransactionsTest, ClientsMayNotWriteControlBatches) {
  kafka::TxnMarker marker;
  marker.producer_id = 5;
  marker.producer_epoch = 0;
  marker.commit = true;
  EXPECT_EQ(Produce("tx", 0, kafka::BuildTxnMarker(marker))
                .responses[0]
                .partitions[0]
                .error_code,
            error::kInvalidRecord);
}

TEST_F(TransactionsTest, StateSurvivesARestart) {
  const int64_t pid = Init("t1").producer_id;
  ASSERT_EQ(AddPartitionCode("t1", pid, 0), 0);
  ASSERT_EQ(ProduceTxn("t1", pid, 0, 0, 2), 0);
  Restart(/*crash=*/false);
  Ticks(30);
  EXPECT_EQ(State("t1"), "Ongoing");
  EXPECT_EQ(FetchCommitted(0).last_stable_offset, 0);
  ASSERT_EQ(End("t1", pid, 0, false), 0);
  Ticks(3);
  EXPECT_EQ(FetchCommitted(0).last_stable_offset, 3);
}

}  // namespace
}  // namespace chronik::broker
