// Broker liveness, the ISR and min.insync.replicas on three brokers in one
// process (InProcessCluster: 50 ms ticks of a fake clock, in-memory network).
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr auto Batch = testing::ValuesBatch;

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

constexpr int64_t kSessionMs = 1'000;
constexpr int64_t kLagMs = 2'000;

class LivenessIsrTest : public ::testing::Test {
 protected:
  void StepUntil(const std::function<bool()>& done, int max_steps = 400) {
    ASSERT_TRUE(cluster_.StepUntil(done, max_steps))
        << "condition not reached in " << max_steps << " ticks";
  }

  std::set<int32_t> ListedBrokers(raft::NodeId id) {
    std::set<int32_t> listed;
    for (const auto& broker : cluster_.Metadata(id).brokers) {
      listed.insert(broker.node_id);
    }
    return listed;
  }

  raft::NodeId Controller() {
    return static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
  }

  // Creates `topic` (one partition, replication factor 3, `configs`) and
  // returns its leader once every broker names it.
  raft::NodeId CreateReplicated(
      const std::string& topic,
      std::vector<kafka::CreateTopicsRequest::CreatableTopicConfig> configs =
          {}) {
    kafka::CreateTopicsRequest create;
    create.topics.push_back({topic, 1, 3, {}, std::move(configs)});
    auto created =
        cluster_.Call<kafka::CreateTopicsResponse>(Controller(), create, 4);
    EXPECT_TRUE(created.has_value() && created->topics.at(0).error_code == 0);
    raft::NodeId leader = 0;
    StepUntil([&] {
      leader = 0;
      for (raft::NodeId id = 1; id <= 3; ++id) {
        const Partition p = PartitionSeenBy(id, topic);
        if (p.leader <= 0 || (leader != 0 && leader != p.leader)) return false;
        leader = p.leader;
      }
      return true;
    });
    return leader;
  }

  struct Partition {
    raft::NodeId leader = 0;
    std::vector<int32_t> isr;
  };
  Partition PartitionSeenBy(raft::NodeId id, const std::string& topic) {
    for (const auto& t : cluster_.Metadata(id).topics) {
      if (t.name != topic || t.partitions.empty()) continue;
      const auto& p = t.partitions[0];
      return {p.leader_id > 0 ? static_cast<raft::NodeId>(p.leader_id) : 0,
              p.isr_nodes};
    }
    return {};
  }

  int16_t ProduceAcksAll(raft::NodeId leader, const std::string& topic,
                         int16_t acks = -1) {
    kafka::ProduceRequest produce;
    produce.acks = acks;
    produce.timeout_ms = 5000;
    produce.topics.push_back({topic, {{0, Batch(2)}}});
    auto produced = cluster_.Call<kafka::ProduceResponse>(leader, produce, 9);
    EXPECT_TRUE(produced.has_value());
    if (!produced.has_value()) return -1;
    return produced->responses[0].partitions[0].error_code;
  }

  // Crashes a follower of `leader` that is not the controller; returns it
  // and the brokers left up.
  std::pair<raft::NodeId, std::vector<int32_t>> CrashAFollower(
      raft::NodeId leader) {
    raft::NodeId follower = 1;
    while (follower == leader || follower == Controller()) ++follower;
    cluster_.Crash(follower);
    std::vector<int32_t> rest;
    for (int32_t id = 1; id <= 3; ++id) {
      if (id != static_cast<int32_t>(follower)) rest.push_back(id);
    }
    return {follower, rest};
  }

  testing::InProcessCluster cluster_{
      3, /*seed=*/1, /*first_id=*/1, [](BrokerOptions& o) {
        o.config.broker_session_timeout_ms = kSessionMs;
        o.config.replica_lag_time_max_ms = kLagMs;
      }};
};

TEST_F(LivenessIsrTest, AStoppedBrokerLeavesMetadataAndComesBackAfterRestart) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId controller = Controller();
  ASSERT_GT(controller, 0u);
  const raft::NodeId victim = controller == 3 ? 2 : 3;
  cluster_.Crash(victim);
  for (int i = 0; i < 5; ++i) cluster_.Step();  // 250 ms < the timeout
  for (raft::NodeId id = 1; id <= 3; ++id) {
    if (id == victim) continue;
    EXPECT_THAT(ListedBrokers(id), ElementsAre(1, 2, 3))
        << "node " << id << " fenced before the session timeout";
  }
  StepUntil([&] {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (id != victim && ListedBrokers(id).count(victim) > 0) return false;
    }
    return true;
  });
  for (raft::NodeId id = 1; id <= 3; ++id) {
    if (id == victim) continue;
    EXPECT_EQ(ListedBrokers(id).size(), 2u) << "node " << id;
  }
  cluster_.Start(victim);
  StepUntil([&] { return cluster_.broker(victim).IsReady(); });
  EXPECT_THAT(ListedBrokers(victim), ElementsAre(1, 2, 3))
      << "ready only once unfenced";
  StepUntil([&] {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (ListedBrokers(id) != std::set<int32_t>{1, 2, 3}) return false;
    }
    return true;
  });
}

