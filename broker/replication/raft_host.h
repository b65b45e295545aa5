// RaftHost: runs every Raft group of one node (the metadata group and the
// node's partition replicas) on the pure core (raft/RawNode) and the durable
// LogStore (broker/storage/), following the core's persistence contract.
//
// A driver (the production event loop or the simulator) calls, from one
// thread:
//   Step(group, message)   for each message received from a peer,
//   Tick()                 every tick interval (all groups tick),
//   Propose(group, data)   for new commands / record batches,
//   Process(&outbox)       after any of the above: collects every group's
//                          Ready, queues its storage work, hands committed
//                          entries to the group's applier, and makes the
//                          queued work durable with ONE LogStore flush (one
//                          fsync per file covers all groups: group commit);
//                          it reports persistence back to the cores and keeps
//                          applying (bounded rounds) without a second flush:
//                          storage work queued after the flush waits for the
//                          next Process (HasWork() says so). Messages to send
//                          land in `outbox`; replies that claim durability are
//                          only released after the flush that made them true.
//   OnSyncDone(id, ...)    async mode only: the fsyncs of the flush handed
//                          out by TakeSyncRequest() finished (an input, like a
//                          message; the driver then calls Process).
//   ReadIndex(group, ctx)  a linearizable read: the group's applier gets a
//                          ReadState with `ctx` (OnReadState) in a later
//                          Process; the read may be served once the applier
//                          has applied through its index.
//
// Recovery: AddGroup opens the group's storage, replays the committed entries
// (after the last snapshot) through the applier, and restarts the core with
// the uncommitted tail. A group's initial voters are given by its creator
// (the cluster peers for the metadata group, the first assignment for a
// partition), never inferred, so a node can never sit alone in a group of one
// by accident.
//
// Membership: every member starts the group with the same initial voters;
// later changes are conf change entries in the log (ProposeConfChange on the
// leader), which take effect when applied. The host keeps the applied
// membership (membership()): recovery starts from the stored snapshot's (or
// the initial voters) and applies the replayed conf changes with the core's
// own arithmetic (raft/conf_state.h), so it needs no file of its own; a
// snapshot stores the membership at its index. A node being added to a group
// starts it with `joining` (it is not among the initial voters) and waits for
// the leader to add it as a learner; a joining node never campaigns until it
// is a voter.
//
// Snapshots: a group whose GroupSpec has a SnapshotPolicy (the metadata
// group) is snapshotted once it has applied more than the policy's entries or
// bytes since its last snapshot: the applier's TakeSnapshot image at the
// applied index goes to the core (OnSnapshotTaken, to send to followers
// behind the compacted log) and to storage, which writes the snapshot file
// and then removes the whole segments before it (small segments, the
// policy's segment_max_bytes, keep that bound tight). A partition group's log
// IS its data, so it is never snapshotted by policy: when retention removes
// its oldest segments, the PartitionManager calls CompactLog with the removed
// prefix's last index and an image of the partition state at that index
// (producer windows; the Kafka offset after it), which is then the snapshot a
// follower behind the leader's log start installs. Installing a leader's
// snapshot (a Ready's `snapshot`): storage replaces the log (snapshot file,
// then a new empty log after it) and, once that is durable, the applier's
// RestoreSnapshot replaces its state, before any later entry is applied.
// Recovery restores the stored snapshot first and replays only the tail.
// Compaction is refused (FailedPrecondition, retry later) at an index before
// the last applied membership change: the membership at the cut would be
// unknown.
//
// The snapshot image the core carries (raft::Snapshot::data) is framed here:
// an 8-byte little-endian Kafka offset after the snapshot index (partitions;
// 0 otherwise), then the applier's image. Storage keeps the offset in the
// snapshot file's header and the image as its data (docs/storage-format.md).
//
// Replay checkpoints: so that a restart does not replay a partition's
// whole log through its applier, the host writes, per group, the applier's
// CheckpointImage at its applied index with the applied membership
// (storage::LogStore::WriteCheckpoint, which also writes the log's active
// index): WriteDueCheckpoints from the driver's tick (a group that applied
// HostOptions::checkpoint_bytes since its last one, or anything for
// checkpoint_interval_ticks), WriteAllCheckpoints at a clean stop. Recovery
// uses the stored one when it is after the snapshot, at or before the last
// stored entry and that entry has its term (the stored log up to there is
// then what was applied): RestoreCheckpoint, then only the entries after
// it are replayed, and its index counts as committed. Otherwise, or when
// the applier refuses it, recovery replays from the snapshot as before.
// The observer still hears of every stored entry (read for it only).
//
// Failure: a storage error fails the group (its core is dropped and the error
// reported by failed_groups()); the node keeps serving its other groups.
//
// Quiescence (HostOptions::quiesce, GroupSpec::quiesce; raft::Config::quiesce
// has the core's rules): an idle group's core stops ticking and sends nothing.
// Liveness is then watched per node, not per group: every heartbeat interval
// the host sends each peer node (every member of any of its groups) one
// kNodeHeartbeat carrying its incarnation (a new one per process start), and
// counts, per peer, the ticks since it last heard anything from it. On each
// Tick a quiesced group whose member nodes have been silent for an election
// timeout is woken with them (RawNode::Wake): a follower whose leader's node
// is silent campaigns after its randomized timeout, a leader left without an
// active quorum steps down (CheckQuorum), a leader with a silent follower
// keeps heartbeating it. A peer whose incarnation changed (it restarted)
// wakes the quiesced groups it is a member of at once (its lease as a leader
// is over). Proposals, reads, transfers, membership changes and any message
// for a group wake it in the core.
//
// Active groups (raft_host_active.cc): Process, Tick, HasReady and HasWork
// visit only the groups given an input since they were last found idle
// (quiesced, nothing to persist, apply or report), so a step costs in
// proportion to the busy groups, not to all of them.
//
// Observation: HostOptions::observer (raft_host_observer.h) hears of appends,
// durability, commits, applies, role changes and recovery, per group.
//
// Not thread-safe; deterministic given deterministic inputs.
#ifndef CHRONIK_BROKER_REPLICATION_RAFT_HOST_H_
#define CHRONIK_BROKER_REPLICATION_RAFT_HOST_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/env/env.h"
#include "broker/replication/raft_host_observer.h"
#include "broker/storage/log_store.h"
#include "raft/raw_node.h"

