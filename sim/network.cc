#include "sim/network.h"

#include <algorithm>

#include "base/check.h"

namespace chronik::sim {

Network::Network(int num_nodes, Rng rng, NetworkConfig config)
    : num_nodes_(num_nodes),
      rng_(rng),
      config_(config),
      blocked_(num_nodes * num_nodes, false),
      clogged_until_(num_nodes * num_nodes, 0),
      last_arrival_(num_nodes * num_nodes, 0) {
  CHRONIK_CHECK_GT(num_nodes, 0);
  CHRONIK_CHECK_LE(num_nodes, kMaxNodes);
  CHRONIK_CHECK_GE(config_.latency_min, 0);
  CHRONIK_CHECK_LE(config_.latency_min, config_.latency_max);
}

size_t Network::Index(int from, int to) const {
  CHRONIK_CHECK_GE(from, 0);
  CHRONIK_CHECK_LT(from, num_nodes_);
  CHRONIK_CHECK_GE(to, 0);
  CHRONIK_CHECK_LT(to, num_nodes_);
  return static_cast<size_t>(from) * num_nodes_ + to;
}

Nanos Network::Latency() {
  if (rng_.Chance(config_.tail_probability)) {
    return rng_.Between(config_.latency_max,
                        std::max(config_.latency_max, config_.tail_max));
  }
  return rng_.Between(config_.latency_min, config_.latency_max);
}

Network::Delays Network::Route(int from, int to, Nanos now) {
  const size_t link = Index(from, to);
  Delays delays;
  if (blocked_[link]) return delays;
  if (rng_.Chance(config_.loss_probability)) return delays;
  const int copies = rng_.Chance(config_.duplicate_probability) ? 2 : 1;
  for (int copy = 0; copy < copies; ++copy) {
    Nanos arrival = std::max(now, clogged_until_[link]) + Latency();
    if (config_.reorder && rng_.Chance(0.5)) {
      arrival += rng_.Between(0, config_.reorder_max);
    } else {
      // A stream transport delivers in order: never before the previous
      // message.
      arrival = std::max(arrival, last_arrival_[link]);
      last_arrival_[link] = arrival;
    }
    delays.push_back(arrival - now);
  }
  return delays;
}

Network::Delays Network::RouteStream(int from, int to, Nanos now) {
  const size_t link = Index(from, to);
  Delays delays;
  if (blocked_[link]) return delays;
  const Nanos arrival = std::max(
      std::max(now, clogged_until_[link]) + Latency(), last_arrival_[link]);
  last_arrival_[link] = arrival;
  delays.push_back(arrival - now);
  return delays;
}

void Network::Partition(const std::vector<int>& side_a,
                        const std::vector<int>& side_b) {
  for (int a : side_a) {
    for (int b : side_b) {
      CHRONIK_CHECK_NE(a, b) << "a node cannot be on both sides of a partition";
      blocked_[Index(a, b)] = true;
      blocked_[Index(b, a)] = true;
    }
  }
}

void Network::BlockLink(int from, int to) { blocked_[Index(from, to)] = true; }

void Network::Isolate(int node) {
  for (int other = 0; other < num_nodes_; ++other) {
    if (other == node) continue;
    blocked_[Index(node, other)] = true;
    blocked_[Index(other, node)] = true;
  }
}

void Network::Clog(int from, int to, Nanos until) {
  Nanos& clog = clogged_until_[Index(from, to)];
  clog = std::max(clog, until);
}

void Network::Heal() {
  std::fill(blocked_.begin(), blocked_.end(), false);
  std::fill(clogged_until_.begin(), clogged_until_.end(), 0);
}

NetworkConfig SeededNetworkConfig(uint64_t seed) {
  Rng rng = Rng::Stream(seed, "network/config");
  NetworkConfig config;
  config.latency_min = rng.Between(50 * kMicrosecond, 1 * kMillisecond);
  config.latency_max =
      config.latency_min + rng.Between(100 * kMicrosecond, 5 * kMillisecond);
  return config;
}

}  // namespace chronik::sim
