#include "broker/server/broker_liveness.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

constexpr int64_t kSession = 9'000;

class BrokerLivenessTest : public ::testing::Test {
 protected:
  BrokerLivenessTest() {
    for (uint64_t id = 1; id <= 3; ++id) {
      metapb::MetadataCommand command;
      metapb::BrokerInfo* broker =
          command.mutable_register_broker()->mutable_broker();
      broker->set_node_id(id);
      broker->set_host("127.0.0.1");
      broker->set_kafka_port(9090 + static_cast<int>(id));
      Apply(command);
    }
  }
  void Apply(const metapb::MetadataCommand& command) {
    ASSERT_EQ(state_.Apply(++index_, command).error_code, 0);
  }
  // The commands due at `now`, applied (as once committed); "F2" fences 2,
  // "U2" unfences it.
  std::vector<std::string> Run(int64_t now) {
    std::vector<std::string> out;
    for (const metapb::MetadataCommand& c : liveness_.Commands(state_, now)) {
      out.push_back(c.has_fence_broker()
                        ? "F" + std::to_string(c.fence_broker().node_id())
                        : "U" + std::to_string(c.unfence_broker().node_id()));
      Apply(c);
    }
    return out;
  }

  metadata::MetadataState state_;
  uint64_t index_ = 0;
  BrokerLiveness liveness_{/*self=*/1, kSession};
};

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST_F(BrokerLivenessTest, OnlyTheControllerFencesAndNeverItself) {
  EXPECT_THAT(Run(100'000), IsEmpty()) << "not the controller";
  liveness_.OnLeaderChange(true, 100'000);
  liveness_.OnHeard(2, 100'000);
  liveness_.OnHeard(3, 100'000);
  EXPECT_THAT(Run(200'000), ElementsAre("F2", "F3"));
  EXPECT_FALSE(state_.IsFenced(1));
}

// Found by the simulator with a short session timeout: a controller that an
// earlier controller had fenced (it was cut off) stayed out of Metadata.
TEST_F(BrokerLivenessTest, AControllerFencedByAnEarlierOneUnfencesItself) {
  metapb::MetadataCommand fence;
  fence.mutable_fence_broker()->set_node_id(1);
  Apply(fence);
  liveness_.OnLeaderChange(true, 0);
  liveness_.OnHeard(2, 0);
  liveness_.OnHeard(3, 0);
  EXPECT_THAT(Run(0), ElementsAre("U1"));
}

TEST_F(BrokerLivenessTest, SilentForASessionTimeoutIsFencedAndHeardIsUnfenced) {
  liveness_.OnLeaderChange(true, 0);
  for (int64_t t = 0; t <= kSession; t += 50) {
    liveness_.OnHeard(2, t);
    liveness_.OnHeard(3, t);
  }
  // 3 stops; 2 keeps talking.
  for (int64_t t = kSession + 50; t < 2 * kSession; t += 50) {
    liveness_.OnHeard(2, t);
    EXPECT_THAT(Run(t), IsEmpty()) << "at " << t;
  }
  liveness_.OnHeard(2, 2 * kSession);
  EXPECT_THAT(Run(2 * kSession), ElementsAre("F3"));
  EXPECT_THAT(Run(2 * kSession + 50), IsEmpty()) << "fenced once";
  liveness_.OnHeard(3, 2 * kSession + 100);
  EXPECT_THAT(Run(2 * kSession + 100), ElementsAre("U3"));
  EXPECT_FALSE(state_.IsFenced(3));
}

TEST_F(BrokerLivenessTest, ANewControllerWaitsAFullSessionTimeout) {
  // Heard long ago (as candidates, under another leader): no evidence now.
  liveness_.OnHeard(2, 1'000);
  liveness_.OnHeard(3, 1'000);
  liveness_.OnLeaderChange(true, 60'000);
  EXPECT_THAT(Run(60'000), IsEmpty());
  EXPECT_THAT(Run(60'000 + kSession - 50), IsEmpty());
  liveness_.OnHeard(2, 60'000 + kSession - 50);
  EXPECT_THAT(Run(60'000 + kSession), ElementsAre("F3"));
}

TEST_F(BrokerLivenessTest, UnheardCommandsAreRetriedUntilCommitted) {
  liveness_.OnLeaderChange(true, 0);
  liveness_.OnHeard(2, kSession);
  // Proposed but not committed (dropped): proposed again after the retry
  // interval, not at every step.
  EXPECT_EQ(liveness_.Commands(state_, kSession).size(), 1u);
  EXPECT_TRUE(liveness_.Commands(state_, kSession + 50).empty());
  EXPECT_EQ(liveness_.Commands(state_, kSession + kLivenessRetryMs).size(), 1u);
  // Losing and regaining leadership restarts the observation.
  liveness_.OnLeaderChange(false, kSession + 2'000);
  liveness_.OnLeaderChange(true, kSession + 3'000);
  EXPECT_TRUE(liveness_.Commands(state_, kSession + 4'000).empty());
}

}  // namespace
}  // namespace chronik::broker
