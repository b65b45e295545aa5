// The broker scenario's world: construction, the fault plan and faults, the
// heal, the liveness phase, the end of the run. See broker_world.h.
#include "sim/broker_world.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "absl/random/bit_gen_ref.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::sim {
namespace {

// After the heal producers write for this long, then stop; the consumer reads
// once every producer is idle.
constexpr Nanos kWriteAfterHeal = 6 * kSecond;

int PurgerCount(const BrokerScenarioOptions& options) {
  return DrawLogStartPlan(options).delete_records ? 1 : 0;
}

std::vector<BrokerFault> PlanOf(const BrokerScenarioOptions& options) {
  if (options.fault_plan.has_value()) return *options.fault_plan;
  if (!options.faults) return {};
  return MakeBrokerFaultPlan(options.seed, options.nodes, options.partitions,
                             options.fault_phase);
}

}  // namespace

LogStartPlan DrawLogStartPlan(const BrokerScenarioOptions& options) {
  // Every draw is made whatever the options say, so forcing one keeps the
  // others.
  Rng rng = Rng::Stream(options.seed, "retention");
  const bool small = rng.Chance(0.5);
  const bool deletes = rng.Chance(0.5);
  const int64_t segment_bytes = rng.Between(512, 4096);
  const bool retention = rng.Chance(0.5);
  const int64_t retention_bytes = rng.Between(2048, 16384);
  LogStartPlan plan;
  if (options.small_segments >= 0 ? options.small_segments == 1 : small) {
    plan.segment_bytes = static_cast<uint64_t>(segment_bytes);
    if (retention) plan.retention_bytes = retention_bytes;
  }
  plan.delete_records =
      options.delete_records >= 0 ? options.delete_records == 1 : deletes;
  return plan;
}

std::vector<std::string> PlanBrokerFaults(
    const BrokerScenarioOptions& options) {
  std::vector<std::string> lines;
  for (const BrokerFault& fault : PlanOf(options)) {
    lines.push_back(DescribeBrokerFault(fault));
  }
  return lines;
}

