// Raft (raft.h): roles and elections (PreVote, votes, becoming leader).

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "raft/node_ids.h"
#include "raft/raft.h"

namespace chronik::raft {

void Raft::ResetRandomizedElectionTimeout() {
  const uint64_t et = static_cast<uint64_t>(config_.election_timeout_ticks);
  randomized_election_timeout_ = static_cast<int>(et + rng_.Next() % et);
}

void Raft::ResetTerm(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  quiesced_ = false;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortTransfer();
  votes_.clear();
  self_vote_durable_ = false;
  read_queue_.clear();
  reads_before_commit_.clear();
  uncommitted_bytes_ = 0;
  for (auto& [id, pr] : progress_) {
    const bool learner = pr.is_learner;
    pr = Progress();
    pr.is_learner = learner;
    pr.next = log_.last_index() + 1;
  }
}

void Raft::BecomeFollower(Term term, NodeId lead) {
  const Role old_role = role_;
  const Term old_term = term_;
  ResetTerm(term);
  role_ = Role::kFollower;
  lead_ = lead;
  if (old_role != Role::kFollower || old_term != term) {
    Transition(absl::StrCat("became follower at term ", term_,
                            lead != kNoNode
                                ? absl::StrCat(" (leader ", lead, ")")
                                : std::string()));
  }
}

void Raft::BecomePreCandidate() {
  CHRONIK_CHECK(role_ != Role::kLeader);
  // A pre-candidate keeps its term and vote: nothing is persisted.
  votes_.clear();
  self_vote_durable_ = false;  // a candidate's flag (from a failed election)
  quiesced_ = false;
  role_ = Role::kPreCandidate;
  lead_ = kNoNode;
  Transition(absl::StrCat("became pre-candidate at term ", term_));
}

void Raft::BecomeCandidate() {
  CHRONIK_CHECK(role_ != Role::kLeader);
  ResetTerm(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
  Transition(absl::StrCat("became candidate at term ", term_));
}

void Raft::BecomeLeader() {
  CHRONIK_CHECK(role_ == Role::kCandidate);
  ResetTerm(term_);
  role_ = Role::kLeader;
  lead_ = id_;
  for (auto& [id, pr] : progress_) pr.recent_active = true;
  // No conf change may be proposed until everything up to here is applied: the
  // log may hold an uncommitted one from an earlier term.
  pending_conf_index_ = log_.last_index();
  Transition(absl::StrCat("became leader at term ", term_));
  // An empty entry of the new term lets the leader commit everything before it.
  AppendLeaderEntry(EntryType::kNormal, Bytes());
}

bool Raft::IsVoter(NodeId id) const {
  return Contains(conf_.voters, id) || Contains(conf_.voters_outgoing, id);
}

bool Raft::Promotable() const { return !joining_ && IsVoter(id_); }

bool Raft::HasUnappliedConfChange() const {
  if (!handed_conf_changes_.empty()) return true;
  for (Index i = std::max(log_.handed, log_.offset()) + 1; i <= log_.commit;
       ++i) {
    if (log_.At(i).type == EntryType::kConfChange) return true;
  }
  return false;
}

void Raft::Hup(CampaignKind kind) {
  if (role_ == Role::kLeader) return;
  if (!Promotable() || !campaign_allowed_) return;
  if (HasUnappliedConfChange()) {
    Transition("cannot campaign: committed conf change not yet applied");
    return;
  }
  if (kind == CampaignKind::kPreElection) {
    BecomePreCandidate();
  } else {
    BecomeCandidate();
  }
  const bool pre = kind == CampaignKind::kPreElection;
  // A pre-candidate votes for itself at once; a candidate only once its vote is
  // durable (OnPersisted), so a crash cannot make it vote twice in this term.
  if (pre) votes_[id_] = true;
  std::vector<NodeId> voters = conf_.voters;
  for (NodeId v : conf_.voters_outgoing) Insert(&voters, v);
  for (NodeId v : voters) {
    if (v == id_) continue;
    Message m;
    m.type = pre ? MessageType::kPreVote : MessageType::kVote;
    m.to = v;
    m.term = pre ? term_ + 1 : term_;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    if (kind == CampaignKind::kTransfer)
      m.context = Bytes::Copy(kTransferContext);
    Send(std::move(m));
  }
  if (pre) TallyVotes();
}

void Raft::TallyVotes() {
  CHRONIK_CHECK(role_ == Role::kCandidate || role_ == Role::kPreCandidate)
      << "only candidates count votes (role " << RoleName(role_) << ")";
  const VoteResult result = JointVote(conf_, votes_);
  if (result == VoteResult::kWon) {
    if (role_ == Role::kPreCandidate) {
      Hup(CampaignKind::kElection);
    } else if (role_ == Role::kCandidate) {
      BecomeLeader();
    }
  } else if (result == VoteResult::kLost) {
    BecomeFollower(term_, kNoNode);
  }
}

void Raft::Campaign() {
  Unquiesce();
  Hup(config_.pre_vote ? CampaignKind::kPreElection : CampaignKind::kElection);
}

void Raft::SetCampaignAllowed(bool allowed) {
  if (allowed == campaign_allowed_) return;
  campaign_allowed_ = allowed;
  Transition(allowed ? "may campaign again" : "may not campaign");
  if (!allowed && (role_ == Role::kCandidate || role_ == Role::kPreCandidate)) {
    // An election under way could still be won: give it up.
    BecomeFollower(term_, kNoNode);
  }
}

void Raft::StepVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                  (pre && m.term > term_);
  // A joining node's vote would count an empty log (its membership is not
  // known yet).
  if (joining_) can_vote = false;
  if (config_.injected_bugs.grant_two_votes_per_term && !pre) can_vote = true;
  Message r;
  r.type = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  r.to = m.from;
  if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
    r.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
      // The vote must be durable before the candidate hears of it.
      if (config_.injected_bugs.answer_vote_before_persisting) {
        Send(std::move(r));
      } else {
        SendAfterPersist(std::move(r));
      }
      return;
    }
    Send(std::move(r));
  } else {
    r.reject = true;
    Send(std::move(r));
  }
}

void Raft::StepCandidate(Message&& m) {
  switch (m.type) {
    case MessageType::kAppend:
      BecomeFollower(m.term, m.from);
      HandleAppend(std::move(m));
      break;
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      break;
    case MessageType::kSnapshot:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      break;
    case MessageType::kVoteResponse:
      if (role_ != Role::kCandidate) break;
      votes_.emplace(m.from, !m.reject);
      TallyVotes();
      break;
    case MessageType::kPreVoteResponse:
      if (role_ != Role::kPreCandidate) break;
      votes_.emplace(m.from, !m.reject);
      TallyVotes();
      break;
    default:
      break;
  }
}

}  // namespace chronik::raft
