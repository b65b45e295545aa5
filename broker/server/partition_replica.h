// PartitionReplica: this node's state of one partition, derived from the
// partition's Raft log (which is the partition's Kafka log).
//
// Every replica applies committed batches in log order: the Kafka offsets of a
// batch are the next free ones (the same numbers the storage wrote into the
// batch when it was appended, because both follow the log), the high watermark
// is the offset after the last applied batch, and the idempotent-producer table
// follows the batches. The leader additionally keeps a view that includes its
// own proposals in flight (producer table and next offset), valid once it has
// applied an entry of its own term (so nothing of an earlier term is pending
// in its log); it then judges new batches against that view.
//
// Snapshots: a partition's log is its data, so its "snapshot" at index S is
// where the log was compacted (retention removed whole segments ending at S):
// the Kafka offset after S (the log start offset, carried in RaftHost's
// frame) and the producer windows of the batches at or below S
// (SnapshotImage). A follower behind the leader's log start installs it:
// its log restarts after S, this replica takes the image's state, and the
// entries after S replicate and apply as usual.
//
// Image layout (all little-endian): u32 version (kPartitionImageVersion),
// u32 batch count N, then N records of 36 bytes, in raft index order:
// u64 producer id, u32 producer epoch (int16 widened), u32 base sequence,
// u32 record count, u64 base offset, u64 raft index; version 2 then the
// transaction state at the cut (partition::TxnState::EncodeAsOf). Version 3:
// a record whose record count is 0 is a producer known only by the epoch a
// transaction marker gave it (its fence). Versions 1 (no transactions) and 2
// still restore.
//
// Replay checkpoints (replication::RaftHost): CheckpointImage is the whole
// applied state, so that a restart restores it instead of replaying the
// log: u32 version (kCheckpointImageVersion), i64 next offset, i64 log
// start, u32 leader epoch count E, E times (i32 epoch, i64 start offset),
// then the image above at the applied index (producer windows and
// transactions). RestoreCheckpoint checks it all before changing anything.
//
// The log start (DeleteRecords): a log start entry (storage's control entry,
// batch_offsets.h) in the partition's own Raft log moves the log start offset
// to X when it is applied, on every replica in log order with the data, so
// it is replicated and durable as the data is and survives a restart (the
// entry is replayed). Offsets below it are gone: ListOffsets, Fetch and
// retention (which then removes the whole segments below it) use
// log_start(). A snapshot needs no field for it: a cut below the entry
// leaves the entry in the tail, and a cut at or after it is at an offset >= X
// (the leader asked for X <= its high watermark, which only the entries
// before the log start entry make up).
//
// Leader epochs (KIP-101/279/320): the epoch of a batch is the Raft term of
// the entry holding it (storage stamps it into the stored batch); every
// applied entry feeds its term and the next offset to LeaderEpochs, what
// OffsetForLeaderEpoch and Fetch's diverging-epoch check answer from. The
// log start moves its start (log start entries, retention's cut:
// TruncateEpochs), a snapshot resets it to the epoch of its last entry. The
// replica's current leader epoch is the term of the leader it last knew
// (Metadata answers it; requests naming an older one are fenced).
//
// Pending appends (proposals waiting for commit) are completed by Apply with
// the batch's base offset (a log start entry's: the log start after it), or
// failed when the index is taken by another term's entry or leadership is
// lost. Deterministic; thread-compatible.
#ifndef CHRONIK_BROKER_SERVER_PARTITION_REPLICA_H_
#define CHRONIK_BROKER_SERVER_PARTITION_REPLICA_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "broker/kafka/batch_header.h"
#include "broker/partition/isr.h"
#include "broker/partition/leader_epochs.h"
#include "broker/partition/producer_state.h"
#include "broker/partition/txn_state.h"
#include "broker/storage/batch_offsets.h"
#include "raft/types.h"

