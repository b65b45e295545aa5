// GroupLog: the durable, segmented Raft log of one Raft group. For a partition
// group it is also the partition's Kafka log (the entries are the record
// batches).
//
// Layout: a directory of segment files (format.h, docs/storage-format.md), each
// a header and back-to-back records carrying Raft index, term, Kafka offsets
// and a CRC-32C. Segments roll when they would exceed `segment_max_bytes`; a
// sealed segment gets a sparse index file. In memory every segment keeps its
// sparse index: a point at its first record, at every term change, and every
// `index_interval_bytes`, mapping Raft index, term and Kafka offset to a file
// position. Term() is answered from memory; Read() seeks with the index and
// does positional reads, never a scan of the log.
//
// Durability: Append/TruncateSuffix/RemovePrefix/Reset change the log at once
// (reads see the change) but appended data is durable only after Sync()
// returned OK. Sync issues one fsync per segment file that changed (usually
// one) and a directory fsync when files were created or removed. Exceptions
// that sync on their own, because recovery depends on their order: a roll
// fsyncs the segment it seals before creating the next; TruncateSuffix makes
// removed segment files durably gone before it cuts the remaining one; Reset
// makes the new empty log durable at once. docs/storage-format.md has the
// whole write order.
//
// Recovery (Open): segments are checked against their names and each other;
// sealed segments with a valid index are trusted (their records are CRC-checked
// when read), the last segment and any segment without a valid index are
// scanned. A bad record at the end of the last segment with no valid record
// after it is a torn write: it is cut. A bad record with valid records after
// it, or anywhere in a sealed segment, is damage: it is reported (file,
// position, index range) in `damage()` and reads and Term() of the damaged
// range fail with DataLoss; nothing damaged is ever served or skipped. The
// driver may drop the damage with TruncateSuffix and fetch the entries again
// from a replica.
//
// Errors: environment errors come back as Status; after a failed write or sync
// the log is "failed" (every later call returns the same error) because the
// state of unsynced data is unknown: reopen the log to recover. Caller bugs
// (non-consecutive indexes, decreasing terms) crash via CHRONIK_CHECK.
//
// Ownership: the log borrows `disk` (which must outlive it) and owns its open
// files. Thread-safety: none; one thread (the IO step of a driver) uses a log
// at a time.
#ifndef CHRONIK_BROKER_STORAGE_GROUP_LOG_H_
#define CHRONIK_BROKER_STORAGE_GROUP_LOG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "base/check.h"
#include "broker/env/disk.h"
#include "broker/storage/batch_offsets.h"
#include "broker/storage/format.h"
#include "broker/storage/write_buffer.h"
#include "raft/types.h"

namespace chronik::storage {

// One Raft entry as stored. `offset_base`/`offset_count` are assigned by the
// log for partition logs (the Kafka offsets of the batch in `data`) and left
// empty otherwise. `data` is the Raft core's shared immutable buffer
// (raft::Bytes): an entry goes from the Raft log to the write buffer without a
// copy of its payload in between (raft_entry.h converts). Entries read back
// carry the stored bytes, with the base offset the log assigned.
struct Entry {
  uint64_t index = 0;
  uint64_t term = 0;
  uint8_t type = 0;  // opaque: the Raft core's entry type
  raft::Bytes data = {};
  uint64_t offset_base = format::kNoOffset;
  uint32_t offset_count = 0;

  friend bool operator==(const Entry&, const Entry&) = default;
};

struct LogOptions {
  uint64_t segment_max_bytes = 64ull << 20;
  uint64_t index_interval_bytes = 4096;
  // Appended bytes are collected and written (not synced) in chunks of about
  // this size; it bounds the buffer memory of a group (plus one record).
  uint64_t write_buffer_bytes = 256ull << 10;
  // Positional reads fetch at least this much at a time.
  uint64_t read_chunk_bytes = 256ull << 10;
  // Non-null for partition groups: payloads are Kafka batches given offsets at
  // append.
  const BatchOffsets* batch_offsets = nullptr;
  // Everything under the log's parent was made durable before Open (a store
  // opened after a clean stop, or after Disk::SyncAll): an existing log
  // directory need not be synced before its listing is trusted. Set by
  // LogStore.
  bool store_synced = false;
};

// A range of entries the log refuses to serve.
struct Damage {
  std::string file = {};  // path of the segment file
  uint64_t position;      // byte position of the first bad byte found
  uint64_t first_index;
  uint64_t last_index;
  std::string reason = {};
};

struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t segments_scanned = 0;
  uint64_t indexes_rebuilt =
      0;  // sealed segments whose index was missing or stale
  uint64_t torn_bytes_cut = 0;
  // Bytes of records read and checked (CRC) by scans: the whole log
  // without index files; only the tail after a valid active index.
  uint64_t record_bytes_scanned = 0;
  // The active segment's index (.aidx, format.h) was valid and used.
  bool active_index_used = false;
  std::vector<std::string>
      files_removed;  // stale or torn files deleted at open
  std::vector<Damage> damage = {};
};

