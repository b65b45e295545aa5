// Three brokers in one process, each with its own simulated disk, exchanging
// Raft messages through an in-memory network: the seed's cluster failures
// (one-member metadata groups, unregistered brokers) must not happen, and a
// partition must survive the loss of its leader.
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/broker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::broker {
namespace {

using ::testing::SizeIs;

class SharedClock : public Clock {
 public:
  int64_t NowMs() override { return now_ms; }
  int64_t now_ms = 1'700'000'000'000;
};

class Responses : public ConnectionOutput {
 public:
  void Send(ConnectionId, std::string bytes) override {
    frames.push_back(std::move(bytes));
  }
  void Close(ConnectionId) override {}
  void PauseReading(ConnectionId) override {}
  void ResumeReading(ConnectionId) override {}
  std::deque<std::string> frames;
};

struct Envelope {
  raft::NodeId to;
  replication::OutgoingMessage message;
};

class Network : public PeerOutput {
 public:
  void Send(replication::OutgoingMessage message) override {
    queue.push_back({message.message.to, std::move(message)});
  }
  std::deque<Envelope> queue;
};

struct Node {
  explicit Node(uint64_t seed) : rng(seed), disk(sim::SimDiskOptions{}, rng) {}
  std::mt19937_64 rng;
  sim::SimDisk disk;
  std::unique_ptr<storage::LogStore> store;
  Responses out;
  Network network;
  std::unique_ptr<Broker> broker;
  std::string input;
};

class ClusterTest : public ::testing::Test {
 protected:
  ClusterTest() {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      nodes_[id] = std::make_unique<Node>(id * 7919);
      Start(id);
    }
  }

  config::ServerConfig Config(raft::NodeId id) {
    config::ServerConfig config;
    config.mode = config::ServerConfig::Mode::kCluster;
    config.node_id = id;
    config.replication_factor = 3;
    config.min_insync_replicas = 2;
    for (raft::NodeId peer = 1; peer <= 3; ++peer) {
      config.peers.push_back({peer, "127.0.0.1", static_cast<int>(9090 + peer),
                              static_cast<int>(9190 + peer), 0});
    }
    config.kafka_port = static_cast<int>(9090 + id);
    config.advertised_host = "127.0.0.1";
    return config;
  }

  void Start(raft::NodeId id) {
    Node& node = *nodes_[id];
    auto store = storage::LogStore::Open(&node.disk, "data", {});
    CHRONIK_CHECK(store.ok()) << store.status();
    node.store = std::move(*store);
    BrokerOptions options;
    options.config = Config(id);
    options.seed = id;
    node.broker = std::make_unique<Broker>(options, node.store.get(), &clock_,
                                           &node.out, &node.network);
    CHRONIK_CHECK(node.broker->Start().ok());
    node.broker->OnConnectionOpen(1, "client");
    down_.erase(id);
  }

  void Crash(raft::NodeId id) {
    Node& node = *nodes_[id];
    node.broker.reset();
    node.store.reset();
    node.disk.Crash();
    down_.insert(id);
  }

  // Delivers every queued message (bounded), then advances time by a tick.
  void Step() {
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (auto& [id, node] : nodes_) {
        while (!node->network.queue.empty()) {
          Envelope envelope = std::move(node->network.queue.front());
          node->network.queue.pop_front();
          any = true;
          if (down_.count(id) > 0 || down_.count(envelope.to) > 0) continue;
          nodes_.at(envelope.to)
              ->broker->OnRaftMessage(envelope.message.group_id,
                                      std::move(envelope.message.message));
        }
      }
      if (!any) break;
    }
    clock_.now_ms += 50;
    for (auto& [id, node] : nodes_) {
      if (down_.count(id) == 0) node->broker->Tick();
    }
  }

  void StepUntil(const std::function<bool()>& done, int max_steps = 400) {
    for (int i = 0; i < max_steps && !done(); ++i) Step();
    ASSERT_TRUE(done()) << "condition not reached in " << max_steps << " ticks";
  }

  template <typename Response, typename Request>
  std::optional<Response> Call(raft::NodeId id, const Request& request,
                               int16_t version) {
    Node& node = *nodes_.at(id);
    node.input += kafka::EncodeRequestFrame(version, ++correlation_,
                                            std::string("t"), request);
    node.broker->OnConnectionInput(1, &node.input);
    for (int i = 0; i < 100 && node.out.frames.empty(); ++i) Step();
    if (node.out.frames.empty()) return std::nullopt;
    std::string frame = std::move(node.out.frames.front());
    node.out.frames.pop_front();
    Response response;
    int32_t correlation = 0;
    CHRONIK_CHECK(kafka::DecodeResponseFrame(absl::string_view(frame).substr(4),
                                             version, &correlation, &response)
                      .ok());
    return response;
  }

  kafka::MetadataResponse Metadata(raft::NodeId id) {
    kafka::MetadataRequest request;
    request.topics = std::nullopt;
    return *Call<kafka::MetadataResponse>(id, request, 12);
  }

  static std::string Batch(int records) {
    std::vector<kafka::Record> batch;
    for (int i = 0; i < records; ++i) {
      kafka::Record record;
      record.offset_delta = i;
      record.value = absl::StrCat("v", i);
      batch.push_back(record);
    }
    return *kafka::BuildRecordBatch(kafka::RecordBatchSpec{}, batch);
  }

  std::map<raft::NodeId, std::unique_ptr<Node>> nodes_;
  std::set<raft::NodeId> down_;
  SharedClock clock_;
  int32_t correlation_ = 0;
};