BrokerWorld::BrokerWorld(const BrokerScenarioOptions& options)
    : options_(options),
      scheduler_(&trace_),
      fault_rng_(Rng::Stream(options.seed, "faults/run")),
      workload_rng_(Rng::Stream(options.seed, "workload")),
      disk_rng_(Rng::Stream(options.seed, "disk")),
      group_rng_(Rng::Stream(options.seed, "groups")),
      reassign_rng_(Rng::Stream(options.seed, "reassign/run")),
      log_starts_(DrawLogStartPlan(options)),
      compaction_(DrawCompactionPlan(options)),
      purge_rng_(Rng::Stream(options.seed, "purge")),
      txn_rng_(Rng::Stream(options.seed, "transactions/run")),
      network_(NodeSlots(options) + options.producers + 2 +
                   GroupMemberCount(options) + TxnClientCount(options) +
                   (options.monitor ? 1 : 0) + PurgerCount(options),
               Rng::Stream(options.seed, "network"),
               SeededNetworkConfig(options.seed)),
      healthy_network_(SeededNetworkConfig(options.seed)) {
  CHRONIK_CHECK(options.nodes >= 1 && options.nodes <= 9);
  CHRONIK_CHECK_GE(options.partitions, 1);
  CHRONIK_CHECK_LT(options.fault_phase, options.run_length);
  if (options_.printer) trace_.set_printer(options_.printer);
  if (options_.listener) trace_.set_listener(options_.listener);
  membership_ = DrawMembershipPlan(options);
  Rng clock_rng = Rng::Stream(options.seed, "clocks");
  nodes_.resize(NodeSlots(options));
  for (int i = 0; i < num_nodes(); ++i) {
    BrokerNode& node = nodes_[i];
    node.index = i;
    node.clock = NodeClock(0, clock_rng.Between(-100, 100));
    node.tick_clock = node.clock;
    node.disk_rng = std::make_unique<Rng>(
        Rng::Stream(options.seed, absl::StrCat("disk/n", i)));
    node.disk = std::make_unique<SimDisk>(BrokerDiskOptions(),
                                          absl::BitGenRef(*node.disk_rng));
    node.env = std::make_unique<NodeEnv>(this, i);
    node.observer = std::make_unique<NodeRaftObserver>(this, i);
  }
  // Client 0 is the admin, then the producers, the group members, the
  // transactional producer and its read_committed consumer (if any), the
  // monitor (if any), the purger (if any), the consumer last.
  const int monitor = options.monitor ? 1 : 0;
  const int purger = PurgerCount(options);
  const int txn = TxnClientCount(options);
  clients_.resize(options.producers + 2 + GroupMemberCount(options) + txn +
                  monitor + purger);
  if (txn > 0)
    txn_producer_ = options.producers + 1 + GroupMemberCount(options);
  const int purger_index =
      purger > 0 ? static_cast<int>(clients_.size()) - 2 : -1;
  const int monitor_index =
      options.monitor ? static_cast<int>(clients_.size()) - 2 - purger : -1;
  Rng producer_rng = Rng::Stream(options.seed, "producers");
  for (int c = 0; c < static_cast<int>(clients_.size()); ++c) {
    SimClient& client = clients_[c];
    client.index = c;
    // The first producer is idempotent with acks=all (the liveness check
    // needs acknowledgements); each other one is drawn.
    if (c > 1 && producer_rng.Chance(0.5)) {
      client.idempotent = false;
      client.acks = static_cast<int16_t>(
          std::array<int16_t, 3>{0, 1, -1}[producer_rng.Below(3)]);
    }
    client.endpoint = NodeSlots(options) + c;
    client.kind = c == 0 ? ClientKind::kAdmin
                  : c == static_cast<int>(clients_.size()) - 1
                      ? ClientKind::kConsumer
                  : c == monitor_index                ? ClientKind::kMonitor
                  : c == purger_index                 ? ClientKind::kPurger
                  : txn > 0 && c == txn_producer_     ? ClientKind::kTxnProducer
                  : txn > 0 && c == txn_producer_ + 1 ? ClientKind::kTxnConsumer
                  : c > options.producers             ? ClientKind::kGroupMember
                                                      : ClientKind::kProducer;
    client.bootstrap = static_cast<int>(workload_rng_.Below(options.nodes));
    client.leaders.assign(options.partitions, -1);
    client.next_sequence.assign(options.partitions, 0);
    client.purge_starts.assign(options.partitions, 0);
    client.txn.transactional_id = absl::StrCat("tx", c);
    client.txn.position.assign(options.partitions, 0);
    client.txn.high_watermark.assign(options.partitions, -1);
    client.txn.stable.assign(options.partitions, -1);
  }
  seen_leaders_.assign(options.partitions, -1);
  live_partitions_.assign(options.partitions, false);
  replication_factor_ =
      options.replication_factor > 0
          ? options.replication_factor
          : static_cast<int>(
                1 +
                Rng::Stream(options.seed, "replication").Below(options.nodes));
  CHRONIK_CHECK(replication_factor_ >= 1 &&
                replication_factor_ <= options.nodes);
  one_host_ = Rng::Stream(options.seed, "layout").Chance(0.5);
  auto_create_ = Rng::Stream(options.seed, "creation").Chance(0.5);
  churn_ = !auto_create_ && Rng::Stream(options.seed, "admin").Chance(0.5);
  reassign_ = options.reassign && !auto_create_ &&
              Rng::Stream(options.seed, "reassign").Chance(0.5);
  // Up to a majority (what a Raft commit promises) on most seeds; above it
  // (acks=all then waits for more copies) on a quarter of those that can:
  // the admin creates the topic with every replica (an auto-creation takes
  // fewer when brokers are down, and a topic with fewer replicas than
  // min.insync.replicas never takes an acks=all write).
  const int majority = replication_factor_ / 2 + 1;
  min_insync_ =
      options.min_insync > 0
          ? options.min_insync
          : static_cast<int>(
                Rng::Stream(options.seed, "insync").Between(1, majority));
  if (Rng high = Rng::Stream(options.seed, "insync_high");
      options.min_insync == 0 && !auto_create_ &&
      majority < replication_factor_ && high.Chance(0.25)) {
    min_insync_ =
        static_cast<int>(high.Between(majority + 1, replication_factor_));
  }
  Rng balance_rng = Rng::Stream(options.seed, "balance");
  balance_interval_ms_ =
      options.balance_interval_ms > 0 ? options.balance_interval_ms
      : options.balance_interval_ms == 0 && balance_rng.Chance(0.5)
          ? balance_rng.Between(500, 3000)
          : 0;
  Rng liveness_rng = Rng::Stream(options.seed, "liveness");
  const bool short_timeouts = liveness_rng.Chance(0.5);
  session_timeout_ms_ = options.session_timeout_ms > 0
                            ? options.session_timeout_ms
                        : short_timeouts ? liveness_rng.Between(300, 3000)
                                         : 9000;
  replica_lag_ms_ = options.replica_lag_ms > 0 ? options.replica_lag_ms
                    : short_timeouts           ? liveness_rng.Between(300, 3000)
                                               : 30000;
  Rng delay_rng = Rng::Stream(options.seed, "groupdelay");
  group_initial_delay_ms_ =
      options.group_initial_delay_ms >= 0 ? options.group_initial_delay_ms
      : delay_rng.Chance(0.5)             ? 3000
                                          : delay_rng.Between(0, 3000);
  Rng snapshot_rng = Rng::Stream(options.seed, "snapshots");
  small_snapshots_ = options.metadata_snapshot_entries > 0
                         ? options.metadata_snapshot_entries < 1'000
                         : snapshot_rng.Chance(0.5);
  snapshot_entries_ = options.metadata_snapshot_entries > 0
                          ? options.metadata_snapshot_entries
                      : small_snapshots_ ? snapshot_rng.Between(4, 64)
                                         : broker::kMetadataSnapshotEntries;
  // The node-wide tail log: off, tiny (checkpoints every few flushes) or
  // roomy, so both flush paths and the replay run under faults.
  Rng tail_rng = Rng::Stream(options.seed, "taillog");
  tail_wal_bytes_ = options.tail_wal_bytes >= 0
                        ? static_cast<uint64_t>(options.tail_wal_bytes)
                    : tail_rng.Chance(0.34) ? 0
                    : tail_rng.Chance(0.5)  ? storage::kTailWalMinBytes
                                            : uint64_t{1} << 20;
  const size_t kMinGroups[] = {1, 2, 8};
  tail_wal_min_groups_ = kMinGroups[tail_rng.Between(0, 2)];
  // Covered appends written out at every flush, every few, or only when a
  // checkpoint or a read needs them (the broker's 8 MiB).
  const uint64_t kBufferBytes[] = {0, 2048, uint64_t{8} << 20};
  tail_wal_buffer_bytes_ = kBufferBytes[tail_rng.Between(0, 2)];
  // Flushes in flight: mostly the broker's two (a covered append flush
  // overlapping the fsync before it), one on a quarter of the seeds.
  const bool one_flush = tail_rng.Chance(0.25);
  max_flushes_in_flight_ =
      options.max_flushes_in_flight > 0
          ? static_cast<size_t>(options.max_flushes_in_flight)
          : (one_flush ? 1 : 2);
  for (BrokerNode& node : nodes_) {
    node.config = MakeConfig(node.index);
    node.host = one_host_ ? 0 : node.index;
  }
  // LOG START BEYOND REQUEST: only DeleteRecords trims a topic without
  // retention (an auto-created topic has the defaults).
  checker_.SetLogStartByDeleteRecordsOnly(log_starts_.retention_bytes < 0 ||
                                          auto_create_);
  checker_.compaction().SetCompacted(Compacts());
  plan_ = PlanOf(options_);
  for (const BrokerFault& fault : plan_) {
    CHRONIK_CHECK(fault.node >= 0 && fault.node < options.nodes &&
                  fault.partition >= 0 && fault.partition < options.partitions)
        << DescribeBrokerFault(fault);
  }
  for (const BrokerFault& fault : plan_) {
    result_.fault_plan.push_back(DescribeBrokerFault(fault));
  }
}

