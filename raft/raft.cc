#include "raft/raft.h"

#include <algorithm>
#include <limits>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::raft {
namespace {

// Context of a vote request sent on a leadership transfer: receivers grant it
// even inside a leader lease.
constexpr std::string_view kTransferContext = "transfer";

bool Contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::binary_search(ids.begin(), ids.end(), id);
}

void Insert(std::vector<NodeId>* ids, NodeId id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it == ids->end() || *it != id) ids->insert(it, id);
}

void Erase(std::vector<NodeId>* ids, NodeId id) {
  auto it = std::lower_bound(ids->begin(), ids->end(), id);
  if (it != ids->end() && *it == id) ids->erase(it);
}

std::vector<NodeId> Sorted(std::vector<NodeId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

Raft::Raft(const Config& config)
    : config_(config),
      id_(config.id),
      rng_(config.random_seed ^ (config.id * splitmix64::kGamma)) {
  CHRONIK_CHECK_NE(id_, kNoNode) << "Config::id must be set";
  CHRONIK_CHECK_GT(config_.election_timeout_ticks,
                   config_.heartbeat_timeout_ticks);
  CHRONIK_CHECK_GT(config_.heartbeat_timeout_ticks, 0);
  CHRONIK_CHECK_GT(config_.max_inflight_msgs, 0u);
  CHRONIK_CHECK_GT(config_.max_entries_bytes_per_msg, 0u);
  CHRONIK_CHECK(config_.read_only_option != ReadOnlyOption::kLease ||
                config_.check_quorum)
      << "lease reads need check_quorum";
  conf_.voters = Sorted(config.voters);
  conf_.learners = Sorted(config.learners);
  for (NodeId v : conf_.voters)
    CHRONIK_CHECK(!Contains(conf_.learners, v)) << v;
  conf_history_.push_back({0, conf_});
  log_.Reset(0, 0, 0, 0);
  RebuildProgress();
  BecomeFollower(0, kNoNode);
}

absl::Status Raft::Restore(const RecoveredState& r) {
  const HardState& hs = r.hard_state;
  const Index applied = std::max(r.applied, r.snapshot.index);
  if (hs.commit < r.snapshot.index) {
    return absl::InvalidArgumentError("hard state commit below snapshot index");
  }
  if (hs.vote != kNoNode && hs.term == 0) {
    return absl::InvalidArgumentError("vote without term");
  }
  Index offset = r.snapshot.index;
  Term offset_term = r.snapshot.term;
  size_t skip = 0;
  if (!r.entries.empty()) {
    for (size_t i = 1; i < r.entries.size(); ++i) {
      if (r.entries[i].index != r.entries[i - 1].index + 1 ||
          r.entries[i].term < r.entries[i - 1].term) {
        return absl::InvalidArgumentError("recovered entries not contiguous");
      }
    }
    const Entry& first = r.entries.front();
    if (first.index == r.snapshot.index + 1) {
      if (first.term < r.snapshot.term) {
        return absl::InvalidArgumentError("entry term below snapshot term");
      }
    } else if (first.index <= applied && first.index > r.snapshot.index) {
      offset = first.index;
      offset_term = first.term;
      skip = 1;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "recovered entries start at ", first.index, " but must start at ",
          r.snapshot.index + 1, " or at/below applied ", applied));
    }
  }
  log_.Reset(offset, offset_term, r.snapshot.index, r.snapshot.term);
  for (size_t i = skip; i < r.entries.size(); ++i) log_.Append(r.entries[i]);
  if (hs.commit > log_.last_index()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commit ", hs.commit, " beyond last index ", log_.last_index()));
  }
  if (applied > hs.commit) {
    return absl::InvalidArgumentError("applied beyond commit");
  }
  log_.commit = hs.commit;
  log_.persisted = log_.last_index();
  log_.emitted = log_.last_index();
  log_.applied = applied;
  log_.handed = applied;
  term_ = hs.term;
  vote_ = hs.vote;
  emitted_hard_state_ = hs;
  conf_ = r.conf_state;
  conf_history_.clear();
  conf_history_.push_back({applied, conf_});
  if (r.snapshot.index != 0) {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->metadata = r.snapshot;
    snapshot->data = r.snapshot_data;
    snapshot_ = std::move(snapshot);
  }
  // Committed conf changes after `applied` take effect when re-applied.
  RebuildProgress();
  BecomeFollower(term_, kNoNode);
  vote_ = hs.vote;
  Transition(absl::StrCat("restarted at term ", term_, " last ",
                          log_.last_index(), " commit ", log_.commit,
                          " applied ", applied));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------
// Roles

void Raft::Transition(const std::string& what) {
  if (config_.transition_logger) {
    config_.transition_logger(absl::StrCat(id_, " ", what));
  }
}

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

bool Raft::Promotable() const { return IsVoter(id_); }

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
  if (!Promotable()) return;
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
  Hup(config_.pre_vote ? CampaignKind::kPreElection : CampaignKind::kElection);
}

// ---------------------------------------------------------------------------------
// Ticks

