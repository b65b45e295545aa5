// PartitionManager: the partition replicas this node hosts, kept in line with
// the metadata (every partition whose replica list names this node has a Raft
// group here, and no other), and the read side of their logs.
//
// Reconcile() starts the Raft group of each new replica (the first listed
// replica campaigns first) and deletes the groups (and logs) of partitions
// that are gone; Apply() and OnLeaderChange() feed a replica its committed
// batches and leadership. Reads (fetch, log start, offset by timestamp) go to
// the replica's stored log, never beyond what it has applied. Retention drops
// whole old segments (topic configs) as a Raft-level compaction (a snapshot
// at the cut, which followers behind it install), never while a flush is in
// flight. Deterministic; one thread.
#ifndef CHRONIK_BROKER_SERVER_PARTITION_MANAGER_H_
#define CHRONIK_BROKER_SERVER_PARTITION_MANAGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/byte_chain.h"
#include "broker/env/env.h"
#include "broker/metadata/metadata_state.h"
#include "broker/replication/raft_host.h"
#include "broker/server/log_compactor.h"
#include "broker/server/metrics.h"
#include "broker/server/partition_replica.h"
#include "broker/storage/log_store.h"

namespace chronik::broker {

inline constexpr int64_t kLeaderReportRetryMs = 1'000;

class PartitionManager {
 public:
  // `replica_lag_time_max_ms`: how long a follower may go without catching
  // up before it leaves the ISR.
  PartitionManager(raft::NodeId self, env::Clock* clock, env::LogSink* log,
                   replication::RaftHost* host, storage::LogStore* store,
                   replication::GroupApplier* applier,
                   int64_t replica_lag_time_max_ms);

  // TEST-ONLY: env::BrokerBugs::log_start_not_replicated.
  void set_log_start_only_on_leader(bool only) {
    log_start_only_on_leader_ = only;
  }
  // BrokerOptions::compaction_max_keys_per_pass.
  void set_compaction_max_keys_per_pass(size_t keys) {
    compactor_.set_max_keys_per_pass(keys);
  }
  // TEST-ONLY: env::BrokerBugs::compaction_drops_latest.
  void set_compaction_drops_latest(bool on) { compactor_.set_drops_latest(on); }
  // The metadata changed: reconcile on the next Reconcile().
  void MarkDirty() {
    dirty_ = true;
    MetadataChanged();
  }
  // The metadata state changed (what LeaderReports, DriveReassignments and
  // the ISR's start depend on).
  void MetadataChanged() {
    reports_due_ = true;
    reassignments_due_ = true;
    ++metadata_epoch_;
    ReleaseIsrHolds();
  }
  // Reconcile is due: the metadata changed, or a replica waits to be added
  // until its deleted predecessor's files are gone (RaftHost::
  // DeletionPending: once the flush in flight finished).
  bool dirty() const {
    return dirty_ || (add_waits_for_deletion_ && !host_->deletions_pending());
  }
  void Reconcile(const metadata::MetadataState& state);
  // Not OK once a replica's log could not be opened (AddGroup failed: a
  // storage error). The node must stop (Broker::StorageFailure): running on
  // without the replica would leave the partition short of it for good.
  const absl::Status& storage_failure() const { return storage_failure_; }

  // Committed entries and leadership of partition groups.
  void Apply(replication::GroupId group_id, const raft::Entry& entry);
  void OnLeaderChange(replication::GroupId group_id, raft::NodeId leader,
                      raft::Term term);
  // Groups that applied entries since the last call (wakes parked fetches).
  bool TakeChanged();