struct RetentionLimits {
  int64_t now_ms = 0;
  int64_t retention_ms = -1;     // -1: no limit by time
  int64_t retention_bytes = -1;  // -1: no limit by size
  // Never remove entries above this index (e.g. the applied or snapshot index).
  uint64_t max_removable_index = 0;
  // Partition logs: the log start offset (DeleteRecords); segments holding
  // only offsets below it go whatever their age and size. -1: none.
  int64_t log_start_offset = -1;
};

class GroupLog {
 public:
  // Opens the log in directory `dir` (created if missing; its parent must
  // exist), recovering what is there or starting an empty log at index 1.
  static absl::StatusOr<std::unique_ptr<GroupLog>> Open(
      env::Disk* disk, std::string dir, const LogOptions& options,
      RecoveryReport* report);
  ~GroupLog();

  uint64_t first_index() const;  // last_index() + 1 when empty
  uint64_t last_index() const;
  uint64_t next_offset() const;  // next Kafka offset (partition logs)
  // Term of entry `index` in [first_index() - 1, last_index()].
  absl::StatusOr<uint64_t> Term(uint64_t index) const;

  // Appends `entries` (consecutive indexes, non-decreasing terms). The first
  // index must be in [first_index(), last_index() + 1]; existing entries from
  // there on are replaced (a follower's conflicting suffix). Partition logs
  // assign Kafka offsets: written into the stored copy of each batch and set in
  // the entries' offset_base/offset_count (their shared payloads are never
  // modified).
  absl::Status Append(absl::Span<Entry> entries);

  // Removes the entries after `last_kept` (>= first_index() - 1).
  absl::Status TruncateSuffix(uint64_t last_kept);

  // Removes whole segments holding only entries <= `up_to_index`; the last
  // segment stays. first_index() moves to the first remaining entry.
  absl::Status RemovePrefix(uint64_t up_to_index);

  // Drops every entry: the log continues after (`index`, `term`), with Kafka
  // offsets from `next_offset` (snapshot install). Durable when it returns OK.
  absl::Status Reset(uint64_t index, uint64_t term, uint64_t next_offset);

  // Retention: removes the oldest sealed segments while they are older than the
  // time limit (by their max batch timestamp), the log exceeds the size limit
  // or they end at or below the log start offset. Returns the number of
  // segments removed.
  absl::StatusOr<int> ApplyRetention(const RetentionLimits& limits);
  // Where ApplyRetention would cut, without removing anything: the last
  // entry of the last segment it would remove, that entry's term, the Kafka
  // offset after it (the new log start offset) and the number of segments.
  // nullopt: it would remove nothing.
  struct RetentionCutPoint {
    uint64_t index = 0;
    uint64_t term = 0;
    uint64_t next_offset = 0;
    int segments = 0;
  };
  std::optional<RetentionCutPoint> RetentionCut(
      const RetentionLimits& limits) const;

