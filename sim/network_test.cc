#include "sim/network.h"

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

Network MakeNetwork(NetworkConfig config = {}) {
  return Network(3, Rng::Stream(1, "network"), config);
}

TEST(NetworkTest, DeliversWithinLatencyBounds) {
  Network net = MakeNetwork();
  for (int i = 0; i < 100; ++i) {
    auto delays = net.Route(0, 1, 0);
    ASSERT_EQ(delays.size(), 1u);
    EXPECT_GE(delays[0], net.config().latency_min);
  }
}

TEST(NetworkTest, FifoPerLinkWithoutReordering) {
  Network net = MakeNetwork();
  Nanos last_arrival = 0;
  for (Nanos now = 0; now < 1000; now += 10) {
    auto delays = net.Route(0, 1, now);
    ASSERT_EQ(delays.size(), 1u);
    EXPECT_GE(now + delays[0], last_arrival);
    last_arrival = now + delays[0];
  }
}

TEST(NetworkTest, ReorderingLetsMessagesOvertake) {
  NetworkConfig config;
  config.reorder = true;
  Network net = MakeNetwork(config);
  bool overtaken = false;
  Nanos last_arrival = 0;
  for (Nanos now = 0; now < 100000; now += 10) {
    const Nanos arrival = now + net.Route(0, 1, now)[0];
    overtaken |= arrival < last_arrival;
    last_arrival = std::max(last_arrival, arrival);
  }
  EXPECT_TRUE(overtaken);
}

TEST(NetworkTest, LossAndDuplication) {
  NetworkConfig config;
  config.loss_probability = 1.0;
  Network lossy = MakeNetwork(config);
  EXPECT_TRUE(lossy.Route(0, 1, 0).empty());
  config.loss_probability = 0;
  config.duplicate_probability = 1.0;
  Network dup = MakeNetwork(config);
  EXPECT_EQ(dup.Route(0, 1, 0).size(), 2u);
}

TEST(NetworkTest, StreamsAreNeverLostDuplicatedOrReordered) {
  NetworkConfig config;
  config.loss_probability = 1.0;
  config.duplicate_probability = 1.0;
  config.reorder = true;
  Network net = MakeNetwork(config);
  Nanos last_arrival = 0;
  for (Nanos now = 0; now < 100 * kMillisecond; now += 10 * kMicrosecond) {
    auto delays = net.RouteStream(0, 1, now);
    ASSERT_EQ(delays.size(), 1u);
    EXPECT_GE(now + delays[0], last_arrival);
    last_arrival = now + delays[0];
  }
  net.Clog(0, 1, kSecond);
  EXPECT_GE(net.RouteStream(0, 1, 0)[0], kSecond);
  net.BlockLink(0, 1);
  EXPECT_TRUE(net.RouteStream(0, 1, 0).empty());
}

TEST(NetworkTest, PartitionsAreSymmetricAndHeal) {
  Network net = MakeNetwork();
  net.Partition({0}, {1, 2});
  EXPECT_TRUE(net.Route(0, 1, 0).empty());
  EXPECT_TRUE(net.Route(2, 0, 0).empty());
  EXPECT_EQ(net.Route(1, 2, 0).size(), 1u);
  net.Heal();
  EXPECT_EQ(net.Route(0, 1, 0).size(), 1u);
}

TEST(NetworkTest, AsymmetricBlockAndIsolation) {
  Network net = MakeNetwork();
  net.BlockLink(0, 1);
  EXPECT_TRUE(net.Route(0, 1, 0).empty());
  EXPECT_EQ(net.Route(1, 0, 0).size(), 1u);
  net.Heal();
  net.Isolate(2);
  EXPECT_TRUE(net.Route(2, 0, 0).empty());
  EXPECT_TRUE(net.Route(1, 2, 0).empty());
  EXPECT_EQ(net.Route(0, 1, 0).size(), 1u);
}

TEST(NetworkTest, ClogHoldsMessagesUntilItEnds) {
  Network net = MakeNetwork();
  net.Clog(0, 1, kSecond);
  auto delays = net.Route(0, 1, 0);
  ASSERT_EQ(delays.size(), 1u);
  EXPECT_GE(delays[0], kSecond);
  EXPECT_LT(net.Route(1, 0, 0)[0], kSecond);  // the other direction flows
}

}  // namespace
}  // namespace chronik::sim
