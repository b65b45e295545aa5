#include "broker/runtime/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/splitmix64.h"
#include "broker/config/node_ids.h"
#include "broker/runtime/http.h"
#include "broker/runtime/log.h"
#include "broker/runtime/parallel_sync.h"
#include "broker/version.h"

namespace chronik::runtime {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* ModeName(config::ServerConfig::Mode mode) {
  return mode == config::ServerConfig::Mode::kCluster ? "cluster"
                                                      : "standalone";
}

// A taken HTTP port is most often a second node on one host left on the
// default port: the error says how to give each node its own.
absl::Status ExplainBindFailure(const config::ListenerAddress& listener,
                                const absl::Status& status) {
  if (listener.name != "http" || !absl::IsAlreadyExists(status)) {
    return status;
  }
  return absl::AlreadyExistsError(absl::StrCat(
      status.message(),
      " (another node on this host? give each node its own HTTP port: "
      "--http-port=PORT or CHRONIK_HTTP_PORT, or http_port = PORT in its "
      "[[peers]] entry of the cluster file; 0 picks a free port)"));
}

}  // namespace

// The node's clock: wall-clock milliseconds.
class Server::WallClock final : public env::Clock {
 public:
  int64_t NowMs() override { return WallMs(); }
};

class Server::KafkaHandler final : public ConnectionHandler {
 public:
  KafkaHandler(Server* server, const config::KafkaListener& listener)
      : server_(server), listener_(listener) {}

  void OnOpen(ConnectionId id, const std::string& peer) override {
    server_->kafka_connections_[id] = KafkaConnection{};
    env::ConnectionInfo info{
        .peer = peer,
        .listener = listener_.name,
        .protocol = listener_.protocol,
        .tls_principal = server_->loop_->TlsPrincipalOf(id)};
    if (!info.tls_principal.empty()) {
      LogInfo(absl::StrCat("kafka connection ", id, " from ", peer, " on ",
                           listener_.name, " as ", info.tls_principal));
    } else {
      LogDebug(absl::StrCat("kafka connection ", id, " from ", peer, " on ",
                            listener_.name));
    }
    server_->node_->OnConnectionOpen(id, info);
    server_->ScheduleProcess();
  }
  void OnInput(ConnectionId id, InputBuffer* input) override {
    server_->node_->OnConnectionInput(id, input);
    server_->ScheduleProcess();
  }
  void OnDrained(ConnectionId id) override {
    auto it = server_->kafka_connections_.find(id);
    if (it == server_->kafka_connections_.end() ||
        !it->second.paused_by_output) {
      return;
    }
    it->second.paused_by_output = false;
    server_->UpdateReading(id);
  }
  void OnClose(ConnectionId id) override {
    server_->kafka_connections_.erase(id);
    LogDebug(absl::StrCat("kafka connection ", id, " closed"));
    server_->node_->OnConnectionClose(id);
    server_->ScheduleProcess();
  }

 private:
  Server* const server_;
  const config::KafkaListener listener_;
};

class Server::HttpHandler final : public ConnectionHandler {
 public:
  explicit HttpHandler(Server* server) : server_(server) {}

  void OnOpen(ConnectionId id, const std::string&) override {
    deadlines_ms_[id] = WallMs() + server_->options_.http_request_timeout_ms;
  }
  void OnInput(ConnectionId id, InputBuffer* input) override {
    HttpRequest request;
    const HttpParse parse =
        ParseHttpRequest(absl::string_view(input->data(), input->size()),
                         server_->options_.max_http_request_bytes, &request);
    if (parse == HttpParse::kIncomplete) return;
    input->Clear();
    deadlines_ms_.erase(id);  // answered: closes once the reply is written
    ++server_->http_requests_;
    server_->loop_->Send(id, Respond(parse, request));
    server_->loop_->CloseAfterFlush(id);
  }
  void OnClose(ConnectionId id) override { deadlines_ms_.erase(id); }

  // Closes connections that did not send a whole request in time (an idle or
  // trickling client must not hold a connection slot forever).
  void CloseExpired(int64_t now_ms) {
    std::vector<ConnectionId> expired;
    for (const auto& [id, deadline_ms] : deadlines_ms_) {
      if (deadline_ms <= now_ms) expired.push_back(id);
    }
    for (ConnectionId id : expired) server_->loop_->Close(id);  // -> OnClose
  }

