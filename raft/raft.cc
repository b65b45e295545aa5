// Raft (raft.h): construction and restart, ticks, the message entry point
// and the follower side of replication, completions, Ready and Status.
// Elections are in raft_election.cc, the leader side of replication and reads
// in raft_replication.cc, membership in raft_membership.cc, the invariant
// checker in raft_invariants.cc.

#include "raft/raft.h"

#include <algorithm>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "raft/node_ids.h"

namespace chronik::raft {

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
  joining_ = config.joining;
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

void Raft::Transition(const std::string& what) {
  if (config_.transition_logger) {
    config_.transition_logger(absl::StrCat(id_, " ", what));
  }
}

void Raft::Tick() {
  if (quiesced_) return;  // the driver watches the members' nodes instead
  // Saturate: a learner or removed member ticks forever without campaigning.
  if (election_elapsed_ < std::numeric_limits<int>::max()) ++election_elapsed_;
  if (role_ != Role::kLeader) {
    if (Promotable() && campaign_allowed_ &&
        election_elapsed_ >= randomized_election_timeout_) {
      election_elapsed_ = 0;
      ++election_timeouts_;
      Campaign();
    }
    return;
  }
  ++heartbeat_elapsed_;
  if (election_elapsed_ >= config_.election_timeout_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum && !QuorumActive()) {
      Transition("stepped down: quorum not active");
      ++quorum_step_downs_;
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
    const bool quiesce = CanQuiesce();
    BroadcastHeartbeat(quiesce);
    if (quiesce) quiesced_ = true;
  }
}

bool Raft::QuorumActive() {
  const bool active = QuorumRecentlyActive();
  for (auto& [id, pr] : progress_) {
    if (!pr.is_learner) pr.recent_active = false;
  }
  return active;
}

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
  if (m.type == MessageType::kNodeHeartbeat) {
    return absl::InvalidArgumentError("a node heartbeat is the driver's");
  }
  if (quiesced_) WakeOnMessage(m);
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
      if (Promotable() && campaign_allowed_) {
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
  CHRONIK_CHECK(role_ == Role::kFollower) << "only a follower accepts appends";
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
  // Quiesce only holding the leader's whole log, all of it committed.
  if (m.quiesce && config_.quiesce && log_.commit == log_.last_index() &&
      m.commit == log_.last_index()) {
    quiesced_ = true;
  }
}

void Raft::HandleSnapshot(const Message& m) {
  CHRONIK_CHECK(role_ == Role::kFollower)
      << "only a follower installs snapshots";
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
    joining_ = false;  // the leader's membership
    RebuildProgress();
    r.index = s.index;
  }
  SendAfterPersist(std::move(r));
}

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

absl::Status Raft::OnSnapshotTaken(Index index, Bytes data) {
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
  SnapshotMetadata metadata;
  metadata.index = index;
  metadata.term = *term;
  metadata.conf_state = *std::move(conf);
  return OnLogCompacted(metadata, std::move(data));
}

absl::Status Raft::OnLogCompacted(const SnapshotMetadata& metadata,
                                  Bytes data) {
  const Index index = metadata.index;
  if (index > log_.applied) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot at ", index, " beyond applied ", log_.applied));
  }
  if (index <= log_.snapshot_index()) {
    return absl::InvalidArgumentError(
        "snapshot not newer than the current one");
  }
  // What memory still knows must agree with what the driver says.
  if (std::optional<Term> term = log_.TermAt(index);
      term.has_value() && *term != metadata.term) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot at ", index,
                                                   " has term ", metadata.term,
                                                   " but the log ", *term));
  }
  if (std::optional<ConfState> conf = ConfStateAt(index);
      conf.has_value() && *conf != metadata.conf_state) {
    return absl::InvalidArgumentError(
        absl::StrCat("snapshot at ", index, " names another membership"));
  }
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->metadata = metadata;
  snapshot->data = std::move(data);
  snapshot_ = std::move(snapshot);
  log_.SetSnapshot(index, metadata.term);
  while (conf_history_.size() > 1 && conf_history_[1].first <= index) {
    conf_history_.erase(conf_history_.begin());
  }
  Transition(absl::StrCat("took snapshot at ", index, " term ", metadata.term));
  return absl::OkStatus();
}

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
  s.election_timeouts = election_timeouts_;
  s.quorum_step_downs = quorum_step_downs_;
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
