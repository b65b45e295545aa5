// BrokerNode: runtime::Node over broker::Broker (a thin forwarding adapter).
#include <memory>
#include <string>

#include "broker/runtime/node.h"
#include "broker/server/broker.h"

namespace chronik::runtime {
namespace {

class BrokerNode final : public Node {
 public:
  BrokerNode(const broker::BrokerOptions& options,
             const NodeEnvironment& environment)
      : broker_(options, environment.store, environment.clock,
                environment.connections, environment.peers) {}

  absl::Status Start() override { return broker_.Start(); }
  void OnConnectionOpen(broker::ConnectionId id,
                        const std::string& peer) override {
    broker_.OnConnectionOpen(id, peer);
  }
  void OnConnectionInput(broker::ConnectionId id, std::string* input) override {
    broker_.OnConnectionInput(id, input);
  }
  void OnConnectionClose(broker::ConnectionId id) override {
    broker_.OnConnectionClose(id);
  }
  void OnRaftMessage(uint64_t group_id, raft::Message message) override {
    broker_.OnRaftMessage(group_id, std::move(message));
  }
  void Tick() override { broker_.Tick(); }
  void Process() override { broker_.Process(); }
  bool IsReady() const override { return broker_.IsReady(); }
  bool HasFlushInFlight() const override { return broker_.HasFlushInFlight(); }
  broker::BrokerMetrics Metrics() const override { return broker_.Metrics(); }

 private:
  broker::Broker broker_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> MakeBrokerNode(
    const NodeEnvironment& environment) {
  broker::BrokerOptions options;
  options.config = environment.config;
  options.seed = environment.seed;
  options.tick_interval_ms = environment.tick_interval_ms;
  options.async_sync = environment.async_sync;
  return std::unique_ptr<Node>(new BrokerNode(options, environment));
}

}  // namespace chronik::runtime
