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

bool RaftHost::TickPeers() {
  bool fell_silent = false;
  for (auto& [id, peer] : peers_) {
    if (peer.silent_ticks < std::numeric_limits<int>::max()) {
      ++peer.silent_ticks;
    }
    // Silent() turns true exactly now (it counts up by one per tick).
    fell_silent |= peer.silent_ticks == options_.election_timeout_ticks;
  }
  if (++heartbeat_elapsed_ < options_.heartbeat_timeout_ticks) {
    return fell_silent;
  }
  heartbeat_elapsed_ = 0;
  for (raft::NodeId node : PeerNodes()) {
    raft::Message beat;
    beat.type = raft::MessageType::kNodeHeartbeat;
    beat.from = options_.self;
    beat.to = node;
    beat.term = 1;
    beat.index = incarnation();
    node_heartbeats_.push_back(
        OutgoingMessage{kNodeHeartbeatGroup, std::move(beat)});
  }
  return fell_silent;
}

const std::vector<raft::NodeId>& RaftHost::PeerNodes() {
  if (!peer_nodes_dirty_) return peer_nodes_;
  // Recomputed only when a group was added or removed or its membership
  // changed (O(groups) then, not every heartbeat interval).
  std::set<raft::NodeId> nodes;
  for (const auto& [id, group] : groups_) {
    for (raft::NodeId node : Members(group.conf, options_.self)) {
      nodes.insert(node);
    }
  }
  peer_nodes_.assign(nodes.begin(), nodes.end());
  peer_nodes_dirty_ = false;
  return peer_nodes_;
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
  if (!silent.empty()) {
    node.Wake(silent);
    Activate(group.spec.group_id);
  }
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
        Activate(id);
      }
    } else if (node.leader() == message.from) {
      node.Wake({message.from});
      Activate(id);
    }
  }
}

size_t RaftHost::quiesced_groups() const {
  // Every group outside the active set is quiesced.
  size_t awake = 0;
  for (const GroupId id : active_) {
    if (!groups_.at(id).node->quiesced()) ++awake;
  }
  return groups_.size() - awake;
}

}  // namespace chronik::replication
