// Node: what the production driver (Server) runs. The real node is
// broker::Broker (BrokerNode adapts it); tests of the runtime substitute a
// small fake so the driver's sockets, HTTP endpoints and shutdown can be
// tested without the broker core.
//
// The contract is broker::Broker's step contract (broker/server/broker.h):
// one thread calls every method; inputs go in, Process() returns the step's
// outputs (env::StepOutput), which the Server carries out after the call
// returns. A node never calls the Server back except through the
// env::Environment it is given (clock, log sink).
#ifndef CHRONIK_BROKER_RUNTIME_NODE_H_
#define CHRONIK_BROKER_RUNTIME_NODE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/input_buffer.h"
#include "broker/config/server_config.h"
#include "broker/env/env.h"
#include "broker/server/cluster_status.h"
#include "broker/server/metrics.h"
#include "broker/storage/log_store.h"
#include "raft/types.h"

namespace chronik::runtime {

class Node {
 public:
  virtual ~Node() = default;
  virtual absl::Status Start() = 0;
  virtual void OnConnectionOpen(env::ConnectionId id,
                                const env::ConnectionInfo& info) = 0;
  virtual void OnConnectionInput(env::ConnectionId id, InputBuffer* input) = 0;
  virtual void OnConnectionClose(env::ConnectionId id) = 0;
  // A Raft message from a peer node (cluster mode).
  virtual void OnPeerMessage(uint64_t /*group_id*/, raft::Message /*message*/) {
  }
  // The fsyncs of StepOutput::sync finished (env::FsyncMode::kAsync).
  virtual void OnSyncDone(uint64_t /*flush_id*/,
                          std::vector<absl::Status> /*results*/) {}
  virtual void Tick() = 0;
  virtual env::StepOutput Process() = 0;
  // Process() would do more work (the Server schedules another step).
  virtual bool HasWork() const { return false; }
  virtual bool IsReady() const = 0;
  virtual broker::BrokerMetrics Metrics() const = 0;
  // GET /v1/cluster (see broker/server/cluster_status.h).
  virtual broker::ClusterStatus ClusterStatus() const { return {}; }
  // Controlled shutdown (see Broker::BeginShutdown): the Server keeps
  // ticking and processing until ShutdownComplete(), then drains connections.
  virtual void BeginShutdown() {}
  // POST/DELETE /v1/brokers/{id}/decommission (see Broker::Decommission).
  virtual absl::Status Decommission(int32_t /*kafka_id*/, bool /*cancel*/) {
    return absl::UnimplementedError("this node cannot decommission brokers");
  }
  virtual bool ShutdownComplete() const { return true; }
  // The driver's last call after a clean shutdown (see Broker::StopCleanly).
  virtual absl::Status StopCleanly() { return absl::OkStatus(); }
  virtual storage::StoreStats StoreStats() const { return {}; }
  // A storage flush is waiting for its fsyncs (see Broker).
  virtual bool HasFlushInFlight() const { return false; }
  // Not OK once storage failed (see Broker::StorageFailure): the Server then
  // exits at once with kStorageFailureExitCode.
  virtual absl::Status StorageFailure() const { return absl::OkStatus(); }
};

// Everything a node is built from. The pointers in `env` are owned by the
// Server and outlive the node.
struct NodeEnvironment {
  config::ServerConfig config;  // advertised port filled in after binding
  int64_t tick_interval_ms = 50;
  env::Environment env;
};

using NodeFactory = std::function<absl::StatusOr<std::unique_ptr<Node>>(
    const NodeEnvironment&)>;

// The production node: broker::Broker.
absl::StatusOr<std::unique_ptr<Node>> MakeBrokerNode(
    const NodeEnvironment& environment);

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_NODE_H_
