#include "raft/raft_log.h"

namespace chronik::raft {

void RaftLog::Reset(Index offset, Term offset_term, Index snapshot_index,
                    Term snapshot_term) {
  CHRONIK_CHECK_LE(snapshot_index, offset);
  offset_ = offset;
  offset_term_ = offset_term;
  snapshot_index_ = snapshot_index;
  snapshot_term_ = snapshot_term;
  entries_.clear();
}

void RaftLog::TruncateAfter(Index index) {
  CHRONIK_CHECK_GE(index, commit) << "truncating committed entries";
  CHRONIK_CHECK_GE(index, offset_);
  while (last_index() > index) entries_.pop_back();
  if (persisted > index) persisted = index;
  if (emitted > index) emitted = index;
}

Index RaftLog::FindConflict(const std::vector<Entry>& entries) const {
  for (const Entry& entry : entries) {
    if (!MatchTerm(entry.index, entry.term)) {
      // Entries at or below the anchor are committed (and so match the
      // leader's).
      if (entry.index <= offset_) continue;
      return entry.index;
    }
  }
  return 0;
}

std::pair<Index, Term> RaftLog::FindConflictByTerm(Index index,
                                                   Term term) const {
  if (index > last_index()) index = last_index();
  while (true) {
    std::optional<Term> t = TermAt(index);
    if (!t.has_value()) return {index, 0};
    if (*t <= term || index == 0) return {index, *t};
    if (index == offset_) return {index, *t};
    --index;
  }
}

uint64_t RaftLog::Slice(Index lo, Index hi, uint64_t max_bytes,
                        std::vector<Entry>* out) const {
  CHRONIK_CHECK_GT(lo, offset_);
  CHRONIK_CHECK_LE(hi, last_index());
  uint64_t bytes = 0;
  for (Index i = lo; i <= hi; ++i) {
    const Entry& entry = entries_[i - offset_ - 1];
    if (i != lo && bytes + entry.data.size() > max_bytes) break;
    bytes += entry.data.size();
    out->push_back(entry);
  }
  return bytes;
}

void RaftLog::DropPrefix(Index index) {
  CHRONIK_CHECK_LE(index, applied);
  CHRONIK_CHECK_LE(index, persisted);
  if (index <= offset_) return;
  CHRONIK_CHECK_LE(index, last_index());
  offset_term_ = entries_[index - offset_ - 1].term;
  const Index drop = index - offset_;
  entries_.erase(entries_.begin(), entries_.begin() + drop);
  offset_ = index;
}

}  // namespace chronik::raft