namespace chronik::broker {

// The fields of a stored v2 batch header the broker needs after validation.
struct BatchFacts {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;  // offsets the batch takes
  int64_t max_timestamp_ms = -1;
  bool transactional = false;
  bool control = false;  // a transaction marker (ReadBatchFacts reads it)
  // marker: removed by log compaction (an empty control batch; commit and
  // txn_seq unknown, see partition/compaction.h)
  bool removed = false;
  bool commit = false;  // marker: commit or abort
  int32_t txn_seq = 0;  // marker: its coordinator epoch
};
BatchFacts FactsOf(const kafka::BatchHeader& header);
// Reads them from a batch that passed validation (a marker's record too).
BatchFacts ReadBatchFacts(absl::string_view batch);

// Version 2 appends the transaction state (partition::TxnState).
inline constexpr uint32_t kPartitionImageVersion = 3;
inline constexpr size_t kPartitionImageHeaderBytes = 8;
inline constexpr size_t kPartitionImageBatchBytes = 36;
inline constexpr uint32_t kCheckpointImageVersion = 1;
inline constexpr size_t kCheckpointImageHeaderBytes = 24;
inline constexpr size_t kCheckpointImageEpochBytes = 12;

class PartitionReplica {
 public:
  // error_code 0: committed at base_offset.
  using AppendDone =
      std::function<void(int16_t error_code, int64_t base_offset)>;

  PartitionReplica(std::string topic, int32_t partition, uint64_t group_id,
                   raft::NodeId self);

  const std::string& topic() const { return topic_; }
  int32_t partition() const { return partition_; }
  uint64_t group_id() const { return group_id_; }

  // Committed entries, in order.
  void Apply(const raft::Entry& entry);
  // TEST-ONLY (env::BrokerBugs::log_start_not_replicated): only a leader
  // applies log start entries.
  void set_log_start_only_on_leader(bool only) {
    log_start_only_on_leader_ = only;
  }
  void OnLeaderChange(raft::NodeId leader, raft::Term term);
  // The image of a snapshot at `index` (<= applied_index(); see above),
  // whose next Kafka offset is `next_offset`.
  std::string SnapshotImage(raft::Index index, int64_t next_offset) const;
  // Replaces the state with a snapshot's: applied through `index` (of
  // `term`), the next offset `next_offset`, the producer windows and
  // transactions of `image`. Pending appends fail. DataLoss when the image
  // does not decode.
  absl::Status RestoreSnapshot(raft::Index index, raft::Term term,
                               int64_t next_offset, absl::string_view image);

  // The replay checkpoint image of the state after applied_index() (see
  // above), and its restore after entry `index` of `term`: DataLoss, with
  // nothing changed, when it does not decode.
  std::string CheckpointImage() const;
  absl::Status RestoreCheckpoint(raft::Index index, raft::Term term,
                                 absl::string_view image);

  // The leader may take produce requests.
  bool leader_ready() const { return leader_ready_; }
  bool is_leader() const { return is_leader_; }
  raft::Term leader_term() const { return leader_term_; }
  // The leader epoch (term) of the leader this replica last knew; -1 before
  // any.
  int32_t leader_epoch() const { return leader_epoch_; }
  // Kafka's check of a request's current leader epoch against it: NONE for
  // -1 (none given) or the same epoch, FENCED_LEADER_EPOCH when older,
  // UNKNOWN_LEADER_EPOCH when newer.
  int16_t CheckLeaderEpoch(int32_t current_leader_epoch) const;
  const partition::LeaderEpochs& epochs() const { return epochs_; }
  // OffsetForLeaderEpoch: the largest epoch <= `requested` and its end
  // offset; the latest epoch ends at the high watermark (what a consumer
  // can have read).
  partition::EpochEnd EndOffsetForEpoch(int32_t requested) const {
    return epochs_.EndOffsetFor(requested, next_offset_);
  }
  // Retention removed the offsets below `first_offset`.
  void TruncateEpochs(int64_t first_offset) {
    epochs_.TruncateFromStart(first_offset);
  }

  // Leader: judges a batch against applied + in-flight state.
  partition::ProducerCheck CheckProducer(const BatchFacts& facts) const;
  // Leader: records a proposal accepted by Raft at (term, index); returns the
  // base offset it will get. `done` runs when it commits or fails.
  int64_t AddPendingAppend(raft::Term term, raft::Index index,
                           const BatchFacts& facts, AppendDone done);
  // Leader: records a log start entry accepted by Raft at (term, index);
  // `done` gets the log start after it once it commits, or the error.
  void AddPendingLogStart(raft::Term term, raft::Index index, AppendDone done);
  // Leader: waits for an in-flight duplicate's original to commit.
  void WaitForPending(raft::Index index, AppendDone done);
  // Fails every pending append and copy wait (leadership lost, shutdown,
  // group failed).
  void FailPending(int16_t error_code);

