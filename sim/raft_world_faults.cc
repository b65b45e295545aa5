// The Raft scenario's faults: scheduling them, starting and ending each kind
// (process, network, clock and disk faults; see sim/faults.h for the kinds).
#include <algorithm>
#include <vector>

#include "base/check.h"
#include "sim/raft_world.h"

namespace chronik::sim {

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
    case FaultKind::kCrashSquat:
      StartCrashFault(fault, *node);
      return;
    case FaultKind::kCrashInFsync:
      node->crash_in_fsync_restart = fault.duration;
      return;
    case FaultKind::kCrashLeader:
      CrashLeader(fault);
      return;
    case FaultKind::kDiskErrors:
    case FaultKind::kDiskFull:
    case FaultKind::kCorruptSectors: {
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

void RaftWorld::StartCrashFault(const Fault& fault, Node& node) {
  if (!node.process.running()) return;
  if (fault.kind == FaultKind::kStop) {
    StopNode(node);
  } else {
    CrashNode(node, FaultKindName(fault.kind));
  }
  if (fault.kind == FaultKind::kCrashSquat) {
    const uint16_t port = PortOf(node.index);
    CHRONIK_CHECK(ports_.Bind(node.index, port, "squatter").ok());
    const int host = node.index;
    scheduler_.After(fault.duration + fault.value * kMicrosecond,
                     [this, host, port] {
                       if (ports_.Owner(host, port) == "squatter") {
                         ports_.Release(host, port, "squatter");
                       }
                     });
  }
  RestartLater(node, fault.duration);
}

void RaftWorld::CrashLeader(const Fault& fault) {
  // The leader of the highest term, if any node leads now.
  Node* leader = nullptr;
  for (Node& candidate : nodes_) {
    if (candidate.process.running() && candidate.host->is_leader(kRaftGroup) &&
        (leader == nullptr || candidate.term > leader->term)) {
      leader = &candidate;
    }
  }
  if (leader == nullptr) return;
  CrashNode(*leader, "crash_leader");
  RestartLater(*leader, fault.duration);
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
  node.disk->set_options(options);
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

}  // namespace chronik::sim
