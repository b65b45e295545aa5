// The broker scenario's faults in the world: what each kind of
// sim/broker_faults.h does to the nodes, the network and the disks, and
// putting the world back to health at the fault's end and at the heal.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "sim/broker_world.h"

namespace chronik::sim {

SimDiskOptions BrokerDiskOptions() {
  SimDiskOptions options;
  options.torn_write_probability = 0.5;
  options.corrupt_sector_probability = 0.0;
  return options;
}

int BrokerWorld::CrashTarget(const BrokerFault& fault) const {
  int node_id = -1;
  if (fault.kind == BrokerFaultKind::kCrashMetadataLeader) {
    node_id = seen_controller_;
  } else if (fault.kind == BrokerFaultKind::kCrashPartitionLeader) {
    node_id = seen_leaders_[fault.partition];
  }
  return node_id >= 1 && node_id <= num_nodes() ? node_id - 1 : fault.node;
}

void BrokerWorld::StartFault(const BrokerFault& fault) {
  if (finished_ || healed_) return;
  Record(Trace::kWorld, "fault",
         {static_cast<uint64_t>(fault.kind), static_cast<uint64_t>(fault.node),
          static_cast<uint64_t>(fault.duration)},
         [&] { return DescribeBrokerFault(fault); });
  if (IsBrokerRestartFault(fault.kind)) {
    StartRestartFault(fault);
    return;
  }
  cluster_.OnDisturbance(now(), true);
  if (!StartNetworkFault(fault)) StartNodeFault(fault);
  scheduler_.After(fault.duration, [this] { EndFault(); });
}

void BrokerWorld::StartRestartFault(const BrokerFault& fault) {
  const int target = fault.node;
  auto restart_after = [this](Nanos delay, int index) {
    scheduler_.After(delay, [this, index] { StartNode(nodes_[index]); });
  };
  switch (fault.kind) {
    case BrokerFaultKind::kCrashInFsync:
      nodes_[target].crash_in_fsync_restart = fault.duration;
      return;
    case BrokerFaultKind::kStop:
      BeginStop(nodes_[target]);
      restart_after(fault.duration, target);
      return;
    case BrokerFaultKind::kPowerLoss:
      for (BrokerNode& node : nodes_) {
        CrashNode(node, "power_loss");
        // Each node comes back on its own time, within the fault's duration.
        restart_after(fault_rng_.Between(fault.duration / 4, fault.duration),
                      node.index);
      }
      return;
    default: {
      const int crashed = CrashTarget(fault);
      CrashNode(nodes_[crashed], BrokerFaultName(fault.kind));
      restart_after(fault.duration, crashed);
      return;
    }
  }
}

bool BrokerWorld::StartNetworkFault(const BrokerFault& fault) {
  const int node = fault.node;
  NetworkConfig& config = network_.config();
  switch (fault.kind) {
    case BrokerFaultKind::kIsolate:
      network_.Isolate(node);
      return true;
    case BrokerFaultKind::kPartitionBroker:
    case BrokerFaultKind::kOneWayPartition:
    case BrokerFaultKind::kClog:
      for (int other = 0; other < num_nodes(); ++other) {
        if (other != node) CutBrokerLink(fault, other);
      }
      return true;
    case BrokerFaultKind::kClientPartition:
      for (const SimClient& client : clients_) {
        network_.BlockLink(client.endpoint, node);
        network_.BlockLink(node, client.endpoint);
      }
      return true;
    case BrokerFaultKind::kLoseResponses:
      response_loss_ = static_cast<double>(fault.value) / 1000.0;
      return true;
    case BrokerFaultKind::kLoss:
      config.loss_probability = static_cast<double>(fault.value) / 1000.0;
      return true;
    case BrokerFaultKind::kDuplicate:
      config.duplicate_probability = static_cast<double>(fault.value) / 1000.0;
      return true;
    case BrokerFaultKind::kReorder:
      config.reorder = true;
      config.reorder_max = fault.value * kMillisecond;
      return true;
    case BrokerFaultKind::kDelay:
      config.tail_probability = 0.5;
      config.tail_max = fault.value * kMillisecond;
      return true;
    default:
      return false;
  }
}

void BrokerWorld::CutBrokerLink(const BrokerFault& fault, int other) {
  const int node = fault.node;
  switch (fault.kind) {
    case BrokerFaultKind::kPartitionBroker:
      network_.Partition({node}, {other});
      return;
    case BrokerFaultKind::kOneWayPartition:
      if (fault.value == 0) {
        network_.BlockLink(node, other);
      } else {
        network_.BlockLink(other, node);
      }
      return;
    case BrokerFaultKind::kClog:
      network_.Clog(node, other, now() + fault.duration);
      network_.Clog(other, node, now() + fault.duration);
      return;
    default:
      CHRONIK_CHECK(false) << "not a broker link fault: "
                           << BrokerFaultName(fault.kind);
  }
}

void BrokerWorld::StartNodeFault(const BrokerFault& fault) {
  BrokerNode& node = nodes_[fault.node];
  SimDiskOptions disk = BrokerDiskOptions();
  switch (fault.kind) {
    case BrokerFaultKind::kClockJump:
      node.clock.Jump(now(), fault.value * kMicrosecond);
      return;
    case BrokerFaultKind::kClockDrift:
      node.clock.SetDrift(now(), fault.value);
      node.tick_clock.SetDrift(now(), fault.value);
      return;
    case BrokerFaultKind::kPause:
      if (node.process.running()) node.process.Pause(now() + fault.duration);
      return;
    case BrokerFaultKind::kPortTaken:
      TakePort(fault);
      return;
    case BrokerFaultKind::kSlowFsync:
      node.slow_fsync_max = fault.value * kMillisecond;
      return;
    case BrokerFaultKind::kDiskErrors:
      disk.write_error_probability = static_cast<double>(fault.value) / 1000.0;
      disk.sync_error_probability = disk.write_error_probability;
      node.disk->set_options(disk);
      node.disk_faulty = true;
      node.disk_fault_this_run = true;
      return;
    case BrokerFaultKind::kDiskFull:
      disk.capacity_bytes =
          node.disk->live_bytes() + static_cast<uint64_t>(fault.value);
      node.disk->set_options(disk);
      node.disk_faulty = true;
      node.disk_fault_this_run = true;
      return;
    default:
      CHRONIK_CHECK(false) << "no effect for fault kind "
                           << BrokerFaultName(fault.kind);
  }
}

void BrokerWorld::TakePort(const BrokerFault& fault) {
  BrokerNode& node = nodes_[fault.node];
  const std::vector<config::ListenerAddress> listeners =
      config::ListenersOf(node.config, options_.broker_bugs);
  const config::ListenerAddress& taken =
      listeners[static_cast<size_t>(fault.value) % listeners.size()];
  // The node goes down; another process binds its port before it restarts
  // (halfway through the fault), so that start fails until the port is free
  // (at the next fault's end or the heal).
  CrashNode(node, "port_taken");
  const uint16_t port = static_cast<uint16_t>(taken.port);
  if (ports_.Bind(node.host, port, "squatter").ok()) {
    squatted_ = std::make_pair(node.host, port);
  }
  const int index = node.index;
  scheduler_.After(fault.duration / 2,
                   [this, index] { StartNode(nodes_[index]); });
}

void BrokerWorld::FreeSquattedPort() {
  if (!squatted_.has_value()) return;
  ports_.Release(squatted_->first, squatted_->second, "squatter");
  squatted_.reset();
}

void BrokerWorld::RestoreHealth() {
  cluster_.OnDisturbance(now(), false);
  FreeSquattedPort();
  network_.Heal();
  network_.config() = healthy_network_;
  response_loss_ = 0;
  for (BrokerNode& node : nodes_) {
    node.clock.SetDrift(now(), 0);
    node.tick_clock.SetDrift(now(), 0);
    node.slow_fsync_max = 0;
    if (node.disk_faulty) {
      node.disk->set_options(BrokerDiskOptions());
      node.disk_faulty = false;
    }
  }
}

void BrokerWorld::EndFault() {
  if (finished_ || healed_) return;
  Record(Trace::kWorld, "fault_end", {});
  RestoreHealth();
}

bool BrokerWorld::StopIfStorageFailed(BrokerNode& node) {
  if (!node.process.running()) return true;
  const absl::Status failure = node.broker->StorageFailure();
  if (failure.ok()) return false;
  if (!node.disk_faulty && !node.disk_fault_this_run) {
    Fail(absl::StrCat("STORAGE: n", node.index + 1,
                      " failed on a healthy disk: ", failure.ToString()));
    return true;
  }
  // The driver exits at once (runtime::Server::RunStep); a supervisor
  // restarts it, and the restart fails until the disk is healthy again.
  CrashNode(node, absl::StrCat("storage failed: ", failure.ToString()));
  RetryStartLater(node);
  return true;
}

std::vector<int> BrokerWorld::BrokerIdsToNodes(
    const std::vector<int32_t>& ids) const {
  std::vector<int> nodes;
  for (int32_t id : ids) {
    if (id >= 1 && id <= num_nodes()) nodes.push_back(id - 1);
  }
  return nodes;
}

void BrokerWorld::ObserveControllerMetadata(
    const kafka::MetadataResponse& response) {
  std::vector<int> listed;
  for (const auto& broker : response.brokers) {
    if (broker.node_id >= 1 && broker.node_id <= num_nodes()) {
      listed.push_back(broker.node_id - 1);
    }
  }
  cluster_.OnControllerMetadata(now(), response.controller_id - 1, listed,
                                session_timeout_ms_ * kMillisecond);
  for (const auto& topic : response.topics) {
    if (topic.name != kTopic || topic.error_code != kafka::error::kNone)
      continue;
    for (const auto& p : topic.partitions) {
      ClusterChecker::PartitionView view;
      view.partition = p.partition_index;
      view.leader = p.leader_id >= 1 ? p.leader_id - 1 : -1;
      view.replicas = BrokerIdsToNodes(p.replica_nodes);
      view.isr = BrokerIdsToNodes(p.isr_nodes);
      auto move = moving_.find(view.partition);
      if (move != moving_.end()) {
        view.move_unknown = !move->second.known;
        view.adding = move->second.adding;
        view.removing = move->second.removing;
      }
      cluster_.OnControllerPartition(now(), response.controller_id - 1, view,
                                     replica_lag_ms_ * kMillisecond);
    }
  }
  if (cluster_.violation().has_value()) Fail(*cluster_.violation());
}

}  // namespace chronik::sim
