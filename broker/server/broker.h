// Broker: everything one chronik node does, above the environment interfaces.
//
// It owns the node's Raft groups (through replication::RaftHost: the metadata
// group and one group per partition replica), the metadata state machine, the
// partitions' state (offsets, high watermark, idempotent producers), the group
// coordinator, and the Kafka request handlers. It is deterministic: no clock
// (time comes from `Clock`), no threads, no sockets or files (storage is a
// LogStore on an env::Disk; Kafka connections and peer messages go through the
// output interfaces), randomness from `options.seed`. The production driver
// (broker/runtime/) and the simulator (sim/) both run this same class.
//
// Driving (one thread):
//   Start()                       once: recover groups, join the metadata group
//   OnConnectionOpen/Input/Close  Kafka client traffic (raw bytes; framing,
//                                 bounds and per-connection response order are
//                                 handled here)
//   OnRaftMessage                 messages from peer nodes
//   Tick()                        every options.tick_interval_ms
//   Process()                     after any of the above: runs Raft work,
//                                 flushes storage (group commit), completes
//                                 waiting requests, emits output
//
// Standalone is a cluster of one: the metadata group's voters are the
// configured peers (just this node in standalone), never inferred.
#ifndef CHRONIK_BROKER_SERVER_BROKER_H_
#define CHRONIK_BROKER_SERVER_BROKER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "broker/config/server_config.h"
#include "broker/replication/raft_host.h"
#include "broker/storage/log_store.h"
#include "raft/types.h"

namespace chronik::broker {

using ConnectionId = uint64_t;

// Wall-clock milliseconds (record timestamps, commit times, timeouts).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() = 0;
};

// Where Kafka responses go. Calls happen inside Broker methods.
class ConnectionOutput {
 public:
  virtual ~ConnectionOutput() = default;
  virtual void Send(ConnectionId id, std::string bytes) = 0;
  // Close after what was sent is flushed (a malformed request, shutdown).
  virtual void Close(ConnectionId id) = 0;
  // Backpressure: stop/restart delivering input of this connection.
  virtual void PauseReading(ConnectionId id) = 0;
  virtual void ResumeReading(ConnectionId id) = 0;
};

// Where Raft messages for peers go (the driver batches per peer).
class PeerOutput {
 public:
  virtual ~PeerOutput() = default;
  virtual void Send(replication::OutgoingMessage message) = 0;
};

struct BrokerOptions {
  config::ServerConfig config;
  uint64_t seed = 1;
  int64_t tick_interval_ms = 50;  // how often the driver calls Tick()
  int election_timeout_ticks = 10;
  int heartbeat_timeout_ticks = 2;
  raft::InjectedBugs injected_bugs;   // TEST-ONLY (simulator)
  replication::SyncFiles sync_files;  // see replication::HostOptions
  // When set, storage fsyncs run elsewhere and Process() never waits for one
  // (replication::HostOptions::async_sync_files). The driver calls the `done`
  // it is given on the broker's thread, outside other Broker calls; the
  // broker then processes what the flush made durable.
  replication::AsyncSyncFiles async_sync;
  // Partition log segments roll at this size; retention removes whole
  // segments (topic configs retention.ms and retention.bytes), checked every
  // retention_check_ticks.
  uint64_t segment_max_bytes = 64ull << 20;
  int retention_check_ticks = 100;
};

// Counters for /metrics (Prometheus) and tests. Keys are Kafka API names.
struct ApiMetrics {
  uint64_t requests = 0;
  uint64_t errors = 0;  // responses whose top-level or any partition error != 0
  uint64_t latency_ms_sum = 0;
  // Buckets (upper bounds in ms): 1, 5, 10, 50, 100, 500, 1000, +Inf.
  std::vector<uint64_t> latency_buckets = std::vector<uint64_t>(8, 0);
};

struct BrokerMetrics {
  std::map<std::string, ApiMetrics> apis;
  uint64_t bytes_in = 0;   // Kafka request bytes
  uint64_t bytes_out = 0;  // Kafka response bytes
  uint64_t connections = 0;
  uint64_t partitions = 0;      // partition replicas hosted here
  uint64_t partitions_led = 0;  // ... of which this node leads
  uint64_t log_bytes = 0;       // on-disk size of all partition logs
  uint64_t malformed_requests = 0;
};

class Broker {
 public:
  Broker(const BrokerOptions& options, storage::LogStore* store, Clock* clock,
         ConnectionOutput* connections, PeerOutput* peers);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  absl::Status Start();

  void OnConnectionOpen(ConnectionId id, const std::string& peer);
  void OnConnectionInput(ConnectionId id, std::string* input);
  void OnConnectionClose(ConnectionId id);
  void OnRaftMessage(replication::GroupId group_id, raft::Message message);
  void Tick();
  void Process();

  // /ready: this node is registered in committed metadata and can serve.
  bool IsReady() const;
  BrokerMetrics Metrics() const;
  // A storage flush is waiting for its fsyncs (async mode); a driver shutting
  // down lets it finish and calls Process() until this is false.
  bool HasFlushInFlight() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_BROKER_H_