  // ---- Log compaction (group_log_compact.cc; docs/ARCHITECTURE.md, Log
  // compaction). What a compactor needs to know of each segment.
  struct SegmentSummary {
    uint64_t first_index = 0;
    uint64_t last_index = 0;  // first_index - 1 when empty
    uint64_t first_offset = 0;
    uint64_t next_offset = 0;  // Kafka offset after its last batch
    uint64_t bytes = 0;
    bool active = false;  // the last segment: appends go there
    bool damaged = false;
  };
  std::vector<SegmentSummary> Segments() const;
  // Replaces the sealed, undamaged segment starting at `first_index` with one
  // holding `entries`: every entry of the segment, in order, with the same
  // index, term, type and Kafka offsets (offset_base/offset_count as read),
  // only the payload may differ (a compacted batch covering the same
  // offsets; InvalidArgument otherwise, before anything is written). Crash
  // safe: the new segment is written to `<name>.cleaned` and fsynced, the
  // old index file removed, then renamed over the old segment and the
  // directory fsynced: a crash leaves the old or the new segment, never a
  // mix (recovery removes a leftover .cleaned file and rebuilds a missing
  // index). Errors before the rename leave the log as it was; after it the
  // log is failed.
  absl::Status RewriteSegment(uint64_t first_index,
                              absl::Span<const Entry> entries);
  // The compactor's checkpoint: the Kafka offset the last compaction pass
  // cleaned up to, in the file kCleanerCheckpointName of the log's
  // directory (format next to the constant in group_log_compact.cc). Written
  // to a temporary file, fsynced, renamed over the old one and the
  // directory fsynced. Reading answers 0 (clean nothing) when the file is
  // missing or malformed.
  absl::Status WriteCleanerCheckpoint(int64_t cleaned_offset);
  int64_t ReadCleanerCheckpoint() const;
  // Per-topic segment rolls (segment.bytes, segment.ms) over LogOptions:
  // `max_bytes` 0 keeps options.segment_max_bytes; `roll_ms` <= 0: no roll
  // by time.
  void SetRollLimits(uint64_t max_bytes, int64_t roll_ms);
  // segment.ms: seals the active segment when it holds entries and its first
  // batch's timestamp is `roll_ms` or more before `now_ms` (Kafka rolls at
  // the next append; rolling on the broker's tick lets a quiet partition's
  // last writes be compacted too). Returns whether it rolled.
  absl::StatusOr<bool> RollIfOlder(int64_t now_ms);

  // Replay checkpoints (group_log_checkpoint.cc): writes the active
  // segment's sparse index (format.h, kActiveIndexSuffix) so that the next
  // open scans only what was appended after it. Not synced (a hint, checked
  // before use). FailedPrecondition, writing nothing, while the log has
  // unsynced data or the active segment is damaged.
  absl::Status WriteActiveIndex();

  // Makes everything above durable.
  absl::Status Sync();
  // Sync in two phases, for drivers that fsync many files concurrently:
  // PrepareSync writes what is buffered, adds the files that need an fsync
  // to `files` and says what they cover (`sync_point`); the caller syncs each
  // of them (in any order, from any threads) and passes the first error, or
  // OK, with the sync point to FinishSync, which then syncs the directory if
  // needed. In between the log may be appended to (a flush that begins while
  // this one syncs: LogStore::CanBeginFlush), and a second PrepareSync may
  // follow; their FinishSyncs come in the same order. Only what PrepareSync
  // covered counts as synced: later changes stay to sync. The files must
  // stay open until FinishSync (no truncation, compaction or deletion in
  // between). Sync() is both phases in a row.
  absl::Status PrepareSync(std::vector<env::File*>* files,
                           uint64_t* sync_point);
  absl::Status FinishSync(absl::Status sync_status, uint64_t sync_point);
  bool needs_sync() const;
  // Writes what is buffered to the segment file without syncing it: a node
  // whose tail log (tail_wal.h) holds the appended records keeps them
  // buffered, writes them out in larger pieces and syncs the segments later,
  // at a checkpoint.
  absl::Status WriteOut() { return WritePending(); }
  // Bytes appended but not yet written to the segment file.
  uint64_t buffered_bytes() const { return pending_.size(); }
  // Payload bytes appended with no copy in user space (spliced into the
  // write buffer from the entries' shared buffers), since Open.
  uint64_t spliced_payload_bytes() const { return spliced_payload_bytes_; }
  // Append splices batches of at least this many bytes, copying their first
  // kSplicedBatchHeadBytes: the Kafka v2 batch header (61 bytes), all that
  // AssignBaseOffset reads or writes of a batch whose own CRC is checked
  // (batch_offsets.h). Below it a copy costs less than a splice.
  static constexpr size_t kSpliceMinPayloadBytes = 4096;
  static constexpr size_t kSplicedBatchHeadBytes = 64;

  // While set (non-null), Append also appends to `*tap` every record it
  // writes, exactly as stored (format.h Record): the tail log's copy. The
  // caller owns the string and clears the tap before it goes away.
  void set_wal_tap(std::string* tap) { wal_tap_ = tap; }