 private:
  std::string Respond(HttpParse parse, const HttpRequest& request) {
    constexpr const char* kText = "text/plain; charset=utf-8";
    if (parse == HttpParse::kTooLarge) {
      return HttpResponse(431, kText, "request too large\n");
    }
    if (parse == HttpParse::kBad)
      return HttpResponse(400, kText, "bad request\n");
    if (!HttpAuthorized(request, server_->http_token_)) {
      return HttpResponse(401, kText, "unauthorized\n");
    }
    if (std::optional<int32_t> id = DecommissionPath(request.path)) {
      return Decommission(request.method, *id);
    }
    if (request.method != "GET") {
      return HttpResponse(405, kText, "only GET\n");
    }
    if (request.path == "/health") return HttpResponse(200, kText, "ok\n");
    if (request.path == "/ready") {
      return server_->node_->IsReady()
                 ? HttpResponse(200, kText, "ready\n")
                 : HttpResponse(503, kText, "not ready\n");
    }
    if (request.path == "/metrics") {
      RuntimeMetrics runtime;
      runtime.ready = server_->node_->IsReady();
      runtime.start_time_ms = server_->start_time_ms_;
      runtime.http_requests = server_->http_requests_;
      runtime.peer_messages_dropped = server_->peer_messages_dropped_;
      if (server_->peer_transport_ != nullptr) {
        runtime.peer_messages_dropped += server_->peer_transport_->dropped();
        runtime.peer_peak_queued_messages =
            server_->peer_transport_->peak_queued();
        runtime.peer_slow_writes = server_->peer_transport_->slow_writes();
        runtime.peer_late_batches = server_->peer_transport_->late_batches();
      }
      const storage::StoreStats stats = server_->node_->StoreStats();
      runtime.storage_flushes = stats.flushes;
      runtime.storage_fsyncs = stats.log_fsyncs;
      runtime.storage_filesystem_syncs = server_->disk_->filesystem_syncs();
      runtime.storage_page_cache_dropped_bytes =
          server_->disk_->dropped_behind_bytes();
      runtime.storage_tail_log_frames = stats.wal_frames;
      runtime.storage_overlapped_flushes = stats.flushes_overlapped;
      runtime.storage_tail_log_checkpoints = stats.wal_checkpoints;
      runtime.storage_tail_log_idle_checkpoints = stats.wal_idle_checkpoints;
      runtime.storage_tail_log_buffered_bytes = stats.wal_buffered_bytes;
      runtime.storage_bytes = stats.bytes;
      const EventLoop::Stats& loop = server_->loop_->stats();
      runtime.loop_slow_iterations = loop.slow_iterations;
      runtime.loop_longest_iteration_ms = loop.longest_iteration_ms;
      runtime.loop_longest_timer_lateness_ms = loop.longest_timer_lateness_ms;
      return HttpResponse(200, "text/plain; version=0.0.4; charset=utf-8",
                          RenderMetrics(server_->node_->Metrics(), runtime));
    }
    if (request.path == "/v1/cluster") {
      return HttpResponse(
          200, "application/json",
          broker::RenderClusterStatusJson(server_->node_->ClusterStatus()));
    }
    return HttpResponse(404, kText, "not found\n");
  }

  // POST /v1/brokers/{id}/decommission starts taking broker {id} out of the
  // cluster, DELETE cancels it (cluster_membership.h); progress shows at
  // GET /v1/cluster.
  std::string Decommission(const std::string& method, int32_t id) {
    constexpr const char* kText = "text/plain; charset=utf-8";
    if (method != "POST" && method != "DELETE") {
      return HttpResponse(405, kText, "POST or DELETE\n");
    }
    const bool cancel = method == "DELETE";
    const absl::Status status = server_->node_->Decommission(id, cancel);
    if (status.ok()) {
      server_->ScheduleProcess();
      return HttpResponse(
          202, kText,
          absl::StrCat(cancel ? "cancelling the decommission of broker "
                              : "decommissioning broker ",
                       id, "; follow it at GET /v1/cluster\n"));
    }
    const int code = absl::IsNotFound(status)             ? 404
                     : absl::IsFailedPrecondition(status) ? 409
                     : absl::IsInvalidArgument(status)    ? 400
                                                          : 503;
    LogWarn(absl::StrCat("decommission of broker ", id,
                         " refused: ", status.message()));
    return HttpResponse(code, kText, absl::StrCat(status.message(), "\n"));
  }

  Server* const server_;
  std::map<ConnectionId, int64_t> deadlines_ms_;  // until a request arrives
};