namespace chronik::replication {

// Async mode: stop taking Readies while this many requests are queued.
inline constexpr size_t kMaxAsyncQueuedRequests = 8192;

using OutgoingMessage = env::PeerMessage;

// A snapshot as the applier sees it.
struct SnapshotImage {
  raft::Index index = 0;  // the last entry it covers
  raft::Term term = 0;    // that entry's term
  // Partitions: the Kafka offset after `index` (the log start offset of a
  // log compacted there). 0 for other groups.
  uint64_t next_offset = 0;
  absl::string_view data;  // the applier's image
};

// What a group's state machine sees: committed entries, in log order, exactly
// once per process lifetime (after a restart, replayed from storage).
class GroupApplier {
 public:
  virtual ~GroupApplier() = default;
  virtual void Apply(GroupId group_id, const raft::Entry& entry) = 0;
  // The group's leader or term changed (leader 0 = unknown); reported by the
  // first Process after the change, also one that made no Ready (a leader
  // stepped down by check quorum).
  virtual void OnLeaderChange(GroupId /*group_id*/, raft::NodeId /*leader*/,
                              raft::Term /*term*/) {}
  // A read asked for with RaftHost::ReadIndex is confirmed: serve it once
  // everything through `read.index` is applied.
  virtual void OnReadState(GroupId /*group_id*/,
                           const raft::ReadState& /*read*/) {}
  // Snapshots (see the file comment). The state after the last entry given
  // to Apply, as bytes; called between Apply calls, only for groups with a
  // SnapshotPolicy.
  virtual std::string TakeSnapshot(GroupId group_id);
  // Replaces the group's state with `image` (as TakeSnapshot or a
  // CompactLog caller made it), which covers every entry through
  // image.index; the next Apply is of image.index + 1. Called by AddGroup
  // before the tail is replayed, and when a snapshot sent by the leader is
  // durable. An image that does not decode is an error (DataLoss): the group
  // fails.
  virtual absl::Status RestoreSnapshot(GroupId group_id,
                                       const SnapshotImage& image);
  // Replay checkpoints (see the file comment): the group's state after the
  // last entry given to Apply, as bytes RestoreCheckpoint takes back;
  // nullopt (the default): the group has none and is replayed from its log.
  virtual std::optional<std::string> CheckpointImage(GroupId /*group_id*/) {
    return std::nullopt;
  }
  // Replaces the group's state with `image` (a CheckpointImage taken after
  // entry `index` of `term`); the next Apply is of index + 1. Called by
  // AddGroup after RestoreSnapshot, before the tail is replayed. An error
  // changes nothing: the checkpoint is not used.
  virtual absl::Status RestoreCheckpoint(GroupId group_id, raft::Index index,
                                         raft::Term term,
                                         absl::string_view image);
};

// When a group's state machine is snapshotted and its log compacted. Both
// limits count what was applied since the last snapshot (or since start):
// entries, and payload bytes. 0 disables that limit; both 0: never.
struct SnapshotPolicy {
  uint64_t max_entries = 0;
  uint64_t max_bytes = 0;
  // The group's log segments roll at this size (0: the host's): compaction
  // removes whole segments, so the log holds at most about max_bytes plus one
  // segment (and the entries in it).
  uint64_t segment_max_bytes = 0;
  bool enabled() const { return max_entries > 0 || max_bytes > 0; }
};

struct GroupSpec {
  GroupId group_id = 0;
  // The group's initial voters (sorted, non-empty, unique): the same on every
  // member, whatever membership changes followed.
  std::vector<raft::NodeId> voters;
  bool is_partition = false;        // entries are Kafka record batches
  GroupApplier* applier = nullptr;  // borrowed; outlives the group
  SnapshotPolicy snapshot_policy = {};
  // This node is being added to the running group (the leader makes it a
  // learner, then maybe a voter): it may be outside `voters`, and until it
  // applies a conf change naming it (or installs a snapshot) it neither
  // campaigns nor votes, even if `voters` names it (a replica that was
  // removed, its log deleted, and is added again). Without it, a node must
  // be one of the initial voters.
  bool joining = false;
  // With `joining`: this node does not know the group's initial voters (a
  // broker joining a running cluster's metadata group), so `voters` is a
  // placeholder and it takes the group only from a snapshot: appends that
  // would start its log at the first entry are dropped until it installed
  // one (the leader then sends its snapshot, see RaftHost::SnapshotNow).
  bool voters_unknown = false;
  // The group may quiesce when HostOptions::quiesce is on (partitions; the
  // metadata group ticks: the controller's broker liveness hears its
  // messages).
  bool quiesce = false;
};

// When RaftHost::Tick writes replay checkpoints (WriteDueCheckpoints): a
// group is due once it applied `bytes` of payload since its last
// checkpoint, or applied anything and `interval_ticks` ticks passed since
// (0: not by that rule); at most `max_per_tick` groups per tick (0: none;
// the driver may call WriteDueCheckpoints itself).
struct CheckpointPolicy {
  uint64_t bytes = 0;
  uint64_t interval_ticks = 0;
  size_t max_per_tick = 0;
};

using SyncFiles = env::SyncFiles;
// Async mode: the files one started flush needs fsynced (see env.h).
using SyncRequest = env::SyncRequest;

struct HostOptions {
  raft::NodeId self = raft::kNoNode;
  int election_timeout_ticks = 10;
  int heartbeat_timeout_ticks = 1;
  uint64_t seed = 0;  // group g's core is seeded with a mix of seed and g
  bool pre_vote = true;
  bool check_quorum = true;
  storage::LogOptions log_options;
  // Bound on Ready/flush rounds in one Process call.
  int max_process_rounds = 16;
  uint64_t max_replay_bytes_per_read = 4 << 20;
  // Per group: payload bytes of applied entries the core keeps in memory for
  // followers that lag a little (older ones are read from storage).
  uint64_t max_log_tail_bytes = 8 << 20;
  raft::InjectedBugs injected_bugs;  // TEST-ONLY (simulator)
  // How one storage flush's fsyncs run. Empty: one after another on the
  // calling thread (LogStore::Flush). The production driver passes a function
  // that syncs the files concurrently (runtime::SyncInParallel), returning
  // one status per file in order.
  SyncFiles sync_files;
  // When true, Process() never waits for an fsync: it starts a flush
  // (LogStore::BeginFlush) and hands its files out (TakeSyncRequest); Readies
  // keep queueing and share the next flush. A second flush may begin while
  // one syncs when the store allows it (LogStore::CanBeginFlush: it only
  // appends what the tail log covers); flushes finish in the order they
  // began. Replies that claim durability wait for the flush that covers
  // them.
  bool async_flush = false;
  // Async mode: stop taking Readies while this much is queued (backpressure).
  uint64_t max_async_queued_bytes = 128ull << 20;
  // Async mode: after this many ticks without a flush, the store's tail log
  // is checkpointed by a flush of its own (LogStore::
  // BeginTailLogCheckpoint): the segments a load wrote are synced while the
  // node is idle, not by the next load's flush (0: never).
  uint64_t idle_tail_log_checkpoint_ticks = 20;
  // Borrowed; may be null. See raft_host_observer.h.
  RaftHostObserver* observer = nullptr;
  // Quiescence (see the file comment); groups opt in with GroupSpec::quiesce.
  bool quiesce = false;
  // Replay checkpoints (see the file comment).
  CheckpointPolicy checkpoints;
  // This process's incarnation, sent in node heartbeats; 0: derived from
  // `seed` (which differs per start).
  uint64_t incarnation = 0;
};

// The group id node heartbeats travel with (no Raft group has it).
inline constexpr GroupId kNodeHeartbeatGroup = ~GroupId{0};

class RaftHost {
 public:
  RaftHost(const HostOptions& options, storage::LogStore* store);
  ~RaftHost();

