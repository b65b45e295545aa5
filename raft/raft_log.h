// RaftLog: the in-memory part of one group's Raft log, plus its
// commit/persist/apply cursors. Internal to raft/ (used by Raft, see raw_node.h
// for the public contract).
//
// Layout: the entry at `offset()` is not held, only its term (the "anchor");
// entries offset()+1 .. last_index() are held in a deque. Everything not yet
// durable or not yet applied is always held; a bounded tail of older entries is
// kept for lagging followers, anything older lives only in the driver's
// storage. A snapshot (index, term) lies at most at the handed-out index: at
// or below offset() once memory was trimmed past it, above it while older
// entries are still held.
//
// Cursors, all indexes: offset <= commit; applied <= handed <= commit <= last;
// persisted <= emitted <= last (handed: entries given to the driver for
// apply; emitted: given for persisting). Raft::CheckInvariants checks them.
// Single-threaded, owned by one Raft.
#ifndef CHRONIK_RAFT_RAFT_LOG_H_
#define CHRONIK_RAFT_RAFT_LOG_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "base/check.h"
#include "raft/types.h"

namespace chronik::raft {

class RaftLog {
 public:
  // An empty log whose anchor is (offset, offset_term), with a snapshot at
  // (snapshot_index, snapshot_term) <= offset.
  void Reset(Index offset, Term offset_term, Index snapshot_index,
             Term snapshot_term);

  Index offset() const { return offset_; }
  Index first_index() const { return offset_ + 1; }
  Index last_index() const { return offset_ + entries_.size(); }
  Term last_term() const {
    return entries_.empty() ? offset_term_ : entries_.back().term;
  }
  Index snapshot_index() const { return snapshot_index_; }
  Term snapshot_term() const { return snapshot_term_; }
  size_t held_entries() const { return entries_.size(); }
  // Payload bytes of the held entries.
  uint64_t held_bytes() const { return held_bytes_; }

  // The term at `index` when known in memory (anchor, held entries or
  // snapshot).
  std::optional<Term> TermAt(Index index) const {
    if (index >= offset_ && index <= last_index()) {
      return index == offset_ ? offset_term_
                              : entries_[index - offset_ - 1].term;
    }
    if (index == snapshot_index_) return snapshot_term_;
    return std::nullopt;
  }
  bool MatchTerm(Index index, Term term) const {
    std::optional<Term> t = TermAt(index);
    return t.has_value() && *t == term;
  }
  const Entry& At(Index index) const {
    CHRONIK_DCHECK(index > offset_ && index <= last_index());
    return entries_[index - offset_ - 1];
  }
  // Raft's "at least as up to date" rule for votes.
  bool IsUpToDate(Index last, Term term) const {
    return term > last_term() || (term == last_term() && last >= last_index());
  }

  void Append(Entry entry) {
    CHRONIK_DCHECK_EQ(entry.index, last_index() + 1);
    held_bytes_ += entry.data.size();
    entries_.push_back(std::move(entry));
  }
  // Drops held entries after `index` (a conflicting suffix on a follower).
  void TruncateAfter(Index index);
  // The first index of `entries` whose term differs from ours or that we lack,
  // or 0.
  Index FindConflict(const std::vector<Entry>& entries) const;
  // The largest index <= `index` whose term is <= `term`, for fast
  // backtracking, and its term (0 when it is older than what is held).
  std::pair<Index, Term> FindConflictByTerm(Index index, Term term) const;
  // Appends held entries [lo, hi] to `out`, stopping once `max_bytes` of
  // payload are reached (at least one entry). Returns the payload bytes added.
  uint64_t Slice(Index lo, Index hi, uint64_t max_bytes,
                 std::vector<Entry>* out) const;
  // Drops held entries up to `index` (they are durable and applied).
  void DropPrefix(Index index);
  // Drops the oldest held entries, none above `limit` (durable and applied),
  // while the held payload exceeds `max_bytes`.
  void DropOldestWhileOver(Index limit, uint64_t max_bytes);
  void SetSnapshot(Index index, Term term) {
    snapshot_index_ = index;
    snapshot_term_ = term;
  }

  Index commit = 0;
  Index persisted = 0;
  Index emitted = 0;
  Index handed = 0;
  Index applied = 0;

 private:
  Index offset_ = 0;
  Term offset_term_ = 0;
  Index snapshot_index_ = 0;
  Term snapshot_term_ = 0;
  std::deque<Entry> entries_;
  uint64_t held_bytes_ = 0;
};

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_RAFT_LOG_H_
