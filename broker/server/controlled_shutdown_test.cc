// Controlled shutdown (controlled_shutdown.h) on three in-process brokers: a
// node told to shut down hands over the leadership of every Raft group it
// leads (metadata and partitions) before it reports ShutdownComplete, within
// the bound, and the cluster keeps taking writes once it is gone.
#include "broker/server/controlled_shutdown.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "broker/server/testing/test_driver.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr auto Batch = testing::ValuesBatch;

constexpr int kPartitions = 6;
constexpr int64_t kTickMs = 50;  // InProcessCluster's tick

class ControlledShutdownTest : public ::testing::Test {
 protected:
  void StepUntil(const std::function<bool()>& done, int max_steps = 400) {
    ASSERT_TRUE(cluster_.StepUntil(done, max_steps))
        << "condition not reached in " << max_steps << " ticks";
  }

  // Leaders of topic "t"'s partitions as broker `id` names them.
  std::vector<int32_t> Leaders(raft::NodeId id) {
    std::vector<int32_t> leaders;
    for (const auto& topic : cluster_.Metadata(id).topics) {
      if (topic.name != "t") continue;
      for (const auto& p : topic.partitions) leaders.push_back(p.leader_id);
    }
    return leaders;
  }

  // A ready cluster with topic "t" (kPartitions partitions, three replicas
  // each) whose partitions all have leaders; returns the controller.
  raft::NodeId SetUp3Nodes() {
    for (int i = 0; i < 400 && !cluster_.AllReady(); ++i) cluster_.Step();
    EXPECT_TRUE(cluster_.AllReady());
    const auto controller =
        static_cast<raft::NodeId>(cluster_.Metadata(1).controller_id);
    kafka::CreateTopicsRequest create;
    create.topics.push_back({"t", kPartitions, 3, {}, {}});
    auto created =
        cluster_.Call<kafka::CreateTopicsResponse>(controller, create, 4);
    EXPECT_TRUE(created.has_value() && created->topics.at(0).error_code == 0);
    StepUntil([&] {
      for (int32_t leader : Leaders(controller)) {
        if (leader <= 0) return false;
      }
      return Leaders(controller).size() == kPartitions;
    });
    return controller;
  }

  uint64_t GroupsLed(raft::NodeId id) {
    return cluster_.broker(id).Metrics().raft_groups_led;
  }

  testing::InProcessCluster cluster_{3, /*seed=*/7};
};

// A rolling restart: each node in turn hands over what it leads, stops and
// comes back; the others take over without an election timeout to wait for.
TEST_F(ControlledShutdownTest, LeaderHandsOverEveryGroupBeforeStopping) {
  SetUp3Nodes();
  bool handed_over_metadata = false;
  uint64_t handed_over = 0;
  for (raft::NodeId leaving = 1; leaving <= 3; ++leaving) {
    SCOPED_TRACE(absl::StrCat("node ", leaving));
    const uint64_t led = GroupsLed(leaving);
    handed_over += led;
    if (cluster_.Metadata(leaving).controller_id ==
        static_cast<int32_t>(leaving)) {
      handed_over_metadata = true;
    }
    Broker& broker = cluster_.broker(leaving);
    EXPECT_FALSE(broker.ShutdownComplete());
    broker.BeginShutdown();
    int ticks = 0;
    for (; ticks < 200 && !broker.ShutdownComplete(); ++ticks) cluster_.Step();
    ASSERT_TRUE(broker.ShutdownComplete());
    EXPECT_LT(ticks * kTickMs, kControlledShutdownTimeoutMs)
        << "completed by the bound, not by handing " << led << " groups over";
    EXPECT_EQ(GroupsLed(leaving), 0u);
    EXPECT_TRUE(broker.Metrics().shutting_down);

    cluster_.Crash(leaving);  // the stop
    const raft::NodeId other = leaving == 1 ? 2 : 1;
    const auto controller =
        static_cast<raft::NodeId>(cluster_.Metadata(other).controller_id);
    EXPECT_NE(controller, leaving);
    EXPECT_GT(controller, 0u);
    // `other` may have restarted a moment ago (the previous round): it names
    // a leader once that leader's heartbeat reached it, well within an
    // election timeout (10 ticks).
    std::vector<int32_t> leaders;
    StepUntil(
        [&] {
          leaders = Leaders(other);
          return std::all_of(leaders.begin(), leaders.end(),
                             [](int32_t leader) { return leader > 0; });
        },
        /*max_steps=*/5);
    ASSERT_EQ(leaders.size(), static_cast<size_t>(kPartitions));
    for (int partition = 0; partition < kPartitions; ++partition) {
      ASSERT_GT(leaders[partition], 0) << partition;
      const auto leader = static_cast<raft::NodeId>(leaders[partition]);
      ASSERT_NE(leader, leaving) << partition;
      kafka::ProduceRequest produce;
      produce.acks = -1;
      produce.timeout_ms = 5000;
      produce.topics.push_back({"t", {{partition, Batch(2)}}});
      auto produced =
          cluster_.Call<kafka::ProduceResponse>(leader, produce, 9, 5);
      ASSERT_TRUE(produced.has_value()) << "partition " << partition;
      EXPECT_EQ(produced->responses.at(0).partitions.at(0).error_code, 0)
          << "partition " << partition;
    }
    cluster_.Start(leaving);
    StepUntil([&] { return cluster_.AllReady(); });
  }
  EXPECT_TRUE(handed_over_metadata);
  EXPECT_GE(handed_over, 1u + kPartitions / 2);
}