absl::StatusOr<std::unique_ptr<Server>> Server::Create(
    const ServerOptions& options, const NodeFactory& make_node) {
  std::unique_ptr<Server> server(new Server(options));
  absl::Status status = server->Init(make_node);
  if (!status.ok()) return status;
  return server;
}

Server::Server(const ServerOptions& options) : options_(options) {
  CHRONIK_CHECK_GT(options_.tick_interval_ms, 0);
  CHRONIK_CHECK_GT(options_.max_http_request_bytes, 0u);
}

Server::~Server() {
  // Threads that post to the loop stop before the loop goes: gRPC threads of
  // the peer transport first (a node with live peers keeps receiving until
  // then), then the fsync worker once its job, which uses the node's files,
  // is done. The node holds pointers to the clock, disk and log: it goes
  // before them.
  peer_transport_.reset();
  if (sync_worker_ != nullptr) sync_worker_->WaitIdle();
  node_.reset();
  sync_worker_.reset();
  loop_.reset();
  if (signal_fd_ >= 0) close(signal_fd_);
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

absl::Status Server::Init(const NodeFactory& make_node) {
  start_time_ms_ = WallMs();
  auto loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();
  loop_ = std::move(*loop);
  for (const config::KafkaListener& listener :
       config::KafkaListenersOf(options_.config)) {
    kafka_handlers_.push_back(std::make_unique<KafkaHandler>(this, listener));
    if (config::UsesTls(listener.protocol) && tls_ == nullptr) {
      auto tls = TlsContext::Create(options_.config.tls);
      if (!tls.ok()) return tls.status();
      tls_ = std::move(*tls);
    }
  }
  if (!options_.config.http_token_file.empty()) {
    absl::StatusOr<std::string> token =
        ReadHttpToken(options_.config.http_token_file);
    if (!token.ok()) return token.status();
    http_token_ = *std::move(token);
  }
  http_handler_ = std::make_unique<HttpHandler>(this);
  clock_ = std::make_unique<WallClock>();
  if (absl::Status status = BindListeners(); !status.ok()) return status;
  if (absl::Status status = LockDataDir(); !status.ok()) return status;
  disk_ = std::make_unique<PosixDisk>(
      options_.config.data_dir,
      static_cast<uint64_t>(options_.config.page_cache_drop_behind_mib) << 20);
  options_.config = BoundConfig();
  // Before any thread starts: threads inherit the blocked signal mask, so
  // SIGTERM reaches the signalfd and not a worker thread's default action.
  if (options_.handle_signals) {
    if (absl::Status status = WatchSignals(); !status.ok()) return status;
  }
  if (options_.config.mode == config::ServerConfig::Mode::kCluster) {
    if (absl::Status status = StartPeerTransport(); !status.ok()) return status;
  }
  auto node = make_node(MakeNodeEnvironment());
  if (!node.ok()) return node.status();
  node_ = std::move(*node);
  if (absl::Status status = node_->Start(); !status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat("starting the node (data dir ", options_.config.data_dir,
                     "): ", status.message()));
  }
  // Recovery (elections of single-voter groups, replay of the metadata and
  // partitions) needs a few flushes: finish them before serving, so the first
  // client sees the recovered topics.
  DrainFlushes();
  loop_->RunEvery(absl::Milliseconds(options_.tick_interval_ms),
                  [this] { OnTick(); });
  return absl::OkStatus();
}

absl::Status Server::BindListeners() {
  // Kafka first, then HTTP (config::ListenersOf's order): a failure returns
  // before anything else starts, and the loop's destructor closes what did
  // bind. The Raft listener is the peer transport's (StartPeerTransport).
  const std::vector<config::KafkaListener> kafka =
      config::KafkaListenersOf(options_.config);
  kafka_ports_.assign(kafka.size(), 0);
  for (const config::ListenerAddress& listener :
       config::ListenersOf(options_.config)) {
    const int index = listener.kafka_index;
    if (index < 0 && listener.name != "http") continue;
    ListenerOptions options{
        .name = listener.name, .host = listener.host, .port = listener.port};
    ConnectionHandler* handler = http_handler_.get();
    if (index >= 0) {
      handler = kafka_handlers_[index].get();
      if (config::UsesTls(kafka[index].protocol)) {
        options.tls = tls_.get();
        options.tls_handshake_timeout_ms =
            options_.config.tls.handshake_timeout_ms;
      }
    }
    auto port = loop_->Listen(options, handler);
    if (!port.ok()) return ExplainBindFailure(listener, port.status());
    (index >= 0 ? kafka_ports_[index] : http_port_) = *port;
  }
  kafka_port_ = kafka_ports_.front();
  return absl::OkStatus();
}

