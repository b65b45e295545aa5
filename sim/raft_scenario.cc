#include "sim/raft_scenario.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/storage/log_store.h"
#include "sim/clock.h"
#include "sim/disk/sim_disk.h"
#include "sim/durable_store.h"
#include "sim/network.h"
#include "sim/ports.h"
#include "sim/process.h"
#include "sim/raft_checker.h"
#include "sim/random.h"
#include "sim/scheduler.h"

namespace chronik::sim {
namespace {

constexpr int kMaxCatchUpTicks = 50;  // ticks run at once after a jump or pause
constexpr int kMaxReadiesPerStep = 64;
constexpr Nanos kBindRetry = 100 * kMillisecond;
constexpr Nanos kClientTimeout = 400 * kMillisecond;
constexpr Nanos kLivenessCheckInterval = 50 * kMillisecond;
constexpr Nanos kLogReadLatency = 50 * kMicrosecond;
constexpr uint16_t kBasePort = 9000;
constexpr uint64_t kRaftGroup = 1;  // the scenario runs one Raft group
constexpr Nanos kStorageRetry = 100 * kMillisecond;
constexpr size_t kMaxPendingReadsPerNode = 4096;
constexpr size_t kMaxInFlightMessages = 1 << 20;

uint16_t PortOf(int node) { return static_cast<uint16_t>(kBasePort + node); }

// Operation ids: client index + 1 in the high half, a per-client sequence
// below.
OpId MakeOpId(int client, uint64_t seq) {
  return (static_cast<uint64_t>(client + 1) << 32) | seq;
}

// Entry payload of a write: the operation id, 8 bytes little-endian.
raft::Bytes EncodeOp(OpId op) {
  std::string data(8, '\0');
  for (int i = 0; i < 8; ++i)
    data[i] = static_cast<char>((op >> (8 * i)) & 0xff);
  return raft::Bytes::Own(std::move(data));
}

OpId DecodeOp(const raft::Bytes& data) {
  CHRONIK_CHECK_EQ(data.size(), 8u);
  OpId op = 0;
  for (int i = 0; i < 8; ++i) {
    op |= static_cast<uint64_t>(static_cast<unsigned char>(data.data()[i]))
          << (8 * i);
  }
  return op;
}

struct ClientRequest {
  int client = 0;
  uint64_t attempt = 0;
  bool read = false;
  OpId op = kNoOp;  // writes
};

struct ClientResponse {
  uint64_t attempt = 0;
  bool ok = false;
  raft::NodeId leader_hint = raft::kNoNode;
  uint64_t offset = 0;  // write: where the op sits; read: log length
  OpId last = kNoOp;    // read: last op of the log
};

// A Ready whose after-persist messages and PersistAck wait until every storage
// request up to `needs` (a count of requests issued by this process) is
// durable.
struct PendingPersist {
  uint64_t needs = 0;
  std::shared_ptr<std::vector<raft::Message>> after;
  raft::PersistAck ack;
  bool storage = false;
};

struct Node {
  int index = 0;
  raft::NodeId id = 0;
  Process process;
  NodeClock clock;
  DurableStore store;
  std::unique_ptr<raft::RawNode> raft;
  int fsync_factor = 1;
  Nanos crash_in_fsync_restart = -1;  // armed: restart delay, else -1
  // Volatile state of the running process.
  std::vector<OpId> sm_log;
  absl::flat_hash_map<OpId, uint64_t> sm_offsets;  // lookups only
  raft::Index commit = 0;
  raft::Index applied = 0;
  Nanos next_tick_local = 0;
  // Storage pipeline of the running process: requests issued, the flush in
  // flight (one at a time, covering every request issued before it began), what
  // is durable.
  std::deque<PendingPersist> persist_queue;
  uint64_t requests_issued = 0;
  uint64_t durable_through = 0;
  bool flush_in_flight = false;
  uint64_t flush_covers = 0;
  uint64_t flush_write = 0;  // memory backing: the store's write number
  raft::HardState durable_hard_state;
  // Disk backing: the simulated disk survives crashes; the store is the
  // process's.
  std::unique_ptr<Rng> sim_disk_rng;
  std::unique_ptr<SimDisk> sim_disk;
  std::unique_ptr<storage::LogStore> log_store;
  storage::GroupStorage* group = nullptr;
  std::optional<storage::FlushPlan> flush_plan;
  bool storage_failed = false;
  std::map<OpId, ClientRequest> waiting_writes;
  std::map<uint64_t, ClientRequest> reads_by_context;
  std::deque<std::pair<raft::Index, uint64_t>> ready_reads;  // (index, context)
  uint64_t next_read_context = 1;
  raft::Role role = raft::Role::kFollower;
  raft::Term term = 0;
};

struct Client {
  int index = 0;
  int endpoint = 0;
  bool probe = false;  // the liveness phase's single write
  bool busy = false;
  bool read = false;
  OpId op = kNoOp;
  Nanos invoked = 0;
  uint64_t attempt = 0;
  uint64_t next_seq = 1;
  int target = 0;
  bool done = false;
};

class RaftWorld {
 public:
  explicit RaftWorld(const RaftScenarioOptions& options);
  RaftScenarioResult Run();

 private:
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  void Record(int node, std::string_view kind,
              std::initializer_list<uint64_t> args,
              const std::function<std::string()>& detail = nullptr);

  // Node lifecycle.
  void StartNode(Node& node);
  void CrashNode(Node& node, std::string_view why);
  void StopNode(Node& node);
  void ScheduleTick(Node& node);
  void OnTick(Node& node, uint64_t incarnation);

  // Ready handling.
  void ProcessReady(Node& node);
  void HandleReady(Node& node, raft::Ready ready);
  bool disk_backed() const {
    return options_.storage == StorageBacking::kSimDisk;
  }
  // Loads what the node's disk holds into node.store; false (and retried) on
  // error.
  bool RecoverStorage(Node& node);
  void IssueStorage(Node& node, const raft::Ready& ready);
  void MaybeStartFlush(Node& node);
  // The node's storage failed: it crashes right after the current event and
  // restarts (recovering the group) a little later.
  void FailStorage(Node& node, const absl::Status& status);
  void FinishFlush(Node& node, uint64_t incarnation);
  // Completes an in-flight flush at once (clean stop: the OS keeps the page
  // cache).
  void CompleteFlushNow(Node& node);
  void ReleasePersisted(Node& node);
  void ResetStoragePipeline(Node& node);
  void Apply(Node& node, const std::vector<raft::Entry>& entries);
  void ServeReads(Node& node);
  void SendRaft(Node& from, raft::Message message);
  // Messages on the wire live in a slab so that delivery events capture a slot
  // number (no allocation per message).
  uint32_t StoreInFlight(raft::Message message);
  void DeliverRaft(int to, uint32_t slot);
  Nanos FsyncLatency(Node& node);
  void ObserveRole(Node& node);

