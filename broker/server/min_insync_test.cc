// acks=all with min.insync.replicas above a majority, on five in-process
// brokers: a Raft commit needs three copies, the acknowledgement four
// (Kafka's promise is min.insync.replicas copies, not a majority).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr auto Batch = testing::ValuesBatch;
constexpr int64_t kLagMs = 3'000;
constexpr int64_t kTickMs = 50;

class MinInsyncTest : public ::testing::Test {
 protected:
  void StepUntil(const std::function<bool()>& done, int max_steps = 400) {
    ASSERT_TRUE(cluster_.StepUntil(done, max_steps))
        << "condition not reached in " << max_steps << " ticks";
  }

  // Creates "m" (one partition, five replicas, min.insync.replicas 4) and
  // returns its leader once it takes writes.
  raft::NodeId CreateTopic() {
    StepUntil([&] { return cluster_.AllReady(); });
    const auto controller =
        static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
    kafka::CreateTopicsRequest create;
    create.topics.push_back({"m", 1, 5, {}, {{"min.insync.replicas", "4"}}});
    auto created =
        cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
    EXPECT_TRUE(created.has_value() && created->topics.at(0).error_code == 0);
    raft::NodeId leader = 0;
    StepUntil([&] {
      for (const auto& t : cluster_.Metadata(1).topics) {
        if (t.name == "m" && t.partitions.at(0).leader_id > 0) {
          leader = static_cast<raft::NodeId>(t.partitions.at(0).leader_id);
        }
      }
      return leader != 0;
    });
    EXPECT_EQ(Produce(leader, 5'000), 0) << "all five in sync";
    return leader;
  }

  // Sends an acks=all Produce to `leader` without waiting for the answer.
  void SendProduce(raft::NodeId leader, int32_t timeout_ms) {
    kafka::ProduceRequest produce;
    produce.acks = -1;
    produce.timeout_ms = timeout_ms;
    produce.topics.push_back({"m", {{0, Batch(2)}}});
    cluster_.Send(leader, kafka::EncodeRequestFrame(9, ++correlation_,
                                                    std::string("t"), produce));
  }
  std::optional<int16_t> TakeProduceAnswer(raft::NodeId leader) {
    std::optional<std::string> frame = cluster_.TakeResponse(leader);
    if (!frame.has_value()) return std::nullopt;
    kafka::ProduceResponse response;
    int32_t correlation = 0;
    EXPECT_TRUE(kafka::DecodeResponseFrame(absl::string_view(*frame).substr(4),
                                           9, &correlation, &response)
                    .ok());
    return response.responses.at(0).partitions.at(0).error_code;
  }
  int16_t Produce(raft::NodeId leader, int32_t timeout_ms) {
    SendProduce(leader, timeout_ms);
    std::optional<int16_t> code;
    for (int i = 0; i < 400 && !(code = TakeProduceAnswer(leader)); ++i) {
      cluster_.Step();
    }
    EXPECT_TRUE(code.has_value());
    return code.value_or(-1);
  }
  // Entries of the partition's group each replica lacks, as the leader sees.
  std::map<int32_t, uint64_t> Lag(raft::NodeId leader) {
    for (const auto& p : cluster_.broker(leader).Status().partitions) {
      if (p.topic == "m" && p.lag.has_value()) return *p.lag;
    }
    return {};
  }
  // Cuts `a` and `b` off from every other broker.
  void Cut(raft::NodeId a, raft::NodeId b) {
    cluster_.set_drop_filter([a, b](const raft::Message& m) {
      return m.from == a || m.from == b || m.to == a || m.to == b;
    });
  }

  testing::InProcessCluster cluster_{
      5, /*seed=*/3, /*first_id=*/1, [](BrokerOptions& o) {
        o.config.replica_lag_time_max_ms = kLagMs;
        o.config.broker_session_timeout_ms = 60'000;
      }};
  int32_t correlation_ = 100;
};

// Two of five followers cut off: the batch commits with three copies, but
// the acknowledgement waits for a fourth; once the lag time drops them from
// the ISR (3 < min.insync.replicas 4) it fails as Kafka's does,
// NOT_ENOUGH_REPLICAS_AFTER_APPEND, and new writes are refused up front.
TEST_F(MinInsyncTest, AcksAllWaitsForMinInsyncCopiesNotAMajority) {
  const raft::NodeId leader = CreateTopic();
  std::vector<raft::NodeId> followers;
  for (raft::NodeId id = 1; id <= 5; ++id) {
    if (id != leader) followers.push_back(id);
  }
  Cut(followers[0], followers[1]);
  SendProduce(leader, /*timeout_ms=*/30'000);
  for (int i = 0; i < 20; ++i) {
    cluster_.Step();
    ASSERT_FALSE(TakeProduceAnswer(leader).has_value())
        << "acknowledged with three copies, tick " << i;
  }
  // Committed meanwhile: the leader and two followers hold everything.
  std::map<int32_t, uint64_t> lag = Lag(leader);
  EXPECT_EQ(lag[static_cast<int32_t>(followers[2])], 0u);
  EXPECT_EQ(lag[static_cast<int32_t>(followers[3])], 0u);
  EXPECT_GT(lag[static_cast<int32_t>(followers[0])], 0u);
  EXPECT_GT(lag[static_cast<int32_t>(followers[1])], 0u);
  EXPECT_EQ(cluster_.broker(leader).Metrics().raft_commit_lag_entries, 0u);
  std::optional<int16_t> code;
  for (int i = 0; i < 2 * kLagMs / kTickMs && !code.has_value(); ++i) {
    cluster_.Step();
    code = TakeProduceAnswer(leader);
  }
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, kafka::error::kNotEnoughReplicasAfterAppend);
  EXPECT_EQ(Produce(leader, 5'000), kafka::error::kNotEnoughReplicas);
  // Healed: the followers catch up, rejoin the ISR, writes are taken again.
  cluster_.set_drop_filter({});
  int16_t healed = -1;
  for (int i = 0; i < 100 && healed != 0; ++i) {
    cluster_.Step();
    healed = Produce(leader, 5'000);
  }
  EXPECT_EQ(healed, 0);
}

// One follower cut off: four copies remain, every write is acknowledged.
TEST_F(MinInsyncTest, FourCopiesAreEnough) {
  const raft::NodeId leader = CreateTopic();
  const raft::NodeId cut = leader == 1 ? 2 : 1;
  Cut(cut, cut);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Produce(leader, 5'000), 0);
}

// The request's timeout comes first: REQUEST_TIMED_OUT, as Kafka's.
TEST_F(MinInsyncTest, TimesOutWhileTheIsrStillCountsTheCutFollowers) {
  const raft::NodeId leader = CreateTopic();
  const raft::NodeId a = leader == 1 ? 2 : 1;
  const raft::NodeId b = leader == 5 ? 4 : 5;
  Cut(a, b);
  EXPECT_EQ(Produce(leader, /*timeout_ms=*/1'000),
            kafka::error::kRequestTimedOut);
}

}  // namespace
}  // namespace chronik::broker