void Raft::Tick() {
  // Saturate: a learner or removed member ticks forever without campaigning.
  if (election_elapsed_ < std::numeric_limits<int>::max()) ++election_elapsed_;
  if (role_ != Role::kLeader) {
    if (Promotable() && election_elapsed_ >= randomized_election_timeout_) {
      election_elapsed_ = 0;
      Campaign();
    }
    return;
  }
  ++heartbeat_elapsed_;
  if (election_elapsed_ >= config_.election_timeout_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum && !QuorumActive()) {
      Transition("stepped down: quorum not active");
      BecomeFollower(term_, kNoNode);
      return;
    }
    if (lead_transferee_ != kNoNode) {
      Transition(absl::StrCat("leadership transfer to ", lead_transferee_,
                              " timed out"));
      AbortTransfer();
    }
  }
  for (auto& [id, pr] : progress_) {
    if (pr.state == ProgressState::kSnapshot &&
        ++pr.snapshot_ticks >= 2 * config_.election_timeout_ticks) {
      // The snapshot (or its ack) was lost: probe again, which resends it.
      pr.BecomeProbe();
    }
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_timeout_ticks) {
    heartbeat_elapsed_ = 0;
    BroadcastHeartbeat();
  }
}

bool Raft::QuorumActive() {
  std::map<NodeId, bool> active;
  active[id_] = true;
  for (auto& [id, pr] : progress_) {
    if (pr.is_learner) continue;
    active[id] = pr.recent_active;
    pr.recent_active = false;
  }
  return JointVote(conf_, active) == VoteResult::kWon;
}

// ---------------------------------------------------------------------------------
// Messages in

absl::Status Raft::Step(Message&& m) {
  if (m.to != id_) {
    return absl::InvalidArgumentError(
        absl::StrCat("message to ", m.to, " stepped on ", id_));
  }
  if (m.term == 0) {
    return absl::InvalidArgumentError("message without term");
  }
  if (m.from == kNoNode || m.from == id_) {
    return absl::InvalidArgumentError("message from an invalid sender");
  }
  if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      const bool force = m.context.view() == kTransferContext;
      const bool in_lease = config_.check_quorum && lead_ != kNoNode &&
                            election_elapsed_ < config_.election_timeout_ticks;
      if (!force && in_lease)
        return absl::OkStatus();  // ignore: leader is alive
    }
    if (m.type == MessageType::kPreVote) {
      // Never change term on a pre-vote request.
    } else if (m.type == MessageType::kPreVoteResponse && !m.reject) {
      // A granted pre-vote carries the term we would campaign in.
    } else if (m.type == MessageType::kAppend ||
               m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnapshot) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A stale leader (perhaps partitioned): tell it our term so it steps
      // down.
      Message r;
      r.type = MessageType::kAppendResponse;
      r.to = m.from;
      Send(std::move(r));
    } else if (m.type == MessageType::kPreVote) {
      Message r;
      r.type = MessageType::kPreVoteResponse;
      r.to = m.from;
      r.reject = true;
      Send(std::move(r));
    }
    return absl::OkStatus();
  }
  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
    StepVoteRequest(m);
    return absl::OkStatus();
  }
  switch (role_) {
    case Role::kLeader:
      StepLeader(std::move(m));
      break;
    case Role::kCandidate:
    case Role::kPreCandidate:
      StepCandidate(std::move(m));
      break;
    case Role::kFollower:
      StepFollower(std::move(m));
      break;
  }
  return absl::OkStatus();
}

void Raft::StepVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                  (pre && m.term > term_);
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

