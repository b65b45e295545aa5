// InProcessCluster (tests only): N brokers in one process, each run by a
// TestDriver on its own simulated disk, with a shared fake clock and an
// in-memory network that can drop messages with a seeded probability.
// Nodes are known by their Kafka broker ids (ServerConfig's). Deterministic
// for a given seed. (The simulator's broker scenario is to
// replace it: it adds faults, clocks and clients.)
//
// Step() delivers queued Raft messages (bounded rounds), advances the clock by
// one tick and ticks every live broker. Crash() drops a node's volatile state
// and its disk's unsynced writes; Start() brings it back from its disk. Each
// node has one Kafka connection (id 1) that a test writes request frames to
// with Send() and reads responses from with TakeResponse().
#ifndef CHRONIK_BROKER_SERVER_IN_PROCESS_CLUSTER_H_
#define CHRONIK_BROKER_SERVER_IN_PROCESS_CLUSTER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/broker.h"
#include "broker/server/testing/test_driver.h"
#include "sim/disk/sim_disk.h"

namespace chronik::broker::testing {

// A plain batch of `records` records with values "v0", "v1", ...
inline std::string ValuesBatch(int records) {
  std::vector<kafka::Record> batch;
  for (int i = 0; i < records; ++i) {
    kafka::Record record;
    record.offset_delta = i;
    record.value = absl::StrCat("v", i);
    batch.push_back(record);
  }
  return *kafka::BuildRecordBatch(kafka::RecordBatchSpec{}, batch);
}

// An acks=all Produce of one record "s<sequence>" to `topic`-0 from an
// idempotent producer (epoch 0) at `sequence`.
inline kafka::ProduceRequest IdempotentProduce(const std::string& topic,
                                               int64_t producer_id,
                                               int32_t sequence) {
  kafka::RecordBatchSpec spec;
  spec.producer_id = producer_id;
  spec.producer_epoch = 0;
  spec.base_sequence = sequence;
  kafka::Record record;
  record.value = absl::StrCat("s", sequence);
  kafka::ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = 5000;
  request.topics.push_back(
      {topic, {{0, *kafka::BuildRecordBatch(spec, {record})}}});
  return request;
}

class InProcessCluster {
 public:
  // Nodes are numbered by Kafka broker id: first_id, first_id + 1, ...
  // `configure` (may be empty) adjusts every node's options before it starts.
  InProcessCluster(int nodes, uint64_t seed, uint64_t first_id = 1,
                   std::function<void(BrokerOptions&)> configure = {})
      : seed_(seed), rng_(seed), configure_(std::move(configure)) {
    for (uint64_t id = first_id; id < first_id + nodes; ++id) {
      nodes_[id] = std::make_unique<Node>(seed * 7919 + id);
    }
    for (auto& [id, node] : nodes_) Start(id);
  }

  // Starts node `id` to join the running cluster (--join, an empty disk): its
  // config lists every node so far and itself (as do the configs of nodes
  // restarted from now on).
  void AddJoiningNode(raft::NodeId id) {
    CHRONIK_CHECK(nodes_.count(id) == 0);
    nodes_[id] = std::make_unique<Node>(seed_ * 7919 + id);
    joining_.insert(id);
    Start(id);
  }

  // Probability that any one Raft message is lost.
  void set_drop_probability(double p) { drop_probability_ = p; }
  // Messages for which `drop` returns true are lost (empty: none).
  void set_drop_filter(std::function<bool(const raft::Message&)> drop) {
    drop_filter_ = std::move(drop);
  }

  config::ServerConfig Config(raft::NodeId id) const {
    config::ServerConfig config;
    config.mode = config::ServerConfig::Mode::kCluster;
    config.node_id = id;
    config.replication_factor = static_cast<int>(nodes_.size());
    config.min_insync_replicas = 1;
    for (const auto& [peer, node] : nodes_) {
      config.peers.push_back({peer, "127.0.0.1", static_cast<int>(9090 + peer),
                              static_cast<int>(9190 + peer), 0});
    }
    config.kafka_port = static_cast<int>(9090 + id);
    config.raft_port = static_cast<int>(9190 + id);
    config.advertised_host = "127.0.0.1";
    config.join = joining_.count(id) > 0;
    return config;
  }

  void Start(raft::NodeId id) {
    Node& node = *nodes_.at(id);
    BrokerOptions options;
    options.config = Config(id);
    // A small tail log: cheap in the simulated disk's memory, and its
    // checkpoints run within a test.
    options.store.tail_wal_bytes = kTestTailWalBytes;
    options.store.tail_wal_min_groups = 1;
    if (configure_) configure_(options);
    // Every start of a node gets its own seed (env::Environment's contract:
    // peers tell a restarted node by it), the first one `id`.
    node.driver = std::make_unique<TestDriver>(
        options, &node.disk, &clock_, /*seed=*/id + (node.starts++ << 32));
    absl::Status started = node.driver->Start();
    CHRONIK_CHECK(started.ok()) << started;
    node.driver->Open(1, "client");
    down_.erase(id);
  }

  void Crash(raft::NodeId id) {
    Node& node = *nodes_.at(id);
    node.driver.reset();
    node.disk.Crash();
    down_.insert(id);
  }

