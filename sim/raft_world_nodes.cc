// The Raft scenario's nodes: lifecycle (start with recovery, crash, clean
// stop), ticks, driving the production replication::RaftHost in its async
// flush mode (the flush's fsyncs complete after a simulated latency), and the
// network between nodes.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "sim/raft_world.h"

namespace chronik::sim {
namespace {

constexpr int kMaxCatchUpTicks = 50;  // ticks run at once after a jump or pause
// Process calls per step while the host still has work (each runs up to
// HostOptions::max_process_rounds rounds).
constexpr int kMaxProcessPerStep = 4;
constexpr Nanos kBindRetry = 100 * kMillisecond;
constexpr Nanos kStorageRetry = 100 * kMillisecond;
constexpr size_t kMaxInFlightMessages = 1 << 20;

// Disk faults the node retries after (EIO, ENOSPC); anything else found on
// the disk at start is a bug (a durable commit beyond the stored log, a log
// the core cannot restart from).
bool Transient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsResourceExhausted(status);
}

}  // namespace

NodeHooks::NodeHooks(RaftWorld* world, Node* node, RaftChecker* checker,
                     bool rule_checks)
    : CheckingObserver(checker, node->index, rule_checks),
      world_(world),
      node_(node) {}

void NodeHooks::Apply(replication::GroupId /*group_id*/,
                      const raft::Entry& entry) {
  world_->Apply(*node_, entry);
}

void NodeHooks::OnReadState(replication::GroupId /*group_id*/,
                            const raft::ReadState& read) {
  world_->OnReadState(*node_, read);
}

void NodeHooks::OnApplied(replication::GroupId /*group_id*/,
                          raft::Index index) {
  world_->OnApplied(*node_, index);
}

void NodeHooks::OnRoleChange(replication::GroupId group_id,
                             const replication::RoleState& role) {
  CheckingObserver::OnRoleChange(group_id, role);
  world_->ObserveRole(*node_, role);
}

void NodeHooks::OnFailed(replication::GroupId /*group_id*/,
                         const absl::Status& status) {
  // The node restarts once the host call returns (Drive).
  if (node_->storage_failure.empty()) {
    node_->storage_failure = status.ToString();
  }
}

// ---------------------------------------------------------------- lifecycle

void RaftWorld::StartNode(Node& node) {
  if (node.process.running() || !result_.failure.empty()) return;
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
  if (!OpenStorage(node)) {
    ports_.Release(node.index, PortOf(node.index), owner);
    if (result_.failure.empty()) RestartLater(node, kStorageRetry);
    return;
  }
  node.process.Start();
  node.hooks->Started(node.process.incarnation());
  node.next_tick_local =
      node.clock.Local(scheduler_.now()) + options_.tick_interval;
  storage::GroupStorage* group = node.store->group(kRaftGroup);
  const storage::HardState& hs = group->hard_state();
  Record(node.index, "start",
         {node.process.incarnation(), hs.term, hs.commit, group->last_index()},
         [&] {
           return absl::StrCat("incarnation ", node.process.incarnation(),
                               " term ", hs.term, " commit ", hs.commit,
                               " log ", group->last_index());
         });
  ScheduleTick(node);
  Drive(node);
}