  absl::Status AddGroup(const GroupSpec& spec);
  bool HasGroup(GroupId group_id) const;
  // Stops running the group (its storage stays on disk).
  void RemoveGroup(GroupId group_id);
  // Stops the group and deletes its storage (a deleted topic's partition).
  absl::Status DeleteGroup(GroupId group_id);

  absl::Status Step(GroupId group_id, raft::Message message);
  void Tick();
  // On success, returns the (term, index) the entry was given; it is
  // committed if and when the applier sees an entry at that index with that
  // term. Errors: the group is unknown or failed, or the core refused
  // (not leader: FailedPrecondition naming the leader).
  struct Proposed {
    raft::Term term = 0;
    raft::Index index = 0;
  };
  absl::StatusOr<Proposed> Propose(GroupId group_id, raft::Bytes data);
  absl::Status Campaign(GroupId group_id);
  // Whether this node may start elections in any of its groups, those added
  // later included (raft::RawNode::SetCampaignAllowed): false while the node
  // shuts down, so it never takes back leadership it is handing over.
  void SetCampaignAllowed(bool allowed);
  // Asks the group's leader (this node) to hand leadership to `transferee`
  // (raft::RawNode::TransferLeadership: at once if the transferee's log is
  // caught up, else after replicating to it; abandoned after an election
  // timeout). Errors: the group is unknown, or the core refused (not leader,
  // not a voter).
  absl::Status TransferLeadership(GroupId group_id, raft::NodeId transferee);
  // Snapshots a group that has a SnapshotPolicy at its applied index now
  // (nothing when the last snapshot is there already): a leader about to add
  // a member that knows nothing of the group makes sure it can send one.
  // Errors as for CompactLog (FailedPrecondition, ResourceExhausted: retry).
  absl::Status SnapshotNow(GroupId group_id);
  // Proposes a membership change on the group's leader (this node): see
  // raft::RawNode::ProposeConfChange. Errors: the group is unknown, or the
  // core refused (not leader, a change still pending, an invalid change).
  absl::Status ProposeConfChange(GroupId group_id,
                                 const raft::ConfChange& change);
  // The membership in effect after the last applied entry; nullptr when the
  // group is not running.
  const raft::ConfState* membership(GroupId group_id) const;
  // Requests a linearizable read of the group (see the file comment). Errors:
  // the group is unknown, or the core refused (not leader, too many pending).
  absl::Status ReadIndex(GroupId group_id, raft::Bytes context);
  // The group's storage may drop its entries through image.index (a
  // partition's retention: whole segments ending there): records a snapshot
  // there for the core (followers behind it install it) and queues the
  // snapshot write and the prefix removal (durable with the next flush).
  // image.index must be applied here and newer than the last snapshot; its
  // term must be what storage holds. Errors: the group is unknown or failed,
  // the core refused, the storage queue is full (retry later).
  absl::Status CompactLog(GroupId group_id, const SnapshotImage& image);
  struct SnapshotStats {
    uint64_t taken = 0;      // by policy or CompactLog
    uint64_t installed = 0;  // sent by a leader and installed here
  };
  const SnapshotStats& snapshot_stats() const { return snapshot_stats_; }
  // Replay checkpoints (raft_host_checkpoints.cc): writes those of up to
  // `max_groups` due groups (round robin); returns how many. None while a
  // flush is in flight: then, if a group is due, the host asks for a quiet
  // store (RequestQuietStore) and writes them at the next Process that
  // finds none in flight. A failed write is skipped (the group stays due).
  size_t WriteDueCheckpoints(size_t max_groups);
  // Checkpoints every group that applied anything since its last
  // checkpoint or snapshot (a clean stop); the first error. Not while a
  // flush is in flight.
  absl::Status WriteAllCheckpoints();
  // A clean stop, the last call: checkpoints every group and writes the
  // store's clean-stop marker (storage::LogStore::MarkCleanStop), so the
  // next start neither replays the logs nor syncs the store.
  // FailedPrecondition (nothing marked) while a flush is in flight or
  // storage work is queued.
  absl::Status StopCleanly();
  struct CheckpointStats {
    uint64_t written = 0;
    uint64_t used = 0;      // groups recovered from their checkpoint
    uint64_t rejected = 0;  // stored but unusable (the log disagrees)
  };
  const CheckpointStats& checkpoint_stats() const { return checkpoint_stats_; }
  // The group's last snapshot (taken, installed or recovered); 0: none or
  // the group is not running.
  raft::Index snapshot_index(GroupId group_id) const;

