// Log compaction (cleanup.policy=compact) of one partition, as pure functions
// over record batches: which records of a batch survive, and the rewritten
// batch. The storage side (rewriting a sealed segment file in place of the
// old one) is GroupLog::RewriteSegment; the driver is
// broker/server/log_compactor.h. docs/ARCHITECTURE.md (Storage, Log
// compaction) has the design.
//
// Rules (Kafka's log cleaner, LogCleaner.scala, facts not code):
// - The key map holds, for every key in the cleanable range, the offset of
//   its last record (CollectKeys over the range, in offset order).
// - A record survives when it is its key's last record in the map (or its
//   key is not in the map, or it has no key). A surviving tombstone (null
//   value) is kept while its timestamp is younger than delete.retention.ms,
//   then dropped.
// - Offsets are preserved: a rewritten batch keeps its base offset, last
//   offset delta, producer id/epoch, base sequence and timestamps; only its
//   records (and their count, length and CRC) change. A batch whose records
//   are all gone stays as an empty batch (no records, same offsets), as
//   Kafka keeps a producer's last batch: in chronik every batch is a Raft
//   entry, and an entry is never removed from the middle of the log.
// - Records of aborted transactions are not put in the key map and are
//   removed (Kafka does the same).
// - A transaction marker (control batch) goes once no record of its
//   transaction is left and delete.retention.ms passed since it was written
//   (its max timestamp; Kafka counts from the pass that found the data gone,
//   a horizon it stores in the batch). Like any batch it stays as an empty
//   batch with its offsets, here a control batch of no records: replaying
//   it closes the producer's transaction and records no abort
//   (TxnState::OnMarkerRemoved). Whether a transaction kept a record is
//   known when its marker is reached, since a pass cleans the log in offset
//   order from its start (CleanStats::txn_kept_record).
// - Compressed batches are decompressed and the survivors recompressed with
//   the batch's codec.
//
// Deterministic; thread-compatible.
#ifndef CHRONIK_BROKER_PARTITION_COMPACTION_H_
#define CHRONIK_BROKER_PARTITION_COMPACTION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "broker/partition/txn_state.h"

namespace chronik::partition {

// Key -> offset of its last record in the cleanable range.
using KeyMap = std::map<std::string, int64_t>;

// True when the transactional batch of `producer_id` at `offset` belongs to
// one of the `aborted` transactions.
bool InAbortedTxn(int64_t producer_id, int64_t offset,
                  absl::Span<const AbortedTxn> aborted);

// Adds the keys of `batch` (a stored v2 batch, base offset assigned) to
// `keys`. Control batches and aborted transactional batches add nothing.
absl::Status CollectKeys(absl::string_view batch,
                         absl::Span<const AbortedTxn> aborted, KeyMap* keys);

struct CleanRules {
  int64_t now_ms = 0;
  int64_t delete_retention_ms = 86'400'000;
};

struct CleanStats {
  int64_t records_kept = 0;
  int64_t records_removed = 0;
  int64_t tombstones_dropped = 0;
  int64_t markers_removed = 0;
  // The oldest timestamp of a tombstone kept, or of a marker kept only for
  // delete.retention.ms (INT64_MAX: none): when the next pass may drop it.
  int64_t oldest_tombstone_ms = INT64_MAX;
  // Per producer id: whether a record of its transaction since its last
  // marker (in the pass's offset order) was kept. Bounded by the producers
  // of the cleaned range; a marker erases its producer's entry.
  std::map<int64_t, bool> txn_kept_record;
};

// The batch rewritten without its obsolete records, or nullopt when every
// record survives (the batch stays as it is). One pass calls it for every
// batch of the cleaned range in offset order with the same `stats` (it
// follows the transactions across batches).
absl::StatusOr<std::optional<std::string>> CleanBatch(
    absl::string_view batch, const KeyMap& keys,
    absl::Span<const AbortedTxn> aborted, const CleanRules& rules,
    CleanStats* stats);

}  // namespace chronik::partition

#endif  // CHRONIK_BROKER_PARTITION_COMPACTION_H_