  // Leader, acks=all where min.insync.replicas is above a majority: a
  // committed batch at `index` (base offset `base_offset`) is acknowledged
  // only once `copies` replicas (this leader included) hold it durably.
  struct CopyWait {
    raft::Index index = 0;
    int copies = 0;  // min(min.insync.replicas, replicas)
    int64_t base_offset = -1;
    int64_t deadline_ms = 0;  // the request's: dropped after it
    AppendDone done;
  };
  void AddCopyWait(CopyWait wait) { copy_waits_.push_back(std::move(wait)); }
  bool has_copy_waits() const { return !copy_waits_.empty(); }
  // Runs the waits that `copies_of(index)` now satisfies (NONE), fails those
  // whose ISR (`isr_size`) shrank below their copies, i.e. below
  // min.insync.replicas (NOT_ENOUGH_REPLICAS_AFTER_APPEND, as Kafka), drops
  // those past their deadline; the rest stay.
  void ReleaseCopyWaits(const std::function<int(raft::Index)>& copies_of,
                        size_t isr_size, int64_t now_ms);

  int64_t high_watermark() const { return next_offset_; }
  // The last stable offset: below it no transaction is open.
  int64_t last_stable_offset() const { return txn_.StableOffset(next_offset_); }
  const partition::TxnState& txn() const { return txn_; }
  // Log compaction cleaned this replica's log below `offset`: the aborted
  // transactions whose marker is below it have no record left here, and
  // their markers may go (log_compactor.h).
  void ForgetAbortedBelow(int64_t offset) { txn_.TrimBelow(offset); }
  const partition::ProducerStateTable& producers() const { return producers_; }
  // The log start offset applied entries and snapshots set (log start
  // entries, the offset after a snapshot); 0 before any. The first stored
  // offset may be lower until retention removes the segments below it.
  int64_t log_start() const { return log_start_; }
  // The first stored offset, once looked up (the broker clears it when
  // retention removes segments).
  std::optional<int64_t> cached_log_start_offset() const {
    return log_start_offset_;
  }
  void set_cached_log_start_offset(std::optional<int64_t> offset) {
    log_start_offset_ = offset;
  }
  raft::Index applied_index() const { return applied_index_; }
  // Leader: its in-sync replicas (PartitionManager samples its progress).
  partition::IsrTracker& isr_tracker() { return isr_tracker_; }
  const partition::IsrTracker& isr_tracker() const { return isr_tracker_; }
  // The PartitionManager's metadata epoch at which its tracker was last
  // found started for the current term (StartIsr true): until the epoch
  // moves, StartIsr would say the same (0: never).
  uint64_t isr_started_epoch() const { return isr_started_epoch_; }
  void set_isr_started_epoch(uint64_t epoch) { isr_started_epoch_ = epoch; }

 private:
  struct PendingAppend {
    raft::Term term = 0;
    int64_t base_offset = -1;  // -1: a log start entry
    std::vector<AppendDone> waiters;
  };

  const std::string topic_;
  const int32_t partition_;
  const uint64_t group_id_;
  const raft::NodeId self_;

  // Applies a batch's producer and transaction state at `offset`.
  void ApplyBatch(raft::Index index, const BatchFacts& facts, int64_t offset);
  // Applies a log start entry at offset `offset`.
  void ApplyLogStart(raft::Index index, int64_t offset);

  bool log_start_only_on_leader_ = false;  // TEST-ONLY
  int64_t next_offset_ = 0;
  int64_t log_start_ = 0;
  std::optional<int64_t> log_start_offset_;
  raft::Index applied_index_ = 0;
  partition::ProducerStateTable producers_;
  partition::TxnState txn_;

  partition::LeaderEpochs epochs_;

  bool is_leader_ = false;
  bool leader_ready_ = false;
  raft::Term leader_term_ = 0;
  int32_t leader_epoch_ = -1;
  partition::ProducerStateTable leader_producers_;
  int64_t leader_next_offset_ = 0;
  std::map<raft::Index, PendingAppend> pending_;
  std::vector<CopyWait> copy_waits_;  // in commit order
  partition::IsrTracker isr_tracker_;
  uint64_t isr_started_epoch_ = 0;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_PARTITION_REPLICA_H_