  PartitionReplica* Find(const metadata::MetadataState& state,
                         const std::string& topic, int32_t partition);
  // The replica of a partition this node leads (and, with `require_ready`,
  // may take requests for), or the Kafka error to answer with.
  int16_t LeaderReplica(const metadata::MetadataState& state,
                        const std::string& topic, int32_t partition,
                        bool require_ready, PartitionReplica** replica);
  // The same, checking the request's current leader epoch (-1: none) first
  // as Kafka's replica does: UNKNOWN_TOPIC_OR_PARTITION, then
  // NOT_LEADER_OR_FOLLOWER where no replica is hosted, then
  // FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH against the replica's leader
  // epoch, then NOT_LEADER_OR_FOLLOWER on a follower (or, with
  // `require_ready`, a leader not ready yet).
  int16_t LeaderReplica(const metadata::MetadataState& state,
                        const std::string& topic, int32_t partition,
                        int32_t current_leader_epoch, bool require_ready,
                        PartitionReplica** replica);
  // Leader (node id) of the partition as far as this node knows, -1 unknown:
  // its own Raft view where it hosts a replica, else the leader last reported
  // to the metadata group (so every broker names the leader of every
  // partition, whatever the replication factor).
  int32_t PartitionLeader(const metapb::PartitionInfo& partition) const;
  // Its leader epoch, from the same source (the hosted replica's, else the
  // reported leader's term); -1 unknown.
  int32_t PartitionLeaderEpoch(const metapb::PartitionInfo& partition) const;
  // Every tick (`tick_ms`: the node's tick time, which never jumps): samples
  // the Raft progress of every partition this node leads for its ISR (but
  // those whose sample holds, partition_isr.cc).
  void TrackIsr(const metadata::MetadataState& state, int64_t tick_ms);
  // The in-sync replicas of a partition this node leads, as it computes them
  // (sorted, itself included): what min.insync.replicas is checked against.
  std::vector<uint64_t> InSyncReplicas(const metadata::MetadataState& state,
                                       PartitionReplica& replica);
  // acks=all with min.insync.replicas above a majority (produce.cc): `wait`
  // (for a batch `replica` committed) is answered by ReleaseCopies once
  // enough replicas hold it.
  void WaitForCopies(PartitionReplica& replica,
                     PartitionReplica::CopyWait wait);
  // Every step: answers the copy waits the leaders' Raft progress (match
  // indexes) now satisfies, or whose ISR shrank below min.insync.replicas.
  void ReleaseCopies(const metadata::MetadataState& state, int64_t now_ms);
  // ReportPartitionLeader commands (with the ISR) for the partitions this
  // node leads (and may take requests for) whose leadership or ISR the
  // metadata does not show yet; each is re-sent at most every
  // kLeaderReportRetryMs until it shows.
  std::vector<metapb::MetadataCommand> LeaderReports(
      const metadata::MetadataState& state, int64_t now_ms);

  // Every tick: the next reassignment move (reassignment.h) of each
  // partition this node leads whose metadata names a target; returns the
  // CompleteReassignment commands to propose (each re-sent at most every
  // kLeaderReportRetryMs until the metadata shows it).
  std::vector<metapb::MetadataCommand> DriveReassignments(
      const metadata::MetadataState& state, int64_t tick_ms);

  // Appends the stored batches from Kafka `offset` on to `out`, whole
  // batches within `max_bytes`, never past what the replica applied; each
  // batch is a slice of the buffer storage read it into (no copy). With
  // `may_exceed` the first batch is taken even when larger (KIP-74: only the
  // first partition with data of a Fetch may exceed the limits). Batches
  // at or after `end_offset` are not read (read_committed: the LSO).
  absl::Status ReadRecords(const PartitionReplica& replica, int64_t offset,
                           size_t max_bytes, bool may_exceed, ByteChain* out,
                           int64_t end_offset = INT64_MAX);
  // The log start offset: the first stored offset, or where DeleteRecords
  // moved it beyond that (PartitionReplica::log_start()).
  int64_t LogStartOffset(PartitionReplica& replica);
  // (offset, timestamp) of the first record at or after `timestamp_ms` (and
  // at or after the log start), or (-1, -1).
  std::pair<int64_t, int64_t> OffsetForTimestamp(
      const PartitionReplica& replica, int64_t timestamp_ms);
  // (offset, timestamp) of the first record with the largest timestamp at
  // or after the log start (ListOffsets' MAX_TIMESTAMP, KIP-734), or (-1, -1)
  // for an empty log.
  std::pair<int64_t, int64_t> OffsetOfMaxTimestamp(
      const PartitionReplica& replica);

  // Retention and log compaction, marked due by the broker's tick. They
  // change segment files, which the IO thread may be syncing, so they run
  // (RunDueMaintenance, from the tick and before each Process of the host)
  // only when no flush is in flight; while one is, the host is asked for
  // such a moment (RaftHost::RequestQuietStore), which a steady load would
  // otherwise never leave.
  void MarkRetentionDue() { retention_due_ = true; }
  void MarkCompactionDue() { compaction_due_ = true; }
  void RunDueMaintenance(const metadata::MetadataState& state);
  const CompactionTotals& compaction_totals() const {
    return compactor_.totals();
  }
  // A partition group's snapshot (recovery or a leader's install).
  absl::Status RestoreSnapshot(uint64_t group_id,
                               const replication::SnapshotImage& image);
  // Replay checkpoints of partition groups (PartitionReplica): nullopt /
  // NotFound for a group that is not a partition hosted here.
  std::optional<std::string> CheckpointImage(uint64_t group_id) const;
  absl::Status RestoreCheckpoint(uint64_t group_id, raft::Index index,
                                 raft::Term term, absl::string_view image);
  // Bytes of the replica's stored log (DescribeLogDirs' partition size).
  uint64_t StoredBytes(const PartitionReplica& replica) const;
  // Partition counts, and under-replicated ones among those it leads.
  void AddMetrics(const metadata::MetadataState& state,
                  BrokerMetrics* metrics) const;

