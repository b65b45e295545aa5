// Server: the production driver of one chronik node. It owns the data
// directory, the PosixDisk and LogStore on it, the epoll EventLoop with the
// Kafka and HTTP listeners, and the Node (broker::Broker), and wires them:
//
//   Kafka bytes ── EventLoop ── KafkaHandler ──▶ node.OnConnection*()
//   Raft messages ── gRPC thread ── Post ─────▶ node.OnPeerMessage()
//   fsyncs done ── SyncWorker ── Post ────────▶ node.OnSyncDone()
//   every event batch with input (posted) ────▶ node.Process() (one step:
//                                               one group-commit flush)
//   every tick_interval_ms ───────────────────▶ node.Tick(); node.Process()
//   step output (env::StepOutput) ──▶ EventLoop Send / CloseAfterFlush /
//     Pause / Resume, PeerTransport, SyncWorker; another step while
//     node.HasWork()
//   GET /health /ready /metrics /v1/cluster ──▶ HttpHandler (same loop)
//   SIGTERM/SIGINT (signalfd) or Shutdown() ──▶ stop accepting,
//     node.BeginShutdown() and keep ticking and serving open connections
//     until node.ShutdownComplete() (the node hands over its Raft
//     leadership, bounded by broker::kControlledShutdownTimeoutMs), then
//     until their output drained (bounded by shutdown_grace_ms), stop the
//     peer transport (no gRPC thread posts after that), final Process()
//     (flushes storage), Run() returns.
//
// No broker logic lives here. Everything runs on the loop thread. The node
// never calls back into the Server (its outputs are returned by Process and
// carried out after the call), so nothing here guards against re-entry.
//
// Kafka listeners (config::KafkaListenersOf): each named listener gets its
// own handler, which opens connections with the listener's name and security
// protocol (env::ConnectionInfo; SASL is the broker's business); SSL and
// SASL_SSL listeners share one TlsContext (the --tls-* files, checked before
// anything binds, reread on SIGHUP).
//
// Start order (Create): load the TLS files, bind Kafka, bind HTTP (so a taken
// port fails fast, naming the listener and port, with nothing left bound), lock
// and open the data directory (PosixDisk; the node opens its LogStore there),
// build and start the node. Thread-safety: Shutdown() is thread-safe;
// everything else is for the thread that calls Run().
#ifndef CHRONIK_BROKER_RUNTIME_SERVER_H_
#define CHRONIK_BROKER_RUNTIME_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/config/server_config.h"
#include "broker/env/env.h"
#include "broker/runtime/event_loop.h"
#include "broker/runtime/log.h"
#include "broker/runtime/node.h"
#include "broker/runtime/peer_transport.h"
#include "broker/runtime/posix_disk.h"
#include "broker/runtime/sync_worker.h"
#include "broker/runtime/tls.h"

namespace chronik::runtime {

struct ServerOptions {
  config::ServerConfig config;
  int64_t tick_interval_ms = 50;
  // After a shutdown request: how long open connections may take to receive
  // what is already queued for them.
  int64_t shutdown_grace_ms = 2000;
  size_t max_http_request_bytes = 8 << 10;
  // An HTTP connection that has not sent a whole request by then is closed.
  int64_t http_request_timeout_ms = 5000;
  // Stop reading a Kafka connection while this many response bytes wait to be
  // written to it (a client that does not read its responses).
  uint64_t max_queued_output_bytes = 64 << 20;
  // Handle SIGTERM/SIGINT (block them in the calling thread and watch a
  // signalfd). Call Create before starting other threads so they inherit the
  // mask.
  bool handle_signals = true;
  // Storage fsyncs on an IO thread (the loop never waits for the disk).
  bool async_storage_syncs = true;
  // A storage flush of at least this many files syncs the data directory's
  // file system once (syncfs) instead of each file; 0: never (see
  // parallel_sync.h).
  size_t filesystem_sync_min_files = kDefaultFilesystemSyncMinFiles;
  uint64_t seed = 0;  // 0 = derive from node id and time
};

// Concurrent fsyncs of one storage flush.
inline constexpr int kMaxConcurrentFsyncs = 8;

// The process's exit status when a storage error stopped it (EX_IOERR from
// sysexits.h): a supervisor can tell it from a crash and from a clean stop.
inline constexpr int kStorageFailureExitCode = 74;

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Create(
      const ServerOptions& options, const NodeFactory& make_node);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int kafka_port() const { return kafka_port_; }
  // The bound port of each Kafka listener (config::KafkaListenersOf order).
  const std::vector<int>& kafka_ports() const { return kafka_ports_; }
  int http_port() const { return http_port_; }
  // The one start line: version, mode, listeners, data directory.
  std::string Describe() const;

