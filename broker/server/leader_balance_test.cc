// Preferred leaders on three in-process brokers: ElectLeaders (every
// answer Kafka gives) and automatic leader balancing (leader_balance.h).
// After a restart, the partitions whose preferred replica restarted are led
// by others; ElectLeaders, or the balancer alone, moves them back.
#include "broker/server/leader_balance.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/server/in_process_cluster.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

namespace error = kafka::error;

constexpr int kPartitions = 6;
constexpr int64_t kTickMs = 50;  // InProcessCluster's tick
constexpr raft::NodeId kRestarted = 1;

struct Led {
  int32_t leader = -1;
  int32_t preferred = -1;
};

std::vector<int16_t> Codes(const kafka::ElectLeadersResponse& r) {
  std::vector<int16_t> codes;
  for (const auto& topic : r.replica_election_results) {
    for (const auto& p : topic.partition_result) codes.push_back(p.error_code);
  }
  return codes;
}

class LeaderBalanceTest : public ::testing::Test {
 protected:
  // A ready cluster (balancing as given) with topic "t" whose partitions all
  // have leaders.
  void SetUpCluster(bool balance, int64_t interval_ms = 300'000,
                    int64_t session_ms = 9'000) {
    cluster_ = std::make_unique<testing::InProcessCluster>(
        3, /*seed=*/11, /*first_id=*/1, [=](BrokerOptions& o) {
          o.config.auto_leader_rebalance_enable = balance;
          o.config.leader_imbalance_check_interval_ms = interval_ms;
          o.config.broker_session_timeout_ms = session_ms;
        });
    StepUntil([&] { return cluster_->AllReady(); });
    kafka::CreateTopicsRequest create;
    create.topics.push_back({"t", kPartitions, 3, {}, {}});
    auto created =
        cluster_->Call<kafka::CreateTopicsResponse>(Controller(), create, 4);
    ASSERT_TRUE(created.has_value() && created->topics.at(0).error_code == 0);
    StepUntil([&] { return AllLed(2); });
    // The first elections need not go to the preferred replicas: start
    // balanced (ElectLeaders, or the balancer), and with every wish expired.
    if (!balance) {
      auto elected = Elect(2, 0, std::nullopt);
      ASSERT_TRUE(elected.has_value());
      for (int16_t code : Codes(*elected)) EXPECT_EQ(code, 0);
    }
    for (raft::NodeId id = 1; id <= 3; ++id) {
      StepUntil([&] { return OffPreferred(id) == 0; },
                static_cast<int>(3 * interval_ms / kTickMs));
    }
    for (int i = 0; i < kPreferredWishMs / kTickMs; ++i) cluster_->Step();
  }

  void StepUntil(const std::function<bool()>& done, int max_steps = 600) {
    ASSERT_TRUE(cluster_->StepUntil(done, max_steps))
        << "condition not reached in " << max_steps << " ticks";
  }

  raft::NodeId Controller() {
    return static_cast<raft::NodeId>(cluster_->Metadata(2).controller_id);
  }

  // Leader and preferred replica of each partition of "t", as `id` says.
  std::vector<Led> Leaders(raft::NodeId id) {
    std::vector<Led> out;
    for (const auto& topic : cluster_->Metadata(id).topics) {
      if (topic.name != "t") continue;
      for (const auto& p : topic.partitions) {
        out.push_back({p.leader_id, p.replica_nodes.at(0)});
      }
    }
    return out;
  }
  bool AllLed(raft::NodeId id) {
    std::vector<Led> leaders = Leaders(id);
    if (leaders.size() != kPartitions) return false;
    for (const Led& l : leaders) {
      if (l.leader < 0) return false;
    }
    return true;
  }
  int OffPreferred(raft::NodeId id) {
    int off = 0;
    for (const Led& l : Leaders(id)) off += l.leader != l.preferred ? 1 : 0;
    return off;
  }
  // Raft terms of every partition group, as their leaders report them.
  std::map<int32_t, int32_t> LeaderEpochs(raft::NodeId id) {
    std::map<int32_t, int32_t> epochs;
    for (const auto& topic : cluster_->Metadata(id).topics) {
      for (const auto& p : topic.partitions) {
        epochs[p.partition_index] = p.leader_epoch;
      }
    }
    return epochs;
  }

  // Crashes and restarts kRestarted; the partitions it preferred are led by
  // the others afterwards (the other two agree on every leader); then
  // `catch_up_steps` ticks.
  void RestartPreferred(int catch_up_steps = 40) {
    cluster_->Crash(kRestarted);
    StepUntil([&] {
      for (const Led& l : Leaders(2)) {
        if (l.leader < 0 || l.leader == static_cast<int32_t>(kRestarted)) {
          return false;
        }
      }
      return true;
    });
    cluster_->Start(kRestarted);
    StepUntil([&] { return cluster_->AllReady() && AllLed(kRestarted); });
    for (int i = 0; i < catch_up_steps; ++i) cluster_->Step();
  }