bool RaftWorld::OpenStorage(Node& node) {
  ResetVolatile(node);
  absl::StatusOr<std::unique_ptr<storage::LogStore>> store =
      storage::LogStore::Open(node.disk.get(), "", storage::StoreOptions{});
  absl::Status status = store.status();
  if (status.ok()) {
    node.store = std::move(*store);
    replication::HostOptions options;
    options.self = node.id;
    options.seed =
        StreamSeed(options_.seed, absl::StrCat("raft/n", node.index, "/",
                                               node.process.incarnation() + 1));
    options.injected_bugs = options_.bugs;
    options.async_flush = true;
    options.quiesce = true;  // as production partitions: idle groups sleep
    options.observer = node.hooks.get();
    node.host =
        std::make_unique<replication::RaftHost>(options, node.store.get());
    replication::GroupSpec spec;
    spec.group_id = kRaftGroup;
    for (const Node& member : nodes_) spec.voters.push_back(member.id);
    spec.applier = node.hooks.get();
    spec.quiesce = true;
    status = node.host->AddGroup(spec);
  }
  if (!status.ok()) {
    node.host.reset();
    node.store.reset();
    if (!Transient(status)) {
      result_.failure =
          absl::StrCat("n", node.index,
                       " cannot restart from its disk: ", status.ToString());
      return false;
    }
    Record(node.index, "storage_open_failed", {},
           [&] { return status.ToString(); });
    return false;
  }
  const storage::RecoveryReport& report =
      node.store->group(kRaftGroup)->recovery();
  if (report.torn_bytes_cut > 0 || !report.damage.empty()) {
    Record(node.index, "disk_recovery",
           {report.torn_bytes_cut, report.damage.size()}, [&] {
             return absl::StrCat("cut ", report.torn_bytes_cut, " torn bytes, ",
                                 report.damage.size(), " damaged ranges");
           });
  }
  return true;
}

void RaftWorld::ResetVolatile(Node& node) {
  node.host.reset();
  node.store.reset();
  node.syncing.clear();
  node.storage_failure.clear();
  node.sm_log.clear();
  node.sm_offsets.clear();
  node.applied = 0;
  node.waiting_writes.clear();
  node.reads_by_context.clear();
  node.ready_reads.clear();
  node.leader = false;
  node.term = 0;
}

void RaftWorld::CrashNode(Node& node, std::string_view why) {
  if (!node.process.running()) return;
  ++result_.crashes;
  node.process.Crash();
  node.host.reset();
  node.store.reset();
  node.syncing.clear();
  node.disk->Crash();
  ports_.ReleaseAll(node.index, absl::StrCat("n", node.index));
  Record(node.index, "crash", {node.process.incarnation()},
         [&] { return std::string(why); });
}

void RaftWorld::StopNode(Node& node) {
  if (!node.process.running()) return;
  // A clean stop: the process exits; what it wrote stays in the page cache and
  // reaches the disk (the flush in flight completes), what it had only queued
  // in memory is gone.
  while (!node.syncing.empty()) CompleteSyncNow(node);
  if (!node.storage_failure.empty()) {
    // The disk failed the last flush: the process dies of it instead.
    CrashNode(node, absl::StrCat("storage failed: ", node.storage_failure));
    RestartLater(node, disk_rng_.Between(100 * kMillisecond, kSecond));
    return;
  }
  node.host.reset();
  node.store.reset();
  node.process.Stop();
  ports_.ReleaseAll(node.index, absl::StrCat("n", node.index));
  Record(node.index, "stop", {});
}

void RaftWorld::RestartLater(Node& node, Nanos delay) {
  scheduler_.After(delay, [this, &node] { StartNode(node); });
}

void RaftWorld::ScheduleTick(Node& node) {
  const Nanos local = node.clock.Local(scheduler_.now());
  const Nanos wait = std::max<Nanos>(0, node.next_tick_local - local);
  // Captures fit std::function's inline buffer (no allocation per tick).
  const int index = node.index;
  const uint32_t generation = static_cast<uint32_t>(node.process.incarnation());
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
    node.host->Tick();
    node.next_tick_local += options_.tick_interval;
    ++ticks;
  }
  if (node.next_tick_local <= local) {
    node.next_tick_local = local + options_.tick_interval;
  }
  Drive(node);
  if (node.process.Current(incarnation)) ScheduleTick(node);
}

void RaftWorld::ObserveRole(Node& node, const replication::RoleState& role) {
  if (role.is_leader == node.leader && role.term == node.term) return;
  if (role.is_leader && !node.leader) ++result_.leaders_elected;
  node.leader = role.is_leader;
  node.term = role.term;
  const raft::Role hashed =
      role.is_leader ? raft::Role::kLeader : raft::Role::kFollower;
  Record(node.index, "role", {static_cast<uint64_t>(hashed), role.term}, [&] {
    // The core's own role (candidates too) for the reader; the hash only
    // sees leader or not.
    const raft::RawNode* core = node.host->node(kRaftGroup);
    const raft::Role shown = core != nullptr ? core->Status().role : hashed;
    return absl::StrCat(raft::RoleName(shown), " term ", role.term, ", leader ",
                        role.leader);
  });
}