  // Serves until a signal or Shutdown(); then drains and flushes. Returns OK
  // after a clean shutdown.
  absl::Status Run();
  void Shutdown();  // thread-safe

 private:
  class KafkaHandler;
  class HttpHandler;
  class WallClock;
  struct KafkaConnection {
    bool paused_by_node = false;
    bool paused_by_output = false;
  };

  explicit Server(const ServerOptions& options);
  absl::Status Init(const NodeFactory& make_node);
  absl::Status BindListeners();
  // The configuration with the bound ports (and advertised defaults) in.
  config::ServerConfig BoundConfig() const;
  // The node's environment (starts the fsync worker in async mode).
  NodeEnvironment MakeNodeEnvironment();
  absl::Status LockDataDir();
  absl::Status WatchSignals();
  // SIGHUP: rereads the TLS certificate and key (open connections stay).
  void ReloadTls();

  // One node step and its outputs carried out.
  void RunStep();
  void ApplyOutput(env::StepOutput out);
  void ApplyConnectionAction(env::ConnectionAction& action);
  // Hands finished fsyncs to the node (loop thread).
  void DeliverSyncs();
  void ScheduleProcess();
  void OnTick();
  void BeginShutdown(const std::string& reason);
  // Outside the loop (at start, after it stopped): lets flushes in flight
  // finish and processes until everything queued is durable (bounded).
  void DrainFlushes();
  // Cluster mode: the gRPC Raft transport on the node's raft port.
  absl::Status StartPeerTransport();
  void UpdateReading(ConnectionId id);

  ServerOptions options_;
  std::unique_ptr<EventLoop> loop_;
  // One per Kafka listener (it knows the listener's name and protocol).
  std::vector<std::unique_ptr<KafkaHandler>> kafka_handlers_;
  std::unique_ptr<TlsContext> tls_;  // when a listener uses TLS
  std::unique_ptr<HttpHandler> http_handler_;
  std::unique_ptr<WallClock> clock_;
  StderrLogSink log_sink_;
  std::unique_ptr<PosixDisk> disk_;
  // Declared before node_: destroyed after it, so no flush outlives its files
  // unseen (the broker is gone before the worker joins).
  std::unique_ptr<SyncWorker> sync_worker_;
  std::unique_ptr<Node> node_;
  int kafka_port_ = 0;
  std::vector<int> kafka_ports_;
  int http_port_ = 0;
  std::string http_token_;  // "" = the HTTP endpoints take no token
  int lock_fd_ = -1;
  int signal_fd_ = -1;
  int64_t start_time_ms_ = 0;

  std::map<ConnectionId, KafkaConnection> kafka_connections_;
  bool process_scheduled_ = false;
  uint64_t http_requests_ = 0;
  uint64_t peer_messages_dropped_ = 0;
  bool shutting_down_ = false;
  // When the connection drain gives up (0 while the node still hands over
  // its leadership).
  int64_t shutdown_deadline_ms_ = 0;
  // Reset first in ~Server, so no gRPC thread posts to a loop being torn down.
  std::unique_ptr<PeerTransport> peer_transport_;
};

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_SERVER_H_
