// ControlledShutdown: what a node does between SIGTERM and stopping, so that
// a rolling restart moves leadership instead of waiting for election
// timeouts (Kafka's controlled shutdown, done here with Raft's leadership
// transfer).
//
// Contract:
//   Begin(now)    once: the node is going away. From then on every
//                 Advance(now) asks each Raft group the node leads (and that
//                 has another voter) to transfer its leadership
//                 (RaftHost::TransferLeadership) to a caught-up follower: a
//                 voter whose match index equals the leader's last index
//                 (else the most advanced recently active voter, which the
//                 core catches up before sending TimeoutNow); after an
//                 abandoned transfer, another voter if there is one. Partition
//                 groups go first; the metadata group (controller and group
//                 coordinator) once no partition group is led, or once half
//                 the bound has passed. A transfer the core abandoned (after
//                 an election timeout) is asked for again.
//   Advance(now)  every tick and step; notes completion.
//   complete()    true once the node leads no group that could be handed
//                 over, or `timeout_ms` after Begin (the bound): the driver
//                 may then stop the node. Logs one line either way.
//   draining()    Begun: the broker never starts an election in any of its
//                 groups (RaftHost::SetCampaignAllowed(false): not on its
//                 own election timeout, and leadership offered to it by
//                 TimeoutNow is declined), so leadership does not bounce
//                 back.
//
// Time is the broker's tick time (never jumps). A group of one voter (a
// standalone node, a partition with one replica) cannot be handed over and
// does not hold up completion. Deterministic; one thread (the broker's).
#ifndef CHRONIK_BROKER_SERVER_CONTROLLED_SHUTDOWN_H_
#define CHRONIK_BROKER_SERVER_CONTROLLED_SHUTDOWN_H_

#include <cstdint>
#include <map>
#include <vector>

#include "broker/env/env.h"
#include "broker/replication/raft_host.h"
#include "raft/types.h"

namespace chronik::broker {

// How long a node shutting down may spend handing over leadership before it
// stops anyway, in milliseconds of tick time. The production driver then
// drains connections (ServerOptions::shutdown_grace_ms) and flushes, so a
// SIGTERM'd node exits well within 10 s.
inline constexpr int64_t kControlledShutdownTimeoutMs = 4'000;

class ControlledShutdown {
 public:
  ControlledShutdown(replication::GroupId metadata_group,
                     replication::RaftHost* host, env::LogSink* log,
                     int64_t timeout_ms = kControlledShutdownTimeoutMs);

  void Begin(int64_t now_ms);
  void Advance(int64_t now_ms);
  bool draining() const { return begun_; }
  bool complete() const { return complete_; }
  // Groups this node leads that have another voter (what it must hand over),
  // in group id order.
  std::vector<replication::GroupId> LedGroups() const;

 private:
  // Asks the core to hand `group_id` over unless a transfer is under way.
  void Transfer(replication::GroupId group_id);

  const replication::GroupId metadata_group_;
  replication::RaftHost* const host_;
  env::LogSink* const log_;
  const int64_t timeout_ms_;
  // Per group: the transferee last asked for (a transfer to it that was
  // abandoned is next tried with another voter, if any).
  std::map<replication::GroupId, raft::NodeId> last_transferee_;
  bool begun_ = false;
  bool complete_ = false;
  int64_t begun_ms_ = 0;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_CONTROLLED_SHUTDOWN_H_