  bool up(raft::NodeId id) const { return down_.count(id) == 0; }
  Broker& broker(raft::NodeId id) { return nodes_.at(id)->driver->broker(); }
  // Node `id`'s log lines so far (tests may look for one).
  const std::vector<std::string>& log(raft::NodeId id) {
    return nodes_.at(id)->driver->log().lines;
  }
  int64_t now_ms() const { return clock_.now_ms; }

  // Steps until `done` holds, at most `max_steps` times; whether it holds.
  bool StepUntil(const std::function<bool()>& done, int max_steps = 400) {
    for (int i = 0; i < max_steps && !done(); ++i) Step();
    return done();
  }

  void Step() {
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      std::set<raft::NodeId> received;
      for (auto& [id, node] : nodes_) {
        if (!up(id)) continue;
        for (env::PeerMessage& message : node->driver->TakePeerMessages()) {
          any = true;
          // Raft ids on the wire, Kafka ids here (config/node_ids.h).
          const int32_t to = config::KafkaNodeId(message.message.to);
          if (to < 0 || !up(to) || nodes_.count(to) == 0) continue;
          if (drop_filter_ && drop_filter_(message.message)) continue;
          if (drop_probability_ > 0 && std::uniform_real_distribution<double>(
                                           0, 1)(rng_) < drop_probability_) {
            continue;
          }
          nodes_.at(to)->driver->broker().OnPeerMessage(
              message.group_id, std::move(message.message));
          received.insert(to);
        }
      }
      for (raft::NodeId id : received) nodes_.at(id)->driver->Settle();
      if (!any) break;
    }
    clock_.now_ms += 50;
    for (auto& [id, node] : nodes_) {
      if (!up(id)) continue;
      node->driver->broker().Tick();
      node->driver->Settle();
    }
  }

  // Reopens node `id`'s client connection as `info` says (its listener).
  void Reconnect(raft::NodeId id, const env::ConnectionInfo& info) {
    TestDriver& driver = *nodes_.at(id)->driver;
    driver.broker().OnConnectionClose(1);
    driver.Open(1, info);
  }

  // Writes one request frame to node `id`'s connection.
  void Send(raft::NodeId id, std::string frame) {
    CHRONIK_CHECK(up(id));
    TestDriver& driver = *nodes_.at(id)->driver;
    driver.Write(1, frame);
    driver.Settle();
  }

  std::optional<std::string> TakeResponse(raft::NodeId id) {
    std::deque<std::string>& frames =
        nodes_.at(id)->driver->connection(1).responses;
    if (frames.empty()) return std::nullopt;
    std::string frame = std::move(frames.front());
    frames.pop_front();
    return frame;
  }

  // Sends `request` to `id` and steps (at most `max_steps`) until answered.
  template <typename Response, typename Request>
  std::optional<Response> Call(raft::NodeId id, const Request& request,
                               int16_t version, int max_steps = 100) {
    if (!up(id)) return std::nullopt;
    Send(id, kafka::EncodeRequestFrame(version, ++correlation_,
                                       std::string("t"), request));
    std::optional<std::string> frame;
    for (int i = 0; i <= max_steps && up(id); ++i) {
      if ((frame = TakeResponse(id))) break;
      Step();
    }
    if (!frame.has_value()) return std::nullopt;
    Response response;
    int32_t correlation = 0;
    CHRONIK_CHECK(
        kafka::DecodeResponseFrame(absl::string_view(*frame).substr(4), version,
                                   &correlation, &response)
            .ok());
    return response;
  }

  kafka::MetadataResponse Metadata(raft::NodeId id) {
    kafka::MetadataRequest request;
    request.topics = std::nullopt;
    std::optional<kafka::MetadataResponse> response =
        Call<kafka::MetadataResponse>(id, request, 12);
    return response.value_or(kafka::MetadataResponse{});
  }

  // The leader of partition 0 of `topic` as the first live node that names
  // one says; 0 when none does.
  raft::NodeId PartitionLeader(const std::string& topic) {
    for (const auto& [id, node] : nodes_) {
      if (!up(id)) continue;
      for (const auto& t : Metadata(id).topics) {
        if (t.name == topic && !t.partitions.empty() &&
            t.partitions[0].leader_id > 0) {
          return static_cast<raft::NodeId>(t.partitions[0].leader_id);
        }
      }
    }
    return 0;
  }

  bool AllReady() {
    for (auto& [id, node] : nodes_) {
      if (!up(id) || !node->driver->broker().IsReady()) return false;
    }
    return true;
  }

 private:
  struct Node {
    explicit Node(uint64_t seed)
        : rng(seed), disk(sim::SimDiskOptions{}, rng) {}
    std::mt19937_64 rng;
    sim::SimDisk disk;
    std::unique_ptr<TestDriver> driver;
    uint64_t starts = 0;  // Start() calls so far
  };

  uint64_t seed_;
  std::mt19937_64 rng_;
  std::function<void(BrokerOptions&)> configure_;
  std::set<raft::NodeId> joining_;  // started with --join
  double drop_probability_ = 0;
  std::function<bool(const raft::Message&)> drop_filter_;
  std::map<raft::NodeId, std::unique_ptr<Node>> nodes_;
  std::set<raft::NodeId> down_;
  FakeClock clock_;
  int32_t correlation_ = 0;
};

}  // namespace chronik::broker::testing

#endif  // CHRONIK_BROKER_SERVER_IN_PROCESS_CLUSTER_H_
