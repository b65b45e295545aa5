// LogStore: durable storage for every Raft group of a node, with group commit.
//
// What it is for: the Raft core emits, per group and in order, "entries + hard
// state (+ snapshot) to persist" and takes "persisted up to (term, index)" back
// as an input. LogStore turns many such requests from many groups into few
// fsyncs:
//
// clang-format off
//   driver             LogStore
//   Raft Ready of g -> Enqueue(request): bounded FIFO queue
//   IO step         -> Flush():  1. apply queued requests in order (snapshot
//                                   install, suffix truncation, appends into
//                                   write buffers, written out)
//                                2. ONE fsync per touched segment file
//                                3. ONE atomic hard state write for all groups
//                   <- completions: per group "durable up to (term, index)",
//                                   hard state / snapshot now durable
// clang-format on
//
// There are no threads here: a flush is an explicit step, driven by
// replication::RaftHost. Inline, it calls Flush(); in async mode it calls
// BeginFlush, hands the files to sync to its driver (production: an IO
// thread; the simulator: completions after a simulated fsync latency) and
// calls FinishFlush when they are synced. One Flush covers every request queued
// before it (up to `max_flush_bytes`), so appends that arrive while an fsync is
// in progress share the next one. BeginFlush/FinishFlush split the step so the
// production driver can issue the fsyncs of many groups concurrently.
//
// Durability: a completion is reported only after everything it names is
// durable. Hard state of all groups lives in one file replaced atomically
// (write a temporary, fsync, rename, fsync the directory); snapshots likewise,
// one file per group, after the group's earlier requests are synced. A snapshot
// in a request replaces the group's log (install); a local snapshot
// (compaction) keeps the entries after it. Recovery (OpenGroup) reconciles the
// log with the snapshot: a log that does not contain the snapshot's (index,
// term) is reset.
//
// Errors: a failed write or fsync fails the group (its completion carries the
// error and later requests are refused) because what reached the disk is
// unknown; the node must reopen the group (restart) to recover. Queue limits
// give ResourceExhausted (retry after the next Flush). Ownership: borrows the
// disk; owns the groups. Not thread-safe.
#ifndef CHRONIK_BROKER_STORAGE_LOG_STORE_H_
#define CHRONIK_BROKER_STORAGE_LOG_STORE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "broker/env/disk.h"
#include "broker/storage/group_log.h"
#include "broker/storage/tail_wal.h"

namespace chronik::storage {

struct HardState {
  uint64_t term = 0;
  uint64_t vote = 0;  // node id voted for in `term`, 0 = none
  uint64_t commit = 0;
  friend bool operator==(const HardState&, const HardState&) = default;
};

struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t next_offset = 0;  // partitions: the Kafka offset after the snapshot
  std::string conf_state = {};  // opaque: the driver's serialized membership
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data = {};
};

// A replay checkpoint (format.h, kReplayCheckpointFile): the group
// applier's state after the applied entry (index, term), with the applied
// membership, so a restart replays only the entries after it. Written by
// LogStore::WriteCheckpoint; checked against the log by its reader
// (replication::RaftHost) before use.
struct ReplayCheckpoint {
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t conf_index = 0;  // the entry (or snapshot) that made `conf_state`
  bool learned = false;     // a joining member knew the membership
  std::string conf_state = {};  // opaque: the driver's serialized membership
  std::string image = {};       // opaque: the applier's state
  friend bool operator==(const ReplayCheckpoint&,
                         const ReplayCheckpoint&) = default;
};

// What one Raft Ready asks to persist for one group. Applied in this order:
// snapshot, entries, hard state.
struct PersistRequest {
  uint64_t group_id = 0;
  std::optional<Snapshot> snapshot = {};
  // true: install (the log is replaced, it continues after the snapshot);
  // false: local compaction (entries after the snapshot stay, whole segments
  // before it go).
  bool snapshot_replaces_log = true;
  // May start at or below the last index: the conflicting suffix is replaced.
  std::vector<Entry> entries = {};
  std::optional<HardState> hard_state = {};
};

