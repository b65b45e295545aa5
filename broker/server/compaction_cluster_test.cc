// Log compaction in a three-broker cluster (in process): a follower that was
// down while the leader compacted catches up over the compacted range (the
// leader sends compacted entries from storage: same Raft indexes, terms and
// Kafka offsets) and, as the new leader, serves the same compacted log.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/config/node_ids.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr int kKeys = 5;
constexpr int kRounds = 10;

class CompactionClusterTest : public ::testing::Test {
 protected:
  bool StepUntil(const std::function<bool()>& done) {
    return cluster_.StepUntil(done, 600);
  }

  // `check` on every 20th call only (a read of the whole log steps too),
  // true from its first success on.
  static std::function<bool()> Every20(std::function<bool()> check) {
    return [check, calls = 0, done = false]() mutable {
      done = done || (++calls % 20 == 0 && check());
      return done;
    };
  }

  static std::string Round(int round) {
    std::vector<kafka::Record> batch;
    for (int k = 0; k < kKeys; ++k) {
      kafka::Record record;
      record.offset_delta = k;
      record.key = absl::StrCat("k", k);
      record.value = absl::StrCat("r", round);
      batch.push_back(record);
    }
    return *kafka::BuildRecordBatch(kafka::RecordBatchSpec{}, batch);
  }

  // Key -> (offset, value) of every record `id` serves from offset 0.
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> ReadAll(
      raft::NodeId id) {
    std::map<std::string, std::vector<std::pair<int64_t, std::string>>> out;
    int64_t offset = 0;
    for (int i = 0; i < 100 && offset < kRounds * kKeys; ++i) {
      kafka::FetchRequest fetch;
      fetch.topics.push_back({"c", {{0, -1, offset, -1, -1, 1 << 20}}});
      auto fetched = cluster_.Call<kafka::FetchResponse>(id, fetch, 11);
      if (!fetched.has_value()) break;
      const auto& p = fetched->responses.at(0).partitions.at(0);
      if (p.error_code != 0 || !p.records.has_value()) break;
      auto batches = kafka::ParseRecordBatches(*p.records);
      if (!batches.ok() || batches->empty()) break;
      for (const kafka::RecordBatchView& batch : *batches) {
        absl::StatusOr<std::vector<kafka::Record>> records =
            kafka::DecodeRecords(batch);
        if (!records.ok()) break;
        for (const kafka::Record& r : *records) {
          out[*r.key].push_back(
              {batch.header.base_offset + r.offset_delta, *r.value});
        }
        offset = batch.header.last_offset() + 1;
      }
    }
    return out;
  }

  // Every key once, with its last value at its original offset.
  static bool Compacted(
      const std::map<std::string, std::vector<std::pair<int64_t, std::string>>>&
          seen) {
    if (seen.size() != kKeys) return false;
    for (int k = 0; k < kKeys; ++k) {
      const auto& versions = seen.at(absl::StrCat("k", k));
      if (versions.size() != 1 ||
          versions[0] != std::make_pair(int64_t{(kRounds - 1) * kKeys + k},
                                        std::string("r9"))) {
        return false;
      }
    }
    return true;
  }

  testing::InProcessCluster cluster_{3, /*seed=*/11, /*first_id=*/1,
                                     [](BrokerOptions& options) {
                                       options.compaction_check_ticks = 5;
                                       // Followers behind are served from
                                       // storage, not the Raft tail.
                                       options.max_log_tail_bytes = 256;
                                     }};
};

TEST_F(CompactionClusterTest, AFollowerCatchesUpOverTheCompactedRange) {
  ASSERT_TRUE(StepUntil([&] { return cluster_.AllReady(); }));
  const raft::NodeId controller =
      static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"c",
                           1,
                           3,
                           {},
                           {{"cleanup.policy", "compact"},
                            {"segment.bytes", "600"},
                            {"segment.ms", "500"},
                            {"min.cleanable.dirty.ratio", "0.01"}}});
  auto created =
      cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);
  raft::NodeId leader = 0;
  ASSERT_TRUE(
      StepUntil([&] { return (leader = cluster_.PartitionLeader("c")) != 0; }));
  const raft::NodeId down = leader % 3 + 1;
  const raft::NodeId other = down % 3 + 1;
  cluster_.Crash(down);

  for (int round = 0; round < kRounds; ++round) {
    kafka::ProduceRequest produce;
    produce.acks = -1;
    produce.timeout_ms = 5000;
    produce.topics.push_back({"c", {{0, Round(round)}}});
    auto produced = cluster_.Call<kafka::ProduceResponse>(leader, produce, 9);
    ASSERT_TRUE(produced.has_value());
    ASSERT_EQ(produced->responses[0].partitions[0].error_code, 0);
  }
  ASSERT_TRUE(StepUntil(Every20([&] { return Compacted(ReadAll(leader)); })))
      << "the leader did not compact";

  cluster_.Start(down);
  ASSERT_TRUE(StepUntil([&] {
    for (const ClusterStatus::Partition& p :
         cluster_.broker(leader).Status().partitions) {
      if (p.topic == "c" && p.lag.has_value()) {
        auto lag = p.lag->find(config::KafkaNodeId(down));
        return lag != p.lag->end() && lag->second == 0;
      }
    }
    return false;
  })) << "the follower did not catch up";

  // It leads now and serves the compacted log with the same offsets.
  cluster_.Crash(other);
  cluster_.broker(leader).BeginShutdown();
  ASSERT_TRUE(StepUntil([&] { return cluster_.PartitionLeader("c") == down; }));
  ASSERT_TRUE(StepUntil(Every20([&] { return Compacted(ReadAll(down)); })))
      << "the new leader does not serve the compacted log";
  kafka::ProduceRequest produce;
  produce.acks = 1;
  produce.timeout_ms = 5000;
  produce.topics.push_back({"c", {{0, Round(kRounds)}}});
  auto produced = cluster_.Call<kafka::ProduceResponse>(down, produce, 9);
  ASSERT_TRUE(produced.has_value());
  EXPECT_EQ(produced->responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(produced->responses[0].partitions[0].base_offset, kRounds * kKeys);
}

}  // namespace
}  // namespace chronik::broker