void BrokerWorld::Record(int node, std::string_view kind,
                         std::initializer_list<uint64_t> args,
                         const std::function<std::string()>& detail) {
  if (!trace_.wants_detail() || !detail) {
    trace_.Record(now(), node, kind, args);
    return;
  }
  trace_.Record(now(), node, kind, args, detail());
}

void BrokerWorld::Fail(std::string failure) {
  if (!result_.failure.empty()) return;
  Record(Trace::kWorld, "failure", {Fnv1a64(failure)}, [&] { return failure; });
  result_.failure = std::move(failure);
  finished_ = true;
}

void BrokerWorld::Heal() {
  if (finished_) return;
  healed_ = true;
  heal_time_ = now();
  Record(Trace::kWorld, "heal", {});
  RestoreHealth();
  for (BrokerNode& node : nodes_) {
    node.crash_in_fsync_restart = -1;
    StartNode(node);
  }
  scheduler_.After(kWriteAfterHeal, [this] { StopProducers(); });
}

void BrokerWorld::StopProducers() {
  if (finished_) return;
  Record(Trace::kWorld, "producers_stop", {});
  producers_stopped_ = true;
  for (SimClient& client : clients_) {
    if (client.kind == ClientKind::kProducer) Act(client);
  }
  StartConsumer();
}

void BrokerWorld::CheckLiveness() {
  if (result_.live_after_heal >= 0) return;
  for (bool live : live_partitions_) {
    if (!live) return;
  }
  result_.live_after_heal = now() - heal_time_;
  Record(Trace::kWorld, "live", {static_cast<uint64_t>(now() - heal_time_)});
}

