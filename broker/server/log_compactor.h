// LogCompactor: log compaction (cleanup.policy=compact, compact,delete) of
// the partition replicas this node hosts, run from the broker's tick (no
// thread of its own) through the storage layer (GroupLog::RewriteSegment).
//
// A pass over one partition, as Kafka's cleaner: the cleanable range is the
// sealed segments from the log start whose entries this replica applied and
// whose offsets are below the high watermark and the LSO (the active segment
// and open transactions are never touched). It runs when the range's dirty
// bytes (segments after the offset the last pass cleaned up to) are at least
// min.cleanable.dirty.ratio of it, or when a tombstone a pass kept is due to
// go (delete.retention.ms). The pass builds the key map over the range
// (partition/compaction.h) and rewrites each segment whose batches lost
// records. Every replica compacts its own log: entries keep their Raft index,
// term and Kafka offsets, so replicas' logs differ only in records that no
// reader may still need, and a follower fed compacted entries stores the
// same offsets.
//
// The key map is built over the dirty segments only (as Kafka's cleaner:
// the clean ones were cleaned against their own keys by earlier passes) and
// holds at most max_keys_per_pass keys (Kafka bounds it in bytes,
// log.cleaner.dedupe.buffer.size): a pass whose dirty segments hold more
// stops its map at the last whole segment within the bound (always at least
// one) and cleans the log up to there; the next pass goes on from there.
//
// Bounds: one partition per call (round robin), one segment read at a time.
// The offset cleaned up to is checkpointed per partition next to its log
// (GroupLog::WriteCleanerCheckpoint, fsynced) after every pass and read back
// at the first pass after a restart, so a restart does not clean the whole
// log again. Deterministic; one thread.
#ifndef CHRONIK_BROKER_SERVER_LOG_COMPACTOR_H_
#define CHRONIK_BROKER_SERVER_LOG_COMPACTOR_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>

#include "absl/status/status.h"
#include "broker/metadata/metadata_state.h"
#include "broker/partition/compaction.h"
#include "broker/server/partition_replica.h"
#include "broker/storage/group_log.h"

namespace chronik::broker {

struct CompactionTotals {
  uint64_t passes = 0;
  uint64_t segments_rewritten = 0;
  uint64_t records_removed = 0;
  uint64_t bytes_before = 0;  // of the rewritten segments
  uint64_t bytes_after = 0;
  uint64_t segments_mapped = 0;  // read into a pass's key map
  uint64_t bounded_passes = 0;   // stopped their key map at the bound
  uint64_t markers_removed = 0;  // transaction markers (compaction.h)
};

// The default bound of a pass's key map.
inline constexpr size_t kCompactionMaxKeysPerPass = 1 << 20;

class LogCompactor {
 public:
  // The bound of a pass's key map, in keys (at least 1).
  void set_max_keys_per_pass(size_t keys) {
    max_keys_per_pass_ = std::max<size_t>(keys, 1);
  }
  // Roll limits of `topic` (segment.bytes, and segment.ms where the topic
  // compacts or sets it) on `log`, and a segment.ms roll when due.
  absl::Status Roll(const metapb::TopicInfo& topic, int64_t now_ms,
                    storage::GroupLog& log);
  // Compacts `replica`'s `log` when `topic` compacts and the rules above
  // say so. OK when nothing was due. The replica then forgets the aborted
  // transactions below the offset cleaned up to: a pass removed their
  // records (and, later, their markers: a fetch must never list an aborted
  // transaction whose marker is gone, or clients would skip the producer's
  // later records).
  absl::Status MaybeCompact(const metapb::TopicInfo& topic,
                            PartitionReplica& replica, int64_t now_ms,
                            storage::GroupLog& log);
  void Forget(uint64_t group_id);
  // TEST-ONLY: env::BrokerBugs::compaction_drops_latest.
  void set_drops_latest(bool on) { drops_latest_ = on; }
  const CompactionTotals& totals() const { return totals_; }

 private:
  struct GroupState {
    int64_t cleaned_offset = 0;  // offsets below were cleaned by a pass
    int64_t tombstone_due_ms = INT64_MAX;
  };
  absl::Status Compact(const PartitionReplica& replica,
                       const metapb::TopicInfo& topic, int64_t now_ms,
                       absl::Span<const storage::GroupLog::SegmentSummary> segs,
                       storage::GroupLog& log, GroupState& state);

  // Pass 1: the key map over the dirty segments of `segs`, within the
  // bound; the number of segments (from the start) the pass cleans.
  absl::StatusOr<size_t> BuildKeyMap(
      absl::Span<const storage::GroupLog::SegmentSummary> segs,
      int64_t cleaned_offset, absl::Span<const partition::AbortedTxn> aborted,
      storage::GroupLog& log, partition::KeyMap* keys);

  size_t max_keys_per_pass_ = kCompactionMaxKeysPerPass;
  std::map<uint64_t, GroupState> groups_;
  CompactionTotals totals_;
  bool drops_latest_ = false;  // TEST-ONLY
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_LOG_COMPACTOR_H_
