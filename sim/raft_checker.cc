#include "sim/raft_checker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "sim/random.h"

namespace chronik::sim {

RaftChecker::RaftChecker(int num_nodes)
    : num_nodes_(num_nodes),
      chains_(num_nodes),
      terms_(num_nodes),
      commit_seen_(num_nodes, {0, 0}) {
  CHRONIK_CHECK_GT(num_nodes, 0);
}

void RaftChecker::Fail(std::string message) {
  if (failure_.empty()) failure_ = std::move(message);
}

uint64_t RaftChecker::EntryHash(uint64_t previous, const raft::Entry& entry) {
  uint64_t state = previous ^ (entry.term * 0x9e3779b97f4a7c15ULL) ^
                   (static_cast<uint64_t>(entry.type) << 1);
  const std::string_view data = entry.data.view();
  state ^= Fnv1a64(data);
  return SplitMix64(state);
}

void RaftChecker::OnLeader(int node, raft::Term term) {
  auto [it, inserted] = leaders_.emplace(term, node);
  if (!inserted && it->second != node) {
    Fail(absl::StrCat("election safety: two leaders in term ", term, ": n",
                      it->second, " and n", node));
    return;
  }
  if (!inserted) return;
  // Leader completeness: the new leader holds everything committed before its
  // term.
  raft::Index must_hold = 0;
  for (auto it = commit_by_term_.begin();
       it != commit_by_term_.end() && it->first < term; ++it) {
    must_hold = std::max(must_hold, it->second);
  }
  const std::vector<uint64_t>& chain = chains_[node];
  if (must_hold > 0 && (chain.size() < must_hold ||
                        chain[must_hold - 1] != committed_[must_hold - 1])) {
    Fail(absl::StrCat("leader completeness: n", node, " leads term ", term,
                      " without the entries committed before it, up to index ",
                      must_hold, " (its log ends at ", chain.size(), ")"));
  }
}

void RaftChecker::RecordChain(int node, raft::Index first) {
  const std::vector<uint64_t>& chain = chains_[node];
  for (raft::Index index = first; index <= chain.size(); ++index) {
    const auto key = std::make_pair(index, terms_[node][index - 1]);
    auto [it, inserted] = chain_at_.emplace(key, chain[index - 1]);
    if (!inserted && it->second != chain[index - 1]) {
      Fail(absl::StrCat("log matching: n", node, " has an entry at index ",
                        index, " term ", key.second,
                        " whose log prefix differs from another node's"));
      return;
    }
  }
}

void RaftChecker::OnLogAppend(int node, absl::Span<const raft::Entry> entries) {
  if (entries.empty()) return;
  std::vector<uint64_t>& chain = chains_[node];
  std::vector<raft::Term>& terms = terms_[node];
  const raft::Index first = entries.front().index;
  CHRONIK_CHECK_GE(first, 1u);
  CHRONIK_CHECK_LE(first, chain.size() + 1) << "gap in n" << node << "'s log";
  chain.resize(first - 1);
  terms.resize(first - 1);
  for (const raft::Entry& entry : entries) {
    CHRONIK_CHECK_EQ(entry.index, chain.size() + 1);
    chain.push_back(EntryHash(chain.empty() ? 0 : chain.back(), entry));
    terms.push_back(entry.term);
  }
  RecordChain(node, first);
}

void RaftChecker::OnLogRecovered(int node,
                                 const std::vector<raft::Entry>& log) {
  chains_[node].clear();
  terms_[node].clear();
  OnLogAppend(node, log);
}

void RaftChecker::OnCommit(int node, uint64_t incarnation, raft::Term term,
                           raft::Index commit) {
  auto& [seen_incarnation, seen_commit] = commit_seen_[node];
  if (seen_incarnation == incarnation && commit < seen_commit) {
    Fail(absl::StrCat("commit index of n", node, " moved backwards from ",
                      seen_commit, " to ", commit));
  }
  seen_incarnation = incarnation;
  seen_commit = commit;
  if (commit == 0) return;
  const std::vector<uint64_t>& chain = chains_[node];
  if (chain.size() < commit) {
    Fail(absl::StrCat("n", node, " reports commit ", commit,
                      " beyond its log end ", chain.size()));
    return;
  }
  const raft::Index common = std::min<raft::Index>(commit, committed_.size());
  if (common > 0 && chain[common - 1] != committed_[common - 1]) {
    Fail(
        absl::StrCat("committed entry lost or changed: n", node,
                     "'s committed log differs from the committed prefix at or "
                     "before index ",
                     common));
    return;
  }
  for (raft::Index index = committed_.size() + 1; index <= commit; ++index) {
    committed_.push_back(chain[index - 1]);
  }
  raft::Index& by_term = commit_by_term_[term];
  by_term = std::max(by_term, commit);
}

void RaftChecker::OnLeaderCommit(int node, raft::Term term,
                                 raft::Index commit) {
  const std::vector<raft::Term>& terms = terms_[node];
  if (commit == 0 || commit > terms.size()) {
    Fail(absl::StrCat("n", node, ", leader of term ", term, ", commits index ",
                      commit, " beyond its log end ", terms.size()));
    return;
  }
  const raft::Term entry_term = terms[commit - 1];
  if (entry_term != term) {
    Fail(absl::StrCat("commit rule: n", node, ", leader of term ", term,
                      ", committed index ", commit, " of term ", entry_term,
                      " by counting replicas"));
  }
}

void RaftChecker::OnVoteGranted(int node, raft::Term term,
                                raft::NodeId candidate,
                                const raft::HardState& durable) {
  // A later term on disk also protects the vote: the node never returns to
  // `term`.
  if (durable.term < term ||
      (durable.term == term && durable.vote != candidate)) {
    Fail(absl::StrCat("n", node, " grants its term ", term, " vote to ",
                      candidate, " before it is durable (disk holds term ",
                      durable.term, " vote ", durable.vote, ")"));
  }
}

void RaftChecker::OnApply(int node, const raft::Entry& entry,
                          raft::Index node_commit) {
  if (entry.index > node_commit) {
    Fail(absl::StrCat("n", node, " applies index ", entry.index,
                      " beyond its commit index ", node_commit));
  }
  const AppliedEntry applied{entry.term, Fnv1a64(entry.data.view())};
  CHRONIK_CHECK_GE(entry.index, 1u);
  if (entry.index > applied_.size() + 1) {
    Fail(absl::StrCat("n", node, " applies index ", entry.index,
                      " before anyone applied ", applied_.size() + 1));
    return;
  }
  if (entry.index == applied_.size() + 1) {
    applied_.push_back(applied);
    return;
  }
  const AppliedEntry& first = applied_[entry.index - 1];
  if (first.term != applied.term || first.data_hash != applied.data_hash) {
    Fail(absl::StrCat("state machine safety: n", node, " applies term ",
                      entry.term, " at index ", entry.index,
                      " where another node applied term ", first.term,
                      first.term == entry.term ? " with other data" : ""));
  }
}

void RaftChecker::OnStateMachineAppend(int node, uint64_t offset, OpId op) {
  if (offset > sm_log_.size()) {
    Fail(absl::StrCat("n", node, "'s state machine skips to offset ", offset));
    return;
  }
  if (offset == sm_log_.size()) {
    sm_log_.push_back(op);
    return;
  }
  if (sm_log_[offset] != op) {
    const bool acked = acks_.contains(sm_log_[offset]);
    Fail(absl::StrCat("state machines diverge at offset ", offset, ": n", node,
                      " has op ", op, ", another node op ", sm_log_[offset],
                      acked ? " (acknowledged: lost)" : ""));
  }
}

void RaftChecker::OnInvoke(OpId op, Nanos time) {
  CHRONIK_CHECK_NE(op, kNoOp);
  invoked_.emplace(op, time);
}

int64_t RaftChecker::MaxAckedOffsetBefore(Nanos time) const {
  auto it = std::lower_bound(
      ack_max_.begin(), ack_max_.end(), time,
      [](const std::pair<Nanos, int64_t>& a, Nanos t) { return a.first < t; });
  return it == ack_max_.begin() ? -1 : std::prev(it)->second;
}

void RaftChecker::OnAck(OpId op, uint64_t offset, Nanos time) {
  auto invoked = invoked_.find(op);
  CHRONIK_CHECK(invoked != invoked_.end()) << "ack of an op never invoked";
  auto [it, inserted] = acks_.emplace(op, offset);
  if (!inserted) {
    if (it->second != offset) {
      Fail(absl::StrCat("op ", op, " acknowledged at offsets ", it->second,
                        " and ", offset));
    }
    return;
  }
  if (offset >= sm_log_.size() || sm_log_[offset] != op) {
    Fail(absl::StrCat("op ", op, " acknowledged at offset ", offset,
                      " where the state machines hold ",
                      offset < sm_log_.size() ? sm_log_[offset] : kNoOp));
  }
  const int64_t before = MaxAckedOffsetBefore(invoked->second);
  if (before >= static_cast<int64_t>(offset)) {
    Fail(absl::StrCat("real-time order: op ", op, " at offset ", offset,
                      " was invoked after an op acknowledged at offset ",
                      before));
  }
  CHRONIK_CHECK(ack_max_.empty() || ack_max_.back().first <= time);
  const int64_t running =
      std::max<int64_t>(ack_max_.empty() ? -1 : ack_max_.back().second,
                        static_cast<int64_t>(offset));
  ack_max_.emplace_back(time, running);
}

void RaftChecker::OnRead(Nanos invoked, Nanos completed, uint64_t length,
                         OpId last) {
  ++reads_checked_;
  if (length > sm_log_.size()) {
    Fail(absl::StrCat("read returned length ", length,
                      " beyond what any state machine holds"));
    return;
  }
  const OpId expected = length == 0 ? kNoOp : sm_log_[length - 1];
  if (expected != last) {
    Fail(absl::StrCat("read of length ", length, " returned last op ", last,
                      " but the log holds ", expected, " there"));
  }
  const int64_t acked_before = MaxAckedOffsetBefore(invoked);
  if (acked_before >= static_cast<int64_t>(length)) {
    Fail(absl::StrCat("stale read: length ", length,
                      " misses the op at offset ", acked_before,
                      " acknowledged before the read began"));
  }
  if (last != kNoOp) {
    auto it = invoked_.find(last);
    if (it == invoked_.end() || it->second > completed) {
      Fail(absl::StrCat("read saw op ", last, " invoked after the read ended"));
    }
  }
}

void RaftChecker::OnFinal(const std::vector<OpId>& final_log) {
  absl::flat_hash_map<OpId, uint64_t> position;
  for (uint64_t offset = 0; offset < final_log.size(); ++offset) {
    auto [it, inserted] = position.emplace(final_log[offset], offset);
    if (!inserted) {
      Fail(absl::StrCat("op ", final_log[offset],
                        " is in the final log twice (", it->second, " and ",
                        offset, ")"));
    }
  }
  // Ack order is checked through a sorted list so the first failure is stable.
  std::vector<std::pair<uint64_t, OpId>> acked;
  acked.reserve(acks_.size());
  for (const auto& [op, offset] : acks_) acked.emplace_back(offset, op);
  std::sort(acked.begin(), acked.end());
  for (const auto& [offset, op] : acked) {
    auto it = position.find(op);
    if (it == position.end()) {
      Fail(absl::StrCat("acknowledged op ", op, " (offset ", offset,
                        ") is missing from the final log"));
    } else if (it->second != offset) {
      Fail(absl::StrCat("acknowledged op ", op, " moved from offset ", offset,
                        " to ", it->second));
    }
  }
}

CheckingObserver::CheckingObserver(RaftChecker* checker, int node,
                                   bool rule_checks)
    : checker_(checker), node_(node), rule_checks_(rule_checks) {
  CHRONIK_CHECK(checker != nullptr);
}

void CheckingObserver::Started(uint64_t incarnation) {
  incarnation_ = incarnation;
  checker_->OnCommit(node_, incarnation, durable_.term, commit_);
}

void CheckingObserver::OnRecover(replication::GroupId /*group_id*/,
                                 const replication::RecoveredGroup& recovered) {
  CHRONIK_CHECK_EQ(recovered.snapshot_index, 0u)
      << "the checker follows logs from index 1";
  checker_->OnLogRecovered(node_, {});
  commit_ = recovered.hard_state.commit;
  durable_ = recovered.hard_state;
  leader_ = false;
  term_ = recovered.hard_state.term;
}

void CheckingObserver::OnRecoveredEntries(
    replication::GroupId /*group_id*/, absl::Span<const raft::Entry> entries) {
  checker_->OnLogAppend(node_, entries);
}

void CheckingObserver::OnAppend(replication::GroupId /*group_id*/,
                                absl::Span<const raft::Entry> entries) {
  checker_->OnLogAppend(node_, entries);
}

void CheckingObserver::OnCommit(replication::GroupId /*group_id*/,
                                raft::Term term, raft::Index commit) {
  // Leader of this term since an earlier Ready (the role is reported after
  // the commit of the same Ready).
  if (rule_checks_ && commit > commit_ && leader_ && term_ == term) {
    checker_->OnLeaderCommit(node_, term, commit);
  }
  commit_ = commit;
  checker_->OnCommit(node_, incarnation_, term, commit);
}

void CheckingObserver::OnRoleChange(replication::GroupId /*group_id*/,
                                    const replication::RoleState& role) {
  leader_ = role.is_leader;
  term_ = role.term;
  if (role.is_leader) checker_->OnLeader(node_, role.term);
}

void CheckingObserver::OnDurable(replication::GroupId /*group_id*/,
                                 const replication::DurableState& durable) {
  durable_ = durable.hard_state;
}

}  // namespace chronik::sim