void BrokerWorld::Finish() {
  if (finished_) return;
  // The group must also have caught up (committed every partition's high
  // watermark): its members call Finish again after each commit.
  if (!clients_.back().done || !clients_.front().done) return;
  if (!MembershipProblem().empty()) return;  // WatchMembership calls again
  // The read_committed consumer calls again when it is done.
  if (txn_producer_ >= 0 && !clients_[txn_producer_ + 1].done) return;
  if (GroupMemberCount(options_) > 0 && checker_.GroupLag().has_value()) {
    return;
  }
  if (result_.live_after_heal < 0) {
    Fail(
        "LIVENESS: not every partition acknowledged a write sent after the "
        "heal");
    return;
  }
  if (std::optional<std::string> anomaly = checker_.Check()) {
    Fail(*anomaly);
    return;
  }
  Record(Trace::kWorld, "passed", {checker_.acks(), checker_.reads()});
  result_.passed = true;
  finished_ = true;
}

std::string BrokerWorld::LivenessProblem() const {
  for (const BrokerNode& node : nodes_) {
    if (!node.process.running() && !node.gone) {
      return absl::StrCat("LIVENESS: n", node.index + 1,
                          " is not running after the heal; its last start: ",
                          node.start_error.empty() ? "none" : node.start_error);
    }
  }
  if (std::string admin = AdminLivenessProblem(); !admin.empty()) {
    return admin;
  }
  if (std::string membership = MembershipProblem(); !membership.empty()) {
    return membership;
  }
  if (std::string txn = TxnLivenessProblem(); !txn.empty()) return txn;
  for (int p = 0; p < options_.partitions; ++p) {
    if (!live_partitions_[p]) {
      return absl::StrCat("LIVENESS: partition ", p,
                          " acknowledged no write sent after the heal");
    }
  }
  for (const SimClient& client : clients_) {
    if (client.kind == ClientKind::kProducer && !client.done) {
      return absl::StrCat(
          "LIVENESS: producer ", client.index, " still waits for ",
          client.batch.has_value() ? client.batch->value : "its producer id");
    }
  }
  const SimClient& consumer = clients_.back();
  if (consumer.auditing) {
    return absl::StrCat(
        "CLUSTER: the brokers never all named the same leader of every "
        "partition; last: ",
        audit_problem_.empty() ? "no answer" : audit_problem_);
  }
  if (consumer.done) return GroupLivenessProblem();
  return absl::StrCat("LIVENESS: the consumer did not finish: partition ",
                      consumer.partition, " at offset ", consumer.offset);
}

BrokerScenarioResult BrokerWorld::Run() {
  for (BrokerNode& node : nodes_) StartNode(node);  // the joiner later
  PlanMembership();
  for (SimClient& client : clients_) {
    if (client.kind == ClientKind::kConsumer) continue;
    if (client.kind == ClientKind::kPurger) {
      // Once the topic is likely there; its own stream, so no other client's
      // draws move.
      const int index = client.index;
      scheduler_.At(purge_rng_.Between(2 * kSecond, 6 * kSecond),
                    [this, index] { Act(clients_[index]); });
      continue;
    }
    // Producers that create the topic by asking for it start during the
    // faults, so the creation meets failovers (retries must stay bounded).
    const bool late = auto_create_ && client.kind == ClientKind::kProducer;
    ActLater(client, late ? workload_rng_.Between(kSecond, 6 * kSecond)
                          : workload_rng_.Between(0, 100 * kMillisecond));
  }
  for (const BrokerFault& fault : plan_) {
    scheduler_.At(fault.start, [this, fault] { StartFault(fault); });
  }
  scheduler_.At(options_.fault_phase, [this] { Heal(); });
  PlanGroupMembers();
  for (Nanos t = 0; !finished_ && t < options_.run_length;) {
    t = std::min(t + 100 * kMillisecond, options_.run_length);
    scheduler_.RunUntil(t);
  }
  if (!finished_) Fail(LivenessProblem());
  result_.group_reads = checker_.group_reads();
  result_.txns_committed = txn_checker_.committed();
  result_.txn_delivered = txn_checker_.delivered();
  AddCompactionTotals();
  for (const BrokerNode& node : nodes_) AddFlushCounts(node);
  result_.trace_hash = trace_.hash();
  result_.trace_events = trace_.events();
  result_.scheduler_events = scheduler_.events_run();
  result_.simulated = now();
  return std::move(result_);
}

BrokerScenarioResult RunBrokerScenario(const BrokerScenarioOptions& options) {
  BrokerWorld world(options);
  return world.Run();
}

}  // namespace chronik::sim