config::ServerConfig Server::BoundConfig() const {
  config::ServerConfig config = options_.config;
  if (config.advertised_host.empty()) config.advertised_host = config.bind_host;
  if (config.advertised_port == 0) config.advertised_port = kafka_port_;
  config.kafka_port = kafka_port_;
  config.http_port = http_port_;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    config.listeners[i].port = kafka_ports_[i];
  }
  return config;
}

NodeEnvironment Server::MakeNodeEnvironment() {
  NodeEnvironment environment;
  environment.config = options_.config;
  environment.tick_interval_ms = options_.tick_interval_ms;
  environment.env.seed =
      options_.seed != 0
          ? options_.seed
          : (options_.config.node_id * splitmix64::kGamma) ^
                static_cast<uint64_t>(std::chrono::steady_clock::now()
                                          .time_since_epoch()
                                          .count());
  environment.env.clock = clock_.get();
  environment.env.disk = disk_.get();
  environment.env.log = &log_sink_;
  SyncPolicy sync_policy;
  sync_policy.max_threads = kMaxConcurrentFsyncs;
  sync_policy.filesystem_sync_min_files = options_.filesystem_sync_min_files;
  sync_policy.disk = disk_.get();
  if (options_.async_storage_syncs) {
    sync_worker_ = std::make_unique<SyncWorker>(
        [this] {
          // Worker thread: hand the results to the loop thread.
          loop_->Post([this] { DeliverSyncs(); });
        },
        sync_policy);
    environment.env.fsync_mode = env::FsyncMode::kAsync;
  } else {
    environment.env.fsync_mode = env::FsyncMode::kInline;
    environment.env.sync_files =
        [sync_policy](absl::Span<env::File* const> files) {
          return SyncFlushFiles(files, sync_policy);
        };
  }
  return environment;
}

absl::Status Server::LockDataDir() {
  const std::string& dir = options_.config.data_dir;
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create data dir ", dir, " (--data-dir): ", error.message()));
  }
  const std::string path = dir + "/LOCK";
  lock_fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", dir, " is in use by another chronik-server (",
                     path, " is locked)"));
  }
  return absl::OkStatus();
}

absl::Status Server::WatchSignals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) {
    return absl::InternalError("pthread_sigmask failed");
  }
  signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) {
    return absl::InternalError(
        absl::StrCat("signalfd: ", std::strerror(errno)));
  }
  loop_->WatchReadable(signal_fd_, [this] {
    signalfd_siginfo info;
    while (read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
      if (info.ssi_signo == SIGHUP) {
        ReloadTls();
        continue;
      }
      const char* name = info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
      if (shutting_down_) {
        LogWarn(absl::StrCat(name, " again: stopping without draining"));
        loop_->Stop();
        continue;
      }
      BeginShutdown(name);
    }
  });
  return absl::OkStatus();
}

void Server::ReloadTls() {
  if (options_.config.tls.raft && peer_transport_ != nullptr) {
    absl::StatusOr<PeerTlsPems> pems = ReadPeerTlsPems(options_.config.tls);
    absl::Status status =
        pems.ok() ? peer_transport_->ReloadTls(*pems) : pems.status();
    if (status.ok()) {
      LogInfo("SIGHUP: reloaded the Raft TLS certificate, key and CAs");
    } else {
      LogError(
          absl::StrCat("SIGHUP: Raft TLS reload failed, keeping the "
                       "current files: ",
                       status.message()));
    }
  }
  if (tls_ == nullptr) {
    LogInfo("SIGHUP: no TLS listener, nothing to reload");
    return;
  }
  absl::Status status = tls_->Reload();
  if (status.ok()) {
    LogInfo(absl::StrCat("SIGHUP: reloaded the TLS certificate ",
                         options_.config.tls.cert_file,
                         " (open connections keep theirs)"));
  } else {
    LogError(
        absl::StrCat("SIGHUP: TLS reload failed, keeping the current "
                     "certificate: ",
                     status.message()));
  }
}