  std::optional<kafka::ElectLeadersResponse> Elect(
      raft::NodeId at, int8_t type,
      std::optional<std::vector<int32_t>> partitions, int16_t version = 2,
      int32_t timeout_ms = 5'000) {
    kafka::ElectLeadersRequest request;
    request.election_type = type;
    request.timeout_ms = timeout_ms;
    if (partitions.has_value()) {
      request.topic_partitions.emplace();
      request.topic_partitions->push_back({"t", *partitions});
    } else {
      request.topic_partitions = std::nullopt;
    }
    return cluster_->Call<kafka::ElectLeadersResponse>(at, request, version,
                                                       /*max_steps=*/200);
  }

  std::unique_ptr<testing::InProcessCluster> cluster_;
};

TEST_F(LeaderBalanceTest, ElectLeadersMovesLeadershipBackToPreferred) {
  SetUpCluster(/*balance=*/false);
  ASSERT_EQ(OffPreferred(2), 0);
  RestartPreferred();
  const int off = OffPreferred(2);
  ASSERT_GE(off, 1) << "the restart moved no leadership";
  // A broker that is not the controller takes the request too.
  const raft::NodeId at = Controller() == 3 ? 2 : 3;
  std::vector<int32_t> all;
  for (int32_t p = 0; p < kPartitions; ++p) all.push_back(p);
  all.push_back(kPartitions);  // no such partition
  std::vector<Led> before = Leaders(at);
  auto elected = Elect(at, /*PREFERRED*/ 0, all);
  ASSERT_TRUE(elected.has_value());
  EXPECT_EQ(elected->error_code, 0);
  const std::vector<int16_t> codes = Codes(*elected);
  ASSERT_EQ(codes.size(), all.size());
  for (int32_t p = 0; p < kPartitions; ++p) {
    const bool moved = before[p].leader != before[p].preferred;
    EXPECT_EQ(codes[p], moved ? error::kNone : error::kElectionNotNeeded)
        << "partition " << p;
  }
  EXPECT_EQ(codes.back(), error::kUnknownTopicOrPartition);
  EXPECT_EQ(OffPreferred(at), 0);
  for (raft::NodeId id = 1; id <= 3; ++id) {
    StepUntil([&] { return OffPreferred(id) == 0; });
  }
  // Balanced: a null list names nothing (ELECTION_NOT_NEEDED is left out).
  auto again = Elect(at, 0, std::nullopt, /*version=*/1);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->error_code, 0);
  EXPECT_TRUE(again->replica_election_results.empty());
}

TEST_F(LeaderBalanceTest, NullListElectsEveryOffPreferredPartition) {
  SetUpCluster(/*balance=*/false);
  RestartPreferred();
  const int off = OffPreferred(2);
  ASSERT_GE(off, 1);
  auto elected = Elect(2, 0, std::nullopt, /*version=*/0);
  ASSERT_TRUE(elected.has_value());
  EXPECT_EQ(Codes(*elected), std::vector<int16_t>(off, error::kNone));
  EXPECT_EQ(OffPreferred(2), 0);
}

TEST_F(LeaderBalanceTest, PreferredReplicaDownIsNotAvailable) {
  SetUpCluster(/*balance=*/false, 300'000, /*session_ms=*/1'000);
  cluster_->Crash(kRestarted);
  // Fenced (not heard from for the session timeout) and led by others.
  StepUntil([&] {
    if (cluster_->Metadata(2).brokers.size() != 2) return false;
    for (const Led& l : Leaders(2)) {
      if (l.leader < 0 || l.leader == static_cast<int32_t>(kRestarted)) {
        return false;
      }
    }
    return true;
  });
  std::vector<int32_t> preferred_down;
  for (int32_t p = 0; p < kPartitions; ++p) {
    if (Leaders(2)[p].preferred == static_cast<int32_t>(kRestarted)) {
      preferred_down.push_back(p);
    }
  }
  ASSERT_FALSE(preferred_down.empty());
  auto elected = Elect(2, 0, preferred_down);
  ASSERT_TRUE(elected.has_value());
  EXPECT_EQ(Codes(*elected),
            std::vector<int16_t>(preferred_down.size(),
                                 error::kPreferredLeaderNotAvailable));
}

TEST_F(LeaderBalanceTest, UncleanAndUnknownElectionTypes) {
  SetUpCluster(/*balance=*/false);
  auto unclean = Elect(3, /*UNCLEAN*/ 1, std::vector<int32_t>{0, 1});
  ASSERT_TRUE(unclean.has_value());
  EXPECT_EQ(Codes(*unclean), (std::vector<int16_t>{error::kElectionNotNeeded,
                                                   error::kElectionNotNeeded}));
  auto bad = Elect(3, 7, std::vector<int32_t>{0});
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->error_code, error::kInvalidRequest);
  EXPECT_EQ(Codes(*bad), std::vector<int16_t>{error::kInvalidRequest});
}

