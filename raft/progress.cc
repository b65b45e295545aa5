#include "raft/progress.h"

#include <algorithm>
#include <limits>

#include "base/check.h"

namespace chronik::raft {

void Inflights::Add(Index last, uint64_t bytes) {
  if (count_ == ring_.size()) {
    // Grow (only until the window is reached: callers check Full() first),
    // keeping FIFO order.
    std::vector<Item> grown;
    grown.reserve(std::max<size_t>(4, ring_.size() * 2));
    for (size_t i = 0; i < count_; ++i)
      grown.push_back(ring_[(start_ + i) % ring_.size()]);
    grown.resize(grown.capacity());
    ring_ = std::move(grown);
    start_ = 0;
  }
  ring_[(start_ + count_) % ring_.size()] = Item{last, bytes};
  ++count_;
  bytes_ += bytes;
}

void Inflights::FreeLE(Index index) {
  while (count_ > 0 && ring_[start_].last <= index) {
    bytes_ -= ring_[start_].bytes;
    start_ = (start_ + 1) % ring_.size();
    --count_;
  }
  if (count_ == 0) start_ = 0;
}

void Inflights::Reset() {
  start_ = 0;
  count_ = 0;
  bytes_ = 0;
}

void Progress::BecomeProbe() {
  if (state == ProgressState::kSnapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = ProgressState::kProbe;
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_ticks = 0;
  inflights.Reset();
}

void Progress::BecomeReplicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.Reset();
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  state = ProgressState::kSnapshot;
  pending_snapshot = snapshot_index;
  snapshot_ticks = 0;
  probe_sent = false;
  inflights.Reset();
}

bool Progress::MaybeUpdate(Index index) {
  bool updated = false;
  if (match < index) {
    match = index;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, index + 1);
  return updated;
}

bool Progress::MaybeDecrTo(Index rejected, Index hint) {
  if (state == ProgressState::kReplicate) {
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  if (next - 1 != rejected) return false;
  next = std::max(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

bool Progress::IsPaused(size_t max_msgs, uint64_t max_bytes) const {
  switch (state) {
    case ProgressState::kProbe:
      return probe_sent;
    case ProgressState::kReplicate:
      return inflights.Full(max_msgs, max_bytes);
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

Index MajorityCommitted(const std::vector<NodeId>& voters,
                        const std::map<NodeId, Progress>& progress, NodeId self,
                        Index self_match) {
  if (voters.empty()) return std::numeric_limits<Index>::max();
  // Small fixed buffer for the common group sizes; voters are bounded by
  // membership.
  constexpr size_t kInlineVoters = 7;
  Index inline_buf[kInlineVoters];
  std::vector<Index> heap_buf;
  Index* matches = inline_buf;
  if (voters.size() > kInlineVoters) {
    heap_buf.resize(voters.size());
    matches = heap_buf.data();
  }
  for (size_t i = 0; i < voters.size(); ++i) {
    if (voters[i] == self) {
      matches[i] = self_match;
    } else {
      auto it = progress.find(voters[i]);
      matches[i] = it == progress.end() ? 0 : it->second.match;
    }
  }
  std::sort(matches, matches + voters.size());
  // The highest index that a majority holds.
  return matches[voters.size() - (voters.size() / 2 + 1)];
}

VoteResult MajorityVote(const std::vector<NodeId>& voters,
                        const std::map<NodeId, bool>& votes) {
  if (voters.empty()) return VoteResult::kWon;
  size_t granted = 0;
  size_t missing = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++granted;
    }
  }
  const size_t quorum = voters.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::kWon;
  if (granted + missing >= quorum) return VoteResult::kPending;
  return VoteResult::kLost;
}

VoteResult JointVote(const ConfState& conf,
                     const std::map<NodeId, bool>& votes) {
  const VoteResult in = MajorityVote(conf.voters, votes);
  const VoteResult out = MajorityVote(conf.voters_outgoing, votes);
  if (in == out) return in;
  if (in == VoteResult::kLost || out == VoteResult::kLost)
    return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace chronik::raft