  // Clients.
  void NextOp(Client& client);
  void SendRequest(Client& client);
  void OnClientRequest(int node_index, const ClientRequest& request);
  void Respond(Node& node, const ClientRequest& request,
               const ClientResponse& response);
  void OnClientResponse(int client_index, const ClientResponse& response);
  void OnClientTimeout(int client_index, uint64_t attempt);

  // Faults.
  void ScheduleFaults();
  void StartFault(const Fault& fault);
  void EndFault(uint64_t fault_id);
  void RecomputeNetwork();
  void RecomputeDisk(Node& node);
  void Heal();
  void CheckLiveness();
  std::string LivenessProblem() const;

  RaftScenarioOptions options_;
  Trace trace_;
  Scheduler scheduler_;
  RaftChecker checker_;
  Rng disk_rng_;
  Rng workload_rng_;
  Network network_;
  NetworkConfig base_network_;
  PortTable ports_;
  std::vector<Node> nodes_;
  std::vector<Client> clients_;
  std::vector<raft::Message> in_flight_;
  std::vector<uint32_t> free_in_flight_;
  std::vector<Fault> schedule_;
  std::string swarm_;
  std::map<uint64_t, Fault> active_faults_;  // by id, in start order
  uint64_t next_fault_id_ = 1;
  bool healed_ = false;
  Nanos heal_time_ = 0;
  Nanos live_at_ = -1;
  OpId probe_op_ = kNoOp;
  uint64_t probe_offset_ = 0;
  bool probe_acked_ = false;
  int64_t ops_started_ = 0;
  RaftScenarioResult result_;
};

// A healthy disk: a crash keeps a random prefix of the unsynced writes and
// tears the first one it drops half of the time; no errors, no corruption.
SimDiskOptions BaseDiskOptions() {
  SimDiskOptions options;
  options.torn_write_probability = 0.5;
  options.corrupt_sector_probability = 0.0;
  return options;
}

NetworkConfig BaseNetwork(uint64_t seed) {
  Rng rng = Rng::Stream(seed, "network/config");
  NetworkConfig config;
  config.latency_min = rng.Between(50 * kMicrosecond, 1 * kMillisecond);
  config.latency_max =
      config.latency_min + rng.Between(100 * kMicrosecond, 5 * kMillisecond);
  return config;
}

RaftWorld::RaftWorld(const RaftScenarioOptions& options)
    : options_(options),
      scheduler_(&trace_),
      checker_(options.num_nodes),
      disk_rng_(Rng::Stream(options.seed, "disk")),
      workload_rng_(Rng::Stream(options.seed, "workload")),
      network_(options.num_nodes + options.num_clients + 1,
               Rng::Stream(options.seed, "network"), BaseNetwork(options.seed)),
      base_network_(BaseNetwork(options.seed)) {
  CHRONIK_CHECK_GE(options.num_nodes, 1);
  CHRONIK_CHECK_LE(options.num_nodes, 9);
  CHRONIK_CHECK_GE(options.num_clients, 0);
  CHRONIK_CHECK_LT(options.fault_phase, options.run_length);
  CHRONIK_CHECK_GE(options.tick_interval, kMillisecond);
  if (options_.printer) trace_.set_printer(options_.printer);
  trace_.StopAt(options_.stop_kind, options_.stop_event);
  Rng clock_rng = Rng::Stream(options.seed, "clocks");
  nodes_.resize(options.num_nodes);
  for (int i = 0; i < options.num_nodes; ++i) {
    nodes_[i].index = i;
    nodes_[i].id = static_cast<raft::NodeId>(i + 1);
    // Small natural drift; the clock faults add large drifts and jumps.
    nodes_[i].clock = NodeClock(0, clock_rng.Between(-100, 100));
    if (options.storage == StorageBacking::kSimDisk) {
      nodes_[i].sim_disk_rng = std::make_unique<Rng>(
          Rng::Stream(options.seed, absl::StrCat("disk/n", i)));
      nodes_[i].sim_disk = std::make_unique<SimDisk>(
          BaseDiskOptions(), absl::BitGenRef(*nodes_[i].sim_disk_rng));
    }
  }
  clients_.resize(options.num_clients + 1);
  for (int c = 0; c <= options.num_clients; ++c) {
    clients_[c].index = c;
    clients_[c].endpoint = options.num_nodes + c;
    clients_[c].probe = c == options.num_clients;
    clients_[c].target =
        static_cast<int>(workload_rng_.Below(options.num_nodes));
  }
  FaultPlan plan = PlanFaults(options_);
  swarm_ = std::move(plan.swarm);
  schedule_ = std::move(plan.schedule);
}

void RaftWorld::Record(int node, std::string_view kind,
                       std::initializer_list<uint64_t> args,
                       const std::function<std::string()>& detail) {
  if (!trace_.printing()) {
    trace_.Record(scheduler_.now(), node, kind, args);
    return;
  }
  // Readable lines carry the node's role and term (not hashed).
  std::string text;
  if (node >= 0) {
    const Node& n = nodes_[node];
    if (n.process.running() && n.raft != nullptr) {
      text = absl::StrCat("[", raft::RoleName(n.raft->Status().role), " t",
                          n.term, "]");
    } else {
      text = "[down]";
    }
  }
  if (detail) absl::StrAppend(&text, text.empty() ? "" : " ", detail());
  trace_.Record(scheduler_.now(), node, kind, args, text);
}

// ---------------------------------------------------------------- lifecycle

void RaftWorld::StartNode(Node& node) {
  if (node.process.running()) return;
  const std::string owner = absl::StrCat("n", node.index);
  absl::Status bound = ports_.Bind(node.index, PortOf(node.index), owner);
  if (!bound.ok()) {
    ++result_.bind_failures;
    Record(node.index, "bind_failed", {uint64_t{PortOf(node.index)}},
           [&] { return std::string(bound.message()); });
    // A supervisor retries the start; its restart loop is bounded by the run.
    scheduler_.After(kBindRetry, [this, &node] { StartNode(node); });
    return;
  }
  if (!RecoverStorage(node)) {
    ports_.Release(node.index, PortOf(node.index), owner);
    scheduler_.After(kStorageRetry, [this, &node] { StartNode(node); });
    return;
  }
  node.process.Start();
  ResetStoragePipeline(node);
  const raft::HardState& hs = node.store.current().hard_state;
  raft::Config config;
  config.id = node.id;
  for (int i = 0; i < num_nodes(); ++i) {
    config.voters.push_back(static_cast<raft::NodeId>(i + 1));
  }
  config.election_timeout_ticks = 10;
  config.heartbeat_timeout_ticks = 1;
  config.pre_vote = true;
  config.check_quorum = true;
  config.random_seed = StreamSeed(
      options_.seed,
      absl::StrCat("raft/n", node.index, "/", node.process.incarnation()));
  config.injected_bugs = options_.bugs;
  if (hs == raft::HardState{} && node.store.current().entries.empty()) {
    node.raft = std::make_unique<raft::RawNode>(config);
  } else {
    raft::RecoveredState recovered;
    recovered.hard_state = hs;
    recovered.applied = 0;
    recovered.conf_state.voters = config.voters;
    recovered.entries = node.store.current().entries;
    auto restarted = raft::RawNode::Restart(config, recovered);
    if (!restarted.ok()) {
      result_.failure = absl::StrCat(
          "n", node.index,
          " cannot restart from its disk: ", restarted.status().ToString());
      return;
    }
    node.raft = std::move(*restarted);
  }
  checker_.OnLogRecovered(node.index, node.store.current().entries);
  checker_.OnCommit(node.index, node.process.incarnation(), hs.term, hs.commit);
  node.commit = hs.commit;
  node.applied = 0;
  node.sm_log.clear();
  node.sm_offsets.clear();
  node.waiting_writes.clear();
  node.reads_by_context.clear();
  node.ready_reads.clear();
  node.role = raft::Role::kFollower;
  node.term = hs.term;
  node.next_tick_local =
      node.clock.Local(scheduler_.now()) + options_.tick_interval;
  Record(node.index, "start",
         {node.process.incarnation(), hs.term, hs.commit,
          node.store.current().last_index()},
         [&] {
           return absl::StrCat("incarnation ", node.process.incarnation(),
                               " term ", hs.term, " commit ", hs.commit,
                               " log ", node.store.current().last_index());
         });
  ScheduleTick(node);
  ProcessReady(node);
}

void RaftWorld::CrashNode(Node& node, std::string_view why) {
  if (!node.process.running()) return;
  ++result_.crashes;
  node.process.Crash();
  if (disk_backed()) {
    node.log_store.reset();
    node.group = nullptr;
    node.flush_plan.reset();
    node.sim_disk->Crash();
  } else {
    node.store.Crash(disk_rng_, /*torn=*/disk_rng_.Chance(0.5));
  }
  node.raft.reset();
  ports_.ReleaseAll(node.index, absl::StrCat("n", node.index));
  Record(node.index, "crash", {node.store.current().last_index()},
         [&] { return std::string(why); });
}

void RaftWorld::StopNode(Node& node) {
  if (!node.process.running()) return;
  // A clean stop: the process exits; what it wrote stays in the page cache and
  // reaches the disk, what it had only queued in memory is gone.
  if (node.flush_in_flight) CompleteFlushNow(node);
  if (!node.process.running()) return;  // the disk failed: it crashed instead
  if (!disk_backed()) node.store.Sync();
  node.log_store.reset();
  node.group = nullptr;
  node.process.Stop();
  node.raft.reset();
  ports_.ReleaseAll(node.index, absl::StrCat("n", node.index));
  Record(node.index, "stop", {});
}

void RaftWorld::ScheduleTick(Node& node) {
  const Nanos local = node.clock.Local(scheduler_.now());
  const Nanos wait = std::max<Nanos>(0, node.next_tick_local - local);
  const uint64_t incarnation = node.process.incarnation();
  // Captures fit std::function's inline buffer (no allocation per tick).
  const int index = node.index;
  const uint32_t generation = static_cast<uint32_t>(incarnation);
  scheduler_.After(
      std::max<Nanos>(1, node.clock.GlobalDelay(wait)),
      [this, index, generation] { OnTick(nodes_[index], generation); });
}

void RaftWorld::OnTick(Node& node, uint64_t incarnation) {
  if (!node.process.Current(incarnation)) return;
  if (node.process.Paused(scheduler_.now())) {
    scheduler_.At(node.process.DeferUntil(scheduler_.now()),
                  [this, &node, incarnation] { OnTick(node, incarnation); });
    return;
  }
  const Nanos local = node.clock.Local(scheduler_.now());
  int ticks = 0;
  while (node.next_tick_local <= local && ticks < kMaxCatchUpTicks) {
    node.raft->Tick();
    node.next_tick_local += options_.tick_interval;
    ++ticks;
  }
  if (node.next_tick_local <= local)
    node.next_tick_local = local + options_.tick_interval;
  ProcessReady(node);
  if (node.process.Current(incarnation)) ScheduleTick(node);
}

// ---------------------------------------------------------------- readies

Nanos RaftWorld::FsyncLatency(Node& node) {
  return disk_rng_.Between(100 * kMicrosecond, 3 * kMillisecond) *
         node.fsync_factor;
}

void RaftWorld::ProcessReady(Node& node) {
  for (int i = 0; i < kMaxReadiesPerStep; ++i) {
    if (!node.process.running() || !result_.failure.empty()) return;
    if (!node.raft->HasReady()) return;
    HandleReady(node, node.raft->GetReady());
  }
}

void RaftWorld::ObserveRole(Node& node) {
  const raft::Role role =
      node.raft->is_leader() ? raft::Role::kLeader : raft::Role::kFollower;
  const raft::Term term = node.store.current().hard_state.term;
  if (role == raft::Role::kLeader) checker_.OnLeader(node.index, term);
  if (role == node.role && term == node.term) return;
  if (role == raft::Role::kLeader && node.role != raft::Role::kLeader) {
    ++result_.leaders_elected;
  }
  node.role = role;
  node.term = term;
  Record(node.index, "role", {static_cast<uint64_t>(role), term}, [&] {
    // The core's own role (candidates too) for the reader; the hash
    // only sees leader or not.
    const raft::NodeStatus status = node.raft->Status();
    return absl::StrCat(raft::RoleName(status.role), " term ", term,
                        ", leader ", status.leader);
  });
}

void RaftWorld::HandleReady(Node& node, raft::Ready ready) {
  for (raft::Message& message : ready.messages) {
    SendRaft(node, std::move(message));
  }
  CHRONIK_CHECK(!ready.snapshot.has_value())
      << "the Raft scenario never takes snapshots";
  if (!ready.entries.empty()) {
    node.store.Append(ready.entries);
    checker_.OnLogAppend(node.index, ready.entries);
  }
  if (ready.hard_state.has_value()) {
    const raft::HardState& hs = *ready.hard_state;
    if (options_.rule_checks && hs.commit > node.commit &&
        node.role == raft::Role::kLeader && node.term == hs.term &&
        node.raft->is_leader()) {
      const auto& log = node.store.current().entries;
      CHRONIK_CHECK_LE(hs.commit, log.size());
      checker_.OnLeaderCommit(node.index, hs.term, hs.commit,
                              log[hs.commit - 1].term);
    }
    node.store.SetHardState(*ready.hard_state);
    node.commit = ready.hard_state->commit;
    checker_.OnCommit(node.index, node.process.incarnation(), hs.term,
                      hs.commit);
  }
  ObserveRole(node);
  const bool storage = ready.HasStorageWork();
  if (storage) {
    IssueStorage(node, ready);
    if (node.crash_in_fsync_restart >= 0) {
      // Power cut while this write is on its way to the platter (right after
      // the current event, before the flush's fsync can complete).
      const Nanos restart = node.crash_in_fsync_restart;
      node.crash_in_fsync_restart = -1;
      const uint64_t incarnation = node.process.incarnation();
      scheduler_.After(0, [this, &node, incarnation, restart] {
        if (!node.process.Current(incarnation)) return;
        CrashNode(node, "crash_in_fsync");
        scheduler_.After(restart, [this, &node] { StartNode(node); });
      });
    }
  }
  if (storage || !ready.messages_after_persist.empty()) {
    node.persist_queue.push_back(
        PendingPersist{node.requests_issued,
                       std::make_shared<std::vector<raft::Message>>(
                           std::move(ready.messages_after_persist)),
                       ready.persist_ack, storage});
    MaybeStartFlush(node);
    ReleasePersisted(node);
  }
  if (!ready.committed_entries.empty()) Apply(node, ready.committed_entries);
  for (const raft::ReadState& read : ready.read_states) {
    CHRONIK_CHECK_EQ(read.context.size(), 8u);
    node.ready_reads.emplace_back(read.index, DecodeOp(read.context));
  }
  ServeReads(node);
  for (const raft::LogRead& log_read : ready.log_reads) {
    const uint64_t incarnation = node.process.incarnation();
    scheduler_.After(kLogReadLatency, [this, &node, incarnation, log_read] {
      if (!node.process.Current(incarnation)) return;
      const auto& log = node.store.current().entries;
      std::vector<raft::Entry> found;
      uint64_t bytes = 0;
      for (raft::Index i = log_read.lo; i <= log_read.hi && i <= log.size();
           ++i) {
        if (!found.empty() &&
            bytes + log[i - 1].data.size() > log_read.max_bytes) {
          break;
        }
        bytes += log[i - 1].data.size();
        found.push_back(log[i - 1]);
      }
      node.raft->OnLogRead(log_read, std::move(found));
      ProcessReady(node);
    });
  }
}

void RaftWorld::IssueStorage(Node& node, const raft::Ready& ready) {
  ++node.requests_issued;
  if (!disk_backed()) return;  // node.store already holds the writes
  storage::PersistRequest request;
  request.group_id = kRaftGroup;
  request.entries.reserve(ready.entries.size());
  for (const raft::Entry& entry : ready.entries) {
    storage::Entry stored;
    stored.index = entry.index;
    stored.term = entry.term;
    stored.type = static_cast<uint8_t>(entry.type);
    stored.data = std::string(entry.data.view());
    request.entries.push_back(std::move(stored));
  }
  if (ready.hard_state.has_value()) {
    request.hard_state =
        storage::HardState{ready.hard_state->term, ready.hard_state->vote,
                           ready.hard_state->commit};
  }
  if (node.storage_failed) return;
  absl::Status queued = node.log_store->Enqueue(std::move(request));
  if (!queued.ok()) {
    // The group failed in a flush still in flight (a write error): like the
    // broker, the node restarts to recover it.
    FailStorage(node, queued);
  }
}

void RaftWorld::FailStorage(Node& node, const absl::Status& status) {
  if (node.storage_failed) return;
  node.storage_failed = true;
  const uint64_t incarnation = node.process.incarnation();
  const std::string why = absl::StrCat("storage failed: ", status.ToString());
  // Crash after the current event: the Ready being handled is half done.
  scheduler_.After(0, [this, &node, incarnation, why] {
    if (!node.process.Current(incarnation)) return;
    CrashNode(node, why);
    scheduler_.After(disk_rng_.Between(100 * kMillisecond, kSecond),
                     [this, &node] { StartNode(node); });
  });
}

void RaftWorld::MaybeStartFlush(Node& node) {
  if (node.flush_in_flight || node.storage_failed ||
      node.durable_through == node.requests_issued) {
    return;
  }
  node.flush_in_flight = true;
  node.flush_covers = node.requests_issued;
  if (disk_backed()) {
    // The writes go out now (to the page cache); the fsyncs complete later.
    node.flush_plan = node.log_store->BeginFlush();
  } else {
    node.flush_write = node.store.writes_issued();
  }
  const uint64_t incarnation = node.process.incarnation();
  scheduler_.After(FsyncLatency(node), [this, &node, incarnation] {
    FinishFlush(node, incarnation);
  });
}

void RaftWorld::FinishFlush(Node& node, uint64_t incarnation) {
  if (!node.process.Current(incarnation)) return;  // a crash took the flush
  if (node.process.Paused(scheduler_.now())) {
    // The fsync finished; the stalled process notices when it resumes.
    scheduler_.At(
        node.process.DeferUntil(scheduler_.now()),
        [this, &node, incarnation] { FinishFlush(node, incarnation); });
    return;
  }
  CompleteFlushNow(node);
  if (!node.process.Current(incarnation)) return;  // the disk failed
  ReleasePersisted(node);
  MaybeStartFlush(node);
  ProcessReady(node);
}

void RaftWorld::CompleteFlushNow(Node& node) {
  CHRONIK_CHECK(node.flush_in_flight);
  node.flush_in_flight = false;
  if (!disk_backed()) {
    node.store.SyncThrough(node.flush_write);
    node.durable_hard_state = node.store.durable().hard_state;
    node.durable_through = node.flush_covers;
    return;
  }
  storage::FlushPlan plan = std::move(*node.flush_plan);
  node.flush_plan.reset();
  std::vector<absl::Status> synced;
  synced.reserve(plan.files_to_sync.size());
  for (env::File* file : plan.files_to_sync) synced.push_back(file->Sync());
  std::vector<storage::Completion> completions =
      node.log_store->FinishFlush(std::move(plan), synced);
  node.sim_disk->TakeSyncLatencyMicros();  // latency is the scheduler's draw
  for (const storage::Completion& completion : completions) {
    CHRONIK_CHECK_EQ(completion.group_id, kRaftGroup);
    if (!completion.status.ok()) {
      // What reached the disk is unknown: the group is failed until the
      // process restarts and recovers it (broker/storage/log_store.h).
      const std::string why =
          absl::StrCat("storage failed: ", completion.status.ToString());
      CrashNode(node, why);
      scheduler_.After(disk_rng_.Between(100 * kMillisecond, kSecond),
                       [this, &node] { StartNode(node); });
      return;
    }
    if (completion.hard_state.has_value()) {
      node.durable_hard_state = raft::HardState{completion.hard_state->term,
                                                completion.hard_state->vote,
                                                completion.hard_state->commit};
    }
  }
  node.durable_through = node.flush_covers;
}

void RaftWorld::ReleasePersisted(Node& node) {
  while (!node.persist_queue.empty() &&
         node.persist_queue.front().needs <= node.durable_through) {
    PendingPersist done = std::move(node.persist_queue.front());
    node.persist_queue.pop_front();
    for (const raft::Message& message : *done.after) SendRaft(node, message);
    if (done.storage) node.raft->OnPersisted(done.ack);
  }
}

void RaftWorld::ResetStoragePipeline(Node& node) {
  node.storage_failed = false;
  node.persist_queue.clear();
  node.requests_issued = 0;
  node.durable_through = 0;
  node.flush_in_flight = false;
  node.flush_covers = 0;
  node.flush_write = 0;
  node.flush_plan.reset();
}

bool RaftWorld::RecoverStorage(Node& node) {
  if (!disk_backed()) {
    // The store holds what survived (DurableStore::Crash dropped the rest).
    node.durable_hard_state = node.store.current().hard_state;
    return true;
  }
  node.group = nullptr;
  node.log_store.reset();
  absl::StatusOr<std::unique_ptr<storage::LogStore>> store =
      storage::LogStore::Open(node.sim_disk.get(), "", storage::StoreOptions{});
  absl::Status status = store.status();
  storage::GroupStorage* group = nullptr;
  if (status.ok()) {
    absl::StatusOr<storage::GroupStorage*> opened =
        (*store)->OpenGroup(kRaftGroup, storage::LogOptions{});
    status = opened.status();
    if (opened.ok()) group = *opened;
  }
  std::vector<storage::Entry> stored;
  if (status.ok() && group->last_index() >= group->first_index()) {
    // [lo, hi): hi is one past the last entry.
    status = group->Entries(group->first_index(), group->last_index() + 1,
                            UINT64_MAX, &stored);
  }
  if (!status.ok()) {
    Record(node.index, "storage_open_failed", {},
           [&] { return status.ToString(); });
    return false;
  }
  CHRONIK_CHECK_EQ(group->first_index(), 1u)
      << "the scenario takes no snapshots";
  DurableStore::State state;
  const storage::HardState& hs = group->hard_state();
  state.hard_state = raft::HardState{hs.term, hs.vote, hs.commit};
  state.entries.reserve(stored.size());
  for (storage::Entry& entry : stored) {
    state.entries.push_back(raft::Entry{
        entry.term, entry.index, static_cast<raft::EntryType>(entry.type),
        raft::Bytes::Own(std::move(entry.data))});
  }
  const storage::RecoveryReport& report = group->recovery();
  if (report.torn_bytes_cut > 0 || !report.damage.empty()) {
    Record(node.index, "disk_recovery",
           {report.torn_bytes_cut, report.damage.size()}, [&] {
             return absl::StrCat("cut ", report.torn_bytes_cut, " torn bytes, ",
                                 report.damage.size(), " damaged ranges");
           });
  }
  node.durable_hard_state = state.hard_state;
  node.store.Reset(std::move(state));
  node.log_store = std::move(*store);
  node.group = group;
  return true;
}

void RaftWorld::Apply(Node& node, const std::vector<raft::Entry>& entries) {
  for (const raft::Entry& entry : entries) {
    // Without rule checks only what applying did is judged, not when.
    checker_.OnApply(node.index, entry,
                     options_.rule_checks ? node.commit : entry.index);
    if (entry.type != raft::EntryType::kNormal || entry.data.empty()) continue;
    const OpId op = DecodeOp(entry.data);
    auto [it, inserted] = node.sm_offsets.emplace(op, node.sm_log.size());
    if (inserted) {
      node.sm_log.push_back(op);
      checker_.OnStateMachineAppend(node.index, it->second, op);
    }
    auto waiting = node.waiting_writes.find(op);
    if (waiting != node.waiting_writes.end()) {
      ClientResponse response;
      response.attempt = waiting->second.attempt;
      response.ok = true;
      response.offset = it->second;
      Respond(node, waiting->second, response);
      node.waiting_writes.erase(waiting);
    }
  }
  Record(node.index, "apply", {entries.back().index, node.sm_log.size()}, [&] {
    return absl::StrCat("through index ", entries.back().index,
                        ", state machine length ", node.sm_log.size());
  });
  node.applied = entries.back().index;
  node.raft->OnApplied(node.applied);
}

void RaftWorld::ServeReads(Node& node) {
  while (!node.ready_reads.empty() &&
         node.ready_reads.front().first <= node.applied) {
    const uint64_t context = node.ready_reads.front().second;
    node.ready_reads.pop_front();
    auto it = node.reads_by_context.find(context);
    if (it == node.reads_by_context.end()) continue;
    ClientResponse response;
    response.attempt = it->second.attempt;
    response.ok = true;
    response.offset = node.sm_log.size();
    response.last = node.sm_log.empty() ? kNoOp : node.sm_log.back();
    Respond(node, it->second, response);
    node.reads_by_context.erase(it);
  }
}

void RaftWorld::SendRaft(Node& from, raft::Message message) {
  if (options_.rule_checks &&
      message.type == raft::MessageType::kVoteResponse && !message.reject) {
    checker_.OnVoteGranted(from.index, message.term, message.to,
                           from.durable_hard_state);
  }
  const int to = static_cast<int>(message.to) - 1;
  CHRONIK_CHECK_GE(to, 0);
  CHRONIK_CHECK_LT(to, num_nodes());
  const Network::Delays delays =
      network_.Route(from.index, to, scheduler_.now());
  for (size_t copy = 0; copy < delays.size(); ++copy) {
    const uint32_t slot = copy + 1 < delays.size()
                              ? StoreInFlight(raft::Message(message))
                              : StoreInFlight(std::move(message));
    scheduler_.After(delays[copy], [this, to, slot] { DeliverRaft(to, slot); });
  }
}

uint32_t RaftWorld::StoreInFlight(raft::Message message) {
  if (free_in_flight_.empty()) {
    CHRONIK_CHECK_LT(in_flight_.size(), kMaxInFlightMessages)
        << "messages in flight without bound";
    in_flight_.push_back(std::move(message));
    return static_cast<uint32_t>(in_flight_.size() - 1);
  }
  const uint32_t slot = free_in_flight_.back();
  free_in_flight_.pop_back();
  in_flight_[slot] = std::move(message);
  return slot;
}

void RaftWorld::DeliverRaft(int to, uint32_t slot) {
  raft::Message message = std::move(in_flight_[slot]);
  in_flight_[slot] = raft::Message();
  free_in_flight_.push_back(slot);
  Node& node = nodes_[to];
  if (!node.process.running()) return;
  if (node.process.Paused(scheduler_.now())) {
    const uint32_t kept = StoreInFlight(std::move(message));
    scheduler_.At(node.process.DeferUntil(scheduler_.now()),
                  [this, to, kept] { DeliverRaft(to, kept); });
    return;
  }
  Record(to, "recv",
         {static_cast<uint64_t>(message.type), message.from, message.term,
          message.index},
         [&] { return raft::DescribeMessage(message); });
  const raft::MessageType type = message.type;
  absl::Status stepped = node.raft->Step(std::move(message));
  if (!stepped.ok()) {
    Record(to, "step_rejected", {static_cast<uint64_t>(type)},
           [&] { return stepped.ToString(); });
  }
  ProcessReady(node);
}

// ---------------------------------------------------------------- clients

void RaftWorld::NextOp(Client& client) {
  if (client.done || client.busy) return;
  if (client.probe) {
    if (probe_op_ != kNoOp) return;
  } else {
    if (options_.max_ops >= 0 && ops_started_ >= options_.max_ops) return;
    ++ops_started_;
  }
  client.busy = true;
  client.read = !client.probe && workload_rng_.Chance(0.3);
  client.op = client.read ? kNoOp : MakeOpId(client.index, client.next_seq++);
  client.invoked = scheduler_.now();
  if (client.probe) probe_op_ = client.op;
  if (!client.read) checker_.OnInvoke(client.op, client.invoked);
  ++result_.ops_invoked;
  Record(Trace::kWorld, client.read ? "client_read" : "client_write",
         {static_cast<uint64_t>(client.index), client.op});
  SendRequest(client);
}

void RaftWorld::SendRequest(Client& client) {
  ++client.attempt;
  ClientRequest request{client.index, client.attempt, client.read, client.op};
  const int target = client.target;
  for (Nanos delay :
       network_.Route(client.endpoint, target, scheduler_.now())) {
    scheduler_.After(
        delay, [this, target, request] { OnClientRequest(target, request); });
  }
  const uint64_t attempt = client.attempt;
  const int index = client.index;
  // No cancel on a response: the timeout sees a newer attempt and does nothing.
  scheduler_.After(kClientTimeout,
                   [this, index, attempt] { OnClientTimeout(index, attempt); });
}

void RaftWorld::OnClientRequest(int node_index, const ClientRequest& request) {
  Node& node = nodes_[node_index];
  if (!node.process.running()) return;  // connection refused: client times out
  if (node.process.Paused(scheduler_.now())) {
    scheduler_.At(
        node.process.DeferUntil(scheduler_.now()),
        [this, node_index, request] { OnClientRequest(node_index, request); });
    return;
  }
  ClientResponse response;
  response.attempt = request.attempt;
  if (!node.raft->is_leader()) {
    response.leader_hint = node.raft->leader();
    Respond(node, request, response);
    return;
  }
  if (request.read) {
    CHRONIK_CHECK_LT(node.reads_by_context.size(), kMaxPendingReadsPerNode);
    const uint64_t context = node.next_read_context++;
    absl::Status status = node.raft->ReadIndex(EncodeOp(context));
    if (!status.ok()) {
      response.leader_hint = node.raft->leader();
      Respond(node, request, response);
      return;
    }
    node.reads_by_context[context] = request;
  } else {
    auto applied = node.sm_offsets.find(request.op);
    if (applied != node.sm_offsets.end()) {
      response.ok = true;  // a retry of an op already in the log
      response.offset = applied->second;
      Respond(node, request, response);
      return;
    }
    absl::Status status = node.raft->Propose(EncodeOp(request.op));
    if (!status.ok()) {
      response.leader_hint = node.raft->leader();
      Respond(node, request, response);
      return;
    }
    node.waiting_writes[request.op] = request;
  }
  ProcessReady(node);
}

void RaftWorld::Respond(Node& node, const ClientRequest& request,
                        const ClientResponse& response) {
  const int client_index = request.client;
  const int endpoint = clients_[client_index].endpoint;
  for (Nanos delay : network_.Route(node.index, endpoint, scheduler_.now())) {
    scheduler_.After(delay, [this, client_index, response] {
      OnClientResponse(client_index, response);
    });
  }
}

void RaftWorld::OnClientResponse(int client_index,
                                 const ClientResponse& response) {
  Client& client = clients_[client_index];
  if (!client.busy || response.attempt != client.attempt) return;  // stale
  if (!response.ok) {
    client.target = response.leader_hint != raft::kNoNode
                        ? static_cast<int>(response.leader_hint) - 1
                        : static_cast<int>(workload_rng_.Below(num_nodes()));
    const int index = client.index;
    scheduler_.After(workload_rng_.Between(kMillisecond, 20 * kMillisecond),
                     [this, index] { SendRequest(clients_[index]); });
    return;
  }
  client.busy = false;
  if (client.read) {
    checker_.OnRead(client.invoked, scheduler_.now(), response.offset,
                    response.last);
    Record(Trace::kWorld, "read_ok",
           {static_cast<uint64_t>(client.index), response.offset});
  } else {
    checker_.OnAck(client.op, response.offset, scheduler_.now());
    ++result_.ops_acked;
    Record(Trace::kWorld, "write_ok",
           {static_cast<uint64_t>(client.index), client.op, response.offset});
    if (client.probe) {
      probe_acked_ = true;
      probe_offset_ = response.offset;
      client.done = true;
      return;
    }
  }
  const int index = client.index;
  scheduler_.After(workload_rng_.Between(0, options_.client_think_max),
                   [this, index] { NextOp(clients_[index]); });
}

void RaftWorld::OnClientTimeout(int client_index, uint64_t attempt) {
  Client& client = clients_[client_index];
  if (!client.busy || attempt != client.attempt) return;
  // Try another node: the target may be down, partitioned or no longer leader.
  client.target = static_cast<int>(workload_rng_.Below(num_nodes()));
  SendRequest(client);
}

// ---------------------------------------------------------------- faults

void RaftWorld::ScheduleFaults() {
  for (const Fault& fault : schedule_) {
    if (fault.kind == FaultKind::kSquatAtStart) {
      // Before the nodes start: another process holds the port.
      const uint16_t port = PortOf(fault.node);
      if (!ports_.IsBound(fault.node, port)) {
        CHRONIK_CHECK(ports_.Bind(fault.node, port, "squatter").ok());
        Record(fault.node, "port_squatted", {uint64_t{port}});
        const int host = fault.node;
        scheduler_.At(fault.duration, [this, host, port] {
          if (ports_.Owner(host, port) == "squatter") {
            ports_.Release(host, port, "squatter");
            Record(host, "port_released", {uint64_t{port}});
          }
        });
      }
      continue;
    }
    scheduler_.At(fault.at, [this, fault] {
      if (!healed_) StartFault(fault);
    });
  }
}

void RaftWorld::StartFault(const Fault& fault) {
  Record(
      fault.node, "fault",
      {static_cast<uint64_t>(fault.kind), static_cast<uint64_t>(fault.duration),
       static_cast<uint64_t>(fault.value)},
      [&] { return DescribeFault(fault); });
  Node* node = fault.node >= 0 ? &nodes_[fault.node] : nullptr;
  switch (fault.kind) {
    case FaultKind::kCrash:
    case FaultKind::kStop:
    case FaultKind::kCrashSquat: {
      if (!node->process.running()) return;
      if (fault.kind == FaultKind::kStop) {
        StopNode(*node);
      } else {
        CrashNode(*node, FaultKindName(fault.kind));
      }
      if (fault.kind == FaultKind::kCrashSquat) {
        const uint16_t port = PortOf(node->index);
        CHRONIK_CHECK(ports_.Bind(node->index, port, "squatter").ok());
        const int host = node->index;
        scheduler_.After(fault.duration + fault.value * kMicrosecond,
                         [this, host, port] {
                           if (ports_.Owner(host, port) == "squatter") {
                             ports_.Release(host, port, "squatter");
                           }
                         });
      }
      scheduler_.After(fault.duration, [this, node] { StartNode(*node); });
      return;
    }
    case FaultKind::kCrashInFsync:
      node->crash_in_fsync_restart = fault.duration;
      return;
    case FaultKind::kCrashLeader: {
      // The leader of the highest term, if any node leads now.
      Node* leader = nullptr;
      for (Node& candidate : nodes_) {
        if (candidate.process.running() && candidate.raft->is_leader() &&
            (leader == nullptr || candidate.term > leader->term)) {
          leader = &candidate;
        }
      }
      if (leader == nullptr) return;
      CrashNode(*leader, "crash_leader");
      scheduler_.After(fault.duration, [this, leader] { StartNode(*leader); });
      return;
    }
    case FaultKind::kDiskErrors:
    case FaultKind::kDiskFull:
    case FaultKind::kCorruptSectors: {
      if (!disk_backed()) return;  // the memory model has no such faults
      const uint64_t id = next_fault_id_++;
      active_faults_[id] = fault;
      RecomputeDisk(*node);
      if (fault.kind != FaultKind::kCorruptSectors) {
        scheduler_.After(fault.duration, [this, id] { EndFault(id); });
      }
      return;
    }
    case FaultKind::kPause:
      if (node->process.running()) {
        node->process.Pause(scheduler_.now() + fault.duration);
      }
      return;
    case FaultKind::kClockDrift:
      node->clock.SetDrift(scheduler_.now(), fault.value);
      return;
    case FaultKind::kClockJump:
      node->clock.Jump(scheduler_.now(), fault.value * kMicrosecond);
      return;
    case FaultKind::kSlowFsync: {
      const uint64_t id = next_fault_id_++;
      active_faults_[id] = fault;
      node->fsync_factor = static_cast<int>(std::max<int64_t>(1, fault.value));
      scheduler_.After(fault.duration, [this, id] { EndFault(id); });
      return;
    }
    case FaultKind::kClog:
      network_.Clog(fault.node, fault.peer, scheduler_.now() + fault.duration);
      return;
    case FaultKind::kPartition:
    case FaultKind::kAsymmetric:
    case FaultKind::kIsolate:
    case FaultKind::kLoss:
    case FaultKind::kDuplicate:
    case FaultKind::kReorder:
    case FaultKind::kSlowLinks: {
      const uint64_t id = next_fault_id_++;
      active_faults_[id] = fault;
      RecomputeNetwork();
      scheduler_.After(fault.duration, [this, id] { EndFault(id); });
      return;
    }
    case FaultKind::kSquatAtStart:
    case FaultKind::kCount:
      CHRONIK_CHECK(false) << "not a timed fault";
  }
}

void RaftWorld::EndFault(uint64_t fault_id) {
  auto it = active_faults_.find(fault_id);
  if (it == active_faults_.end()) return;  // healed already
  const Fault fault = it->second;
  active_faults_.erase(it);
  Record(fault.node, "fault_end", {static_cast<uint64_t>(fault.kind)},
         [&] { return DescribeFault(fault); });
  if (fault.kind == FaultKind::kDiskErrors ||
      fault.kind == FaultKind::kDiskFull) {
    RecomputeDisk(nodes_[fault.node]);
    return;
  }
  if (fault.kind == FaultKind::kSlowFsync) {
    nodes_[fault.node].fsync_factor = 1;
    for (const auto& [id, other] : active_faults_) {
      if (other.kind == FaultKind::kSlowFsync && other.node == fault.node) {
        nodes_[fault.node].fsync_factor = static_cast<int>(other.value);
      }
    }
    return;
  }
  RecomputeNetwork();
}

void RaftWorld::RecomputeDisk(Node& node) {
  if (!disk_backed()) return;
  SimDiskOptions options = BaseDiskOptions();
  for (const auto& [id, fault] : active_faults_) {
    if (fault.node != node.index) continue;
    switch (fault.kind) {
      case FaultKind::kDiskErrors:
        options.write_error_probability =
            std::max(options.write_error_probability, fault.value / 1000.0);
        options.sync_error_probability = options.write_error_probability;
        break;
      case FaultKind::kDiskFull:
        options.capacity_bytes = 0;  // every write that needs space: ENOSPC
        break;
      case FaultKind::kCorruptSectors:
        options.corrupt_sector_probability =
            std::max(options.corrupt_sector_probability, fault.value / 1000.0);
        break;
      default:
        break;
    }
  }
  node.sim_disk->set_options(options);
}

void RaftWorld::RecomputeNetwork() {
  network_.Heal();
  NetworkConfig config = base_network_;
  for (const auto& [id, fault] : active_faults_) {
    switch (fault.kind) {
      case FaultKind::kPartition: {
        std::vector<int> side_a, side_b;
        for (int i = 0; i < num_nodes(); ++i) {
          ((fault.value >> i) & 1 ? side_a : side_b).push_back(i);
        }
        network_.Partition(side_a, side_b);
        break;
      }
      case FaultKind::kAsymmetric:
        network_.BlockLink(fault.node, fault.peer);
        break;
      case FaultKind::kIsolate:
        network_.Isolate(fault.node);
        break;
      case FaultKind::kLoss:
        config.loss_probability =
            std::max(config.loss_probability, fault.value / 1000.0);
        break;
      case FaultKind::kDuplicate:
        config.duplicate_probability =
            std::max(config.duplicate_probability, fault.value / 1000.0);
        break;
      case FaultKind::kReorder:
        config.reorder = true;
        break;
      case FaultKind::kSlowLinks:
        config.tail_probability =
            std::max(config.tail_probability, fault.value / 1000.0);
        break;
      default:
        break;
    }
  }
  network_.config() = config;
}

void RaftWorld::Heal() {
  healed_ = true;
  heal_time_ = scheduler_.now();
  Record(Trace::kWorld, "heal", {});
  active_faults_.clear();
  RecomputeNetwork();
  for (Node& node : nodes_) {
    RecomputeDisk(node);
    node.fsync_factor = 1;
    node.crash_in_fsync_restart = -1;
    node.clock.SetDrift(scheduler_.now(), 0);
    const uint16_t port = PortOf(node.index);
    if (ports_.Owner(node.index, port) == "squatter") {
      ports_.Release(node.index, port, "squatter");
    }
    if (!node.process.running()) StartNode(node);
  }
  NextOp(clients_.back());  // the liveness probe write
  scheduler_.After(kLivenessCheckInterval, [this] { CheckLiveness(); });
}

std::string RaftWorld::LivenessProblem() const {
  int leaders = 0;
  for (const Node& node : nodes_) {
    if (!node.process.running())
      return absl::StrCat("n", node.index, " is down");
    if (node.process.Paused(scheduler_.now())) {
      return absl::StrCat("n", node.index, " is paused");
    }
    leaders += node.raft->is_leader();
  }
  if (leaders != 1) return absl::StrCat(leaders, " leaders");
  if (!probe_acked_) return "the probe write after the heal did not commit";
  for (const Node& node : nodes_) {
    if (node.sm_log.size() <= probe_offset_) {
      return absl::StrCat("n", node.index, " has not caught up (applied ",
                          node.sm_log.size(), " ops, probe at offset ",
                          probe_offset_, ")");
    }
  }
  return "";
}

void RaftWorld::CheckLiveness() {
  if (live_at_ >= 0) return;
  if (LivenessProblem().empty()) {
    live_at_ = scheduler_.now();
    Record(Trace::kWorld, "live",
           {static_cast<uint64_t>(live_at_ - heal_time_)});
    return;
  }
  scheduler_.After(kLivenessCheckInterval, [this] { CheckLiveness(); });
}

// ---------------------------------------------------------------- run

RaftScenarioResult RaftWorld::Run() {
  result_.swarm = swarm_;
  result_.schedule = schedule_;
  ScheduleFaults();
  for (Node& node : nodes_) {
    scheduler_.At(0, [this, &node] { StartNode(node); });
  }
  for (int c = 0; c < options_.num_clients; ++c) {
    scheduler_.At(workload_rng_.Between(0, 100 * kMillisecond),
                  [this, c] { NextOp(clients_[c]); });
  }
  scheduler_.At(options_.fault_phase, [this] { Heal(); });
  while (scheduler_.pending() > 0 &&
         scheduler_.next_time() <= options_.run_length) {
    scheduler_.Step();
    if (!checker_.ok() || !result_.failure.empty()) break;
    if (trace_.stop_requested()) {
      result_.stopped = true;
      break;
    }
  }
  if (result_.failure.empty() && !checker_.ok()) {
    result_.failure = checker_.failure();
  }
  if (result_.failure.empty() && !result_.stopped) {
    if (live_at_ < 0) {
      result_.failure = absl::StrCat(
          "liveness: not live ", FormatTime(options_.run_length - heal_time_),
          " after the heal: ", LivenessProblem());
    } else {
      // The final log: the longest state machine (every node caught up to the
      // probe).
      const Node* longest = &nodes_[0];
      for (const Node& node : nodes_) {
        if (node.sm_log.size() > longest->sm_log.size()) longest = &node;
      }
      checker_.OnFinal(longest->sm_log);
      if (!checker_.ok()) result_.failure = checker_.failure();
    }
  }
  if (!result_.failure.empty()) {
    Record(Trace::kWorld, "violation", {}, [&] { return result_.failure; });
  }
  result_.passed = result_.failure.empty() && !result_.stopped;
  result_.trace_hash = trace_.hash();
  result_.trace_events = trace_.events();
  result_.scheduler_events = scheduler_.events_run();
  // A run that went the distance covered all of it, even if its last event
  // came a little earlier.
  const bool early = result_.stopped || !result_.failure.empty();
  result_.simulated = early ? scheduler_.now() : options_.run_length;
  result_.reads_checked = checker_.reads_checked();
  result_.committed_index = checker_.committed_index();
  result_.recovered_after_heal = live_at_ < 0 ? -1 : live_at_ - heal_time_;
  return result_;
}

}  // namespace

FaultPlan PlanFaults(const RaftScenarioOptions& options) {
  FaultPlan plan;
  if (options.schedule.has_value()) {
    plan.schedule = *options.schedule;
    plan.swarm = "given schedule";
  } else if (options.faults) {
    const SwarmChoice choice = ChooseSwarm(options.seed);
    plan.swarm = choice.Describe();
    plan.schedule = GenerateSchedule(options.seed, choice, options.num_nodes,
                                     options.fault_phase);
  } else {
    plan.swarm = "none (faults off)";
  }
  return plan;
}

RaftScenarioResult RunRaftScenario(const RaftScenarioOptions& options) {
  RaftWorld world(options);
  return world.Run();
}

}  // namespace chronik::sim
