// The simulated network between the nodes of a run: decides, for each message,
// whether and when it arrives.
//
// The network does not carry payloads: Route() returns the delivery delays of
// one send (none = lost, two = duplicated) and the caller schedules the
// deliveries with the payload. This keeps the network independent of what
// travels on it (Raft messages today, Kafka requests later) and easy to test.
//
// Model, per directed link (from, to):
// - latency: uniform in [latency_min, latency_max], with probability
//   `tail_probability` a slow packet up to `tail_max` instead;
// - order: FIFO per link (a stream transport) unless reordering is on, in which
//   case a message may be held back by up to `reorder_max` and overtaken;
// - loss and duplication with per-run probabilities;
// - blocked links: a symmetric partition blocks both directions between two
//   sides, an asymmetric one a single direction, isolating a node blocks all
//   its links; messages sent on a blocked link are lost;
// - clogged links: messages are held until the clog ends, then delivered
//   (FoundationDB's "clogging"), modelling a stalled TCP connection that later
//   recovers.
// Heal() removes every block and clog. All randomness comes from the Rng passed
// in (the run's "network" stream). Not thread-safe.
#ifndef CHRONIK_SIM_NETWORK_H_
#define CHRONIK_SIM_NETWORK_H_

#include <cstdint>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "sim/random.h"
#include "sim/time.h"

namespace chronik::sim {

struct NetworkConfig {
  Nanos latency_min = 200 * kMicrosecond;
  Nanos latency_max = 2 * kMillisecond;
  double tail_probability = 0.0;
  Nanos tail_max = 50 * kMillisecond;
  double loss_probability = 0.0;
  double duplicate_probability = 0.0;
  bool reorder = false;
  Nanos reorder_max = 10 * kMillisecond;
};

class Network {
 public:
  using Delays = absl::InlinedVector<Nanos, 2>;
  static constexpr int kMaxNodes = 64;

  Network(int num_nodes, Rng rng, NetworkConfig config);

  // Delays after `now` at which one message sent from `from` to `to` arrives
  // (empty when it is lost). Consumes randomness from the network stream.
  Delays Route(int from, int to, Nanos now);
  // Route for a stream connection (a Kafka client's TCP connection): FIFO,
  // never lost, duplicated or reordered by the loss/duplication/reorder
  // settings (TCP hides those); blocks and clogs apply as in Route.
  Delays RouteStream(int from, int to, Nanos now);

  // Blocks both directions between every node of `side_a` and every node of
  // `side_b`.
  void Partition(const std::vector<int>& side_a,
                 const std::vector<int>& side_b);
  // Blocks one direction.
  void BlockLink(int from, int to);
  // Blocks every link to and from `node`.
  void Isolate(int node);
  // Messages sent on from->to before `until` are held until then.
  void Clog(int from, int to, Nanos until);
  // Removes every block and clog (not loss/duplication/latency settings).
  void Heal();

  bool Blocked(int from, int to) const { return blocked_[Index(from, to)]; }
  int num_nodes() const { return num_nodes_; }
  NetworkConfig& config() { return config_; }
  const NetworkConfig& config() const { return config_; }

 private:
  size_t Index(int from, int to) const;
  Nanos Latency();

  int num_nodes_;
  Rng rng_;
  NetworkConfig config_;
  std::vector<bool> blocked_;         // [from * n + to]
  std::vector<Nanos> clogged_until_;  // absolute time, 0 = not clogged
  std::vector<Nanos> last_arrival_;   // absolute time, for FIFO per link
};

// The healthy network a scenario starts from: latencies drawn from the seed's
// "network/config" stream (shared by every scenario).
NetworkConfig SeededNetworkConfig(uint64_t seed);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_NETWORK_H_