TEST_F(LivenessIsrTest,
       TheIsrShrinksWhenAFollowerStopsAndGrowsWhenItCatchesUp) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId leader = CreateReplicated("isr");
  ASSERT_EQ(ProduceAcksAll(leader, "isr"), 0);
  for (raft::NodeId id = 1; id <= 3; ++id) {
    EXPECT_THAT(PartitionSeenBy(id, "isr").isr, ElementsAre(1, 2, 3));
  }
  const auto [follower, rest] = CrashAFollower(leader);
  // The leader keeps taking writes the stopped follower misses.
  ASSERT_EQ(ProduceAcksAll(leader, "isr"), 0);
  StepUntil([&] {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (id != follower && PartitionSeenBy(id, "isr").isr != rest) {
        return false;
      }
    }
    return true;
  });
  EXPECT_EQ(cluster_.broker(leader).Metrics().under_replicated_partitions, 1u);
  cluster_.Start(follower);
  StepUntil([&] {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (PartitionSeenBy(id, "isr").isr != std::vector<int32_t>{1, 2, 3}) {
        return false;
      }
    }
    return true;
  });
  EXPECT_EQ(cluster_.broker(leader).Metrics().under_replicated_partitions, 0u);
}

// An idle leader stops sampling its group's progress (the sample holds:
// partition_isr.cc); a follower that stops then still leaves the ISR, and
// the first write wakes the sampling again.
TEST_F(LivenessIsrTest, AnIdleLeadersIsrStillShrinksWhenAFollowerStops) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId leader = CreateReplicated("idle");
  ASSERT_EQ(ProduceAcksAll(leader, "idle"), 0);
  StepUntil([&] {
    return cluster_.broker(leader).Metrics().isr_held_partitions == 1;
  });
  // Idle for longer than the lag: the ISR stays whole.
  for (int i = 0; i < 3 * kLagMs / 50; ++i) cluster_.Step();
  EXPECT_EQ(cluster_.broker(leader).Metrics().isr_held_partitions, 1u);
  EXPECT_THAT(PartitionSeenBy(leader, "idle").isr, ElementsAre(1, 2, 3));
  const auto [follower, rest] = CrashAFollower(leader);
  StepUntil([&] { return PartitionSeenBy(leader, "idle").isr == rest; });
  cluster_.Start(follower);
  StepUntil([&] {
    return PartitionSeenBy(leader, "idle").isr == std::vector<int32_t>{1, 2, 3};
  });
}

TEST_F(LivenessIsrTest, AcksAllBelowMinInsyncAnswersNotEnoughReplicas) {
  StepUntil([&] { return cluster_.AllReady(); });
  const raft::NodeId leader =
      CreateReplicated("strict", {{"min.insync.replicas", "3"}});
  ASSERT_EQ(ProduceAcksAll(leader, "strict"), 0) << "all three in sync";
  raft::NodeId follower = 1;
  while (follower == leader || follower == Controller()) ++follower;
  cluster_.Crash(follower);
  // Until the lag time passes the follower still counts (as in Kafka): a
  // write is taken, commits with two copies and waits for the third, and is
  // answered NOT_ENOUGH_REPLICAS_AFTER_APPEND once the ISR shrinks; later
  // writes are refused up front.
  int16_t error = 0;
  for (int i = 0; i < 200 && error == 0; ++i) {
    cluster_.Step();
    error = ProduceAcksAll(leader, "strict");
  }
  EXPECT_EQ(error, kafka::error::kNotEnoughReplicasAfterAppend);
  EXPECT_EQ(ProduceAcksAll(leader, "strict"), kafka::error::kNotEnoughReplicas)
      << "acks=all with 2 in sync and min.insync.replicas=3";
  EXPECT_EQ(ProduceAcksAll(leader, "strict", /*acks=*/1), 0)
      << "acks=1 does not need the ISR";
  cluster_.Start(follower);
  StepUntil([&] { return ProduceAcksAll(leader, "strict") == 0; });
}

// Broker ids from 0 (Kafka's numbering; Raft's id of Kafka 0 is 2^31): the
// fenced broker 0 leaves Metadata too, and comes back.
TEST(LivenessFromIdZeroTest, BrokerZeroIsFencedAndUnfencedLikeAnyOther) {
  testing::InProcessCluster cluster(
      3, /*seed=*/2, /*first_id=*/0, [](BrokerOptions& o) {
        o.config.broker_session_timeout_ms = kSessionMs;
      });
  auto listed = [&](raft::NodeId id) {
    std::set<int32_t> ids;
    for (const auto& broker : cluster.Metadata(id).brokers) {
      ids.insert(broker.node_id);
    }
    return ids;
  };
  auto step_until = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 400 && !done(); ++i) cluster.Step();
    return done();
  };
  ASSERT_TRUE(step_until([&] { return cluster.AllReady(); }));
  ASSERT_EQ(listed(1), (std::set<int32_t>{0, 1, 2}));
  // (Broker 0 may be the controller: then the next one fences it, after a
  // session timeout of its own.)
  const raft::NodeId victim = 0;
  cluster.Crash(victim);
  const raft::NodeId watcher = 1;
  EXPECT_TRUE(step_until([&] {
    return listed(watcher).count(static_cast<int32_t>(victim)) == 0;
  })) << "broker "
      << victim << " never fenced";
  cluster.Start(victim);
  EXPECT_TRUE(step_until([&] {
    return listed(watcher) == std::set<int32_t>{0, 1, 2} &&
           listed(victim) == std::set<int32_t>{0, 1, 2};
  })) << "broker "
      << victim << " never unfenced";
}

}  // namespace
}  // namespace chronik::broker