struct AssignedOffsets {
  uint64_t index;
  uint64_t offset_base;
  uint32_t offset_count;
};

// Result of one Flush for one group that had requests in it.
struct Completion {
  uint64_t group_id = 0;
  absl::Status status =
      {};  // not OK: the group failed; nothing below is reported durable
  uint64_t durable_index =
      0;  // the log is durable up to (durable_term, durable_index)
  uint64_t durable_term = 0;
  std::optional<HardState> hard_state = {};     // durable now
  std::optional<uint64_t> snapshot_index = {};  // snapshot durable now
  std::vector<AssignedOffsets> offsets =
      {};  // partitions: offsets of appended batches
};

struct StoreOptions {
  uint64_t max_queued_requests = 16384;
  uint64_t max_queued_bytes = 256ull << 20;
  uint64_t max_flush_bytes = 64ull
                             << 20;  // per Flush step (at least one request)
  // Size of the node-wide tail log (tail_wal.h; at least kTailWalMinBytes),
  // 0 for none. With it a flush fsyncs one file, whatever the number of
  // groups it appended to; without it, every segment file it wrote.
  uint64_t tail_wal_bytes = 0;
  // A flush uses the tail log when at least this many groups append in it;
  // fewer sync their own segment files (no second copy of their bytes: a
  // lone partition's large appends are written once).
  size_t tail_wal_min_groups = 8;
  // Appends the tail log covers stay in their groups' write buffers (it
  // holds them durably) until the buffers of all covered groups hold this
  // many bytes; then WriteBehind writes every one to its segment, unsynced
  // (BeginFlush does at twice this, for a driver that does not call
  // WriteBehind). A few large writes cost the page cache much less than one
  // small write per group per flush; this bounds the memory they take.
  uint64_t tail_wal_buffer_bytes = 8ull << 20;
  // Flushes in flight at once (1 or 2). With 2 a flush may begin while the
  // previous one syncs, when it only appends what the tail log covers
  // (CanBeginFlush): applying and encoding the next flush overlaps the
  // fsync instead of following it.
  size_t max_flushes_in_flight = 2;
};

struct StoreStats {
  uint64_t flushes = 0;
  uint64_t flushes_overlapped = 0;  // begun while another synced
  uint64_t requests = 0;
  uint64_t appends = 0;  // requests that carried entries
  uint64_t entries = 0;
  uint64_t bytes = 0;
  uint64_t spliced_bytes = 0;  // of them: written uncopied (GroupLog's splice)
  uint64_t log_fsyncs = 0;     // fsyncs of segment and index files
  uint64_t hard_state_writes = 0;  // atomic replacements of the hard state file
  uint64_t checkpoints_written = 0;  // replay checkpoints (WriteCheckpoint)
  // Tail log (log_store_wal.cc): frames written, barriers, checkpoints
  // (every segment it covered synced, the log restarted), and at Open the
  // entries replayed into the groups' logs and the blocks found superseded.
  uint64_t wal_frames = 0;
  uint64_t wal_barriers = 0;
  uint64_t wal_checkpoints = 0;
  uint64_t wal_idle_checkpoints = 0;  // of them: BeginTailLogCheckpoint
  uint64_t wal_entries_replayed = 0;
  uint64_t wal_blocks_skipped = 0;
  // A gauge: at least the bytes the tail log's groups hold in their write
  // buffers (reads and syncs write some out unseen), so O(1) to test against
  // tail_wal_buffer_bytes at each flush and each WriteBehind.
  uint64_t wal_buffered_bytes = 0;
};

