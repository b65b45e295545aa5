// BrokerLiveness: the controller's (metadata leader's) view of which brokers
// are alive, and the FenceBroker / UnfenceBroker commands that follow from it.
//
// Liveness comes from the metadata Raft group itself, not a heartbeat
// protocol of its own: every follower answers the leader's appends and
// heartbeats, so the broker notes, per sender, when it last received a
// metadata-group message (OnHeard). Time is the node's tick time (ticks times
// the tick interval), which never jumps.
//
// Rules: a broker (never this node) not heard from for a session timeout is
// fenced; a fenced broker heard from within the last session timeout is
// unfenced, and so is this node if an earlier controller fenced it. A node that
// has just become the controller counts silence only from the moment it took
// over (it heard from followers of another leader only while they were
// candidates), so it fences no one before a full session timeout of its own
// observation. Commands are re-proposed at most every kLivenessRetryMs until
// the committed state shows them.
//
// Deterministic; one thread. Owned by the Broker.
#ifndef CHRONIK_BROKER_SERVER_BROKER_LIVENESS_H_
#define CHRONIK_BROKER_SERVER_BROKER_LIVENESS_H_

#include <cstdint>
#include <map>
#include <vector>

#include "broker/metadata/metadata_state.h"
#include "proto/metadata.pb.h"
#include "raft/types.h"

namespace chronik::broker {

inline constexpr int64_t kLivenessRetryMs = 1'000;

class BrokerLiveness {
 public:
  // `never_fence`: env::BrokerBugs::never_fence (test-only).
  BrokerLiveness(raft::NodeId self, int64_t session_timeout_ms,
                 bool never_fence = false);

  // A metadata-group message from `from` arrived at tick time `now_ms`.
  void OnHeard(raft::NodeId from, int64_t now_ms);
  // This node became the controller (`leads`) or stopped being it.
  void OnLeaderChange(bool leads, int64_t now_ms);

  // The fence and unfence commands due at `now_ms` given the committed
  // `state`; empty unless this node is the controller.
  std::vector<metapb::MetadataCommand> Commands(
      const metadata::MetadataState& state, int64_t now_ms);

 private:
  const raft::NodeId self_;
  const int64_t session_timeout_ms_;
  const bool never_fence_;
  bool leads_ = false;
  int64_t leader_since_ms_ = 0;
  std::map<raft::NodeId, int64_t> last_heard_ms_;
  // Broker -> when a command about it may be proposed again.
  std::map<raft::NodeId, int64_t> next_command_ms_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_BROKER_LIVENESS_H_
