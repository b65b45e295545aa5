// Broker liveness, the ISR and min.insync.replicas on three brokers in one
// process (InProcessCluster: 50 ms ticks of a fake clock, in-memory network).
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/in_process_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

constexpr int64_t kSessionMs = 1'000;
constexpr int64_t kLagMs = 2'000;

class LivenessIsrTest : public ::testing::Test {
 protected:
  void StepUntil(const std::function<bool()>& done, int max_steps = 400) {
    for (int i = 0; i < max_steps && !done(); ++i) cluster_.Step();
    ASSERT_TRUE(done()) << "condition not reached in " << max_steps << " ticks";
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

  testing::InProcessCluster cluster_{
      3, /*seed=*/1, [](BrokerOptions& o) {
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
  StepUntil([&] {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (ListedBrokers(id) != std::set<int32_t>{1, 2, 3}) return false;
    }
    return true;
  });
}

}  // namespace
}  // namespace chronik::broker
