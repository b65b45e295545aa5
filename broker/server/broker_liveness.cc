#include "broker/server/broker_liveness.h"

#include <algorithm>

#include "base/check.h"

namespace chronik::broker {

BrokerLiveness::BrokerLiveness(raft::NodeId self, int64_t session_timeout_ms,
                               bool never_fence)
    : self_(self),
      session_timeout_ms_(session_timeout_ms),
      never_fence_(never_fence) {
  CHRONIK_CHECK_GT(session_timeout_ms_, 0);
}

void BrokerLiveness::OnHeard(raft::NodeId from, int64_t now_ms) {
  if (from == raft::kNoNode || from == self_) return;
  // Bounded by the registered brokers that can send (the metadata voters).
  int64_t& heard = last_heard_ms_[from];
  heard = std::max(heard, now_ms);
}

void BrokerLiveness::OnLeaderChange(bool leads, int64_t now_ms) {
  if (leads && !leads_) {
    leader_since_ms_ = now_ms;
    next_command_ms_.clear();
  }
  leads_ = leads;
}

std::vector<metapb::MetadataCommand> BrokerLiveness::Commands(
    const metadata::MetadataState& state, int64_t now_ms) {
  std::vector<metapb::MetadataCommand> commands;
  if (!leads_) return commands;
  for (const metapb::BrokerInfo* broker : state.Brokers()) {
    const raft::NodeId id = broker->node_id();
    auto heard = last_heard_ms_.find(id);
    // Heard since this node took over, and lately.
    // (The controller itself is alive: fenced by an earlier controller that
    // lost touch with it, it unfences itself.)
    const bool heard_lately =
        id == self_ ||
        (heard != last_heard_ms_.end() && heard->second >= leader_since_ms_ &&
         now_ms - heard->second < session_timeout_ms_);
    // Silence counts only from when this node took over as controller.
    const int64_t since = std::max(
        leader_since_ms_, heard == last_heard_ms_.end() ? 0 : heard->second);
    const bool silent = id != self_ && now_ms - since >= session_timeout_ms_;
    metapb::MetadataCommand command;
    if (!broker->fenced() && silent && !never_fence_) {
      command.mutable_fence_broker()->set_node_id(id);
    } else if (broker->fenced() && heard_lately) {
      command.mutable_unfence_broker()->set_node_id(id);
    } else {
      next_command_ms_.erase(id);
      continue;
    }
    int64_t& next_ms = next_command_ms_[id];
    if (now_ms < next_ms) continue;
    next_ms = now_ms + kLivenessRetryMs;
    commands.push_back(std::move(command));
  }
  return commands;
}

}  // namespace chronik::broker