  void Process(std::vector<OutgoingMessage>* outbox);
  // Async mode: the flush a Process started, whose files the driver must now
  // sync; nullopt when there is none. Up to LogStore's max_flushes_in_flight
  // are in flight: the driver syncs them in the order it took them and
  // reports each (OnSyncDone) in that order. A flush begins only once the
  // driver took the previous one's request.
  std::optional<SyncRequest> TakeSyncRequest();
  // Async mode: the fsyncs of `flush_id`, the oldest flush in flight,
  // finished (one status per file, in the request's order). Call Process()
  // afterwards.
  void OnSyncDone(uint64_t flush_id, std::vector<absl::Status> results);
  // Async mode: a flush is waiting for its fsyncs.
  bool flush_in_flight() const { return !flights_.empty(); }
  // Async mode: the caller has work that must not run while a flush syncs
  // (segment files changing: retention, compaction, replay checkpoints).
  // Until a Process call begins with no flush in flight, no flush begins
  // while another syncs, so those in flight drain within their fsyncs;
  // the caller runs its work before that Process call (flush_in_flight()
  // false). Without it, a steady load keeps a flush in flight at every
  // tick and such work would never run.
  void RequestQuietStore() {
    if (flush_in_flight()) quiet_store_requested_ = true;
  }
  // A deleted group whose files go once no flush is in flight (DeleteGroup):
  // until then it cannot be added again (its storage is still open).
  bool DeletionPending(GroupId group_id) const {
    return std::find(deferred_deletes_.begin(), deferred_deletes_.end(),
                     group_id) != deferred_deletes_.end();
  }
  bool deletions_pending() const { return !deferred_deletes_.empty(); }
  // Process would do work: a group has a Ready, or storage work is queued
  // that no flush in flight covers.
  bool HasWork() const;

