// RaftHost (raft_host.h): quiescence. Per-node liveness (one heartbeat per
// peer node and heartbeat interval) stands in for the per-group heartbeats
// of quiesced groups; silent member nodes and restarted ones wake them.

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include "base/splitmix64.h"
#include "broker/replication/raft_host.h"

namespace chronik::replication {
namespace {

// Every member of the group's membership but `self`, sorted, unique.
std::vector<raft::NodeId> Members(const raft::ConfState& conf,
                                  raft::NodeId self) {
  std::vector<raft::NodeId> out;
  for (const auto* ids : {&conf.voters, &conf.voters_outgoing, &conf.learners,
                          &conf.learners_next}) {
    out.insert(out.end(), ids->begin(), ids->end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  out.erase(std::remove(out.begin(), out.end(), self), out.end());
  return out;
}

}  // namespace

uint64_t RaftHost::incarnation() const {
  if (options_.incarnation != 0) return options_.incarnation;
  return splitmix64::Mix(options_.seed ^ 0x696e6361726e6174ull) | 1;
}

RaftHost::Peer& RaftHost::Heard(raft::NodeId node) {
  Peer& peer = peers_[node];
  peer.silent_ticks = 0;
  return peer;
}

bool RaftHost::Silent(raft::NodeId node) {
  // A node not seen before counts as just heard: it has an election
  // timeout to show up.
  const Peer& peer = peers_[node];
  return peer.silent_ticks >= options_.election_timeout_ticks;
}

void RaftHost::TickPeers() {
  for (auto& [id, peer] : peers_) {
    if (peer.silent_ticks < std::numeric_limits<int>::max()) {
      ++peer.silent_ticks;
    }
  }
  if (++heartbeat_elapsed_ < options_.heartbeat_timeout_ticks) return;
  heartbeat_elapsed_ = 0;
  std::set<raft::NodeId> nodes;
  for (const auto& [id, group] : groups_) {
    for (raft::NodeId node : Members(group.conf, options_.self)) {
      nodes.insert(node);
    }
  }
  for (raft::NodeId node : nodes) {
    raft::Message beat;
    beat.type = raft::MessageType::kNodeHeartbeat;
    beat.from = options_.self;
    beat.to = node;
    beat.term = 1;
    beat.index = incarnation();
    node_heartbeats_.push_back(
        OutgoingMessage{kNodeHeartbeatGroup, std::move(beat)});
  }
}

void RaftHost::WatchQuiesced(Group& group) {
  raft::RawNode& node = *group.node;
  std::vector<raft::NodeId> silent;
  if (node.is_leader()) {
    for (raft::NodeId member : Members(group.conf, options_.self)) {
      if (Silent(member)) silent.push_back(member);
    }
  } else if (node.leader() != raft::kNoNode && Silent(node.leader())) {
    silent.push_back(node.leader());
  }
  if (!silent.empty()) node.Wake(silent);
}

void RaftHost::OnNodeHeartbeat(const raft::Message& message) {
  if (message.from == raft::kNoNode || message.from == options_.self) return;
  Peer& peer = Heard(message.from);
  const uint64_t before = std::exchange(peer.incarnation, message.index);
  if (before == 0 || before == message.index) return;
  // The peer restarted: what it led is lost, what it follows must be
  // caught up.
  for (auto& [id, group] : groups_) {
    raft::RawNode& node = *group.node;
    if (!node.quiesced()) continue;
    if (node.is_leader()) {
      const std::vector<raft::NodeId> members =
          Members(group.conf, options_.self);
      if (std::binary_search(members.begin(), members.end(), message.from)) {
        node.Wake({}, {message.from});
      }
    } else if (node.leader() == message.from) {
      node.Wake({message.from});
    }
  }
}

size_t RaftHost::quiesced_groups() const {
  size_t quiesced = 0;
  for (const auto& [id, group] : groups_) {
    if (group.node->quiesced()) ++quiesced;
  }
  return quiesced;
}

}  // namespace chronik::replication