void Raft::StepFollower(Message&& m) {
  switch (m.type) {
    case MessageType::kAppend:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppend(std::move(m));
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      break;
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshot(m);
      break;
    case MessageType::kTimeoutNow:
      if (Promotable()) {
        Transition(absl::StrCat("received TimeoutNow from ", m.from));
        Hup(CampaignKind::kTransfer);
      }
      break;
    case MessageType::kReadIndexResponse:
      read_states_.push_back(ReadState{m.index, m.context});
      break;
    default:
      break;
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

void Raft::StepLeader(Message&& m) {
  auto it = progress_.find(m.from);
  if (it != progress_.end()) it->second.recent_active = true;
  switch (m.type) {
    case MessageType::kAppendResponse:
      HandleAppendResponse(m);
      break;
    case MessageType::kHeartbeatResponse:
      HandleHeartbeatResponse(m);
      break;
    case MessageType::kReadIndex:
      (void)HandleReadRequest(m.from, m.context);
      break;
    default:
      break;
  }
}

void Raft::HandleAppend(Message&& m) {
  Message r;
  r.type = MessageType::kAppendResponse;
  r.to = m.from;
  if (m.index < log_.commit) {
    // Everything up to our commit index matches the leader's log already.
    r.index = log_.commit;
    SendAfterPersist(std::move(r));
    return;
  }
  if (!log_.MatchTerm(m.index, m.log_term)) {
    // Fast backtracking: point the leader at the last index that may match.
    auto [hint, hint_term] = log_.FindConflictByTerm(
        std::min(m.index, log_.last_index()), m.log_term);
    r.index = m.index;
    r.reject = true;
    r.reject_hint = hint;
    r.hint_term = hint_term;
    Send(std::move(r));
    return;
  }
  const Index last_new = m.index + m.entries.size();
  const Index conflict = log_.FindConflict(m.entries);
  if (conflict != 0) {
    CHRONIK_CHECK_GT(conflict, log_.commit)
        << "conflict with a committed entry";
    if (conflict <= log_.last_index()) log_.TruncateAfter(conflict - 1);
    for (Entry& e : m.entries) {
      if (e.index >= conflict) log_.Append(std::move(e));
    }
  }
  const Index commit = std::min(m.commit, last_new);
  if (commit > log_.commit) log_.commit = commit;
  r.index = last_new;
  SendAfterPersist(std::move(r));
}

void Raft::HandleHeartbeat(const Message& m) {
  // The leader sends min(commit, our match), which our log holds.
  if (m.commit > log_.commit) {
    log_.commit = std::min(m.commit, log_.last_index());
  }
  Message r;
  r.type = MessageType::kHeartbeatResponse;
  r.to = m.from;
  r.context = m.context;
  Send(std::move(r));
}

void Raft::HandleSnapshot(const Message& m) {
  CHRONIK_CHECK(m.snapshot != nullptr);
  const SnapshotMetadata& s = m.snapshot->metadata;
  Message r;
  r.type = MessageType::kAppendResponse;
  r.to = m.from;
  if (s.index <= log_.commit) {
    r.index = log_.commit;
  } else if (log_.MatchTerm(s.index, s.term)) {
    // We hold the snapshot's last entry: just commit up to it.
    log_.commit = s.index;
    r.index = s.index;
  } else {
    Transition(
        absl::StrCat("installing snapshot at ", s.index, " term ", s.term));
    log_.Reset(s.index, s.term, s.index, s.term);
    log_.commit = s.index;
    log_.emitted = s.index;  // the snapshot itself is the storage work
    log_.persisted = std::min(log_.persisted, s.index);
    log_.handed = s.index;
    if (log_.applied > s.index) log_.applied = s.index;
    handed_conf_changes_.clear();
    snapshot_to_persist_ = *m.snapshot;
    snapshot_ = m.snapshot;
    conf_ = s.conf_state;
    conf_history_.clear();
    conf_history_.push_back({s.index, conf_});
    conf_changed_ = conf_;
    RebuildProgress();
    r.index = s.index;
  }
  SendAfterPersist(std::move(r));
}

void Raft::HandleAppendResponse(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  if (m.reject) {
    Index hint = m.reject_hint;
    if (m.hint_term > 0)
      hint = log_.FindConflictByTerm(m.reject_hint, m.hint_term).first;
    if (pr.MaybeDecrTo(m.index, hint)) {
      if (pr.state == ProgressState::kReplicate) pr.BecomeProbe();
      SendAppend(m.from, pr, /*send_if_empty=*/true);
    }
    return;
  }
  const bool was_paused =
      pr.IsPaused(config_.max_inflight_msgs, config_.max_inflight_bytes);
  if (!pr.MaybeUpdate(m.index)) {
    if (was_paused && pr.state == ProgressState::kProbe) {
      SendAppend(m.from, pr, false);
    }
    return;
  }
  switch (pr.state) {
    case ProgressState::kProbe:
      pr.BecomeReplicate();
      break;
    case ProgressState::kSnapshot:
      if (pr.match >= pr.pending_snapshot) {
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate:
      pr.inflights.FreeLE(pr.match);
      break;
  }
  if (MaybeCommit()) {
    broadcast_pending_ = true;
    broadcast_commit_ = true;
  }
  // More to send to this follower (batched with everything pending at
  // GetReady).
  if (pr.next <= log_.last_index()) broadcast_pending_ = true;
  if (m.from == lead_transferee_ && pr.match == log_.last_index()) {
    Transition(absl::StrCat("sent TimeoutNow to ", m.from, " (caught up)"));
    SendTimeoutNow(m.from);
  }
}

void Raft::HandleHeartbeatResponse(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& pr = it->second;
  pr.probe_sent = false;
  if (pr.match < log_.last_index()) {
    if (pr.state == ProgressState::kReplicate) {
      // Sent (or paused by a full window) but not acknowledged: an append may
      // have been lost. An empty append at next-1 makes the follower ack
      // everything up to there, or reject, which moves it back to probing.
      if (log_.TermAt(pr.next - 1).has_value()) {
        SendEmptyAppend(m.from, pr);
      } else {
        // next-1 is older than memory: fall back to probing, which reads it.
        pr.BecomeProbe();
        SendAppend(m.from, pr, true);
      }
    } else {
      SendAppend(m.from, pr, false);
    }
  }
  if (m.context.empty() || read_queue_.empty()) return;
  uint64_t seq = 0;
  if (!absl::SimpleAtoi(absl::string_view(m.context.data(), m.context.size()),
                        &seq)) {
    return;
  }
  for (ReadRequest& req : read_queue_) {
    if (req.seq > seq) break;
    Insert(&req.acks, m.from);
  }
  // Acks of a later request imply acks of every earlier one, so releasing from
  // the front is enough.
  while (!read_queue_.empty()) {
    std::map<NodeId, bool> acks;
    for (NodeId a : read_queue_.front().acks) acks[a] = true;
    if (JointVote(conf_, acks) != VoteResult::kWon) break;
    ReleaseRead(read_queue_.front());
    read_queue_.erase(read_queue_.begin());
  }
}

// ---------------------------------------------------------------------------------
// Messages out

void Raft::Send(Message m) {
  m.from = id_;
  if (m.term == 0) m.term = term_;
  messages_.push_back(std::move(m));
}

void Raft::SendAfterPersist(Message m) {
  m.from = id_;
  if (m.term == 0) m.term = term_;
  messages_after_persist_.push_back(std::move(m));
}

void Raft::BroadcastAppend(bool send_if_empty) {
  for (auto& [id, pr] : progress_) SendAppend(id, pr, send_if_empty);
}

bool Raft::SendAppend(NodeId to, Progress& pr, bool send_if_empty) {
  bool sent = false;
  while (!pr.IsPaused(config_.max_inflight_msgs, config_.max_inflight_bytes) &&
         !pr.log_read_pending) {
    const Index prev = pr.next - 1;
    if (prev < log_.offset()) {
      if (prev < log_.snapshot_index() ||
          log_.snapshot_index() == log_.offset()) {
        SendSnapshot(to, pr);
        return true;
      }
      // Older than memory: ask the driver to read it from storage.
      LogRead read;
      read.to = to;
      read.lo = prev == log_.snapshot_index() ? prev + 1 : prev;
      read.hi = log_.offset();
      read.max_bytes = config_.max_entries_bytes_per_msg;
      pr.log_read_pending = true;
      pr.log_read_prev = prev;
      log_reads_.push_back(read);
      return sent;
    }
    Message m;
    m.type = MessageType::kAppend;
    m.to = to;
    m.index = prev;
    m.log_term = *log_.TermAt(prev);
    m.commit = log_.commit;
    uint64_t bytes = 0;
    if (pr.next <= log_.last_index() && pr.state != ProgressState::kSnapshot) {
      bytes = log_.Slice(pr.next, log_.last_index(),
                         config_.max_entries_bytes_per_msg, &m.entries);
    }
    // A probe goes out even when empty: it is how the follower's position is
    // found.
    if (m.entries.empty() && !send_if_empty &&
        pr.state != ProgressState::kProbe) {
      return sent;
    }
    if (!m.entries.empty()) {
      const Index last = m.entries.back().index;
      if (pr.state == ProgressState::kReplicate) {
        pr.next = last + 1;
        pr.inflights.Add(last, bytes);
      } else {
        pr.probe_sent = true;
      }
    } else if (pr.state == ProgressState::kProbe) {
      pr.probe_sent = true;
    }
    Send(std::move(m));
    sent = true;
    send_if_empty = false;
    if (pr.next > log_.last_index()) break;
  }
  return sent;
}

void Raft::SendEmptyAppend(NodeId to, const Progress& pr) {
  const Index prev = pr.next - 1;
  std::optional<Term> term = log_.TermAt(prev);
  CHRONIK_CHECK(term.has_value()) << "empty append at unknown index " << prev;
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.index = prev;
  m.log_term = *term;
  m.commit = log_.commit;
  Send(std::move(m));
}

void Raft::SendSnapshot(NodeId to, Progress& pr) {
  if (snapshot_ == nullptr) {
    Transition(absl::StrCat("needs a snapshot for ", to, " but has none"));
    return;
  }
  Message m;
  m.type = MessageType::kSnapshot;
  m.to = to;
  m.snapshot = snapshot_;
  Transition(
      absl::StrCat("sent snapshot at ", snapshot_->metadata.index, " to ", to));
  pr.BecomeSnapshot(snapshot_->metadata.index);
  Send(std::move(m));
}

void Raft::SendHeartbeat(NodeId to, Progress& pr, const Bytes& context) {
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // Never claim a commit index the follower may not hold.
  m.commit = std::min(pr.match, log_.commit);
  m.context = context;
  Send(std::move(m));
}

void Raft::BroadcastHeartbeat() {
  Bytes context;
  if (!read_queue_.empty()) {
    context = Bytes::Own(absl::StrCat(read_queue_.back().seq));
  }
  for (auto& [id, pr] : progress_) SendHeartbeat(id, pr, context);
}

void Raft::SendTimeoutNow(NodeId to) {
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

bool Raft::MaybeCommit() {
  const Index self_match = std::min(log_.persisted, log_.last_index());
  Index index = std::min(
      MajorityCommitted(conf_.voters, progress_, id_, self_match),
      MajorityCommitted(conf_.voters_outgoing, progress_, id_, self_match));
  if (index <= log_.commit || index > log_.last_index()) return false;
  // Figure 8: only entries of the leader's own term are committed by counting.
  if (!config_.injected_bugs.commit_old_term_by_counting &&
      *log_.TermAt(index) != term_) {
    return false;
  }
  const bool first_in_term = !CommittedInTerm();
  if (config_.max_uncommitted_entries_bytes != 0) {
    for (Index i = std::max(log_.commit, log_.offset()) + 1; i <= index; ++i) {
      const uint64_t size = log_.At(i).data.size();
      uncommitted_bytes_ -= std::min(uncommitted_bytes_, size);
    }
  }
  log_.commit = index;
  if (first_in_term && CommittedInTerm()) ReleasePendingReads();
  return true;
}

bool Raft::AppendLeaderEntry(EntryType type, Bytes data) {
  const uint64_t size = data.size();
  Entry e;
  e.term = term_;
  e.index = log_.last_index() + 1;
  e.type = type;
  e.data = std::move(data);
  log_.Append(std::move(e));
  uncommitted_bytes_ += size;
  broadcast_pending_ = true;
  return true;
}

void Raft::AbortTransfer() { lead_transferee_ = kNoNode; }

// ---------------------------------------------------------------------------------
// Proposals

absl::Status Raft::Propose(Bytes data) {
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError(
        absl::StrCat("not leader (leader=", lead_, ")"));
  }
  if (lead_transferee_ != kNoNode) {
    return absl::UnavailableError(absl::StrCat(
        "leadership transfer to ", lead_transferee_, " in progress"));
  }
  if (config_.max_uncommitted_entries_bytes != 0 && uncommitted_bytes_ > 0 &&
      uncommitted_bytes_ + data.size() >
          config_.max_uncommitted_entries_bytes) {
    return absl::UnavailableError("too many uncommitted bytes");
  }
  AppendLeaderEntry(EntryType::kNormal, std::move(data));
  return absl::OkStatus();
}

absl::Status Raft::CheckConfChange(const ConfChange& change) const {
  const bool joint = !conf_.voters_outgoing.empty();
  if (change.changes.empty()) {
    if (!joint) return absl::FailedPreconditionError("not in a joint config");
    return absl::OkStatus();
  }
  if (joint) {
    return absl::FailedPreconditionError("must leave the joint config first");
  }
  if (change.changes.size() > kMaxConfChangeItems) {
    return absl::InvalidArgumentError("too many changes at once");
  }
  ConfState next = conf_;
  for (const ConfChangeSingle& c : change.changes) {
    if (c.node_id == kNoNode) return absl::InvalidArgumentError("node id 0");
    if (c.type == ConfChangeType::kAddVoter) {
      Insert(&next.voters, c.node_id);
      Erase(&next.learners, c.node_id);
    } else if (c.type == ConfChangeType::kAddLearner) {
      Erase(&next.voters, c.node_id);
      Insert(&next.learners, c.node_id);
    } else {
      Erase(&next.voters, c.node_id);
      Erase(&next.learners, c.node_id);
    }
  }
  if (next.voters.empty()) return absl::InvalidArgumentError("no voters left");
  // Duplicate node ids within one change are refused: their order would matter.
  for (size_t i = 0; i < change.changes.size(); ++i) {
    for (size_t j = i + 1; j < change.changes.size(); ++j) {
      if (change.changes[i].node_id == change.changes[j].node_id) {
        return absl::InvalidArgumentError("node named twice in one change");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Raft::ProposeConfChange(const ConfChange& change) {
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError(
        absl::StrCat("not leader (leader=", lead_, ")"));
  }
  if (lead_transferee_ != kNoNode) {
    return absl::UnavailableError("leadership transfer in progress");
  }
  if (pending_conf_index_ > log_.applied) {
    return absl::FailedPreconditionError(
        absl::StrCat("conf change at ", pending_conf_index_,
                     " not yet applied (applied ", log_.applied, ")"));
  }
  absl::Status valid = CheckConfChange(change);
  if (!valid.ok()) return valid;
  AppendLeaderEntry(EntryType::kConfChange, EncodeConfChange(change));
  pending_conf_index_ = log_.last_index();
  return absl::OkStatus();
}

absl::Status Raft::TransferLeadership(NodeId transferee) {
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError(
        absl::StrCat("not leader (leader=", lead_, ")"));
  }
  if (transferee == id_) return absl::InvalidArgumentError("already leader");
  auto it = progress_.find(transferee);
  if (it == progress_.end() || it->second.is_learner) {
    return absl::InvalidArgumentError(
        absl::StrCat(transferee, " is not a voter"));
  }
  if (lead_transferee_ == transferee) return absl::OkStatus();
  lead_transferee_ = transferee;
  // The transfer must finish within one election timeout.
  election_elapsed_ = 0;
  Transition(absl::StrCat("transferring leadership to ", transferee));
  Progress& pr = it->second;
  if (pr.match == log_.last_index()) {
    SendTimeoutNow(transferee);
  } else {
    SendAppend(transferee, pr, false);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------
// Reads

bool Raft::CommittedInTerm() const {
  std::optional<Term> t = log_.TermAt(log_.commit);
  return t.has_value() && *t == term_;
}

absl::Status Raft::ReadIndex(Bytes context) {
  if (role_ == Role::kLeader) {
    if (!HandleReadRequest(id_, std::move(context))) {
      return absl::UnavailableError("too many pending read requests");
    }
    return absl::OkStatus();
  }
  if (lead_ == kNoNode) return absl::UnavailableError("no leader");
  Message m;
  m.type = MessageType::kReadIndex;
  m.to = lead_;
  m.context = std::move(context);
  Send(std::move(m));
  return absl::OkStatus();
}

bool Raft::HandleReadRequest(NodeId from, Bytes context) {
  ReadRequest req{std::move(context), from, log_.commit, 0, {}};
  std::map<NodeId, bool> self_only{{id_, true}};
  if (JointVote(conf_, self_only) == VoteResult::kWon) {
    ReleaseRead(req);  // a single voter confirms its own leadership
    return true;
  }
  if (read_queue_.size() + reads_before_commit_.size() >=
      config_.max_pending_read_requests) {
    return false;  // a remote requester simply retries
  }
  if (!CommittedInTerm()) {
    // The commit index is only known to be current once an entry of this term
    // is committed; hold the read until then.
    reads_before_commit_.emplace_back(from, std::move(req.context));
    return true;
  }
  if (config_.read_only_option == ReadOnlyOption::kLease) {
    ReleaseRead(req);
    return true;
  }
  req.seq = ++read_seq_;
  req.acks.push_back(id_);
  read_queue_.push_back(std::move(req));
  // One heartbeat round (sent at GetReady) confirms every read queued by then.
  heartbeat_pending_ = true;
  return true;
}

void Raft::ReleaseRead(const ReadRequest& request) {
  if (request.from == id_) {
    read_states_.push_back(ReadState{request.index, request.context});
    return;
  }
  Message m;
  m.type = MessageType::kReadIndexResponse;
  m.to = request.from;
  m.index = request.index;
  m.context = request.context;
  Send(std::move(m));
}

void Raft::ReleasePendingReads() {
  std::vector<std::pair<NodeId, Bytes>> pending;
  pending.swap(reads_before_commit_);
  for (auto& [from, context] : pending) {
    (void)HandleReadRequest(from, std::move(context));
  }
}

// ---------------------------------------------------------------------------------
// Membership

void Raft::RebuildProgress() {
  std::map<NodeId, Progress> next;
  auto add = [&](NodeId id, bool learner) {
    if (id == id_) return;
    auto it = progress_.find(id);
    Progress pr;
    if (it != progress_.end()) {
      pr = std::move(it->second);
    } else {
      pr.next = log_.last_index() + 1;
      pr.recent_active =
          true;  // a new member gets one CheckQuorum round of grace
    }
    pr.is_learner = learner;
    next.emplace(id, std::move(pr));
  };
  for (NodeId v : conf_.voters) add(v, false);
  for (NodeId v : conf_.voters_outgoing) add(v, false);
  for (NodeId v : conf_.learners) add(v, true);
  for (NodeId v : conf_.learners_next) add(v, true);
  progress_ = std::move(next);
}

void Raft::ApplyConfChange(Index index, const ConfChange& change) {
  if (change.changes.empty()) {
    if (conf_.voters_outgoing.empty()) return;  // already left
    conf_.voters_outgoing.clear();
    for (NodeId l : conf_.learners_next) Insert(&conf_.learners, l);
    conf_.learners_next.clear();
    conf_.auto_leave = false;
  } else {
    const bool enter_joint = change.joint || change.changes.size() > 1;
    if (enter_joint) {
      conf_.voters_outgoing = conf_.voters;
      conf_.auto_leave = true;
    }
    for (const ConfChangeSingle& c : change.changes) {
      const NodeId id = c.node_id;
      switch (c.type) {
        case ConfChangeType::kAddVoter:
          Insert(&conf_.voters, id);
          Erase(&conf_.learners, id);
          Erase(&conf_.learners_next, id);
          break;
        case ConfChangeType::kAddLearner:
          Erase(&conf_.voters, id);
          if (Contains(conf_.voters_outgoing, id)) {
            Insert(&conf_.learners_next,
                   id);  // a voter until the joint config ends
          } else {
            Insert(&conf_.learners, id);
          }
          break;
        case ConfChangeType::kRemoveNode:
          Erase(&conf_.voters, id);
          Erase(&conf_.learners, id);
          Erase(&conf_.learners_next, id);
          break;
      }
    }
  }
  conf_history_.push_back({index, conf_});
  conf_changed_ = conf_;
  Transition(absl::StrCat("applied conf change at ", index, ": ",
                          DescribeConfState(conf_)));
  RebuildProgress();
  if (role_ != Role::kLeader) return;
  if (!IsVoter(id_)) {
    Transition("stepping down: removed from the configuration");
    BecomeFollower(term_, kNoNode);
    return;
  }
  if (lead_transferee_ != kNoNode && !progress_.contains(lead_transferee_)) {
    AbortTransfer();
  }
  if (MaybeCommit()) broadcast_commit_ = true;
  broadcast_pending_ = true;
}

void Raft::MaybeAutoLeave() {
  if (role_ != Role::kLeader || conf_.voters_outgoing.empty() ||
      !conf_.auto_leave)
    return;
  if (pending_conf_index_ > log_.applied || lead_transferee_ != kNoNode) return;
  AppendLeaderEntry(EntryType::kConfChange, EncodeConfChange(ConfChange{}));
  pending_conf_index_ = log_.last_index();
  Transition("proposed leaving the joint config");
}

std::optional<ConfState> Raft::ConfStateAt(Index index) const {
  const ConfState* found = nullptr;
  for (const auto& [at, conf] : conf_history_) {
    if (at <= index) found = &conf;
  }
  if (found == nullptr) return std::nullopt;
  return *found;
}

// ---------------------------------------------------------------------------------
// Completions

void Raft::OnPersisted(const PersistAck& ack) {
  if (ack.log_index != 0 && ack.log_index > log_.persisted &&
      ack.log_index <= log_.emitted &&
      log_.MatchTerm(ack.log_index, ack.log_term)) {
    log_.persisted = ack.log_index;
    if (role_ == Role::kLeader && MaybeCommit()) {
      broadcast_pending_ = true;
      broadcast_commit_ = true;
    }
  }
  if (role_ == Role::kCandidate && !self_vote_durable_ &&
      ack.hard_state.term == term_ && ack.hard_state.vote == id_) {
    self_vote_durable_ = true;
    votes_.emplace(id_, true);
    TallyVotes();
  }
  MaybeCompactMemory();
}

void Raft::OnApplied(Index index) {
  CHRONIK_CHECK_LE(index, std::max(log_.handed, log_.snapshot_index()))
      << "applied beyond what was handed out";
  if (index <= log_.applied) return;
  log_.applied = index;
  while (!handed_conf_changes_.empty() &&
         handed_conf_changes_.front().first <= index) {
    auto [at, change] = std::move(handed_conf_changes_.front());
    handed_conf_changes_.erase(handed_conf_changes_.begin());
    ApplyConfChange(at, change);
  }
  MaybeAutoLeave();
  MaybeCompactMemory();
}

void Raft::MaybeCompactMemory() {
  const Index stable = std::min(log_.applied, log_.persisted);
  if (config_.max_log_tail_bytes > 0) {
    log_.DropOldestWhileOver(stable, config_.max_log_tail_bytes);
  }
  if (stable <= log_.offset() + config_.max_log_tail_entries) return;
  // Drop in chunks so the deque is not trimmed on every call.
  const Index keep_from = stable - config_.max_log_tail_entries;
  if (keep_from - log_.offset() <
      std::max<size_t>(1, config_.max_log_tail_entries / 4)) {
    return;
  }
  log_.DropPrefix(keep_from);
}

void Raft::OnLogRead(const LogRead& read,
                     absl::StatusOr<std::vector<Entry>> entries) {
  auto it = progress_.find(read.to);
  if (it == progress_.end() || role_ != Role::kLeader) return;
  Progress& pr = it->second;
  if (!pr.log_read_pending) return;
  const Index prev = pr.log_read_prev;
  if (read.lo != prev && read.lo != prev + 1) return;  // an older read's answer
  pr.log_read_pending = false;
  if (pr.next - 1 != prev || pr.state == ProgressState::kSnapshot) {
    broadcast_pending_ = true;  // the follower moved on: resend from memory
    return;
  }
  std::optional<Term> prev_term;
  size_t first = 0;
  if (entries.ok() && !entries->empty() && (*entries)[0].index == read.lo) {
    if (read.lo == prev) {
      prev_term = (*entries)[0].term;
      first = 1;
    } else if (prev == log_.snapshot_index()) {
      prev_term = log_.snapshot_term();
    }
  }
  if (!prev_term.has_value()) {
    SendSnapshot(read.to, pr);
    return;
  }
  Message m;
  m.type = MessageType::kAppend;
  m.to = read.to;
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = log_.commit;
  uint64_t bytes = 0;
  for (size_t i = first; i < entries->size(); ++i) {
    CHRONIK_CHECK_EQ((*entries)[i].index, prev + 1 + (i - first));
    bytes += (*entries)[i].data.size();
    m.entries.push_back(std::move((*entries)[i]));
  }
  if (!m.entries.empty()) {
    const Index last = m.entries.back().index;
    if (pr.state == ProgressState::kReplicate) {
      pr.next = last + 1;
      pr.inflights.Add(last, bytes);
    } else {
      pr.probe_sent = true;
    }
  }
  Send(std::move(m));
}

absl::Status Raft::OnSnapshotTaken(Index index, Bytes data) {
  if (index > log_.applied) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot at ", index, " beyond applied ", log_.applied));
  }
  if (index <= log_.snapshot_index()) {
    return absl::InvalidArgumentError(
        "snapshot not newer than the current one");
  }
  std::optional<Term> term = log_.TermAt(index);
  if (!term.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("term at ", index, " unknown"));
  }
  std::optional<ConfState> conf = ConfStateAt(index);
  if (!conf.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("membership at ", index, " unknown"));
  }
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->metadata.index = index;
  snapshot->metadata.term = *term;
  snapshot->metadata.conf_state = *std::move(conf);
  snapshot->data = std::move(data);
  snapshot_ = std::move(snapshot);
  log_.SetSnapshot(index, *term);
  while (conf_history_.size() > 1 && conf_history_[1].first <= index) {
    conf_history_.erase(conf_history_.begin());
  }
  Transition(absl::StrCat("took snapshot at ", index, " term ", *term));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------
// Ready

bool Raft::HasReady() const {
  if (!messages_.empty() || !messages_after_persist_.empty() ||
      !read_states_.empty() || !log_reads_.empty() || snapshot_to_persist_ ||
      conf_changed_ || broadcast_pending_ || heartbeat_pending_) {
    return true;
  }
  if (log_.emitted < log_.last_index()) return true;
  if (HardState{term_, vote_, log_.commit} != emitted_hard_state_) return true;
  const Index apply_limit = config_.injected_bugs.apply_before_commit
                                ? log_.persisted
                                : std::min(log_.commit, log_.persisted);
  return log_.handed < apply_limit;
}

Ready Raft::GetReady() {
  if (role_ == Role::kLeader && heartbeat_pending_) BroadcastHeartbeat();
  heartbeat_pending_ = false;
  if (role_ == Role::kLeader && broadcast_pending_) {
    BroadcastAppend(broadcast_commit_);
  }
  broadcast_pending_ = false;
  broadcast_commit_ = false;
  Ready rd;
  if (snapshot_to_persist_) {
    rd.persist_ack.log_term = snapshot_to_persist_->metadata.term;
    rd.persist_ack.log_index = snapshot_to_persist_->metadata.index;
    rd.snapshot = std::move(snapshot_to_persist_);
    snapshot_to_persist_.reset();
  }
  if (log_.emitted < log_.last_index()) {
    rd.entries.reserve(log_.last_index() - log_.emitted);
    for (Index i = log_.emitted + 1; i <= log_.last_index(); ++i) {
      rd.entries.push_back(log_.At(i));
    }
    log_.emitted = log_.last_index();
    rd.persist_ack.log_term = rd.entries.back().term;
    rd.persist_ack.log_index = rd.entries.back().index;
  }
  const HardState hs{term_, vote_, log_.commit};
  if (hs != emitted_hard_state_) {
    rd.hard_state = hs;
    emitted_hard_state_ = hs;
  }
  rd.persist_ack.hard_state = emitted_hard_state_;
  rd.messages = std::move(messages_);
  messages_.clear();
  rd.messages_after_persist = std::move(messages_after_persist_);
  messages_after_persist_.clear();
  // Committed entries go out for apply only once durable here.
  const Index apply_limit = config_.injected_bugs.apply_before_commit
                                ? log_.persisted
                                : std::min(log_.commit, log_.persisted);
  uint64_t bytes = 0;
  while (log_.handed < apply_limit) {
    const Entry& e = log_.At(log_.handed + 1);
    if (!rd.committed_entries.empty() &&
        bytes + e.data.size() > config_.max_committed_bytes_per_ready) {
      break;
    }
    bytes += e.data.size();
    if (e.type == EntryType::kConfChange) {
      absl::StatusOr<ConfChange> change = DecodeConfChange(e.data.view());
      CHRONIK_CHECK(change.ok()) << "undecodable conf change at " << e.index
                                 << ": " << change.status();
      handed_conf_changes_.emplace_back(e.index, *std::move(change));
    }
    rd.committed_entries.push_back(e);
    ++log_.handed;
  }
  rd.read_states = std::move(read_states_);
  read_states_.clear();
  rd.log_reads = std::move(log_reads_);
  log_reads_.clear();
  if (conf_changed_) {
    rd.conf_state = std::move(conf_changed_);
    conf_changed_.reset();
  }
  return rd;
}

NodeStatus Raft::Status() const {
  NodeStatus s;
  s.id = id_;
  s.role = role_;
  s.hard_state = HardState{term_, vote_, log_.commit};
  s.leader = lead_;
  s.applied = log_.applied;
  s.persisted = log_.persisted;
  s.last_index = log_.last_index();
  s.snapshot_index = log_.snapshot_index();
  s.transferee = lead_transferee_;
  s.conf_state = conf_;
  if (role_ == Role::kLeader) {
    for (const auto& [id, pr] : progress_) {
      ProgressStatus p;
      p.id = id;
      p.match = pr.match;
      p.next = pr.next;
      p.state = pr.state;
      p.is_learner = pr.is_learner;
      p.recent_active = pr.recent_active;
      p.inflight_msgs = pr.inflights.count();
      p.inflight_bytes = pr.inflights.bytes();
      p.pending_snapshot = pr.pending_snapshot;
      p.log_read_pending = pr.log_read_pending;
      s.progress.push_back(p);
    }
  }
  return s;
}

}  // namespace chronik::raft