TEST_F(ClusterTest, EveryBrokerRegistersThroughOneMetadataGroup) {
  StepUntil([&] {
    for (auto& [id, node] : nodes_) {
      if (!node->broker->IsReady()) return false;
    }
    return true;
  });
  std::set<int32_t> controllers;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    kafka::MetadataResponse metadata = Metadata(id);
    EXPECT_THAT(metadata.brokers, SizeIs(3)) << "as seen by node " << id;
    controllers.insert(metadata.controller_id);
  }
  EXPECT_EQ(controllers.size(), 1u) << "one metadata leader for everyone";
  EXPECT_GT(*controllers.begin(), 0);
}

TEST_F(ClusterTest, EveryNodeHandsOutDistinctProducerIds) {
  StepUntil([&] {
    return nodes_[1]->broker->IsReady() && nodes_[2]->broker->IsReady() &&
           nodes_[3]->broker->IsReady();
  });
  std::set<int64_t> ids;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    for (int i = 0; i < 2; ++i) {
      auto init = Call<kafka::InitProducerIdResponse>(
          id, kafka::InitProducerIdRequest{std::nullopt, 0, -1, -1}, 4);
      ASSERT_TRUE(init.has_value());
      EXPECT_EQ(init->error_code, 0) << "node " << id << " (followers too)";
      ids.insert(init->producer_id);
    }
  }
  EXPECT_EQ(ids.size(), 6u) << "no id handed out twice";
}

TEST_F(ClusterTest, ReplicatedPartitionSurvivesItsLeadersCrash) {
  StepUntil([&] {
    return nodes_[1]->broker->IsReady() && nodes_[2]->broker->IsReady() &&
           nodes_[3]->broker->IsReady();
  });
  const raft::NodeId controller =
      static_cast<raft::NodeId>(Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"replicated", 1, 3, {}, {}});
  auto created = Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);

  auto leader_of_partition = [&]() -> raft::NodeId {
    for (raft::NodeId id = 1; id <= 3; ++id) {
      if (down_.count(id) > 0) continue;
      auto metadata = Metadata(id);
      if (metadata.topics.size() == 1 &&
          metadata.topics[0].partitions.at(0).leader_id > 0) {
        return static_cast<raft::NodeId>(
            metadata.topics[0].partitions[0].leader_id);
      }
    }
    return 0;
  };
  raft::NodeId leader = 0;
  StepUntil([&] { return (leader = leader_of_partition()) != 0; });

  kafka::ProduceRequest produce;
  produce.acks = -1;
  produce.timeout_ms = 5000;
  produce.topics.push_back({"replicated", {{0, Batch(5)}}});
  auto produced = Call<kafka::ProduceResponse>(leader, produce, 9);
  ASSERT_TRUE(produced.has_value());
  ASSERT_EQ(produced->responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(produced->responses[0].partitions[0].base_offset, 0);

  Crash(leader);
  raft::NodeId next = 0;
  StepUntil([&] {
    next = leader_of_partition();
    return next != 0 && next != leader;
  });
  auto again = Call<kafka::ProduceResponse>(next, produce, 9);
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->responses[0].partitions[0].error_code, 0);
  EXPECT_EQ(again->responses[0].partitions[0].base_offset, 5)
      << "the acknowledged batch survived the leader's crash";

  kafka::FetchRequest fetch;
  fetch.topics.push_back({"replicated", {{0, -1, 0, -1, -1, 1 << 20}}});
  auto fetched = Call<kafka::FetchResponse>(next, fetch, 11);
  ASSERT_TRUE(fetched.has_value());
  EXPECT_EQ(fetched->responses[0].partitions[0].high_watermark, 10);

  // The crashed node comes back and catches up.
  Start(leader);
  StepUntil([&] { return nodes_[leader]->broker->IsReady(); });
}

TEST_F(ClusterTest, MinorityCannotCommitMetadata) {
  StepUntil([&] {
    return nodes_[1]->broker->IsReady() && nodes_[2]->broker->IsReady() &&
           nodes_[3]->broker->IsReady();
  });
  const raft::NodeId controller =
      static_cast<raft::NodeId>(Metadata(1).controller_id);
  // Cut the controller off from both others: nothing it proposes commits.
  for (raft::NodeId id = 1; id <= 3; ++id) {
    if (id != controller) Crash(id);
  }
  kafka::CreateTopicsRequest create;
  create.timeout_ms = 2000;
  create.topics.push_back({"lonely", 1, 1, {}, {}});
  auto created = Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  EXPECT_NE(created->topics.at(0).error_code, 0)
      << "a node alone must never commit (the seed's one-member groups did)";
}

}  // namespace
}  // namespace chronik::broker