std::string Server::Describe() const {
  const config::ServerConfig& config = options_.config;
  std::error_code error;
  std::filesystem::path data_dir =
      std::filesystem::absolute(config.data_dir, error);
  std::string listeners;
  for (const config::KafkaListener& l : config::KafkaListenersOf(config)) {
    absl::StrAppend(&listeners, listeners.empty() ? "" : ",", l.name, "://",
                    l.host, ":", l.port, "(",
                    config::SecurityProtocolName(l.protocol), " advertised ",
                    l.advertised_host, ":", l.advertised_port, ")");
  }
  return absl::StrCat(
      "chronik-server ", kVersion, " ", ModeName(config.mode),
      " node_id=", config.node_id, " kafka=", config.bind_host, ":",
      kafka_port_, " advertised=", config.advertised_host, ":",
      config.advertised_port, " http=",
      config.http_bind_host.empty() ? config.bind_host : config.http_bind_host,
      ":", http_port_, " data_dir=",
      error ? config.data_dir : data_dir.lexically_normal().string(),
      " log_level=", env::LogLevelName(config.log_level),
      " listeners=", listeners);
}

absl::Status Server::Run() {
  LogInfo(absl::StrCat("started: ", Describe()));
  loop_->Run();
  // The loop no longer runs what gRPC threads post: stop them now (peers see
  // their streams end at once), before anything is torn down.
  if (peer_transport_ != nullptr) peer_transport_->Stop();
  DrainFlushes();
  if (shutting_down_ && node_->StorageFailure().ok()) {
    // Checkpoints and the clean-stop marker: the next start reads no log.
    if (absl::Status s = node_->StopCleanly(); !s.ok()) {
      LogWarn(
          absl::StrCat("clean stop not marked (the next start recovers "
                       "as after a crash): ",
                       s.message()));
    }
  }
  LogInfo("stopped");
  return absl::OkStatus();
}

absl::Status Server::StartPeerTransport() {
  const config::ServerConfig& config = options_.config;
  PeerTransportOptions transport;
  // Raft messages name Raft node ids (config/node_ids.h).
  transport.self = config::RaftNodeId(config.node_id);
  transport.bind_host = config.bind_host;
  transport.port = config.raft_port;
  if (config.tls.raft) {
    absl::StatusOr<PeerTlsPems> pems = ReadPeerTlsPems(config.tls);
    if (!pems.ok()) return pems.status();
    transport.tls_cert_pem = pems->cert;
    transport.tls_key_pem = pems->key;
    transport.tls_ca_pem = pems->ca;
    transport.tls_dir = config.data_dir + "/raft-tls";
  }
  for (const config::PeerConfig& peer : config.peers) {
    transport.peers[config::RaftNodeId(peer.id)] =
        absl::StrCat(peer.host, ":", peer.raft_port);
  }
  absl::StatusOr<std::unique_ptr<PeerTransport>> started = PeerTransport::Start(
      transport, [this](std::vector<raft::WireMessage> messages) {
        // A gRPC thread: hand the messages to the loop thread.
        auto shared = std::make_shared<std::vector<raft::WireMessage>>(
            std::move(messages));
        loop_->Post([this, shared] {
          for (raft::WireMessage& message : *shared) {
            node_->OnPeerMessage(message.group_id, std::move(message.message));
          }
          ScheduleProcess();
        });
      });
  if (!started.ok()) return started.status();
  peer_transport_ = std::move(*started);
  return absl::OkStatus();
}

void Server::DrainFlushes() {
  // Whatever the node has queued reaches the disk before we go on.
  constexpr int kMaxFinalRounds = 100;
  for (int round = 0; round < kMaxFinalRounds; ++round) {
    RunStep();
    if (node_->HasFlushInFlight() && sync_worker_ != nullptr) {
      sync_worker_->WaitIdle();
      DeliverSyncs();
      continue;
    }
    if (!node_->HasWork()) return;
  }
  LogWarn("storage flushes still in flight after draining");
}

void Server::DeliverSyncs() {
  std::vector<SyncWorker::Completed> completed = sync_worker_->TakeCompleted();
  if (completed.empty()) return;
  for (SyncWorker::Completed& done : completed) {
    node_->OnSyncDone(done.flush_id, std::move(done.results));
  }
  ScheduleProcess();  // what the flush made durable moves on
}

void Server::Shutdown() {
  loop_->Post([this] { BeginShutdown("shutdown requested"); });
}