// One group's durable state, read side: what the Raft core's Storage interface
// and the Kafka fetch path read. Mutations go through LogStore::Enqueue/Flush
// (retention too: a snapshot request at the cut, written before the segments
// go, so a restart finds the snapshot the log now starts after).
class GroupStorage {
 public:
  uint64_t group_id() const { return group_id_; }
  // The first entry Raft may read: after the snapshot.
  uint64_t first_index() const;
  uint64_t last_index() const { return log_->last_index(); }
  // Term of `index` in [first_index() - 1, last_index()] (the snapshot's at its
  // index).
  absl::StatusOr<uint64_t> Term(uint64_t index) const;
  absl::Status Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                       std::vector<Entry>* out);
  const HardState& hard_state() const { return hard_state_; }
  const SnapshotMeta& snapshot_meta() const { return snapshot_meta_; }
  absl::StatusOr<Snapshot> LoadSnapshot() const;
  const RecoveryReport& recovery() const { return recovery_; }
  // The replay checkpoint found at open, when it decoded (CRC); nullopt when
  // missing or damaged (checkpoint_rejected() then says which).
  const std::optional<ReplayCheckpoint>& checkpoint() const {
    return checkpoint_;
  }
  bool checkpoint_rejected() const { return checkpoint_rejected_; }
  bool failed() const { return !failed_.ok(); }

  GroupLog& log() { return *log_; }

 private:
  friend class LogStore;
  GroupStorage(env::Disk* disk, uint64_t group_id)
      : disk_(disk), group_id_(group_id) {}

  env::Disk* const disk_;
  const uint64_t group_id_;
  std::string dir_;
  std::unique_ptr<GroupLog> log_;
  HardState hard_state_;
  SnapshotMeta snapshot_meta_;
  RecoveryReport recovery_;
  std::optional<ReplayCheckpoint> checkpoint_;
  bool checkpoint_rejected_ = false;
  absl::Status failed_;
};

// The files one flush must fsync, handed to the driver between BeginFlush and
// FinishFlush (see LogStore).
class FlushPlan {
 public:
  // Distinct files; each must be synced once. Syncing them concurrently is
  // fine.
  std::vector<env::File*> files_to_sync;

 private:
  friend class LogStore;
  std::map<uint64_t, Completion> completions_;
  // Per group, its range in files_to_sync, and what its sync covers
  // (GroupLog::PrepareSync; also for checkpoint_ranges_).
  std::map<uint64_t, std::pair<size_t, size_t>> file_ranges_;
  std::map<uint64_t, uint64_t> sync_points_;
  // Tail log: whether this flush uses it (enough groups append:
  // tail_wal_min_groups), the groups that sync their own files instead
  // (direct_; it covers the others), the log file's place in files_to_sync,
  // and whether this flush is a checkpoint (every group syncs its files;
  // checkpoint_ranges_ holds those of groups without a request in it).
  bool use_wal_ = false;
  std::set<uint64_t> direct_;
  std::optional<size_t> wal_file_index_;
  bool checkpoint_ = false;
  std::map<uint64_t, std::pair<size_t, size_t>> checkpoint_ranges_;
};

class LogStore {
 public:
  // Opens the store rooted at directory `root` ("" for the disk's root; created
  // if missing), loading the hard state file.
  static absl::StatusOr<std::unique_ptr<LogStore>> Open(
      env::Disk* disk, std::string root, const StoreOptions& options);
  ~LogStore();

  // Opens (recovering) or creates group `group_id`. Its RecoveryReport is in
  // GroupStorage::recovery(). Opening an open group is an error.
  absl::StatusOr<GroupStorage*> OpenGroup(uint64_t group_id,
                                          const LogOptions& options);
  // nullptr when not open.
  GroupStorage* group(uint64_t group_id);

  // Deletes group `group_id` (a deleted topic's partition): closes it if open,
  // removes its files and directory and its hard state. Durable when it returns
  // OK; a crash in between leaves a group that the next DeleteGroup finishes.
  // The group must have no queued requests (FailedPrecondition otherwise).
  absl::Status DeleteGroup(uint64_t group_id);

  // Queues a request (moved in). ResourceExhausted when the queue is full,
  // FailedPrecondition when the group is not open or has failed.
  absl::Status Enqueue(PersistRequest request);

  // Applies and syncs queued requests; one completion per group that had
  // requests. Flush() = BeginFlush(), fsync each file of the plan in turn,
  // FinishFlush().
  std::vector<Completion> Flush();

