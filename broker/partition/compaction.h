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
// - Control batches (transaction markers) are kept as they are (left out:
//   Kafka removes markers once their transaction's data is gone and
//   delete.retention.ms passed). Records of aborted transactions are not
//   put in the key map and are removed (Kafka does the same).
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
  // The oldest timestamp of a tombstone kept (INT64_MAX: none): when the
  // next pass may drop it.
  int64_t oldest_tombstone_ms = INT64_MAX;
};

// The batch rewritten without its obsolete records, or nullopt when every
// record survives (the batch stays as it is).
absl::StatusOr<std::optional<std::string>> CleanBatch(
    absl::string_view batch, const KeyMap& keys,
    absl::Span<const AbortedTxn> aborted, const CleanRules& rules,
    CleanStats* stats);

}  // namespace chronik::partition

#endif  // CHRONIK_BROKER_PARTITION_COMPACTION_H_
