// LeaderEpochs: one partition replica's leader epochs and the Kafka offset
// each starts at (Kafka's leader-epoch-checkpoint, KIP-101/KIP-279), what
// OffsetForLeaderEpoch answers from.
//
// A partition's leader epoch is the Raft term of the leader that appended a
// batch (the storage stamps it into every stored batch, batch_offsets.h). The
// replica feeds every applied entry's term with the log's next offset at that
// entry (Assign): a newer epoch starts there. An epoch that wrote nothing
// (its leader's first entry was followed at once by a newer term's) is
// dropped when the next one starts at the same offset, as Kafka's cache
// drops non-monotonic entries. Because it follows the applied (committed)
// log, which Raft never truncates, every replica derives the same epochs for
// the same offsets, and a restart rebuilds them by replaying the log; only
// the start moves: the log start (DeleteRecords, retention) truncates from
// the start (the epoch holding the new start then starts there), and a
// snapshot (retention's cut, installed or recovered) resets the cache to the
// epoch of the snapshot's last entry, starting at the offset after it.
//
// Bounded: at most kMaxLeaderEpochs epochs (the oldest go first; an epoch
// older than every one kept is answered as Kafka answers an epoch older than
// its log start). Deterministic; thread-compatible.
#ifndef CHRONIK_BROKER_PARTITION_LEADER_EPOCHS_H_
#define CHRONIK_BROKER_PARTITION_LEADER_EPOCHS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace chronik::partition {

inline constexpr size_t kMaxLeaderEpochs = 1024;
inline constexpr int32_t kUndefinedEpoch = -1;
inline constexpr int64_t kUndefinedEpochOffset = -1;

struct EpochStart {
  int32_t epoch = kUndefinedEpoch;
  int64_t start_offset = kUndefinedEpochOffset;
  friend bool operator==(const EpochStart&, const EpochStart&) = default;
};

// OffsetForLeaderEpoch's answer: the largest epoch <= the requested one and
// the offset its data ends before.
struct EpochEnd {
  int32_t epoch = kUndefinedEpoch;
  int64_t end_offset = kUndefinedEpochOffset;
  friend bool operator==(const EpochEnd&, const EpochEnd&) = default;
};

class LeaderEpochs {
 public:
  // An entry of `epoch` was applied where the log's next offset was
  // `offset`. Epochs never decrease along the log (CHECKed).
  void Assign(int32_t epoch, int64_t offset);
  // The log starts at `offset` now: epochs that end at or before it go; the
  // one holding it starts there (Kafka's truncateFromStart).
  void TruncateFromStart(int64_t offset);
  // A snapshot: the only epoch is `epoch`, from `offset` on.
  void Reset(int32_t epoch, int64_t offset);
  // Every epoch and its start, ascending (a replay checkpoint's copy).
  std::vector<EpochStart> All() const;
  // Replaces the epochs with `all` (as All returned them); false, changing
  // nothing, when they are not ascending in both epoch and start offset.
  bool Restore(const std::vector<EpochStart>& all);

  // Kafka's endOffsetFor: for the latest epoch, (it, `log_end`); else the
  // largest epoch <= `requested` and the start of the first epoch above it
  // ((requested, that start) when none is <= it: the log no longer holds
  // it); undefined (-1, -1) for epoch -1 or one newer than every known.
  EpochEnd EndOffsetFor(int32_t requested, int64_t log_end) const;
  // The epoch holding `offset` (the last one starting at or before it), -1
  // when none is known.
  int32_t EpochForOffset(int64_t offset) const;
  std::optional<EpochStart> earliest() const;
  std::optional<EpochStart> latest() const;
  size_t size() const { return epochs_.size(); }

 private:
  std::map<int32_t, int64_t> epochs_;  // epoch -> start offset
};

}  // namespace chronik::partition

#endif  // CHRONIK_BROKER_PARTITION_LEADER_EPOCHS_H_
