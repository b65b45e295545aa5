// Raft (raft.h): the leader side of replication (appends, snapshots,
// heartbeats, flow control, the commit rule), proposals, leadership transfer
// and linearizable reads (ReadIndex).

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "raft/node_ids.h"
#include "raft/raft.h"

namespace chronik::raft {

void Raft::HandleAppendResponse(const Message& m) {
  CHRONIK_CHECK(role_ == Role::kLeader)
      << "only a leader handles append responses";
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
  CHRONIK_CHECK(role_ == Role::kLeader)
      << "only a leader handles heartbeat responses";
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

void Raft::BroadcastAppend(bool send_if_empty) {
  for (auto& [id, pr] : progress_) SendAppend(id, pr, send_if_empty);
}

bool Raft::SendAppend(NodeId to, Progress& pr, bool send_if_empty) {
  CHRONIK_CHECK(role_ == Role::kLeader) << "only a leader sends appends";
  bool sent = false;
  while (!pr.IsPaused(config_.max_inflight_msgs, config_.max_inflight_bytes) &&
         !pr.log_read_pending) {
    const Index prev = pr.next - 1;
    // A follower with an empty log gets the snapshot when there is one, even
    // while memory still holds the entries from the first: the snapshot
    // carries the membership, which a node joining a running group may not
    // know (it waits for a snapshot, broker/replication/raft_host.h), and it
    // is the shorter way anyway.
    if (prev == 0 && log_.snapshot_index() > 0) {
      SendSnapshot(to, pr);
      return true;
    }
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
  CHRONIK_CHECK(role_ == Role::kLeader) << "only a leader sends appends";
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
  CHRONIK_CHECK(role_ == Role::kLeader) << "only a leader sends snapshots";
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

void Raft::SendHeartbeat(NodeId to, Progress& pr, const Bytes& context,
                         bool quiesce) {
  CHRONIK_CHECK(role_ == Role::kLeader) << "only a leader sends heartbeats";
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // Never claim a commit index the follower may not hold.
  m.commit = std::min(pr.match, log_.commit);
  m.context = context;
  m.quiesce = quiesce;
  Send(std::move(m));
}

void Raft::BroadcastHeartbeat(bool quiesce) {
  Bytes context;
  if (!read_queue_.empty()) {
    context = Bytes::Own(absl::StrCat(read_queue_.back().seq));
  }
  for (auto& [id, pr] : progress_) SendHeartbeat(id, pr, context, quiesce);
}

void Raft::SendTimeoutNow(NodeId to) {
  CHRONIK_CHECK(role_ == Role::kLeader)
      << "only a leader hands over leadership";
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

bool Raft::MaybeCommit() {
  CHRONIK_CHECK(role_ == Role::kLeader)
      << "only a leader advances commit from match indexes";
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
  CHRONIK_CHECK(role_ == Role::kLeader)
      << "only a leader appends its own entries";
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

absl::Status Raft::Propose(Bytes data) {
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError(
        absl::StrCat("not leader (leader=", lead_, ")"));
  }
  Unquiesce();
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

absl::Status Raft::TransferLeadership(NodeId transferee) {
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError(
        absl::StrCat("not leader (leader=", lead_, ")"));
  }
  Unquiesce();
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

bool Raft::CommittedInTerm() const {
  std::optional<Term> t = log_.TermAt(log_.commit);
  return t.has_value() && *t == term_;
}

absl::Status Raft::ReadIndex(Bytes context) {
  Unquiesce();  // a follower's request wakes its leader
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

}  // namespace chronik::raft
