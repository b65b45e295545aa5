#include "sim/durable_store.h"

#include "base/check.h"

namespace chronik::sim {

void DurableStore::ApplyWrite(const Write& write, State& state) {
  if (!write.is_append) {
    state.hard_state = write.hard_state;
    return;
  }
  if (write.entries.empty()) return;
  const raft::Index first = write.entries.front().index;
  CHRONIK_CHECK_GE(first, 1u);
  CHRONIK_CHECK_LE(first, state.last_index() + 1) << "gap in the stored log";
  state.entries.resize(first - 1);
  for (const raft::Entry& entry : write.entries) {
    CHRONIK_CHECK_EQ(entry.index, state.last_index() + 1);
    state.entries.push_back(entry);
  }
}

void DurableStore::Append(const std::vector<raft::Entry>& entries) {
  if (entries.empty()) return;
  CHRONIK_CHECK_LT(pending_.size(), kMaxPendingWrites);
  Write write;
  write.number = ++writes_issued_;
  write.is_append = true;
  write.entries = entries;
  ApplyWrite(write, current_);
  pending_.push_back(std::move(write));
}

void DurableStore::SetHardState(const raft::HardState& hard_state) {
  CHRONIK_CHECK_LT(pending_.size(), kMaxPendingWrites);
  Write write;
  write.number = ++writes_issued_;
  write.hard_state = hard_state;
  ApplyWrite(write, current_);
  pending_.push_back(std::move(write));
}

void DurableStore::SyncThrough(uint64_t write) {
  CHRONIK_CHECK_LE(write, writes_issued_);
  size_t synced = 0;
  while (synced < pending_.size() && pending_[synced].number <= write) {
    ApplyWrite(pending_[synced], durable_);
    ++synced;
  }
  pending_.erase(pending_.begin(), pending_.begin() + synced);
}

void DurableStore::Crash(Rng& rng, bool torn) {
  if (torn && !pending_.empty()) {
    const size_t survivors = rng.Below(pending_.size() + 1);
    for (size_t i = 0; i < survivors; ++i) {
      Write& write = pending_[i];
      if (i + 1 == survivors && write.is_append && write.entries.size() > 1) {
        // The last write that made it may be cut in the middle.
        write.entries.resize(1 + rng.Below(write.entries.size()));
      }
      ApplyWrite(write, durable_);
    }
  }
  pending_.clear();
  current_ = durable_;
}

}  // namespace chronik::sim
