// BrokerNode: runtime::Node over broker::Broker (a thin forwarding adapter).
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/check.h"
#include "broker/runtime/node.h"
#include "broker/server/broker.h"

namespace chronik::runtime {
namespace {

class BrokerNode final : public Node {
 public:
  BrokerNode(const broker::BrokerOptions& options, const env::Environment& env)
      : broker_(options, env) {}

  absl::Status Start() override { return broker_.Start(); }
  void OnConnectionOpen(env::ConnectionId id,
                        const env::ConnectionInfo& info) override {
    broker_.OnConnectionOpen(id, info);
  }
  void OnConnectionInput(env::ConnectionId id, InputBuffer* input) override {
    broker_.OnConnectionInput(id, input);
  }
  void OnConnectionClose(env::ConnectionId id) override {
    broker_.OnConnectionClose(id);
  }
  void OnPeerMessage(uint64_t group_id, raft::Message message) override {
    broker_.OnPeerMessage(group_id, std::move(message));
  }
  void OnSyncDone(uint64_t flush_id,
                  std::vector<absl::Status> results) override {
    broker_.OnSyncDone(flush_id, std::move(results));
  }
  void Tick() override { broker_.Tick(); }
  env::StepOutput Process() override { return broker_.Process(); }
  bool HasWork() const override { return broker_.HasWork(); }
  bool IsReady() const override { return broker_.IsReady(); }
  broker::BrokerMetrics Metrics() const override { return broker_.Metrics(); }
  broker::ClusterStatus ClusterStatus() const override {
    return broker_.Status();
  }
  void BeginShutdown() override { broker_.BeginShutdown(); }
  absl::Status Decommission(int32_t kafka_id, bool cancel) override {
    return broker_.Decommission(kafka_id, cancel);
  }
  bool ShutdownComplete() const override { return broker_.ShutdownComplete(); }
  absl::Status StopCleanly() override { return broker_.StopCleanly(); }
  storage::StoreStats StoreStats() const override {
    return broker_.StoreStats();
  }
  bool HasFlushInFlight() const override { return broker_.HasFlushInFlight(); }
  absl::Status StorageFailure() const override {
    return broker_.StorageFailure();
  }

 private:
  broker::Broker broker_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> MakeBrokerNode(
    const NodeEnvironment& environment) {
  broker::BrokerOptions options;
  options.config = environment.config;
  options.tick_interval_ms = environment.tick_interval_ms;
  CHRONIK_CHECK_GT(environment.tick_interval_ms, 0);
  // Whole ticks, at least 2: the core's heartbeat is one tick.
  options.election_timeout_ticks = static_cast<int>(
      std::max<int64_t>(2, environment.config.raft_election_timeout_ms /
                               environment.tick_interval_ms));
  options.store.tail_wal_bytes =
      static_cast<uint64_t>(environment.config.tail_log_mib) << 20;
  options.store.tail_wal_min_groups =
      static_cast<size_t>(environment.config.tail_log_min_groups);
  return std::unique_ptr<Node>(new BrokerNode(options, environment.env));
}

}  // namespace chronik::runtime
