// The broker scenario's nodes: lifecycle (start from the disk, kill -9),
// ticks of the node's own clock, and driving the production Broker: each
// Process() is followed by carrying out its StepOutput (peer messages over
// the simulated network, connection actions towards the clients, the flush's
// fsyncs after a simulated latency), and Process runs again, as a scheduled
// event, while the broker has work.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "proto/metadata.pb.h"
#include "sim/broker_world.h"

namespace chronik::sim {
namespace {

constexpr int kMaxCatchUpTicks = 50;
// Process calls at one instant without time passing: more is a broker that
// never settles.
constexpr int kMaxBusySteps = 10000;
// Seeds with small metadata snapshots: the metadata log's segments and every
// group's in-memory Raft tail (bytes), small enough that compaction removes
// segments and a follower that was down is behind the leader's memory.
constexpr uint64_t kSmallSnapshotBytes = 512;

}  // namespace

int64_t NodeEnv::NowMs() {
  return kEpochMs +
         world_->node(node_).clock.Local(world_->now()) / kMillisecond;
}

void NodeEnv::Log(env::LogLevel level, absl::string_view line) {
  world_->Record(node_, "log",
                 {static_cast<uint64_t>(level),
                  Fnv1a64(std::string_view(line.data(), line.size()))},
                 [&] { return std::string(line); });
}

void NodeRaftObserver::OnRoleChange(replication::GroupId group_id,
                                    const replication::RoleState& role) {
  if (role.is_leader) {
    world_->OnLeader(node_, group_id, role.term);
  } else {
    // Follower of a known leader, or no leader known (a candidate).
    world_->Record(node_, "role", {group_id, role.term, role.leader});
  }
}

void NodeRaftObserver::OnRecover(replication::GroupId group_id,
                                 const replication::RecoveredGroup& recovered) {
  world_->replicas().OnRecover(node_, group_id, recovered.last_index);
}

void NodeRaftObserver::OnRecoveredEntries(
    replication::GroupId group_id, absl::Span<const raft::Entry> entries) {
  world_->replicas().OnRecoveredEntries(node_, group_id, entries);
}

void NodeRaftObserver::OnAppend(replication::GroupId group_id,
                                absl::Span<const raft::Entry> entries) {
  world_->replicas().OnAppend(node_, group_id, entries);
}

void NodeRaftObserver::OnDurable(replication::GroupId group_id,
                                 const replication::DurableState& durable) {
  world_->replicas().OnDurable(node_, group_id, durable.log_index);
}

void NodeRaftObserver::OnSnapshotTaken(replication::GroupId group_id,
                                       raft::Index index) {
  world_->OnSnapshot(node_, group_id, index, /*installed=*/false);
}

void NodeRaftObserver::OnSnapshotInstalled(replication::GroupId group_id,
                                           raft::Index index, raft::Term) {
  world_->OnSnapshot(node_, group_id, index, /*installed=*/true);
}

void BrokerWorld::OnSnapshot(int node, uint64_t group, raft::Index index,
                             bool installed) {
  if (group == 0) {  // the metadata group
    ++(installed ? result_.snapshots_installed : result_.snapshots_taken);
  } else {
    ++(installed ? result_.partition_snapshots_installed
                 : result_.partition_snapshots_taken);
    // A partition's snapshots are retention's cuts (ARCHITECTURE.md).
    replicas_.OnLogCut(group, index);
  }
  Record(node, installed ? "install" : "snapshot", {group, index});
}

void BrokerWorld::OnLeader(int node, uint64_t group, raft::Term term) {
  Record(node, "leader", {group, term});
  cluster_.OnLeader(now(), node, group, term);
  if (cluster_.violation().has_value()) Fail(*cluster_.violation());
}

config::ServerConfig BrokerWorld::MakeConfig(int index) const {
  // One host: every node on 127.0.0.1 with its own ports (HTTP ports given
  // per peer, as the README's one-host cluster says). A host per node: the
  // default ports everywhere.
  // The founders' cluster file lists the founders; a joiner's lists every
  // node (itself too), as an operator adding it writes it.
  std::vector<std::string> peers;
  const int listed = IsJoiner(index) ? num_nodes() : options_.nodes;
  for (int i = 0; i < listed; ++i) {
    peers.push_back(one_host_
                        ? absl::StrCat(i + 1, "=127.0.0.1:", 9092 + i, ":",
                                       9192 + i, ":", 9644 + i)
                        : absl::StrCat(i + 1, "=10.0.0.", i + 1, ":9092:9192"));
  }
  std::vector<std::string> args = {
      absl::StrCat("--node-id=", index + 1),
      absl::StrCat("--cluster-peers=", absl::StrJoin(peers, ",")),
      absl::StrCat("--replication-factor=", replication_factor_),
      absl::StrCat("--min-insync-replicas=", min_insync_),
      absl::StrCat("--broker-session-timeout-ms=", session_timeout_ms_),
      absl::StrCat("--replica-lag-time-max-ms=", replica_lag_ms_),
      absl::StrCat("--group-initial-rebalance-delay-ms=",
                   group_initial_delay_ms_),
      absl::StrCat("--default-partitions=", options_.partitions),
      absl::StrCat("--auto-create-topics=", auto_create_ ? "true" : "false"),
      "--data-dir=/data",
      "cluster"};
  if (!one_host_) {
    args.insert(args.begin(), absl::StrCat("--bind-addr=10.0.0.", index + 1));
  }
  if (IsJoiner(index)) args.insert(args.begin(), "--join=true");
  if (options_.raft_quiesce >= 0) {
    args.insert(args.begin(),
                absl::StrCat("--raft-quiesce=",
                             options_.raft_quiesce == 1 ? "true" : "false"));
  }
  if (balance_interval_ms_ > 0) {
    args.insert(args.begin(),
                {absl::StrCat("--leader-imbalance-check-interval-ms=",
                              balance_interval_ms_),
                 "--leader-imbalance-per-broker-percentage=0"});
  }
  absl::StatusOr<config::ServerConfig> config = config::ParseServerConfig(
      args, {}, [](const std::string& path) -> absl::StatusOr<std::string> {
        return absl::NotFoundError(path);
      });
  CHRONIK_CHECK(config.ok()) << "n" << index + 1 << ": " << config.status();
  return *std::move(config);
}

broker::BrokerOptions BrokerWorld::MakeBrokerOptions(
    const BrokerNode& node) const {
  broker::BrokerOptions options;
  options.config = node.config;
  options.tick_interval_ms = options_.tick_interval_ms;
  options.injected_bugs = options_.raft_bugs;
  options.broker_bugs = options_.broker_bugs;
  options.raft_observer = node.observer.get();
  options.metadata_snapshot_entries = snapshot_entries_;
  options.store.tail_wal_bytes = tail_wal_bytes_;
  options.store.tail_wal_min_groups = tail_wal_min_groups_;
  options.store.tail_wal_buffer_bytes = tail_wal_buffer_bytes_;
  options.store.max_flushes_in_flight = max_flushes_in_flight_;
  if (!options_.idle_tail_log_checkpoints) {
    options.idle_tail_log_checkpoint_ticks = 0;
  }
  if (small_snapshots_) {
    options.metadata_segment_max_bytes = kSmallSnapshotBytes;
    options.max_log_tail_bytes = kSmallSnapshotBytes;
  }
  if (log_starts_.segment_bytes > 0) {
    // Partition logs are cut (retention, DeleteRecords) within the run, and
    // a follower behind the cut is not served from memory: it installs the
    // leader's snapshot.
    options.segment_max_bytes = log_starts_.segment_bytes;
    options.max_log_tail_bytes = kSmallSnapshotBytes;
    options.retention_check_ticks = 10;
  }
  return options;
}

absl::Status BrokerWorld::BindListeners(BrokerNode& node) {
  const std::string owner = absl::StrCat("n", node.index + 1);
  for (const config::ListenerAddress& listener :
       config::ListenersOf(node.config, options_.broker_bugs)) {
    absl::Status bound =
        ports_.Bind(node.host, static_cast<uint16_t>(listener.port), owner);
    if (!bound.ok()) {
      ports_.ReleaseAll(node.host, owner);
      return absl::Status(bound.code(),
                          absl::StrCat("cannot bind the ", listener.name,
                                       " listener ", listener.host, ":",
                                       listener.port, ": ", bound.message()));
    }
  }
  return absl::OkStatus();
}

void BrokerWorld::ReleaseListeners(BrokerNode& node) {
  ports_.ReleaseAll(node.host, absl::StrCat("n", node.index + 1));
}

void BrokerWorld::RetryStartLater(BrokerNode& node) {
  if (node.restart_scheduled) return;
  node.restart_scheduled = true;
  const int index = node.index;
  scheduler_.After(kSecond, [this, index] {
    nodes_[index].restart_scheduled = false;
    StartNode(nodes_[index]);
  });
}

void BrokerWorld::StartNode(BrokerNode& node) {
  if (node.stopping) {
    node.restart_after_stop = true;  // once the stop is done
    return;
  }
  if (node.process.running() || finished_ || node.gone) return;
  if (IsJoiner(node.index) && now() < membership_.join_at) return;
  if (absl::Status bound = BindListeners(node); !bound.ok()) {
    node.start_error = bound.ToString();
    Record(node.index, "start_failed", {node.process.incarnation()},
           [&] { return node.start_error; });
    RetryStartLater(node);
    return;
  }
  node.start_error.clear();
  env::Environment env;
  env.clock = node.env.get();
  env.disk = node.disk.get();
  env.log = node.env.get();
  env.seed = StreamSeed(
      options_.seed,
      absl::StrCat("broker/n", node.index, "/", node.process.incarnation()));
  env.fsync_mode = env::FsyncMode::kAsync;
  node.process.Start();
  node.connections.clear();
  node.syncing.clear();
  node.process_scheduled = false;
  node.busy_steps = 0;
  node.disk_fault_this_run = node.disk_faulty;
  node.broker = std::make_unique<broker::Broker>(MakeBrokerOptions(node), env);
  absl::Status started = node.broker->Start();
  node.broker_started = started.ok();
  Record(node.index, "start", {node.process.incarnation(), started.ok()},
         [&] { return started.ToString(); });
  if (!started.ok()) {
    if (node.disk_faulty) {  // the supervisor tries again
      node.start_error = started.ToString();
      CrashNode(node, node.start_error);
      RetryStartLater(node);
      return;
    }
    Fail(absl::StrCat("n", node.index + 1,
                      " cannot start from its disk: ", started.ToString()));
    return;
  }
  cluster_.OnNodeUp(now(), node.index);
  node.next_tick_local =
      node.tick_clock.Local(now()) + options_.tick_interval_ms * kMillisecond;
  ScheduleTick(node);
  ScheduleProcess(node);
}

void BrokerWorld::AddFlushCounts(const BrokerNode& node) {
  if (node.broker == nullptr || !node.broker_started ||
      !node.process.running()) {
    return;
  }
  const storage::StoreStats& stats = node.broker->StoreStats();
  result_.flushes += stats.flushes;
  result_.flushes_overlapped += stats.flushes_overlapped;
  result_.idle_tail_log_checkpoints += stats.wal_idle_checkpoints;
  result_.spliced_bytes += stats.spliced_bytes;
}

void BrokerWorld::CrashNode(BrokerNode& node, std::string_view why) {
  if (!node.process.running()) return;
  ++result_.crashes;
  node.stopping = false;  // a crash cuts a clean stop short
  node.restart_after_stop = false;
  cluster_.OnNodeDown(now(), node.index);
  AddFlushCounts(node);
  node.process.Crash();
  node.broker.reset();
  node.syncing.clear();
  node.disk->Crash();
  ReleaseListeners(node);
  DropConnections(node);
  Record(node.index, "crash", {node.process.incarnation()},
         [&] { return std::string(why); });
}

void BrokerWorld::DropConnections(BrokerNode& node) {
  for (const auto& [id, connection] : node.connections) {
    const int client = connection.client;
    const env::ConnectionId closed = id;
    scheduler_.After(kMillisecond, [this, client, closed] {
      OnClientClosed(client, closed);
    });
  }
  node.connections.clear();
}

void BrokerWorld::BeginStop(BrokerNode& node) {
  if (!node.process.running() || node.stopping) return;
  node.stopping = true;
  node.broker->BeginShutdown();
  Record(node.index, "stopping", {node.process.incarnation()});
  ScheduleProcess(node);  // OnTick stops it once the shutdown completed
}

void BrokerWorld::StopNode(BrokerNode& node) {
  if (!node.process.running()) return;
  constexpr int kMaxFinalRounds = 100;
  for (int round = 0; round < kMaxFinalRounds; ++round) {
    while (!node.syncing.empty()) CompleteSyncNow(node);
    CarryOut(node, node.broker->Process());
    if (!node.syncing.empty()) continue;
    if (!node.broker->HasWork()) break;
  }
  if (node.broker->HasFlushInFlight()) {
    Fail(absl::StrCat("n", node.index + 1,
                      ": storage flushes still in flight after draining"));
    return;
  }
  AddFlushCounts(node);
  node.broker.reset();
  cluster_.OnNodeDown(now(), node.index);
  node.process.Stop();
  ReleaseListeners(node);
  DropConnections(node);
  Record(node.index, "stop", {node.process.incarnation()});
  node.stopping = false;
  if (node.restart_after_stop) {
    node.restart_after_stop = false;
    StartNode(node);
  }
}

bool BrokerWorld::Deferred(BrokerNode& node, std::function<void()> retry) {
  if (!node.process.Paused(now())) return false;
  scheduler_.At(node.process.DeferUntil(now()), std::move(retry));
  return true;
}

void BrokerWorld::ScheduleTick(BrokerNode& node) {
  const Nanos local = node.tick_clock.Local(now());
  const Nanos wait = std::max<Nanos>(0, node.next_tick_local - local);
  const int index = node.index;
  const uint64_t incarnation = node.process.incarnation();
  scheduler_.After(
      std::max<Nanos>(1, node.tick_clock.GlobalDelay(wait)),
      [this, index, incarnation] { OnTick(nodes_[index], incarnation); });
}

void BrokerWorld::OnTick(BrokerNode& node, uint64_t incarnation) {
  if (!node.process.Current(incarnation) || finished_) return;
  if (Deferred(node,
               [this, &node, incarnation] { OnTick(node, incarnation); })) {
    return;
  }
  const Nanos local = node.tick_clock.Local(now());
  const Nanos interval = options_.tick_interval_ms * kMillisecond;
  int ticks = 0;
  while (node.next_tick_local <= local && ticks < kMaxCatchUpTicks) {
    node.broker->Tick();
    node.next_tick_local += interval;
    ++ticks;
  }
  if (node.next_tick_local <= local) node.next_tick_local = local + interval;
  if (node.stopping && node.broker->ShutdownComplete()) {
    StopNode(node);
    return;
  }
  ScheduleProcess(node);
  ScheduleTick(node);
}

void BrokerWorld::ScheduleProcess(BrokerNode& node) {
  if (node.process_scheduled || !node.process.running()) return;
  node.process_scheduled = true;
  const int index = node.index;
  const uint64_t incarnation = node.process.incarnation();
  scheduler_.After(
      0, [this, index, incarnation] { Step(nodes_[index], incarnation); });
}

void BrokerWorld::Step(BrokerNode& node, uint64_t incarnation) {
  if (!node.process.Current(incarnation) || finished_) return;
  if (Deferred(node, [this, &node, incarnation] { Step(node, incarnation); })) {
    return;
  }
  node.process_scheduled = false;
  CarryOut(node, node.broker->Process());
  if (!node.process.Current(incarnation) || StopIfStorageFailed(node) ||
      !node.broker->HasWork()) {
    return;
  }
  // Work queued behind a flush in flight resumes when its fsyncs finish.
  if (!node.syncing.empty()) return;
  if (node.busy_since != now()) {
    node.busy_since = now();
    node.busy_steps = 0;
  }
  if (++node.busy_steps > kMaxBusySteps) {
    Fail(absl::StrCat("n", node.index + 1, " never settles: ", kMaxBusySteps,
                      " steps at one instant"));
    return;
  }
  ScheduleProcess(node);
}

void BrokerWorld::CarryOut(BrokerNode& node, env::StepOutput out) {
  std::vector<env::ConnectionId> resumed;
  for (env::ConnectionAction& action : out.connections) {
    ConnectionAction(node, action, &resumed);
  }
  for (env::PeerMessage& message : out.peer_messages) {
    SendPeer(node, std::move(message));
  }
  if (out.sync.has_value()) StartSync(node, std::move(*out.sync));
  // Like the event loop: input buffered while paused is delivered after.
  for (env::ConnectionId id : resumed) {
    auto it = node.connections.find(id);
    if (it == node.connections.end() || it->second.paused ||
        it->second.input.empty()) {
      continue;
    }
    node.broker->OnConnectionInput(id, &it->second.input);
    ScheduleProcess(node);
  }
}

void BrokerWorld::ConnectionAction(BrokerNode& node,
                                   env::ConnectionAction& action,
                                   std::vector<env::ConnectionId>* resumed) {
  auto it = node.connections.find(action.connection);
  if (it == node.connections.end()) return;  // the client closed it
  BrokerNode::Connection& connection = it->second;
  switch (action.kind) {
    case env::ConnectionAction::Kind::kSend:
      SendToClient(node, connection.client, action.connection,
                   action.bytes.Flatten(), /*close=*/false);
      break;
    case env::ConnectionAction::Kind::kClose:
      SendToClient(node, connection.client, action.connection, "",
                   /*close=*/true);
      node.connections.erase(it);
      node.broker->OnConnectionClose(action.connection);
      break;
    case env::ConnectionAction::Kind::kPauseReading:
      connection.paused = true;
      break;
    case env::ConnectionAction::Kind::kResumeReading:
      connection.paused = false;
      resumed->push_back(action.connection);
      break;
  }
}

void BrokerWorld::StartSync(BrokerNode& node, env::SyncRequest request) {
  node.syncing.push_back(std::move(request));
  const int index = node.index;
  const uint64_t incarnation = node.process.incarnation();
  if (node.crash_in_fsync_restart >= 0) {
    // Power cut while this flush's writes are on their way to the platter.
    const Nanos restart = node.crash_in_fsync_restart;
    node.crash_in_fsync_restart = -1;
    scheduler_.After(0, [this, index, incarnation, restart] {
      BrokerNode& crashed = nodes_[index];
      if (!crashed.process.Current(incarnation)) return;
      CrashNode(crashed, "crash_in_fsync");
      scheduler_.After(restart, [this, index] { StartNode(nodes_[index]); });
    });
  }
  const Nanos latency =
      node.slow_fsync_max > 0
          ? disk_rng_.Between(3 * kMillisecond, node.slow_fsync_max)
          : disk_rng_.Between(100 * kMicrosecond, 3 * kMillisecond);
  // One IO thread: a flush's fsyncs start when the previous one's finish.
  const Nanos due = std::max(now(), node.last_sync_due) + latency;
  node.last_sync_due = due;
  scheduler_.At(due, [this, index, incarnation] {
    FinishSync(nodes_[index], incarnation);
  });
}

void BrokerWorld::FinishSync(BrokerNode& node, uint64_t incarnation) {
  if (!node.process.Current(incarnation) || finished_) return;
  // The fsyncs finished; the stalled process notices when it resumes.
  if (Deferred(node,
               [this, &node, incarnation] { FinishSync(node, incarnation); })) {
    return;
  }
  CompleteSyncNow(node);
  ScheduleProcess(node);
}

void BrokerWorld::CompleteSyncNow(BrokerNode& node) {
  CHRONIK_CHECK(!node.syncing.empty());
  env::SyncRequest request = std::move(node.syncing.front());
  node.syncing.pop_front();
  std::vector<absl::Status> results;
  results.reserve(request.files.size());
  // Until now a crash could lose or tear these writes (SimDisk).
  for (env::File* file : request.files) results.push_back(file->Sync());
  node.broker->OnSyncDone(request.flush_id, std::move(results));
}

void BrokerWorld::ObserveForward(const BrokerNode& from,
                                 const raft::Message& message) {
  if (message.type != raft::MessageType::kForwardProposal ||
      message.entries.size() != 1) {
    return;
  }
  metapb::MetadataCommand command;
  const raft::Bytes& data = message.entries[0].data;
  if (!command.ParseFromArray(data.data(), static_cast<int>(data.size())) ||
      !command.has_create_topic()) {
    return;
  }
  cluster_.OnCreateRequest(now(), from.index, command.create_topic().name());
  if (cluster_.violation().has_value()) Fail(*cluster_.violation());
}

void BrokerWorld::SendPeer(BrokerNode& from, env::PeerMessage message) {
  const int to = static_cast<int>(message.message.to) - 1;
  CHRONIK_CHECK_GE(to, 0);
  CHRONIK_CHECK_LT(to, num_nodes());
  ObserveForward(from, message.message);
  const Network::Delays delays = network_.Route(from.index, to, now());
  if (delays.empty()) return;
  auto shared = std::make_shared<env::PeerMessage>(std::move(message));
  for (Nanos delay : delays) {
    scheduler_.After(delay, [this, to, shared] { DeliverPeer(to, shared); });
  }
}

void BrokerWorld::DeliverPeer(
    int to, const std::shared_ptr<env::PeerMessage>& message) {
  BrokerNode& node = nodes_[to];
  if (!node.process.running() || finished_) return;
  if (Deferred(node, [this, to, message] { DeliverPeer(to, message); })) {
    return;
  }
  node.broker->OnPeerMessage(message->group_id, message->message);
  ScheduleProcess(node);
}

void BrokerWorld::ArriveAtBroker(int node_index, int client,
                                 env::ConnectionId connection, bool open,
                                 const std::string& bytes) {
  BrokerNode& node = nodes_[node_index];
  if (finished_) return;
  if (Deferred(node, [this, node_index, client, connection, open, bytes] {
        ArriveAtBroker(node_index, client, connection, open, bytes);
      })) {
    return;
  }
  auto it = node.connections.find(connection);
  // A node stopping has closed its listener (as the production driver).
  if (open && node.process.running() && !node.stopping &&
      it == node.connections.end()) {
    BrokerNode::Connection opened;
    opened.client = client;
    it = node.connections.emplace(connection, std::move(opened)).first;
    node.broker->OnConnectionOpen(
        connection,
        env::ConnectionInfo{.peer = absl::StrCat("client", client)});
  }
  if (it == node.connections.end()) {
    // Refused (the node is down) or reset (it restarted since).
    const Network::Delays back =
        network_.RouteStream(node_index, clients_[client].endpoint, now());
    const Nanos delay = back.empty() ? kMillisecond : back.front();
    scheduler_.After(delay, [this, client, connection] {
      OnClientClosed(client, connection);
    });
    return;
  }
  it->second.input.Append(bytes);
  if (!it->second.paused) {
    node.broker->OnConnectionInput(connection, &it->second.input);
  }
  ScheduleProcess(node);
}

void BrokerWorld::CloseAtBroker(int node_index, env::ConnectionId connection) {
  BrokerNode& node = nodes_[node_index];
  if (Deferred(node, [this, node_index, connection] {
        CloseAtBroker(node_index, connection);
      })) {
    return;
  }
  if (finished_ || node.connections.erase(connection) == 0) return;
  node.broker->OnConnectionClose(connection);
  ScheduleProcess(node);
}

void BrokerWorld::SendToClient(BrokerNode& node, int client,
                               env::ConnectionId connection, std::string bytes,
                               bool close) {
  const Network::Delays delays =
      network_.RouteStream(node.index, clients_[client].endpoint, now());
  if (delays.empty()) return;  // blocked: the client times out
  if (close) {
    scheduler_.After(delays.front(), [this, client, connection] {
      OnClientClosed(client, connection);
    });
    return;
  }
  auto shared = std::make_shared<std::string>(std::move(bytes));
  scheduler_.After(delays.front(), [this, client, connection, shared] {
    OnClientBytes(client, connection, *shared);
  });
}

}  // namespace chronik::sim
