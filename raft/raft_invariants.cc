// Raft (raft.h): the invariant checker, in TigerBeetle's spirit: every rule
// the rest of the core relies on, stated once and checked after every input
// in debug builds (RawNode). Each check names the rule it guards.

#include <algorithm>
#include <vector>

#include "base/check.h"
#include "raft/node_ids.h"
#include "raft/raft.h"

namespace chronik::raft {
namespace {

bool Disjoint(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  for (NodeId id : a) {
    if (Contains(b, id)) return false;
  }
  return true;
}

bool Subset(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  for (NodeId id : a) {
    if (!Contains(b, id)) return false;
  }
  return true;
}

}  // namespace

void Raft::CheckInvariants() const {
  CHRONIK_CHECK(!joining_ || role_ == Role::kFollower)
      << "a joining node never campaigns";
  CheckLogInvariants();
  CheckRoleInvariants();
  CheckConfInvariants();
  CheckProgressInvariants();
  CheckPendingInvariants();
}

// Cursors: offset <= commit <= last; snapshot <= handed; applied <= handed <=
// commit (not under the injected apply-before-commit bug); persisted <=
// emitted <= last. The held entries are offset+1..last with
// non-decreasing terms.
void Raft::CheckLogInvariants() const {
  const RaftLog& l = log_;
  CHRONIK_CHECK_LE(l.snapshot_index(), l.handed)
      << "snapshot of entries not handed out";
  CHRONIK_CHECK_LE(l.offset(), l.commit) << "uncommitted entries dropped";
  CHRONIK_CHECK_LE(l.commit, l.last_index()) << "commit beyond the log";
  CHRONIK_CHECK_LE(l.applied, l.handed) << "applied beyond handed out";
  if (!config_.injected_bugs.apply_before_commit) {
    // (The injected bug hands out entries a new leader may then truncate.)
    CHRONIK_CHECK_LE(l.handed, l.commit) << "handed out uncommitted entries";
  }
  CHRONIK_CHECK_LE(l.persisted, l.emitted) << "persisted beyond emitted";
  CHRONIK_CHECK_LE(l.emitted, l.last_index()) << "emitted beyond the log";
  if (l.held_entries() > 0) {
    const Entry& first = l.At(l.first_index());
    const Entry& last = l.At(l.last_index());
    CHRONIK_CHECK_EQ(first.index, l.first_index()) << "held entries misplaced";
    CHRONIK_CHECK_EQ(last.index, l.last_index()) << "held entries misplaced";
    CHRONIK_CHECK_GE(first.term, *l.TermAt(l.offset()))
        << "term decreases after the anchor";
    CHRONIK_CHECK_LE(first.term, last.term) << "held terms decrease";
  }
  if (snapshot_ == nullptr) {
    CHRONIK_CHECK_EQ(l.snapshot_index(), 0u) << "snapshot index without one";
  } else {
    CHRONIK_CHECK_EQ(snapshot_->metadata.index, l.snapshot_index())
        << "kept snapshot is not the log's";
    CHRONIK_CHECK_EQ(snapshot_->metadata.term, l.snapshot_term())
        << "kept snapshot is not the log's";
  }
}

// Term, vote and leader agree with each other and with the role.
void Raft::CheckRoleInvariants() const {
  CHRONIK_CHECK(!quiesced_ || role_ == Role::kLeader ||
                role_ == Role::kFollower)
      << "a (pre-)candidate is never quiesced";
  CHRONIK_CHECK(!quiesced_ || config_.quiesce) << "quiesced without quiesce";
  CHRONIK_CHECK(term_ > 0 || (vote_ == kNoNode && lead_ == kNoNode))
      << "vote or leader without a term";
  CHRONIK_CHECK_LE(emitted_hard_state_.term, term_) << "term went back";
  CHRONIK_CHECK_LE(emitted_hard_state_.commit, log_.commit)
      << "commit went back";
  const bool voted_self = votes_.count(id_) > 0;
  // The injected two-votes bug lets a candidate or leader vote again.
  const bool own_vote =
      vote_ == id_ || config_.injected_bugs.grant_two_votes_per_term;
  switch (role_) {
    case Role::kLeader:
      CHRONIK_CHECK_EQ(lead_, id_) << "a leader must lead itself";
      CHRONIK_CHECK(own_vote) << "a leader voted for itself, not " << vote_;
      CHRONIK_CHECK(IsVoter(id_)) << "a leader must be a voter";
      CHRONIK_CHECK(votes_.empty()) << "a leader counts no votes";
      CHRONIK_CHECK(!self_vote_durable_) << "leader with candidate state";
      CHRONIK_CHECK_LE(pending_conf_index_, log_.last_index())
          << "pending conf change beyond the log";
      break;
    case Role::kCandidate:
      CHRONIK_CHECK(own_vote) << "a candidate votes for itself, not " << vote_;
      CHRONIK_CHECK_EQ(lead_, kNoNode) << "a candidate knows no leader";
      CHRONIK_CHECK_EQ(self_vote_durable_, voted_self)
          << "a candidate counts its own vote once it is durable";
      break;
    case Role::kPreCandidate:
      CHRONIK_CHECK_EQ(lead_, kNoNode) << "a pre-candidate knows no leader";
      CHRONIK_CHECK(voted_self) << "a pre-candidate votes for itself";
      CHRONIK_CHECK(!self_vote_durable_) << "pre-votes are not persisted";
      break;
    case Role::kFollower:
      CHRONIK_CHECK_NE(lead_, id_) << "a follower is not the leader";
      CHRONIK_CHECK(votes_.empty()) << "a follower counts no votes";
      CHRONIK_CHECK(!self_vote_durable_) << "follower with candidate state";
      break;
  }
  if (role_ == Role::kCandidate || role_ == Role::kPreCandidate) {
    CHRONIK_CHECK(campaign_allowed_)
        << "a node that may not campaign is no candidate";
  }
  if (role_ != Role::kLeader) {
    CHRONIK_CHECK_EQ(lead_transferee_, kNoNode) << "transfer by a non-leader";
    CHRONIK_CHECK(read_queue_.empty() && reads_before_commit_.empty())
        << "reads queued on a non-leader";
    CHRONIK_CHECK_EQ(uncommitted_bytes_, 0u) << "uncommitted bytes on a "
                                                "non-leader";
  }
}

// Membership lists are sorted sets; voters and learners are disjoint;
// learners_next are outgoing voters; only a joint config has outgoing voters
// or auto-leave; the history ends with the current config.
void Raft::CheckConfInvariants() const {
  const ConfState& c = conf_;
  CHRONIK_CHECK(IsSortedSet(c.voters) && IsSortedSet(c.learners) &&
                IsSortedSet(c.voters_outgoing) && IsSortedSet(c.learners_next))
      << "conf lists must be sorted sets: " << DescribeConfState(c);
  CHRONIK_CHECK(Disjoint(c.voters, c.learners) &&
                Disjoint(c.voters_outgoing, c.learners) &&
                Disjoint(c.voters, c.learners_next))
      << "a node is both voter and learner: " << DescribeConfState(c);
  CHRONIK_CHECK(Subset(c.learners_next, c.voters_outgoing))
      << "learners_next must be outgoing voters: " << DescribeConfState(c);
  if (c.voters_outgoing.empty()) {
    CHRONIK_CHECK(c.learners_next.empty() && !c.auto_leave)
        << "joint-only state outside a joint config: " << DescribeConfState(c);
  }
  CHRONIK_CHECK(!conf_history_.empty()) << "membership history lost";
  CHRONIK_CHECK(conf_history_.back().second == c)
      << "membership history does not end with the current config";
  for (size_t i = 1; i < conf_history_.size(); ++i) {
    CHRONIK_CHECK_LE(conf_history_[i - 1].first, conf_history_[i].first)
        << "membership history out of order";
  }
}

// Progress exists for every member but self (a leader's own match is its
// persisted index); each follower's match < next <= last + 1, and the state
// machine's per-state fields agree with the state.
void Raft::CheckProgressInvariants() const {
  CHRONIK_CHECK(progress_.count(id_) == 0) << "progress for itself";
  size_t members = 0;
  auto count = [&](const std::vector<NodeId>& ids) {
    for (NodeId id : ids) {
      if (id == id_) continue;
      CHRONIK_CHECK(progress_.count(id) > 0) << "no progress for " << id;
      ++members;
    }
  };
  count(conf_.voters);
  count(conf_.learners);
  for (NodeId id : conf_.voters_outgoing) {
    if (!Contains(conf_.voters, id)) count({id});
  }
  CHRONIK_CHECK_EQ(members, progress_.size()) << "progress for a non-member";
  for (const auto& [id, pr] : progress_) {
    CHRONIK_CHECK_EQ(pr.is_learner, !IsVoter(id)) << "learner flag of " << id;
  }
  if (role_ != Role::kLeader) return;
  for (const auto& [id, pr] : progress_) {
    CHRONIK_CHECK_LT(pr.match, pr.next) << "progress of " << id;
    CHRONIK_CHECK_LE(pr.next, log_.last_index() + 1) << "progress of " << id;
    CHRONIK_CHECK_EQ(pr.state == ProgressState::kSnapshot,
                     pr.pending_snapshot > 0)
        << "pending snapshot of " << id;
    if (pr.state != ProgressState::kReplicate) {
      CHRONIK_CHECK_EQ(pr.inflights.count(), 0u) << "in flight to " << id;
    }
    CHRONIK_CHECK_LE(pr.inflights.count(), config_.max_inflight_msgs)
        << "in flight to " << id;
  }
  if (lead_transferee_ != kNoNode) {
    auto it = progress_.find(lead_transferee_);
    CHRONIK_CHECK(it != progress_.end() && !it->second.is_learner)
        << "transfer to a non-voter " << lead_transferee_;
  }
}

// Queued outputs and pending work are well formed.
void Raft::CheckPendingInvariants() const {
  for (const std::vector<Message>* queue :
       {&messages_, &messages_after_persist_}) {
    for (const Message& m : *queue) {
      CHRONIK_CHECK(m.from == id_ && m.to != id_ && m.to != kNoNode &&
                    m.term > 0)
          << "malformed outgoing " << DescribeMessage(m);
    }
  }
  for (size_t i = 0; i < read_queue_.size(); ++i) {
    CHRONIK_CHECK_LE(read_queue_[i].seq, read_seq_) << "read from the future";
    if (i > 0) {
      CHRONIK_CHECK_LT(read_queue_[i - 1].seq, read_queue_[i].seq)
          << "reads out of order";
    }
  }
  Index previous = log_.applied;
  for (const auto& [index, change] : handed_conf_changes_) {
    CHRONIK_CHECK(index > previous && index <= log_.handed)
        << "handed conf change at " << index << " out of order";
    previous = index;
  }
}

}  // namespace chronik::raft
