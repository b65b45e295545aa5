// The Raft scenario's world: construction, trace records, the run, the heal
// and the liveness phase. See raft_world.h for the other pieces.
#include "sim/raft_world.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::sim {
namespace {

constexpr Nanos kLivenessCheckInterval = 50 * kMillisecond;

}  // namespace

SimDiskOptions BaseDiskOptions() {
  SimDiskOptions options;
  options.torn_write_probability = 0.5;
  options.corrupt_sector_probability = 0.0;
  return options;
}

raft::Bytes EncodeOp(OpId op) {
  std::string data(8, '\0');
  for (int i = 0; i < 8; ++i) {
    data[i] = static_cast<char>((op >> (8 * i)) & 0xff);
  }
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

RaftWorld::RaftWorld(const RaftScenarioOptions& options)
    : options_(options),
      scheduler_(&trace_),
      checker_(options.num_nodes),
      disk_rng_(Rng::Stream(options.seed, "disk")),
      workload_rng_(Rng::Stream(options.seed, "workload")),
      network_(options.num_nodes + options.num_clients + 1,
               Rng::Stream(options.seed, "network"),
               SeededNetworkConfig(options.seed)),
      base_network_(SeededNetworkConfig(options.seed)) {
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
    Node& node = nodes_[i];
    node.index = i;
    node.id = static_cast<raft::NodeId>(i + 1);
    // Small natural drift; the clock faults add large drifts and jumps.
    node.clock = NodeClock(0, clock_rng.Between(-100, 100));
    node.disk_rng = std::make_unique<Rng>(
        Rng::Stream(options.seed, absl::StrCat("disk/n", i)));
    node.disk = std::make_unique<SimDisk>(BaseDiskOptions(),
                                          absl::BitGenRef(*node.disk_rng));
    node.hooks = std::make_unique<NodeHooks>(this, &node, &checker_,
                                             options.rule_checks);
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
    const raft::RawNode* core =
        n.host == nullptr ? nullptr : n.host->node(kRaftGroup);
    if (n.process.running() && core != nullptr) {
      text = absl::StrCat("[", raft::RoleName(core->Status().role), " t",
                          core->term(), "]");
    } else {
      text = "[down]";
    }
  }
  if (detail) absl::StrAppend(&text, text.empty() ? "" : " ", detail());
  trace_.Record(scheduler_.now(), node, kind, args, text);
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
    if (!node.process.running()) {
      return absl::StrCat("n", node.index, " is down");
    }
    if (node.process.Paused(scheduler_.now())) {
      return absl::StrCat("n", node.index, " is paused");
    }
    leaders += node.host->is_leader(kRaftGroup);
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
  Finish();
  return result_;
}

void RaftWorld::Finish() {
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
}

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