  // The same step in two phases, so a production driver can issue the plan's
  // fsyncs concurrently (a file system commits concurrent fsyncs of many files
  // together: on this machine's ext4, 100 files sync ~30x faster from 8 threads
  // than one after another). BeginFlush applies the queued requests and writes
  // them; the driver syncs every file in plan.files_to_sync and passes the
  // results, in the same order, to FinishFlush, which does the directory syncs
  // and the hard state write and returns the completions. In between, on the
  // caller's thread, only Enqueue, reads, WriteBehind and a BeginFlush that
  // CanBeginFlush allows may run (RaftHost defers group deletions while a
  // flush is in flight); the last two may append to a file the plan syncs,
  // which the plan then does not count as synced (GroupLog sync points).
  //
  // Pipelining: a second BeginFlush may follow before the first flush's
  // FinishFlush when CanBeginFlush() says so; FinishFlush is then called for
  // the plans in the order they began, and the driver syncs them in that
  // order (the second flush's tail-log frame follows the first's in the
  // same file: recovery keeps a frame only if every earlier one is whole).
  FlushPlan BeginFlush();
  std::vector<Completion> FinishFlush(
      FlushPlan plan, absl::Span<const absl::Status> sync_results);
  // Whether BeginFlush may run now: requests are queued, and either no flush
  // is in flight or fewer than max_flushes_in_flight are, none of them a
  // checkpoint, and the requests the next flush takes only append (no
  // snapshot, no conflicting suffix, no failed group), in a tail-log frame
  // sure to fit if the tail log covers them: so no barrier, checkpoint or
  // file removal runs while another flush syncs. A segment the flush in
  // flight syncs may be appended to: GroupLog's sync points keep what each
  // flush made durable apart.
  bool CanBeginFlush() const;
  size_t flushes_in_flight() const { return flushes_in_flight_; }
  // The tail log covers segments that are not synced (appends it alone
  // makes durable), no flush is in flight and no request queued: a flush
  // with no request may sync them and restart the log now, on an idle
  // store, rather than leave that work to the flush of a later load that
  // finds the log full (BeginTailLogCheckpoint).
  bool TailLogCheckpointPossible() const;
  // That flush (TailLogCheckpointPossible() must hold): a checkpoint plan
  // with the covered groups' files, finished by FinishFlush as any other
  // (it has no completions).
  FlushPlan BeginTailLogCheckpoint();
  // Between BeginFlush and FinishFlush, while the plan's files sync: writes
  // the buffered appends of the groups the tail log covers to their segments
  // once they hold tail_wal_buffer_bytes (StoreOptions), so that work
  // overlaps the fsync instead of delaying the next flush. A failed write
  // fails its group (reported by the next flush).
  void WriteBehind();
  // Bytes the tail log's groups hold in their write buffers (see
  // tail_wal_buffer_bytes).
  uint64_t tail_wal_buffered_bytes() const;

  // Replay checkpoints (log_store_checkpoint.cc; format.h): writes the
  // group's checkpoint file and its log's active index (GroupLog::
  // WriteActiveIndex: skipped while the log has unsynced data). Not synced:
  // a crash may lose or tear them, which only costs a longer recovery. Not
  // while a flush is in progress. Errors: the group is not open or failed,
  // or the write failed (the group is not failed by it).
  absl::Status WriteCheckpoint(uint64_t group_id,
                               const ReplayCheckpoint& checkpoint);
  // The clean-stop marker (format.h, kCleanStopFile), written and synced
  // last by a node that stops cleanly: the next Open skips making the store
  // durable (SyncAll). FailedPrecondition when requests are queued, a group
  // failed or has unsynced data; nothing may be written after it.
  absl::Status MarkCleanStop();
  // Open found the marker (the previous process stopped cleanly).
  bool opened_after_clean_stop() const { return opened_after_clean_stop_; }

  size_t queued_requests() const { return queue_.size(); }
  uint64_t queued_bytes() const { return queued_bytes_; }
  const StoreStats& stats() const { return stats_; }

