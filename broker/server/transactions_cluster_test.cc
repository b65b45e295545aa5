// Transactions in a three-broker cluster (in process, in-memory network):
// the coordinator is the metadata leader (others answer NOT_COORDINATOR),
// markers are written by the partitions' own leaders on other nodes, and a
// coordinator that crashes after EndTxn committed PrepareCommit leaves the
// transaction to be completed by the next one (every partition gets its
// commit marker: committed exactly once, never half).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/kafka/control_batch.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

namespace error = kafka::error;

constexpr int kPartitions = 3;

class TransactionsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.StepUntil([&] { return cluster_.AllReady(); }));
    const raft::NodeId controller = Coordinator();
    ASSERT_NE(controller, 0u);
    kafka::CreateTopicsRequest create;
    create.topics.push_back({"tx", kPartitions, 3, {}, {}});
    auto created =
        cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
    ASSERT_TRUE(created.has_value());
    ASSERT_EQ(created->topics.at(0).error_code, 0);
  }

  // The transaction coordinator as the first live node names it (0: none).
  raft::NodeId Coordinator() {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (!cluster_.up(id)) continue;
      kafka::FindCoordinatorRequest find;
      find.key = "t1";
      find.key_type = 1;
      auto found = cluster_.Call<kafka::FindCoordinatorResponse>(id, find, 3);
      if (!found.has_value() || found->error_code != 0) return 0;
      return static_cast<raft::NodeId>(found->node_id);
    }
    return 0;
  }

  raft::NodeId Leader(int32_t partition) {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (!cluster_.up(id)) continue;
      for (const auto& t : cluster_.Metadata(id).topics) {
        if (t.name == "tx" && t.partitions.size() == kPartitions &&
            t.partitions[partition].leader_id > 0 &&
            cluster_.up(t.partitions[partition].leader_id)) {
          return static_cast<raft::NodeId>(t.partitions[partition].leader_id);
        }
      }
    }
    return 0;
  }

  std::string State(raft::NodeId coordinator) {
    kafka::DescribeTransactionsRequest describe;
    describe.transactional_ids = {"t1"};
    auto described = cluster_.Call<kafka::DescribeTransactionsResponse>(
        coordinator, describe, 0);
    return described.has_value() &&
                   described->transaction_states.at(0).error_code == 0
               ? described->transaction_states.at(0).transaction_state
               : "";
  }

  int16_t ProduceTxn(int32_t partition, int64_t pid) {
    kafka::RecordBatchSpec spec;
    spec.producer_id = pid;
    spec.producer_epoch = 0;
    spec.base_sequence = 0;
    spec.transactional = true;
    kafka::Record record;
    record.value = "v";
    kafka::ProduceRequest produce;
    produce.transactional_id = "t1";
    produce.acks = -1;
    produce.timeout_ms = 5000;
    kafka::ProduceRequest::TopicProduceData data;
    data.name = "tx";
    data.partitions.push_back(
        {partition, *kafka::BuildRecordBatch(spec, {record})});
    produce.topics.push_back(data);
    auto answer =
        cluster_.Call<kafka::ProduceResponse>(Leader(partition), produce, 9);
    return answer.has_value() ? answer->responses[0].partitions[0].error_code
                              : -1;
  }

  // Partition `partition` read from its leader with read_committed.
  std::optional<kafka::FetchResponse::PartitionData> FetchCommitted(
      int32_t partition) {
    kafka::FetchRequest fetch;
    fetch.max_wait_ms = 0;
    fetch.min_bytes = 1;
    fetch.isolation_level = 1;
    fetch.topics.push_back({"tx", {{partition, -1, 0, -1, -1, 1 << 20}}});
    auto answer =
        cluster_.Call<kafka::FetchResponse>(Leader(partition), fetch, 11);
    if (!answer.has_value()) return std::nullopt;
    return answer->responses[0].partitions[0];
  }

  // Every partition holds its record and exactly one commit marker, and
  // read_committed reaches the end.
  void ExpectCommittedOnce() {
    for (int32_t p = 0; p < kPartitions; ++p) {
      std::optional<kafka::FetchResponse::PartitionData> data;
      ASSERT_TRUE(cluster_.StepUntil([&] {
        data = FetchCommitted(p);
        return data.has_value() && data->error_code == 0 &&
               data->last_stable_offset == data->high_watermark &&
               data->high_watermark > 0;
      })) << "partition "
          << p;
      auto batches = kafka::ParseRecordBatches(*data->records);
      ASSERT_TRUE(batches.ok());
      int markers = 0, records = 0;
      for (const auto& batch : *batches) {
        if (!batch.header.is_control()) {
          records += batch.header.last_offset_delta + 1;
          continue;
        }
        ++markers;
        absl::StatusOr<kafka::TxnMarker> marker =
            kafka::ReadTxnMarker(batch.bytes);
        ASSERT_TRUE(marker.ok());
        EXPECT_TRUE(marker->commit);
      }
      EXPECT_EQ(records, 1) << "partition " << p;
      EXPECT_EQ(markers, 1) << "partition " << p;
      EXPECT_TRUE(data->aborted_transactions->empty());
    }
  }

  // Init on the coordinator, every partition added, a record in each.
  int64_t OpenTransaction(raft::NodeId coordinator) {
    kafka::InitProducerIdRequest init;
    init.transactional_id = "t1";
    init.transaction_timeout_ms = 60'000;
    auto id =
        cluster_.Call<kafka::InitProducerIdResponse>(coordinator, init, 4);
    EXPECT_TRUE(id.has_value() && id->error_code == 0);
    kafka::AddPartitionsToTxnRequest add;
    add.transactional_id = "t1";
    add.producer_id = id->producer_id;
    add.producer_epoch = 0;
    add.topics.push_back({"tx", {0, 1, 2}});
    auto added =
        cluster_.Call<kafka::AddPartitionsToTxnResponse>(coordinator, add, 3);
    EXPECT_TRUE(added.has_value());
    for (const auto& p : added->results[0].results) EXPECT_EQ(p.error_code, 0);
    for (int32_t p = 0; p < kPartitions; ++p) {
      EXPECT_EQ(ProduceTxn(p, id->producer_id), 0) << "partition " << p;
    }
    return id->producer_id;
  }

  kafka::EndTxnRequest Commit(int64_t pid) {
    kafka::EndTxnRequest end;
    end.transactional_id = "t1";
    end.producer_id = pid;
    end.producer_epoch = 0;
    end.committed = true;
    return end;
  }

  testing::InProcessCluster cluster_{3, /*seed=*/11};
};

