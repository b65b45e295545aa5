// Progress: the leader's flow-control state for one peer, and the quorum
// arithmetic over (possibly joint) voter sets. Internal to raft/.
//
// States (as in the Raft thesis and etcd raft): kProbe sends one append at a
// time until the follower's log position is found; kReplicate streams appends
// optimistically, bounded by the in-flight window (count and bytes); kSnapshot
// waits for a snapshot to be installed. Single-threaded, owned by one Raft.
#ifndef CHRONIK_RAFT_PROGRESS_H_
#define CHRONIK_RAFT_PROGRESS_H_

#include <cstdint>
#include <map>
#include <vector>

#include "raft/types.h"

namespace chronik::raft {

// A FIFO of in-flight append messages: (last index, payload bytes). Storage is
// allocated on first use so idle groups stay small.
class Inflights {
 public:
  void Add(Index last, uint64_t bytes);
  // Frees every message whose last index is <= `index`.
  void FreeLE(Index index);
  void Reset();
  bool Full(size_t max_msgs, uint64_t max_bytes) const {
    return count_ >= max_msgs || (max_bytes != 0 && bytes_ >= max_bytes);
  }
  size_t count() const { return count_; }
  uint64_t bytes() const { return bytes_; }

 private:
  struct Item {
    Index last;
    uint64_t bytes;
  };
  std::vector<Item> ring_;  // capacity grows to the window size, never beyond
  size_t start_ = 0;
  size_t count_ = 0;
  uint64_t bytes_ = 0;
};

struct Progress {
  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::kProbe;
  bool probe_sent = false;     // kProbe: one append is outstanding
  Index pending_snapshot = 0;  // kSnapshot: the index of the snapshot sent
  int snapshot_ticks = 0;      // kSnapshot: ticks waiting for the ack
  bool recent_active = false;  // heard from since the last CheckQuorum round
  bool is_learner = false;
  bool log_read_pending = false;  // an OnLogRead for this peer is outstanding
  Index log_read_prev = 0;        // the prev index that log read serves
  Inflights inflights;

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(Index snapshot_index);
  // The follower acknowledged `index`; returns true when match moved.
  bool MaybeUpdate(Index index);
  // The follower rejected an append at `rejected`; `hint` is where to probe
  // next. Returns false when the rejection is stale.
  bool MaybeDecrTo(Index rejected, Index hint);
  bool IsPaused(size_t max_msgs, uint64_t max_bytes) const;
};

enum class VoteResult : uint8_t { kPending, kLost, kWon };

// Majority arithmetic over one voter set; an empty set wins every vote and
// commits everything, so a joint config is the min/and of its two halves.
Index MajorityCommitted(const std::vector<NodeId>& voters,
                        const std::map<NodeId, Progress>& progress, NodeId self,
                        Index self_match);
VoteResult MajorityVote(const std::vector<NodeId>& voters,
                        const std::map<NodeId, bool>& votes);
VoteResult JointVote(const ConfState& conf,
                     const std::map<NodeId, bool>& votes);

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_PROGRESS_H_