TEST_F(ControlledShutdownTest, StopsAtTheBoundWhenNoFollowerTakesOver) {
  const raft::NodeId leaving = SetUp3Nodes();
  ASSERT_GE(GroupsLed(leaving), 1u);
  // Every offer of leadership is lost: transfers are abandoned and asked for
  // again until the bound.
  cluster_.set_drop_filter([](const raft::Message& message) {
    return message.type == raft::MessageType::kTimeoutNow;
  });
  Broker& broker = cluster_.broker(leaving);
  broker.BeginShutdown();
  const int bound_ticks = kControlledShutdownTimeoutMs / kTickMs;
  for (int tick = 0; tick < bound_ticks - 1; ++tick) {
    cluster_.Step();
    ASSERT_FALSE(broker.ShutdownComplete()) << "after " << tick + 1 << " ticks";
  }
  for (int tick = 0; tick < 3 && !broker.ShutdownComplete(); ++tick) {
    cluster_.Step();
  }
  EXPECT_TRUE(broker.ShutdownComplete());
  EXPECT_GE(GroupsLed(leaving), 1u);
}

// Two nodes stopping at once: each refuses what the other offers it, so
// both hand everything to the third instead of retrying the refusing peer.
TEST_F(ControlledShutdownTest, TwoNodesStoppingAtOnceHandOverToTheThird) {
  SetUp3Nodes();
  cluster_.broker(1).BeginShutdown();
  cluster_.broker(2).BeginShutdown();
  int ticks = 0;
  for (; ticks < 200 && !(cluster_.broker(1).ShutdownComplete() &&
                          cluster_.broker(2).ShutdownComplete());
       ++ticks) {
    cluster_.Step();
  }
  EXPECT_LT(ticks * kTickMs, kControlledShutdownTimeoutMs);
  EXPECT_EQ(GroupsLed(1), 0u);
  EXPECT_EQ(GroupsLed(2), 0u);
  EXPECT_EQ(GroupsLed(3), 1u + kPartitions);
}

// A draining node whose election timer fires (it stops hearing from the
// leaders while they lose touch with each other) never campaigns: without
// that rule it would win the groups back, its peers having no leader to
// prefer.
TEST_F(ControlledShutdownTest, DrainingNodeNeverStartsAnElection) {
  SetUp3Nodes();
  constexpr raft::NodeId kLeaving = 2;
  Broker& broker = cluster_.broker(kLeaving);
  broker.BeginShutdown();
  StepUntil([&] { return broker.ShutdownComplete(); });
  ASSERT_EQ(GroupsLed(kLeaving), 0u);
  // Nodes 1 and 3 cannot reach each other, and node 2 hears no leader: its
  // election timer fires in every group, the leaders lose their quorum and
  // step down, and nobody but node 2 could win a vote.
  cluster_.set_drop_filter([](const raft::Message& m) {
    const bool between_others = m.from != kLeaving && m.to != kLeaving;
    const bool leader_to_leaving =
        m.to == kLeaving && (m.type == raft::MessageType::kAppend ||
                             m.type == raft::MessageType::kHeartbeat ||
                             m.type == raft::MessageType::kSnapshot);
    return between_others || leader_to_leaving;
  });
  for (int tick = 0; tick < 200; ++tick) {
    cluster_.Step();
    ASSERT_EQ(GroupsLed(kLeaving), 0u) << "after " << tick + 1 << " ticks";
  }
  cluster_.set_drop_filter({});
  for (int tick = 0; tick < 100; ++tick) {
    cluster_.Step();
    ASSERT_EQ(GroupsLed(kLeaving), 0u) << "after healing, tick " << tick + 1;
  }
  EXPECT_EQ(GroupsLed(1) + GroupsLed(3), 1u + kPartitions);
}

TEST(ControlledShutdownStandaloneTest, GroupsOfOneDoNotHoldUpTheStop) {
  // A standalone node leads groups nobody else could take: nothing to wait
  // for.
  sim::SimDiskOptions disk_options;
  std::mt19937_64 rng(3);
  sim::SimDisk disk(disk_options, rng);
  testing::FakeClock clock;
  BrokerOptions options;
  options.config.node_id = 1;
  options.config.advertised_host = "127.0.0.1";
  testing::TestDriver driver(options, &disk, &clock, /*seed=*/1);
  ASSERT_TRUE(driver.Start().ok());
  for (int i = 0; i < 20 && !driver.broker().IsReady(); ++i) {
    driver.broker().Tick();
    driver.Settle();
  }
  ASSERT_TRUE(driver.broker().IsReady());
  ASSERT_EQ(driver.broker().Metrics().raft_groups_led, 1u);
  driver.broker().BeginShutdown();
  EXPECT_TRUE(driver.broker().ShutdownComplete());
}

}  // namespace
}  // namespace chronik::broker
