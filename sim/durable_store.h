// What one simulated Raft node keeps on disk: hard state and log, with writes
// that are volatile until synced.
//
// This is the simulator's stand-in until the Raft scenario is backed by the
// simulated disk (sim/disk/, the Disk interface of broker/env/). It models
// exactly what the Raft persistence contract depends on: writes (log appends,
// which may truncate a suffix first, and hard-state updates) are visible to the
// node at once but survive a crash only once synced; a crash keeps the synced
// state plus, when torn, a random prefix of the unsynced writes in order (the
// disk got part of the way), possibly cutting an append in the middle. The log
// is stored whole from index 1 (no snapshots yet). Not thread-safe.
#ifndef CHRONIK_SIM_DURABLE_STORE_H_
#define CHRONIK_SIM_DURABLE_STORE_H_

#include <cstdint>
#include <vector>

#include "raft/types.h"
#include "sim/random.h"

namespace chronik::sim {

class DurableStore {
 public:
  // Bound on unsynced writes; the driver syncs after every Ready.
  static constexpr size_t kMaxPendingWrites = 1 << 16;

  struct State {
    raft::HardState hard_state;
    std::vector<raft::Entry> entries;  // entries[i].index == i + 1
    raft::Index last_index() const { return entries.size(); }
  };

  // Appends `entries` (contiguous), first truncating the log from
  // entries[0].index.
  void Append(const std::vector<raft::Entry>& entries);
  void SetHardState(const raft::HardState& hard_state);
  // Makes every write so far durable.
  void Sync() { SyncThrough(writes_issued_); }
  // Makes writes number 1..`write` durable (an fsync started after that write).
  void SyncThrough(uint64_t write);
  // Number of writes issued so far (the number to pass to SyncThrough).
  uint64_t writes_issued() const { return writes_issued_; }
  // A crash: unsynced writes are lost, except that with `torn` a random prefix
  // of them (chosen by `rng`) reached the disk first.
  void Crash(Rng& rng, bool torn);

  // Replaces everything with `state`, all durable (a node recovered it from a
  // disk).
  void Reset(State state) {
    durable_ = std::move(state);
    current_ = durable_;
    pending_.clear();
  }

  // What the running node sees (including unsynced writes).
  const State& current() const { return current_; }
  // What survives a crash right now.
  const State& durable() const { return durable_; }
  size_t pending_writes() const { return pending_.size(); }

 private:
  struct Write {
    uint64_t number = 0;
    bool is_append = false;
    std::vector<raft::Entry> entries;
    raft::HardState hard_state;
  };
  static void ApplyWrite(const Write& write, State& state);

  State current_;
  State durable_;
  std::vector<Write> pending_;  // in issue order
  uint64_t writes_issued_ = 0;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_DURABLE_STORE_H_