TEST_F(TransactionsClusterTest, OnlyTheMetadataLeaderCoordinates) {
  const raft::NodeId coordinator = Coordinator();
  const raft::NodeId other = coordinator % 3 + 1;
  kafka::InitProducerIdRequest init;
  init.transactional_id = "t1";
  init.transaction_timeout_ms = 60'000;
  auto refused = cluster_.Call<kafka::InitProducerIdResponse>(other, init, 4);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->error_code, error::kNotCoordinator);
  kafka::ListTransactionsRequest list;
  EXPECT_EQ(cluster_.Call<kafka::ListTransactionsResponse>(other, list, 0)
                ->error_code,
            error::kNotCoordinator);
}

TEST_F(TransactionsClusterTest, MarkersAreWrittenByEveryPartitionLeader) {
  const raft::NodeId coordinator = Coordinator();
  const int64_t pid = OpenTransaction(coordinator);
  auto ended =
      cluster_.Call<kafka::EndTxnResponse>(coordinator, Commit(pid), 3);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code, 0);
  ASSERT_TRUE(cluster_.StepUntil(
      [&] { return State(coordinator) == "CompleteCommit"; }));
  ExpectCommittedOnce();
}

TEST_F(TransactionsClusterTest, ANewCoordinatorCompletesAPreparedCommit) {
  const raft::NodeId coordinator = Coordinator();
  const int64_t pid = OpenTransaction(coordinator);
  // Answered once PrepareCommit is committed; no tick has run since, so no
  // marker is written when the coordinator crashes.
  cluster_.Send(coordinator, kafka::EncodeRequestFrame(3, 999, std::string("t"),
                                                       Commit(pid)));
  bool answered = false;
  ASSERT_TRUE(cluster_.StepUntil(
      [&] {
        answered = answered || cluster_.TakeResponse(coordinator).has_value();
        return answered;
      },
      50));
  cluster_.Crash(coordinator);
  raft::NodeId next = 0;
  ASSERT_TRUE(cluster_.StepUntil([&] {
    next = Coordinator();
    return next != 0 && next != coordinator && State(next) == "CompleteCommit";
  }));
  ExpectCommittedOnce();
}

// The partition leaders' reports do not reach the coordinator (forwarded
// commands are lost) until it crashes: the transaction sits in
// PrepareCommit, and the next coordinator completes it from the reports the
// leaders send again, without writing any marker twice.
TEST_F(TransactionsClusterTest, ANewCoordinatorCompletesFromResentReports) {
  const raft::NodeId coordinator = Coordinator();
  const int64_t pid = OpenTransaction(coordinator);
  cluster_.set_drop_filter([](const raft::Message& m) {
    return m.type == raft::MessageType::kForwardProposal;
  });
  auto ended =
      cluster_.Call<kafka::EndTxnResponse>(coordinator, Commit(pid), 3);
  ASSERT_TRUE(ended.has_value());
  EXPECT_EQ(ended->error_code, 0);
  for (int i = 0; i < 20; ++i) cluster_.Step();
  EXPECT_EQ(State(coordinator), "PrepareCommit");
  cluster_.Crash(coordinator);
  cluster_.set_drop_filter({});
  raft::NodeId next = 0;
  ASSERT_TRUE(cluster_.StepUntil([&] {
    next = Coordinator();
    return next != 0 && next != coordinator && State(next) == "CompleteCommit";
  }));
  ExpectCommittedOnce();
  // The old coordinator comes back; nothing is written twice.
  cluster_.Start(coordinator);
  ASSERT_TRUE(cluster_.StepUntil([&] { return cluster_.AllReady(); }));
  for (int i = 0; i < 40; ++i) cluster_.Step();
  ExpectCommittedOnce();
}

}  // namespace
}  // namespace chronik::broker
