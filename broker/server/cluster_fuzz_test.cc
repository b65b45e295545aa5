// Seeded fault runs of a three-broker cluster in one process: nodes crash
// (losing unsynced writes) and restart, the network drops Raft messages, and
// an idempotent producer keeps writing one record per request to whoever
// leads the partition, retrying each record until it is acknowledged. After
// the faults heal, the partition must hold every acknowledged record exactly
// once, in order, and nothing that was never sent; and a new leader after the
// old one crashes must serve the same log.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr char kTopic[] = "fuzz";

class FaultRun {
 public:
  explicit FaultRun(uint64_t seed) : rng_(seed), cluster_(3, seed) {}

  void Execute() {
    Settle();
    CreateTopic();
    producer_id_ = InitProducerId();
    ASSERT_GE(producer_id_, 0);
    const double drop = std::uniform_real_distribution<double>(0, 0.2)(rng_);
    cluster_.set_drop_probability(drop);
    for (int i = 0; i < 150; ++i) {
      InjectFaults();
      ProduceNext();
      if (::testing::Test::HasFatalFailure()) return;
    }
    // Heal: everything up, no loss; the cluster must converge.
    cluster_.set_drop_probability(0);
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (!cluster_.up(id)) cluster_.Start(id);
    }
    Settle();
    // The last record may still be unacknowledged: finish it.
    for (int i = 0; i < 20 && unacked_attempted_; ++i) ProduceNext();
    std::vector<int64_t> log = ReadAll();
    Check(log);
    // A new leader serves the same records.
    const raft::NodeId leader = Leader();
    ASSERT_NE(leader, 0u);
    cluster_.Crash(leader);
    leader_ = 0;
    for (int i = 0; i < 400 && Leader() == 0; ++i) cluster_.Step();
    EXPECT_EQ(ReadAll(), log) << "the new leader's log differs";
  }

 private:
  void Settle() {
    for (int i = 0; i < 600 && !(cluster_.AllReady() && Leader() != 0); ++i) {
      cluster_.Step();
    }
  }

  raft::NodeId AnyUp() {
    std::vector<raft::NodeId> up;
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (cluster_.up(id)) up.push_back(id);
    }
    return up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(rng_)];
  }

  // The partition's leader as some live node sees it (0 when unknown).
  raft::NodeId Leader() {
    if (leader_ != 0 && cluster_.up(leader_)) return leader_;
    kafka::MetadataResponse metadata = cluster_.Metadata(AnyUp());
    for (const auto& topic : metadata.topics) {
      if (topic.name == kTopic && !topic.partitions.empty() &&
          topic.partitions[0].leader_id > 0) {
        leader_ = static_cast<raft::NodeId>(topic.partitions[0].leader_id);
        return cluster_.up(leader_) ? leader_ : (leader_ = 0);
      }
    }
    // Not created yet (first call): treat the metadata leader as target.
    return 0;
  }

  void CreateTopic() {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int32_t controller = cluster_.Metadata(AnyUp()).controller_id;
      if (controller <= 0) {
        cluster_.Step();
        continue;
      }
      kafka::CreateTopicsRequest create;
      create.topics.push_back({kTopic, 1, 3, {}, {}});
      auto created = cluster_.Call<kafka::CreateTopicsResponse>(
          static_cast<raft::NodeId>(controller), create, 4);
      if (created.has_value() &&
          (created->topics.at(0).error_code == kafka::error::kNone ||
           created->topics.at(0).error_code ==
               kafka::error::kTopicAlreadyExists)) {
        Settle();
        return;
      }
    }
    FAIL() << "could not create the topic";
  }

  int64_t InitProducerId() {
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto init = cluster_.Call<kafka::InitProducerIdResponse>(
          AnyUp(), kafka::InitProducerIdRequest{std::nullopt, 0, -1, -1}, 4);
      if (init.has_value() && init->error_code == 0) return init->producer_id;
      cluster_.Step();
    }
    return -1;
  }

  void InjectFaults() {
    std::uniform_real_distribution<double> chance(0, 1);
    int down = 0;
    for (raft::NodeId id = 1; id <= 3; ++id) down += cluster_.up(id) ? 0 : 1;
    if (down == 0 && chance(rng_) < 0.04) {
      const raft::NodeId victim = AnyUp();
      cluster_.Crash(victim);
      ++crashes_;
      if (victim == leader_) leader_ = 0;
    } else if (down > 0 && chance(rng_) < 0.15) {
      for (raft::NodeId id = 1; id <= 3; ++id) {
        if (!cluster_.up(id)) {
          cluster_.Start(id);
          break;
        }
      }
    }
  }

  std::string RecordBatch(int64_t sequence) const {
    kafka::RecordBatchSpec spec;
    spec.producer_id = producer_id_;
    spec.producer_epoch = 0;
    spec.base_sequence = static_cast<int32_t>(sequence);
    spec.base_timestamp = cluster_.now_ms();
    kafka::Record record;
    record.value = absl::StrCat(sequence);
    return *kafka::BuildRecordBatch(spec, {record});
  }

  // One attempt to get record `next_` acknowledged.
  void ProduceNext() {
    const raft::NodeId target = Leader();
    if (target == 0) {
      cluster_.Step();
      return;
    }
    kafka::ProduceRequest produce;
    produce.acks = -1;
    produce.timeout_ms = 2000;
    produce.topics.push_back({kTopic, {{0, RecordBatch(next_)}}});
    unacked_attempted_ = true;
    auto response =
        cluster_.Call<kafka::ProduceResponse>(target, produce, 9, 60);
    if (!response.has_value()) {
      leader_ = 0;  // crashed or cut off: ask again
      return;
    }
    const auto& partition = response->responses.at(0).partitions.at(0);
    if (partition.error_code == kafka::error::kNone) {
      acked_.push_back(next_);
      ++next_;
      unacked_attempted_ = false;
      return;
    }
    ASSERT_NE(partition.error_code, 45)
        << "OUT_OF_ORDER_SEQUENCE for record " << next_
        << ": the leader lost track of its producer state";
    leader_ = 0;
  }

  // Every record up to the leader's high watermark (retrying leader
  // changes and errors).
  std::vector<int64_t> ReadAll() {
    std::vector<int64_t> values;
    int64_t offset = 0;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const raft::NodeId leader = Leader();
      if (leader == 0) {
        cluster_.Step();
        continue;
      }
      kafka::FetchRequest fetch;
      fetch.topics.push_back({kTopic, {{0, -1, offset, -1, -1, 1 << 20}}});
      auto fetched = cluster_.Call<kafka::FetchResponse>(leader, fetch, 11);
      if (!fetched.has_value() ||
          fetched->responses.at(0).partitions.at(0).error_code != 0) {
        leader_ = 0;
        cluster_.Step();
        continue;
      }
      const auto& partition = fetched->responses.at(0).partitions.at(0);
      if (offset >= partition.high_watermark) return values;
      if (!partition.records.has_value() || partition.records->empty()) {
        cluster_.Step();
        continue;
      }
      auto batches = kafka::ParseRecordBatches(*partition.records);
      EXPECT_TRUE(batches.ok()) << batches.status();
      if (!batches.ok()) return values;
      for (const auto& batch : *batches) {
        EXPECT_EQ(batch.header.base_offset, offset) << "offsets have gaps";
        auto records = kafka::DecodeRecords(batch);
        EXPECT_TRUE(records.ok());
        for (const kafka::Record& record : *records) {
          int64_t value = -1;
          EXPECT_TRUE(absl::SimpleAtoi(record.value.value_or(""), &value));
          values.push_back(value);
        }
        offset = batch.header.last_offset() + 1;
      }
    }
    ADD_FAILURE() << "could not read the partition to its end";
    return values;
  }

  void Check(const std::vector<int64_t>& log) {
    // Exactly the records 0..k-1, in order, once each: every acknowledged
    // record is in, nothing is duplicated or reordered, nothing unsent.
    for (size_t i = 0; i < log.size(); ++i) {
      ASSERT_EQ(log[i], static_cast<int64_t>(i))
          << "position " << i << " of " << log.size();
    }
    ASSERT_GE(log.size(), acked_.size()) << "acknowledged records lost";
    EXPECT_LE(log.size(), static_cast<size_t>(next_) + 1)
        << "records that were never sent";
    EXPECT_GT(acked_.size(), 10u) << "the run made progress";
    EXPECT_GT(crashes_, 0) << "the run had faults";
  }

  std::mt19937_64 rng_;
  testing::InProcessCluster cluster_;
  int64_t producer_id_ = -1;
  int64_t next_ = 0;
  bool unacked_attempted_ = false;
  std::vector<int64_t> acked_;
  raft::NodeId leader_ = 0;
  int crashes_ = 0;
};

class ClusterFuzzTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ClusterFuzzTest, AcknowledgedRecordsSurviveCrashesAndLoss) {
  FaultRun(GetParam()).Execute();
}

INSTANTIATE_TEST_SUITE_P(Seeds, ClusterFuzzTest,
                         ::testing::Range<uint64_t>(1, 51));

}  // namespace
}  // namespace chronik::broker