void Server::RunStep() {
  ApplyOutput(node_->Process());
  if (absl::Status failure = node_->StorageFailure(); !failure.ok()) {
    // No drain: the data directory can no longer be trusted (a failed fsync
    // may have dropped writes the page cache still shows). Nothing was
    // acknowledged before its fsync succeeded; a restart recovers from what
    // is durable.
    LogError(absl::StrCat("stopping at once: ", failure.ToString(),
                          "; restart the node once the disk is healthy"));
    std::_Exit(kStorageFailureExitCode);
  }
  if (node_->HasWork()) ScheduleProcess();
}

void Server::ApplyOutput(env::StepOutput out) {
  for (env::ConnectionAction& action : out.connections) {
    ApplyConnectionAction(action);
  }
  for (const env::PeerAddress& peer : out.peer_addresses) {
    if (peer_transport_ == nullptr) break;
    if (peer_transport_->SetPeer(peer.node_id, peer.address)) {
      LogInfo(absl::StrCat("raft peer ", config::KafkaNodeId(peer.node_id),
                           " at ", peer.address, " (from its registration)"));
    }
  }
  for (env::PeerMessage& message : out.peer_messages) {
    if (peer_transport_ != nullptr) {
      peer_transport_->Send(message.group_id, message.message);
      continue;
    }
    ++peer_messages_dropped_;  // standalone has no peers
    if (LogEnabled(config::LogLevel::kDebug)) {
      LogDebug(absl::StrCat("dropping a Raft message of group ",
                            message.group_id, ": no peer transport"));
    }
  }
  if (out.sync.has_value()) {
    CHRONIK_CHECK(sync_worker_ != nullptr) << "async fsync without a worker";
    sync_worker_->Submit(std::move(*out.sync));
  }
}

void Server::ApplyConnectionAction(env::ConnectionAction& action) {
  const ConnectionId id = action.connection;
  auto it = kafka_connections_.find(id);
  if (it == kafka_connections_.end()) return;  // closed meanwhile
  switch (action.kind) {
    case env::ConnectionAction::Kind::kSend:
      loop_->Send(id, std::move(action.bytes));
      if (loop_->QueuedOutputBytes(id) > options_.max_queued_output_bytes &&
          !it->second.paused_by_output) {
        it->second.paused_by_output = true;
        UpdateReading(id);
      }
      break;
    case env::ConnectionAction::Kind::kClose:
      loop_->CloseAfterFlush(id);
      break;
    case env::ConnectionAction::Kind::kPauseReading:
    case env::ConnectionAction::Kind::kResumeReading:
      it->second.paused_by_node =
          action.kind == env::ConnectionAction::Kind::kPauseReading;
      UpdateReading(id);
      break;
  }
}

void Server::UpdateReading(ConnectionId id) {
  auto it = kafka_connections_.find(id);
  if (it == kafka_connections_.end()) return;
  if (it->second.paused_by_node || it->second.paused_by_output) {
    loop_->PauseReading(id);
  } else {
    loop_->ResumeReading(id);  // may deliver buffered input at once
  }
}

void Server::ScheduleProcess() {
  if (process_scheduled_) return;
  process_scheduled_ = true;
  // Posted tasks run after the current batch of socket events: one Process
  // (and so one group-commit flush) per batch, not per connection.
  loop_->Post([this] {
    process_scheduled_ = false;
    RunStep();
  });
}

void Server::OnTick() {
  http_handler_->CloseExpired(WallMs());
  node_->Tick();
  RunStep();
  if (!shutting_down_) return;
  // First the node hands over its leadership (bounded by the node:
  // broker::kControlledShutdownTimeoutMs), then connections drain.
  if (!node_->ShutdownComplete()) return;
  if (shutdown_deadline_ms_ == 0) {
    shutdown_deadline_ms_ = WallMs() + options_.shutdown_grace_ms;
  }
  bool drained = true;
  for (const auto& [id, connection] : kafka_connections_) {
    if (loop_->QueuedOutputBytes(id) > 0) drained = false;
  }
  if (drained || WallMs() >= shutdown_deadline_ms_) {
    if (!drained) LogWarn("shutdown: grace period over with output queued");
    loop_->Stop();
  }
}

void Server::BeginShutdown(const std::string& reason) {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_deadline_ms_ = 0;  // set once the node completed its shutdown
  LogInfo(absl::StrCat(reason, ": shutting down (no new connections; ",
                       kafka_connections_.size(), " open)"));
  loop_->CloseListeners();
  node_->BeginShutdown();
  RunStep();
}

}  // namespace chronik::runtime
