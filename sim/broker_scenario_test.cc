#include "sim/broker_scenario.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

TEST(BrokerScenarioTest, OneSeedPasses) {
  BrokerScenarioOptions options;
  options.seed = 1;
  BrokerScenarioResult result = RunBrokerScenario(options);
  EXPECT_TRUE(result.passed) << result.failure;
  EXPECT_GT(result.acked, 0u);
}

}  // namespace
}  // namespace chronik::sim