  // nullptr when the group is not running.
  const raft::RawNode* node(GroupId group_id) const;
  raft::NodeId leader(GroupId group_id) const;
  bool is_leader(GroupId group_id) const;
  std::vector<GroupId> group_ids() const;
  // Some group has a Ready (Process would do work).
  bool HasReady() const;
  const std::map<GroupId, absl::Status>& failed_groups() const {
    return failed_;
  }
  // Groups whose core is quiesced (a metric; O(active groups)).
  size_t quiesced_groups() const;
  // Groups Process, Tick, HasReady and HasWork visited so far (tests: the
  // per-step work is O(active groups)), and the groups active now.
  uint64_t groups_visited() const { return groups_visited_; }
  size_t active_groups() const { return active_.size(); }
  // Whether the group is in the active set now (raft_host_active.cc).
  bool active(GroupId group_id) const { return active_.count(group_id) > 0; }
  // The groups that entered the active set since the last call, sorted: a
  // caller that skips idle groups between steps (PartitionManager's held ISR
  // samples) learns which of them had an input since.
  std::vector<GroupId> TakeWoken();

 private:
  struct PendingPersist {
    raft::PersistAck ack;
    std::vector<raft::Message> messages_after_persist;
    // Durable once this many requests have been flushed (all requests queued
    // up to and including this Ready's own).
    uint64_t needs_flushed = 0;
    // The leader's snapshot this Ready installs: restored into the applier
    // once durable.
    std::optional<raft::Snapshot> install;
  };
  struct Group {
    GroupSpec spec;
    std::unique_ptr<raft::RawNode> node;
    storage::GroupStorage* storage = nullptr;
    std::deque<PendingPersist> pending;
    // Term and vote last made durable: a hard state that only moves the
    // commit index is not written (see HandleReady).
    raft::Term persisted_term = 0;
    raft::NodeId persisted_vote = raft::kNoNode;
    raft::NodeId last_leader = raft::kNoNode;
    raft::Term last_term = 0;
    // For the observer: the hard state on disk, the commit index last
    // reported.
    raft::HardState durable_hard_state;
    raft::Index reported_commit = 0;
    // The last entry given to the applier (or snapshot restored), and what
    // was applied since the last snapshot (SnapshotPolicy).
    raft::Index applied_index = 0;
    raft::Term applied_term = 0;
    raft::Index snapshot_index = 0;
    // The applied membership, and the index of the entry (or snapshot) that
    // made it.
    raft::ConfState conf;
    raft::Index conf_index = 0;
    // A joining member applied a conf change naming it (or a snapshot):
    // its membership is known (raft::Config::joining).
    bool learned = false;
    // Committed entries waiting to be applied: a conf change is applied only
    // once a hard state whose commit covers it is durable (else a restart
    // could recover an older membership than one the node acted on), and the
    // entries after it wait behind it. Each waits for `needs_flushed`.
    struct Waiting {
      raft::Entry entry;
      uint64_t needs_flushed = 0;
    };
    std::deque<Waiting> apply_backlog;
    // The last hard state a Ready reported (what a forced write stores).
    raft::HardState last_hard_state;
    uint64_t entries_since_snapshot = 0;
    uint64_t bytes_since_snapshot = 0;
    // Replay checkpoints: the index of the last one (written or restored),
    // payload bytes applied since, the host's tick count then.
    raft::Index checkpoint_index = 0;
    uint64_t bytes_since_checkpoint = 0;
    uint64_t checkpoint_tick = 0;
  };