  // Tail log replay (group_log_sync.cc): `records` are stored records
  // (format.h) a tail-log block carried, consecutive, the first following an
  // entry of term `prev_term`. Appends, verbatim, those past last_index()
  // when the log agrees with the block on every entry they share and on the
  // one before (records below first_index() are compacted away and ignored);
  // otherwise changes nothing and counts the block as skipped (a later
  // truncation or reset superseded it). Either way the segments holding the
  // block's indexes count as unsynced, so the next Sync makes what they hold
  // durable. DataLoss when the bytes do not parse.
  struct TailReplay {
    uint64_t entries_appended = 0;
    uint64_t blocks_skipped = 0;
  };
  absl::Status AppendStoredTail(uint64_t prev_term, absl::string_view records,
                                TailReplay* replay);

  // How Read hands out payloads: copies (kCopy: an entry kept for long, as
  // the Raft core's, holds only its bytes), or slices of the buffer the
  // record was read into (kShare: no copy; an entry keeps its whole read
  // chunk alive, so only for short-lived reads, as a Fetch response's).
  enum class ReadMode { kCopy, kShare };
  // How `max_bytes` of payload bounds a Read:
  //  kPastMax: stops after the entry that reaches it (that entry may cross
  //    it; at least one entry is returned when lo < hi);
  //  kFirstMayCross: stops before an entry that would cross it, unless it is
  //    the first (at least one entry is returned when lo < hi);
  //  kWithinMax: stops before any entry that would cross it (may return none).
  // An entry left out for crossing is neither read past its header nor
  // checked, and the file is read only about as far as the bound (a Fetch
  // reads what it serves).
  enum class ReadLimit { kPastMax, kFirstMayCross, kWithinMax };
  // Appends entries [lo, hi) to `out`, stopping early at `max_bytes` of
  // payload as `limit` says. Stops before a damaged range; a read that starts
  // in one fails with DataLoss naming the file and position.
  absl::Status Read(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                    std::vector<Entry>* out, ReadMode mode = ReadMode::kCopy,
                    ReadLimit limit = ReadLimit::kPastMax);

  // Raft index of the entry whose batch holds Kafka offset `offset`. NotFound
  // when no entry holds it (below the log start or at/after next_offset()).
  absl::StatusOr<uint64_t> IndexForOffset(uint64_t offset);
  // The time index: a Raft index at or before the first entry whose batch
  // has a max timestamp >= `timestamp_ms`, such that every entry before it
  // has a smaller one (a reader scans from there: at most one index interval
  // of records that do not qualify). Segments whose max timestamp is smaller
  // are skipped whole. NotFound when no entry reaches `timestamp_ms`. Reads
  // no file (segment bounds and index points are in memory).
  absl::StatusOr<uint64_t> IndexForTimestamp(int64_t timestamp_ms) const;

  // Crashes (CHRONIK_CHECK, naming the rule and the file) when the in-memory
  // state is inconsistent: segments ordered, contiguous (or the gap reported
  // as damage) and chaining terms and Kafka offsets; index bounds; sizes
  // matching the files; each sparse index sorted and inside its segment.
  // O(segments + index points). Run after every mutation in builds without
  // NDEBUG (tests, fastbuild); never in -c opt. A failed log is not checked.
  void CheckInvariants() const;

  const std::vector<Damage>& damage() const { return damage_; }
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  const std::string& dir() const { return dir_; }
  // File fsyncs issued so far (segments and index files; directory syncs not
  // counted).
  uint64_t fsyncs() const { return fsyncs_; }

  struct IndexPoint {
    uint64_t index;
    uint64_t term;
    uint64_t offset;  // next Kafka offset before this record
    uint64_t position;
    // The largest batch timestamp of the segment's records before this one
    // (-1: none): the time index. Non-decreasing along a segment's points.
    int64_t max_timestamp_before_ms = -1;
  };
  struct Segment;

 private:
  friend class GroupLogTestPeer;  // test-only access

  GroupLog(env::Disk* disk, std::string dir, const LogOptions& options);