 private:
  // Retention (topic configs retention.ms / retention.bytes, and the log
  // start DeleteRecords set): where whole old segments may go (never above
  // what this replica applied), the log is compacted through
  // RaftHost::CompactLog with the replica's snapshot image at the cut, so a
  // follower behind the new log start installs it.
  void ApplyRetention(const metadata::MetadataState& state);
  // Log compaction (log_compactor.h): segment rolls by segment.ms /
  // segment.bytes of every partition, then a compaction pass over the next
  // compacted partition due (round robin).
  void CompactLogs(const metadata::MetadataState& state);
  int64_t FirstStoredOffset(PartitionReplica& replica);
  void Remove(uint64_t group_id);
  void Add(const metapb::TopicInfo& topic,
           const metapb::PartitionInfo& partition);
  // Starts the replica's ISR tracking for its current leader term (from the
  // committed ISR) unless it is running for that term; false when this node
  // does not lead the partition (or the metadata no longer has it).
  bool StartIsr(const metadata::MetadataState& state,
                PartitionReplica& replica);
  // TrackIsr's sample of one partition it leads: taken in full, or one that
  // IsrTracker::Repeat stood for, or one that holds from now on (Hold; a
  // quiesced group: nothing changed).
  enum class IsrSample { kTaken, kRepeated, kHeld };
  IsrSample SampleIsr(const metadata::MetadataState& state,
                      PartitionReplica& replica, int64_t tick_ms);
  // Ends the hold of the group's ISR sample (if any) at the last tick: it is
  // sampled again from the next one.
  void ReleaseIsrHold(uint64_t group_id);
  void ReleaseIsrHolds();
  // CHECKs that every held group is an idle, quiesced group this node leads
  // (debug builds, at each TrackIsr).
  void CheckIsrHolds() const;

  const raft::NodeId self_;
  env::Clock* const clock_;
  env::LogSink* const log_;
  replication::RaftHost* const host_;
  storage::LogStore* const store_;
  replication::GroupApplier* const applier_;
  const int64_t replica_lag_time_max_ms_;
  int64_t tick_ms_ = 0;  // the last TrackIsr's
  std::map<uint64_t, std::unique_ptr<PartitionReplica>> partitions_;  // group
  bool dirty_ = true;
  bool add_waits_for_deletion_ = false;
  bool log_start_only_on_leader_ = false;  // TEST-ONLY
  absl::Status storage_failure_;           // the first AddGroup failure
  bool changed_ = false;  // a partition applied entries since TakeChanged
  // Partition group -> when its leader report may be sent again.
  std::map<uint64_t, int64_t> next_report_ms_;
  // Partition group -> when its CompleteReassignment may be sent again.
  std::map<uint64_t, int64_t> next_complete_ms_;
  std::set<uint64_t> copy_waiting_;  // groups with copy waits
  // Partitions whose replica is the leader (PartitionReplica::is_leader):
  // what TrackIsr, LeaderReports and DriveReassignments visit (the others
  // they skip), so idle followers cost them nothing.
  std::set<uint64_t> led_;
  // led_ in two: the groups whose ISR sample holds (IsrTracker::Hold:
  // quiesced and outside the host's active set), which TrackIsr skips until
  // their group wakes (RaftHost::TakeWoken) or the metadata changes, and the
  // others, which it samples.
  std::set<uint64_t> isr_held_;
  std::set<uint64_t> isr_sampled_;
  // LeaderReports may have something to send: set by whatever its outcome
  // depends on (the metadata, a leadership, a partition's entries, the
  // ISR's samples and time at TrackIsr), and kept while a report is not
  // shown by the metadata (it is retried). Clear: it returns nothing.
  bool reports_due_ = true;
  // DriveReassignments may have something to do: the metadata or a
  // leadership changed, or a partition it leads has a target (kept).
  bool reassignments_due_ = true;
  // Counts MetadataChanged calls (PartitionReplica::isr_started_epoch).
  uint64_t metadata_epoch_ = 1;
  LogCompactor compactor_;
  uint64_t next_compact_group_ = 0;  // round robin of CompactLogs
  bool retention_due_ = false;       // MarkRetentionDue
  bool compaction_due_ = false;      // MarkCompactionDue
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_PARTITION_MANAGER_H_