  raft::Config CoreConfig(const GroupSpec& spec) const;
  // Restarts the group's core from its storage (replaying committed entries).
  absl::Status Recover(Group& group);
  absl::Status Replay(Group& group, raft::Index from, raft::Index to);
  // Reads the stored entries [from, last] into `out` (the core's recovered
  // tail); the observer hears of those after `reported`.
  absl::Status ReadTail(Group& group, raft::Index from, raft::Index last,
                        raft::Index reported, std::vector<raft::Entry>* out);
  // Reports the Ready's commit index, applies its committed entries and
  // hands out its read states.
  void ApplyReady(Group& group, const raft::Ready& ready);
  // Applies entries (in order) and reports them to the core and observer.
  void ApplyEntries(Group& group, absl::Span<const raft::Entry> entries);
  // Applies the backlog's entries whose durability wait is over.
  void DrainApplyBacklog(Group& group);
  void ServeLogReads(Group& group, const std::vector<raft::LogRead>& reads);
  // One Ready of one group: queue storage work, send, apply. False when the
  // group failed.
  bool HandleReady(Group& group, std::vector<OutgoingMessage>* outbox);
  void FlushStorage(std::vector<OutgoingMessage>* outbox);
  // Handles a finished flush's completions (failures fail their groups).
  void TakeCompletions(const std::vector<storage::Completion>& completions);
  // Reports durable Readies to their cores and releases their replies; true
  // when it reported any.
  bool ReleaseDurable(std::vector<OutgoingMessage>* outbox);
  void MaybeStartAsyncFlush();
  // Whether MaybeStartAsyncFlush would begin one (HasWork says the same).
  bool AsyncFlushCanBegin() const;
  bool IdleTailLogCheckpointDue() const;
  void StartFlight(storage::FlushPlan plan, size_t included_requests);
  void FinishAsyncFlush(std::vector<absl::Status> results);
  // Deletes groups whose deletion waited for a flush to finish.
  void DeleteDeferred();
  void ReportLeader(Group& group);
  // Snapshots (raft_host_snapshots.cc).
  // The applier's image of the stored snapshot, restored before the replay;
  // fills `recovered` with the snapshot for the core.
  absl::Status RecoverSnapshot(Group& group, raft::RecoveredState* recovered);
  void CountApplied(Group& group, const raft::Entry& entry);
  // Replay checkpoints (raft_host_checkpoints.cc): restores the stored
  // checkpoint when it is usable; returns the last index the applier's
  // state covers now (the snapshot's when not).
  absl::StatusOr<raft::Index> RecoverCheckpoint(Group& group);
  // OK without writing when there is nothing new or it cannot be now.
  absl::Status Checkpoint(Group& group);
  bool CheckpointDue(const Group& group) const;
  bool AnyCheckpointDue() const;  // of the candidates
  // Membership (raft_host_membership.cc): a conf change entry applied.
  void TrackMembership(Group& group, const raft::Entry& entry);
  // The membership a stored snapshot names (the initial voters when it names
  // none: written before membership changes existed).
  absl::StatusOr<raft::ConfState> StoredMembership(
      const Group& group, const storage::SnapshotMeta& meta) const;
  // Snapshots the group at its applied index (SnapshotNow, MaybeSnapshot).
  absl::Status SnapshotApplied(Group& group);
  // Snapshots the group when its policy says so.
  void MaybeSnapshot(Group& group);
  absl::Status Compact(Group& group, const SnapshotImage& image);
  // Queues the install of the Ready's snapshot into storage's request;
  // false (and the group failed) when the image does not decode.
  bool PrepareInstall(Group& group, const raft::Snapshot& snapshot,
                      storage::PersistRequest* request);
  // A durable install: the applier's state is replaced. False: it failed.
  bool FinishInstall(Group& group, const raft::Snapshot& snapshot);
  void Fail(GroupId group_id, absl::Status status);
  // Process's Ready/flush rounds over the active groups.
  void ProcessRounds(std::vector<OutgoingMessage>* outbox);
  // The active set (raft_host_active.cc; see the file comment).
  void Activate(GroupId group_id);
  // Drops the group from every per-group structure.
  void EraseGroup(GroupId group_id);
  // Nothing of the group's changes without an input (it may leave the
  // active set).
  bool Idle(const Group& group) const;
  // Drops the idle groups from the active set (end of Process).
  void PruneActive();
  // CHECKs that every group outside the active set is idle.
  void CheckActive() const;
  // A quiesced group is watched, any other ticks.
  void TickGroup(Group& group);
  // Quiescence (raft_host_quiesce.cc).
  struct Peer {
    int silent_ticks = 0;      // ticks since anything was heard from it
    uint64_t incarnation = 0;  // 0: no node heartbeat yet
  };
  uint64_t incarnation() const;
  // Counts the peers' silence and queues this tick's node heartbeats;
  // true when a peer turned Silent at this tick.
  bool TickPeers();
  // Every member node of any group but self, sorted (cached).
  const std::vector<raft::NodeId>& PeerNodes();
  // A quiesced group: wakes it if member nodes it depends on are silent.
  void WatchQuiesced(Group& group);
  void OnNodeHeartbeat(const raft::Message& message);
  // Peer is heard from; returns its entry (created as just heard).
  Peer& Heard(raft::NodeId node);
  bool Silent(raft::NodeId node);