// ---------------------------------------------------------------- the host

void RaftWorld::Drive(Node& node) {
  for (int step = 0; step < kMaxProcessPerStep; ++step) {
    if (!node.process.running() || !result_.failure.empty()) return;
    if (!node.storage_failure.empty()) {
      // What reached the disk is unknown: the group stays failed until the
      // process restarts and recovers it (broker/storage/log_store.h).
      CrashNode(node, absl::StrCat("storage failed: ", node.storage_failure));
      RestartLater(node, disk_rng_.Between(100 * kMillisecond, kSecond));
      return;
    }
    node.host->Process(&outbox_);
    for (replication::OutgoingMessage& out : outbox_) {
      SendRaft(node, std::move(out.message));
    }
    outbox_.clear();
    if (std::optional<replication::SyncRequest> request =
            node.host->TakeSyncRequest()) {
      StartSync(node, std::move(*request));
    }
    if (node.storage_failure.empty() && !node.host->HasWork()) return;
  }
}

Nanos RaftWorld::FsyncLatency(Node& node) {
  return disk_rng_.Between(100 * kMicrosecond, 3 * kMillisecond) *
         node.fsync_factor;
}

void RaftWorld::StartSync(Node& node, replication::SyncRequest request) {
  node.syncing.push_back(std::move(request));
  const int index = node.index;
  const uint32_t generation = static_cast<uint32_t>(node.process.incarnation());
  if (node.crash_in_fsync_restart >= 0) {
    // Power cut while this flush's writes are on their way to the platter
    // (right after the current event, before its fsyncs can complete).
    const Nanos restart = node.crash_in_fsync_restart;
    node.crash_in_fsync_restart = -1;
    scheduler_.After(0, [this, index, generation, restart] {
      Node& crashed = nodes_[index];
      if (!crashed.process.Current(generation)) return;
      CrashNode(crashed, "crash_in_fsync");
      RestartLater(crashed, restart);
    });
  }
  // One IO thread: a flush's fsyncs start when the previous one's finish.
  const Nanos due =
      std::max(scheduler_.now(), node.last_sync_due) + FsyncLatency(node);
  node.last_sync_due = due;
  scheduler_.At(due, [this, index, generation] {
    FinishSync(nodes_[index], generation);
  });
}

void RaftWorld::FinishSync(Node& node, uint64_t incarnation) {
  if (!node.process.Current(incarnation)) return;  // a crash took the flush
  if (node.process.Paused(scheduler_.now())) {
    // The fsyncs finished; the stalled process notices when it resumes.
    scheduler_.At(
        node.process.DeferUntil(scheduler_.now()),
        [this, &node, incarnation] { FinishSync(node, incarnation); });
    return;
  }
  CompleteSyncNow(node);
  Drive(node);
}

void RaftWorld::CompleteSyncNow(Node& node) {
  CHRONIK_CHECK(!node.syncing.empty());
  replication::SyncRequest request = std::move(node.syncing.front());
  node.syncing.pop_front();
  std::vector<absl::Status> results;
  results.reserve(request.files.size());
  // Until now a crash could lose or tear these writes (SimDisk).
  for (env::File* file : request.files) results.push_back(file->Sync());
  node.host->OnSyncDone(request.flush_id, std::move(results));
}

// ---------------------------------------------------------------- network

void RaftWorld::SendRaft(Node& from, raft::Message message) {
  if (options_.rule_checks &&
      message.type == raft::MessageType::kVoteResponse && !message.reject) {
    checker_.OnVoteGranted(from.index, message.term, message.to,
                           from.hooks->durable());
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
  absl::Status stepped = node.host->Step(kRaftGroup, std::move(message));
  if (!stepped.ok()) {
    Record(to, "step_rejected", {static_cast<uint64_t>(type)},
           [&] { return stepped.ToString(); });
  }
  Drive(node);
}

}  // namespace chronik::sim