 private:
  LogStore(env::Disk* disk, std::string root, const StoreOptions& options);
  absl::Status LoadHardStates();
  // Open: removes the clean-stop marker, or makes the store durable.
  absl::Status SyncAtOpen();
  void LoadCheckpoint(GroupStorage& group);
  absl::Status WriteHardStates();
  absl::Status Apply(GroupStorage& group, PersistRequest& request,
                     Completion& completion);
  // Tail log (log_store_wal.cc).
  absl::Status OpenTailWal();
  absl::Status ReplayTailWal(const std::vector<TailWalBlock>& blocks);
  absl::Status ApplyRequest(GroupStorage& group, PersistRequest& request,
                            Completion& completion, FlushPlan& plan);
  absl::Status LeaveTailWal(GroupStorage& group, FlushPlan& plan);
  absl::Status WriteFrame(FlushPlan& plan);
  absl::Status ForgetInTailWal(uint64_t group_id);
  absl::Status CheckpointNow();
  absl::Status RestartTailWal();
  void PlanTailWal(FlushPlan& plan);
  void PlanCheckpointSyncs(FlushPlan& plan);
  void PrepareGroupSync(uint64_t id, FlushPlan& plan);
  void WriteOutBuffered(uint64_t threshold_bytes, FlushPlan* plan);
  size_t NextFlushRequestCount() const;
  size_t GroupsAppendingInNextFlush() const;
  bool NextFlushOverlapsInFlight() const;
  void RecordDurablePoints(FlushPlan& plan);
  absl::Status CoveredSyncResult(const FlushPlan& plan,
                                 absl::Span<const absl::Status> sync_results);
  void FinishTailWal(FlushPlan& plan,
                     absl::Span<const absl::Status> sync_results);

  env::Disk* const disk_;
  const std::string root_;
  const StoreOptions options_;
  std::map<uint64_t, std::unique_ptr<GroupStorage>> groups_;
  // Every group's hard state, also of groups not open (the file holds them
  // all).
  std::map<uint64_t, HardState> hard_states_;
  std::unique_ptr<TailWal> wal_;  // null without a tail log
  // Groups whose segments hold appends only the tail log makes durable
  // (synced at the next checkpoint), and groups with blocks in its current
  // generation (a barrier before their log changes otherwise).
  std::set<uint64_t> wal_dirty_;
  std::set<uint64_t> wal_live_;
  std::deque<PersistRequest> queue_;
  uint64_t queued_bytes_ = 0;
  // Flushes begun and not finished, and whether the oldest is a checkpoint
  // (a later one is not: see CanBeginFlush).
  size_t flushes_in_flight_ = 0;
  bool checkpoint_in_flight_ = false;
  // The whole store was durable at open (clean stop, or SyncAll): groups
  // need not sync their directories before trusting their listings.
  bool synced_at_open_ = false;
  bool opened_after_clean_stop_ = false;
  StoreStats stats_;
};

// Encodings of the snapshot and hard state files (format.h has the layout).
std::string EncodeSnapshot(const Snapshot& snapshot);
absl::StatusOr<Snapshot> DecodeSnapshot(absl::string_view bytes);
std::string EncodeReplayCheckpoint(const ReplayCheckpoint& checkpoint);
absl::StatusOr<ReplayCheckpoint> DecodeReplayCheckpoint(
    absl::string_view bytes);
std::string EncodeHardStates(const std::map<uint64_t, HardState>& states);
absl::StatusOr<std::map<uint64_t, HardState>> DecodeHardStates(
    absl::string_view bytes);

// Write `bytes` to dir/name.tmp, fsync, rename over dir/name, fsync dir.
absl::Status WriteFileAtomically(env::Disk& disk, absl::string_view dir,
                                 absl::string_view name,
                                 absl::string_view bytes);
// The whole file, NotFound when missing.
absl::StatusOr<std::string> ReadWholeFile(env::Disk& disk,
                                          absl::string_view path);

}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_LOG_STORE_H_