  const HostOptions options_;
  storage::LogStore* const store_;
  std::map<GroupId, Group> groups_;
  std::map<GroupId, absl::Status> failed_;
  uint64_t enqueued_ = 0;  // requests ever queued
  uint64_t flushed_ = 0;   // ... of which a finished flush made durable
  // Async mode: the flushes in flight, oldest first (they finish in order).
  struct Flight {
    uint64_t id = 0;
    storage::FlushPlan plan;
    uint64_t until = 0;  // flushed_ once it is done
  };
  std::deque<Flight> flights_;
  uint64_t next_flush_id_ = 1;
  std::optional<SyncRequest> sync_request_;  // not taken by the driver yet
  std::vector<GroupId> deferred_deletes_;
  // RequestQuietStore: no flush overlaps another until a Process call
  // begins with none in flight; due replay checkpoints wait for it.
  bool quiet_store_requested_ = false;
  bool checkpoints_waiting_ = false;
  SnapshotStats snapshot_stats_;
  CheckpointStats checkpoint_stats_;
  uint64_t ticks_ = 0;              // Tick calls so far
  uint64_t ticks_since_flush_ = 0;  // since a flush last began (async)
  GroupId checkpoint_cursor_ = 0;   // WriteDueCheckpoints' round robin
  bool campaign_allowed_ = true;
  std::map<raft::NodeId, Peer> peers_;
  int heartbeat_elapsed_ = 0;
  std::vector<OutgoingMessage> node_heartbeats_;  // sent by the next Process
  // PeerNodes' cache; dirty when groups or memberships change.
  std::vector<raft::NodeId> peer_nodes_;
  bool peer_nodes_dirty_ = true;
  // Groups that may have work (every one that is not idle; see
  // raft_host_active.cc), and those found idle since the last Tick (watched
  // by it once). Both hold at most every group.
  std::set<GroupId> active_;
  std::set<GroupId> newly_idle_;
  // Groups that entered the active set since the last TakeWoken (at most
  // every group).
  std::set<GroupId> woken_;
  // Groups that applied entries since their last checkpoint (a superset of
  // those WriteDueCheckpoints may find due).
  std::set<GroupId> checkpoint_candidates_;
  mutable uint64_t groups_visited_ = 0;
  uint64_t process_calls_ = 0;  // debug: CheckActive's sampling
};

// The framing of raft::Snapshot::data for broker groups (see the file
// comment): the Kafka offset after the snapshot, then the applier's image.
inline constexpr size_t kSnapshotFrameBytes = 8;
raft::Bytes FrameSnapshot(uint64_t next_offset, absl::string_view image);
// DataLoss when shorter than the frame.
absl::StatusOr<SnapshotImage> UnframeSnapshot(const raft::Snapshot& snapshot);

}  // namespace chronik::replication

#endif  // CHRONIK_BROKER_REPLICATION_RAFT_HOST_H_