// The preferred replica never takes over (every TimeoutNow is lost): the
// answer is REQUEST_TIMED_OUT at the request's timeout.
TEST_F(LeaderBalanceTest, ElectLeadersTimesOut) {
  SetUpCluster(/*balance=*/false);
  RestartPreferred();
  int32_t moved = -1;
  for (int32_t p = 0; p < kPartitions; ++p) {
    if (Leaders(2)[p].leader != Leaders(2)[p].preferred) moved = p;
  }
  ASSERT_GE(moved, 0);
  cluster_->set_drop_filter([](const raft::Message& m) {
    return m.type == raft::MessageType::kTimeoutNow;
  });
  const int64_t start = cluster_->now_ms();
  auto elected = Elect(2, 0, std::vector<int32_t>{moved}, 2, 1'000);
  ASSERT_TRUE(elected.has_value());
  EXPECT_EQ(Codes(*elected), std::vector<int16_t>{error::kRequestTimedOut});
  EXPECT_GE(cluster_->now_ms() - start, 1'000);
}

TEST_F(LeaderBalanceTest, BalancerMovesLeadersBackAfterARestart) {
  SetUpCluster(/*balance=*/true, /*interval_ms=*/3'000);
  RestartPreferred(/*catch_up_steps=*/0);
  ASSERT_GE(OffPreferred(2), 1);
  StepUntil([&] { return OffPreferred(2) == 0 && OffPreferred(3) == 0; },
            /*max_steps=*/3 * 3'000 / kTickMs);
  EXPECT_GE(cluster_->broker(kRestarted).Metrics().leader_balance_requests, 1u);
}

TEST_F(LeaderBalanceTest, BalancerOffLeavesLeadersWhereTheyAre) {
  SetUpCluster(/*balance=*/false, /*interval_ms=*/2'000);
  RestartPreferred(/*catch_up_steps=*/0);
  const int off = OffPreferred(2);
  ASSERT_GE(off, 1);
  for (int i = 0; i < 3 * 2'000 / kTickMs; ++i) cluster_->Step();
  EXPECT_EQ(OffPreferred(2), off);
}

// Balanced: many check intervals pass and no leadership moves (no new term
// in any partition group).
TEST_F(LeaderBalanceTest, BalancerDoesNothingWhenBalanced) {
  SetUpCluster(/*balance=*/true, /*interval_ms=*/500);
  const std::map<int32_t, int32_t> epochs = LeaderEpochs(2);
  std::vector<uint64_t> requests, transfers;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    requests.push_back(cluster_->broker(id).Metrics().leader_balance_requests);
    transfers.push_back(
        cluster_->broker(id).Metrics().preferred_leader_transfers);
  }
  for (int i = 0; i < 10 * 500 / kTickMs; ++i) cluster_->Step();
  EXPECT_EQ(LeaderEpochs(2), epochs);
  EXPECT_EQ(OffPreferred(2), 0);
  for (raft::NodeId id = 1; id <= 3; ++id) {
    const BrokerMetrics metrics = cluster_->broker(id).Metrics();
    EXPECT_EQ(metrics.leader_balance_requests, requests[id - 1]);
    EXPECT_EQ(metrics.preferred_leader_transfers, transfers[id - 1]);
  }
}

// A node shutting down never asks for leadership back, nobody hands it any,
// and no leader is held up by a transfer it would decline.
TEST_F(LeaderBalanceTest, BalancerNeverChoosesADrainingNode) {
  SetUpCluster(/*balance=*/true, /*interval_ms=*/3'000);
  RestartPreferred(/*catch_up_steps=*/0);
  ASSERT_GE(OffPreferred(2), 1);
  Broker& draining = cluster_->broker(kRestarted);
  ASSERT_EQ(draining.Metrics().leader_balance_requests, 0u);
  const std::vector<uint64_t> transfers = {
      cluster_->broker(2).Metrics().preferred_leader_transfers,
      cluster_->broker(3).Metrics().preferred_leader_transfers};
  draining.BeginShutdown();
  for (int i = 0; i < 4 * 3'000 / kTickMs; ++i) {
    cluster_->Step();
    ASSERT_EQ(draining.Metrics().raft_groups_led, 0u) << "tick " << i;
  }
  EXPECT_EQ(draining.Metrics().leader_balance_requests, 0u);
  for (raft::NodeId id = 2; id <= 3; ++id) {
    EXPECT_EQ(cluster_->broker(id).Metrics().preferred_leader_transfers,
              transfers[id - 2]);
  }
}

}  // namespace
}  // namespace chronik::broker
