// Node: what the production driver (Server) runs. The real node is
// broker::Broker (BrokerNode adapts it); tests of the runtime substitute a
// small fake so the driver's sockets, HTTP endpoints and shutdown can be
// tested without the broker core.
//
// The contract is broker::Broker's (broker/server/broker.h): one thread calls
// every method; Process() runs after any input. Outputs go through the
// interfaces the factory is given, which the Server implements.
#ifndef CHRONIK_BROKER_RUNTIME_NODE_H_
#define CHRONIK_BROKER_RUNTIME_NODE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/config/server_config.h"
#include "broker/server/broker.h"
#include "broker/storage/log_store.h"

namespace chronik::runtime {

class Node {
 public:
  virtual ~Node() = default;
  virtual absl::Status Start() = 0;
  virtual void OnConnectionOpen(broker::ConnectionId id,
                                const std::string& peer) = 0;
  virtual void OnConnectionInput(broker::ConnectionId id,
                                 std::string* input) = 0;
  virtual void OnConnectionClose(broker::ConnectionId id) = 0;
  // A Raft message from a peer node (cluster mode).
  virtual void OnRaftMessage(uint64_t /*group_id*/, raft::Message /*message*/) {
  }
  virtual void Tick() = 0;
  virtual void Process() = 0;
  virtual bool IsReady() const = 0;
  virtual broker::BrokerMetrics Metrics() const = 0;
  // A storage flush is waiting for the IO thread (see Broker).
  virtual bool HasFlushInFlight() const { return false; }
};

// Everything a node is built from. Pointers are owned by the Server and
// outlive the node.
struct NodeEnvironment {
  config::ServerConfig config;  // advertised port filled in after binding
  uint64_t seed = 1;
  int64_t tick_interval_ms = 50;
  storage::LogStore* store = nullptr;
  broker::Clock* clock = nullptr;
  broker::ConnectionOutput* connections = nullptr;
  broker::PeerOutput* peers = nullptr;
  // Runs storage fsyncs on the IO thread (broker::BrokerOptions::async_sync).
  replication::AsyncSyncFiles async_sync;
};

using NodeFactory = std::function<absl::StatusOr<std::unique_ptr<Node>>(
    const NodeEnvironment&)>;

// The production node: broker::Broker.
absl::StatusOr<std::unique_ptr<Node>> MakeBrokerNode(
    const NodeEnvironment& environment);

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_NODE_H_