  absl::Status Recover(RecoveryReport* report);
  absl::Status ListSegments(RecoveryReport* report,
                            std::vector<std::string>* names);
  // RewriteSegment's new segment (`seg`, its file `bytes`) for `old`.
  absl::Status BuildRewrite(const Segment& old, absl::Span<const Entry> entries,
                            Segment* seg, std::string* bytes) const;
  // Removes `<segment>.cleaned` files a crashed RewriteSegment left.
  absl::Status RemoveCleanedLeftovers(const std::vector<std::string>& names,
                                      RecoveryReport* report);
  absl::Status LoadSegments(RecoveryReport* report);
  absl::Status ChainSegments();
  absl::Status LoadSegment(const std::string& name, bool is_last,
                           RecoveryReport* report);
  absl::Status ScanSegment(Segment& segment, bool is_last,
                           RecoveryReport* report);
  bool LoadIndexFile(Segment& segment);
  // The active index of the last segment, when present and valid (see
  // format.h): fills the segment's bookkeeping up to its size.
  absl::StatusOr<bool> LoadActiveIndex(Segment& segment,
                                       RecoveryReport* report);
  // Removes .aidx files of segments that are not the last one.
  absl::Status RemoveStaleActiveIndexes(const std::vector<std::string>& names);
  absl::Status WriteIndexFile(const Segment& segment);
  // The description of a segment with no records yet (no file).
  std::unique_ptr<Segment> EmptySegment(uint64_t first_index,
                                        uint64_t prev_term,
                                        uint64_t first_offset,
                                        uint32_t flags) const;
  absl::Status CreateSegment(uint64_t first_index, uint64_t prev_term,
                             uint64_t first_offset, uint32_t flags);
  absl::Status Roll();
  absl::Status WritePending();
  // Marks the segment changed (not synced) at the next write sequence.
  void MarkDirty(Segment& seg);
  // Rolls when a record of `record_bytes` would not fit the active segment.
  absl::Status RollIfFull(uint64_t record_bytes);
  absl::Status RemoveSegmentFiles(const Segment& segment);
  absl::Status Fail(absl::Status status);

  // Never empty: every bound of the log is read from its segments.
  Segment& active() {
    CHRONIK_CHECK(!segments_.empty()) << dir_ << ": log without a segment";
    return *segments_.back();
  }
  const Segment& active() const {
    CHRONIK_CHECK(!segments_.empty()) << dir_ << ": log without a segment";
    return *segments_.back();
  }
  // The segment holding `index` (first_index() <= index <= last_index()).
  Segment& SegmentFor(uint64_t index);
  size_t SegmentPos(uint64_t index) const;
  const Damage* DamageAt(uint64_t index) const;
  struct Located {
    uint64_t position;
    uint64_t next_offset;  // next Kafka offset before the record
  };
  // Walks record headers from the nearest index point to entry `index` in
  // `segment`.
  absl::StatusOr<Located> Locate(Segment& segment, uint64_t index);
  absl::Status CheckDamage(uint64_t index) const;
  // Invariants (group_log_invariants.cc).
  void CheckSegment(const Segment& segment, bool is_last) const;
  void CheckChain(const Segment& prev, const Segment& cur) const;
  bool HasDamageIn(const Segment& segment) const;
  // CheckInvariants unless NDEBUG, and only while the log has not failed.
  void DebugCheck() const;

  env::Disk* const disk_;
  const std::string dir_;
  const LogOptions options_;
  uint64_t roll_bytes_ = 0;  // 0: options_.segment_max_bytes
  int64_t roll_ms_ = 0;      // <= 0: no roll by time
  std::vector<std::unique_ptr<Segment>> segments_;  // ascending first index
  // Appends the record of `entry` (header ready but for the CRC) to
  // pending_; a batch gets its base offset in the stored copy.
  void BufferRecord(const format::RecordHeader& header, const Entry& entry,
                    bool batch);

  WriteBuffer pending_;  // appended to the active segment, not yet written
  uint64_t spliced_payload_bytes_ = 0;
  std::string* wal_tap_ = nullptr;  // set_wal_tap
  bool dir_dirty_ = false;
  // Index files written (WriteIndexFile) and not synced yet; `handed`: a
  // PrepareSync took it (its FinishSync closes it).
  struct UnsyncedIndex {
    uint64_t seq = 0;  // write_seq_ when written
    bool handed = false;
    std::unique_ptr<env::File> file;
  };
  std::vector<UnsyncedIndex> unsynced_index_files_;
  // Counts changes to the log's files (segments marked dirty, index files
  // written), so FinishSync clears only what its PrepareSync covered.
  uint64_t write_seq_ = 0;
  std::vector<Damage> damage_;
  absl::Status failed_;
  uint64_t fsyncs_ = 0;
};

}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_GROUP_LOG_H_
