#include "broker/replication/raft_host.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/splitmix64.h"
#include "broker/storage/raft_entry.h"
#include "raft/conf_state.h"

namespace chronik::replication {
namespace {

// The Kafka v2 batch hook for partition logs (stateless, so one suffices).
const storage::KafkaV2BatchOffsets kKafkaBatchOffsets;

// Conversions live in broker/storage/raft_entry.h (payloads are shared).
storage::Entry ToStorage(const raft::Entry& entry) {
  return storage::FromRaftEntry(entry);
}

raft::Entry FromStorage(storage::Entry&& entry) {
  return storage::ToRaftEntry(std::move(entry));
}

storage::HardState ToStorage(const raft::HardState& hs) {
  return storage::FromRaftHardState(hs);
}

// The SplitMix64 finalizer decorrelates the per-group seeds.
uint64_t MixSeed(uint64_t seed, uint64_t group_id) {
  return splitmix64::Mix(seed + splitmix64::kGamma * (group_id + 1));
}

}  // namespace

RaftHost::RaftHost(const HostOptions& options, storage::LogStore* store)
    : options_(options), store_(store) {
  CHRONIK_CHECK_NE(options.self, raft::kNoNode);
  CHRONIK_CHECK(store != nullptr);
}

RaftHost::~RaftHost() = default;

raft::Config RaftHost::CoreConfig(const GroupSpec& spec) const {
  raft::Config config;
  config.id = options_.self;
  config.voters = spec.voters;
  config.election_timeout_ticks = options_.election_timeout_ticks;
  config.heartbeat_timeout_ticks = options_.heartbeat_timeout_ticks;
  config.pre_vote = options_.pre_vote;
  config.check_quorum = options_.check_quorum;
  config.random_seed = MixSeed(options_.seed, spec.group_id);
  config.max_log_tail_bytes = options_.max_log_tail_bytes;
  config.injected_bugs = options_.injected_bugs;
  config.joining = spec.joining;
  config.quiesce = options_.quiesce && spec.quiesce;
  return config;
}

absl::Status RaftHost::AddGroup(const GroupSpec& spec) {
  CHRONIK_CHECK(spec.applier != nullptr);
  CHRONIK_CHECK(!spec.voters.empty());
  CHRONIK_CHECK(std::is_sorted(spec.voters.begin(), spec.voters.end()));
  CHRONIK_CHECK(std::adjacent_find(spec.voters.begin(), spec.voters.end()) ==
                spec.voters.end());
  if (groups_.count(spec.group_id) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("raft group ", spec.group_id, " is already running"));
  }
  const bool initial_voter =
      std::binary_search(spec.voters.begin(), spec.voters.end(), options_.self);
  CHRONIK_CHECK(!spec.voters_unknown || spec.joining);
  if (!initial_voter && !spec.joining) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node ", options_.self, " is not an initial voter of group ",
        spec.group_id, " and does not join it"));
  }
  storage::LogOptions log_options = options_.log_options;
  log_options.batch_offsets = spec.is_partition ? &kKafkaBatchOffsets : nullptr;
  if (spec.snapshot_policy.segment_max_bytes > 0) {
    log_options.segment_max_bytes = spec.snapshot_policy.segment_max_bytes;
  }
  absl::StatusOr<storage::GroupStorage*> storage =
      store_->OpenGroup(spec.group_id, log_options);
  if (!storage.ok()) return storage.status();

  Group group;
  group.spec = spec;
  group.storage = *storage;
  if (absl::Status s = Recover(group); !s.ok()) return s;
  if (!campaign_allowed_) group.node->SetCampaignAllowed(false);
  groups_.emplace(spec.group_id, std::move(group));
  Activate(spec.group_id);
  peer_nodes_dirty_ = true;
  return absl::OkStatus();
}

absl::Status RaftHost::Recover(Group& group) {
  const GroupId id = group.spec.group_id;
  const storage::HardState& hs = group.storage->hard_state();
  group.persisted_term = hs.term;
  group.persisted_vote = hs.vote;
  group.durable_hard_state = raft::HardState{hs.term, hs.vote, hs.commit};
  group.reported_commit = hs.commit;
  const storage::SnapshotMeta& snapshot = group.storage->snapshot_meta();
  const raft::Index last = group.storage->last_index();
  if (RaftHostObserver* observer = options_.observer) {
    observer->OnRecover(
        id, RecoveredGroup{group.durable_hard_state, snapshot.index, last});
  }
  raft::Config config = CoreConfig(group.spec);
  group.conf = raft::ConfState{.voters = group.spec.voters};
  if (hs.term == 0 && last == 0 && snapshot.index == 0) {
    group.node = std::make_unique<raft::RawNode>(config);
    return absl::OkStatus();
  }
  if (hs.commit > last) {
    return absl::DataLossError(
        absl::StrCat("group ", id, ": hard state commit ", hs.commit,
                     " is beyond the last stored entry ", last));
  }
  raft::RecoveredState recovered;
  if (absl::Status s = RecoverSnapshot(group, &recovered); !s.ok()) return s;
  // After the snapshot, or after a valid replay checkpoint.
  absl::StatusOr<raft::Index> restored = RecoverCheckpoint(group);
  if (!restored.ok()) return restored.status();
  const raft::Index applied = std::max<raft::Index>(hs.commit, *restored);
  if (absl::Status s = Replay(group, *restored + 1, applied); !s.ok()) {
    return s;
  }
  if (options_.observer != nullptr && applied > snapshot.index) {
    options_.observer->OnApplied(id, applied);
  }
  recovered.hard_state = group.durable_hard_state;
  // Commit-only hard states are not written: the snapshot and what a
  // checkpoint covers are committed.
  recovered.hard_state.commit =
      std::max<raft::Index>(recovered.hard_state.commit, applied);
  group.last_hard_state = recovered.hard_state;
  recovered.applied = applied;
  recovered.conf_state = group.conf;  // the snapshot's, then replayed changes
  const raft::Index start =
      applied > snapshot.index ? applied : snapshot.index + 1;
  if (absl::Status s =
          ReadTail(group, start, last, applied, &recovered.entries);
      !s.ok()) {
    return s;
  }
  config.joining = group.spec.joining && !group.learned;
  absl::StatusOr<std::unique_ptr<raft::RawNode>> node =
      raft::RawNode::Restart(config, recovered);
  if (!node.ok()) return node.status();
  group.node = std::move(*node);
  return absl::OkStatus();
}

absl::Status RaftHost::Replay(Group& group, raft::Index from, raft::Index to) {
  const GroupId id = group.spec.group_id;
  for (raft::Index lo = from; lo <= to;) {
    std::vector<storage::Entry> read;
    absl::Status s = group.storage->Entries(
        lo, to + 1, options_.max_replay_bytes_per_read, &read);
    if (!s.ok()) return s;
    CHRONIK_CHECK(!read.empty())
        << "empty read of [" << lo << ", " << to << "]";
    std::vector<raft::Entry> entries;
    entries.reserve(read.size());
    for (storage::Entry& entry : read) {
      CHRONIK_CHECK_EQ(entry.index, lo + entries.size());
      entries.push_back(FromStorage(std::move(entry)));
    }
    if (options_.observer != nullptr) {
      options_.observer->OnRecoveredEntries(id, entries);
    }
    for (const raft::Entry& entry : entries) {
      group.spec.applier->Apply(id, entry);
      CountApplied(group, entry);
      TrackMembership(group, entry);
    }
    lo += entries.size();
  }
  return absl::OkStatus();
}

absl::Status RaftHost::ReadTail(Group& group, raft::Index from,
                                raft::Index last, raft::Index reported,
                                std::vector<raft::Entry>* out) {
  for (raft::Index lo = from; lo <= last;) {
    std::vector<storage::Entry> read;
    absl::Status s = group.storage->Entries(
        lo, last + 1, options_.max_replay_bytes_per_read, &read);
    if (!s.ok()) return s;
    CHRONIK_CHECK(!read.empty());
    const size_t first_new = out->size();
    for (storage::Entry& entry : read) {
      out->push_back(FromStorage(std::move(entry)));
    }
    lo = out->back().index + 1;
    if (options_.observer == nullptr) continue;
    // The first entry of the tail may be the last one Replay reported.
    absl::Span<const raft::Entry> fresh =
        absl::MakeConstSpan(*out).subspan(first_new);
    while (!fresh.empty() && fresh.front().index <= reported) {
      fresh.remove_prefix(1);
    }
    if (!fresh.empty()) {
      options_.observer->OnRecoveredEntries(group.spec.group_id, fresh);
    }
  }
  return absl::OkStatus();
}

bool RaftHost::HasGroup(GroupId group_id) const {
  return groups_.count(group_id) > 0;
}

void RaftHost::RemoveGroup(GroupId group_id) { EraseGroup(group_id); }

absl::Status RaftHost::DeleteGroup(GroupId group_id) {
  EraseGroup(group_id);
  failed_.erase(group_id);
  if (flush_in_flight()) {
    // Its files may be syncing on another thread: delete after the flush.
    deferred_deletes_.push_back(group_id);
    return absl::OkStatus();
  }
  if (store_->queued_requests() > 0) {
    std::vector<OutgoingMessage> discarded;
    FlushStorage(&discarded);
  }
  return store_->DeleteGroup(group_id);
}

void RaftHost::DeleteDeferred() {
  std::vector<GroupId> still;
  for (GroupId id : deferred_deletes_) {
    absl::Status status = store_->DeleteGroup(id);
    if (absl::IsFailedPrecondition(status)) {
      still.push_back(id);  // requests of it still queued: after the next flush
    } else if (!status.ok()) {
      Fail(id, status);
    }
  }
  deferred_deletes_.swap(still);
}

absl::Status RaftHost::Step(GroupId group_id, raft::Message message) {
  if (message.type == raft::MessageType::kNodeHeartbeat) {
    OnNodeHeartbeat(message);
    return absl::OkStatus();
  }
  if (options_.quiesce) Heard(message.from);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("raft group ", group_id, " is not running here"));
  }
  const Group& group = it->second;
  Activate(group_id);
  if (group.spec.voters_unknown && !group.learned &&
      message.type == raft::MessageType::kAppend && message.index == 0) {
    return absl::OkStatus();  // dropped: this node waits for a snapshot
  }
  return it->second.node->Step(std::move(message));
}

absl::StatusOr<RaftHost::Proposed> RaftHost::Propose(GroupId group_id,
                                                     raft::Bytes data) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("raft group ", group_id, " is not running here"));
  }
  Activate(group_id);
  raft::RawNode& node = *it->second.node;
  if (absl::Status s = node.Propose(std::move(data)); !s.ok()) return s;
  return Proposed{node.term(), node.last_index()};
}

absl::Status RaftHost::ReadIndex(GroupId group_id, raft::Bytes context) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("raft group ", group_id, " is not running here"));
  }
  Activate(group_id);
  return it->second.node->ReadIndex(std::move(context));
}

absl::Status RaftHost::Campaign(GroupId group_id) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("raft group ", group_id, " is not running here"));
  }
  Activate(group_id);
  it->second.node->Campaign();
  return absl::OkStatus();
}

void RaftHost::SetCampaignAllowed(bool allowed) {
  campaign_allowed_ = allowed;
  for (auto& [id, group] : groups_) {
    group.node->SetCampaignAllowed(allowed);
    Activate(id);  // rare (shutdown): every group is looked at again
  }
}

absl::Status RaftHost::TransferLeadership(GroupId group_id,
                                          raft::NodeId transferee) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    return absl::NotFoundError(
        absl::StrCat("raft group ", group_id, " is not running here"));
  }
  Activate(group_id);
  return it->second.node->TransferLeadership(transferee);
}

void RaftHost::Process(std::vector<OutgoingMessage>* outbox) {
  if (!flush_in_flight()) {
    // The quiet store asked for: the caller's work ran before this call,
    // the replay checkpoints that waited for it run now.
    quiet_store_requested_ = false;
    if (checkpoints_waiting_) {
      checkpoints_waiting_ = false;
      WriteDueCheckpoints(options_.checkpoints.max_per_tick);
    }
  }
  // The driver took the flush's files and syncs them: meanwhile, the
  // segment writes the tail log lets the store defer.
  if (flush_in_flight() && !sync_request_.has_value()) store_->WriteBehind();
  ProcessRounds(outbox);
  PruneActive();
}

void RaftHost::ProcessRounds(std::vector<OutgoingMessage>* outbox) {
  const bool async = options_.async_flush;
  for (OutgoingMessage& beat : node_heartbeats_) {
    outbox->push_back(std::move(beat));
  }
  node_heartbeats_.clear();
  bool flushed = false;  // one flush per Process (group commit of the batch)
  for (int round = 0; round < options_.max_process_rounds; ++round) {
    bool worked = false;
    GroupId next_id = 0;
    std::vector<GroupId> failed;
    // Only active groups can have a Ready or a leader change to report
    // (raft_host_active.cc). Re-found by id after each one: handling a
    // Ready may activate (an applier proposing) or erase groups.
    for (auto next = active_.begin(); next != active_.end();
         next = active_.upper_bound(next_id)) {
      next_id = *next;
      const GroupId id = next_id;
      auto found = groups_.find(id);
      CHRONIK_CHECK(found != groups_.end()) << "active group " << id;
      Group& group = found->second;
      ++groups_visited_;
      if (!group.node->HasReady()) {
        // A check-quorum step-down changes the role without a Ready.
        ReportLeader(group);
        continue;
      }
      if (async && (store_->queued_bytes() >= options_.max_async_queued_bytes ||
                    store_->queued_requests() >= kMaxAsyncQueuedRequests)) {
        break;  // backpressure: the next flush must drain the queue first
      }
      worked = true;
      if (!HandleReady(group, outbox)) failed.push_back(id);
    }
    for (GroupId id : failed) EraseGroup(id);
    if (async) {
      MaybeStartAsyncFlush();
    } else if (store_->queued_requests() > 0 && !flushed) {
      FlushStorage(outbox);
      flushed = true;
    }
    // Persistence reported to a core may give it new work (commits).
    const bool released = ReleaseDurable(outbox);
    if (!worked && !released) return;
  }
}

bool RaftHost::ReleaseDurable(std::vector<OutgoingMessage>* outbox) {
  bool released = false;
  std::vector<GroupId> failed;
  // A group with pending persistence or a backlog is active.
  for (const GroupId id : active_) {
    auto found = groups_.find(id);
    CHRONIK_CHECK(found != groups_.end()) << "active group " << id;
    Group& group = found->second;
    ++groups_visited_;
    while (!group.pending.empty() &&
           group.pending.front().needs_flushed <= flushed_) {
      PendingPersist& pending = group.pending.front();
      if (pending.install.has_value() &&
          !FinishInstall(group, *pending.install)) {
        failed.push_back(id);
        break;
      }
      group.node->OnPersisted(pending.ack);  // in Ready order, every Ready
      if (pending.install.has_value()) {
        group.node->OnApplied(pending.install->metadata.index);
      }
      for (raft::Message& message : pending.messages_after_persist) {
        outbox->push_back(OutgoingMessage{id, std::move(message)});
      }
      group.pending.pop_front();
      released = true;
    }
    if (!group.apply_backlog.empty()) DrainApplyBacklog(group);
  }
  for (GroupId id : failed) EraseGroup(id);
  return released;
}

void RaftHost::MaybeStartAsyncFlush() {
  if (AsyncFlushCanBegin()) {
    const size_t before = store_->queued_requests();
    storage::FlushPlan plan = store_->BeginFlush();
    const size_t included = before - store_->queued_requests();
    CHRONIK_CHECK_GT(included, 0u) << "BeginFlush took no request";
    StartFlight(std::move(plan), included);
  } else if (IdleTailLogCheckpointDue()) {
    StartFlight(store_->BeginTailLogCheckpoint(), 0);
  }
}

void RaftHost::StartFlight(storage::FlushPlan plan, size_t included_requests) {
  ticks_since_flush_ = 0;
  const uint64_t base = flights_.empty() ? flushed_ : flights_.back().until;
  Flight& flight = flights_.emplace_back();
  flight.plan = std::move(plan);
  flight.until = base + included_requests;
  flight.id = next_flush_id_++;
  if (flight.plan.files_to_sync.empty() && flights_.size() == 1) {
    FinishAsyncFlush({});  // nothing to wait for
    return;
  }
  // A flush behind another finishes after it, even with no file to sync
  // (its groups failed): the driver reports it in order.
  sync_request_ = SyncRequest{flight.id, flight.plan.files_to_sync};
}

std::optional<SyncRequest> RaftHost::TakeSyncRequest() {
  std::optional<SyncRequest> request = std::move(sync_request_);
  sync_request_.reset();
  return request;
}

void RaftHost::OnSyncDone(uint64_t flush_id,
                          std::vector<absl::Status> results) {
  CHRONIK_CHECK(!flights_.empty() && flush_id == flights_.front().id)
      << "sync completion " << flush_id
      << " for no flush in flight or out of order";
  CHRONIK_CHECK(!sync_request_.has_value() ||
                sync_request_->flush_id != flush_id)
      << "a flush completed before the driver took its sync request";
  FinishAsyncFlush(std::move(results));
}

void RaftHost::FinishAsyncFlush(std::vector<absl::Status> results) {
  CHRONIK_CHECK(!flights_.empty());
  Flight flight = std::move(flights_.front());
  flights_.pop_front();
  CHRONIK_CHECK_EQ(results.size(), flight.plan.files_to_sync.size());
  TakeCompletions(store_->FinishFlush(std::move(flight.plan), results));
  CHRONIK_CHECK_GE(flight.until, flushed_);
  flushed_ = flight.until;
  if (flights_.empty()) DeleteDeferred();
}

bool RaftHost::HandleReady(Group& group, std::vector<OutgoingMessage>* outbox) {
  const GroupId id = group.spec.group_id;
  raft::Ready ready = group.node->GetReady();
  // Raft needs term and vote durable before answering; the commit index may
  // be recovered lower after a crash (the leader re-establishes it), so a
  // hard state that only advances commit is not written. That saves the
  // atomic hard-state file replacement (three fsyncs) on every commit.
  std::optional<raft::HardState> hard_state = ready.hard_state;
  if (ready.hard_state.has_value()) group.last_hard_state = *ready.hard_state;
  // ... except when a conf change is committed: it is applied only once a
  // commit index covering it is durable (see Group::apply_backlog).
  const bool commits_conf_change =
      std::any_of(ready.committed_entries.begin(),
                  ready.committed_entries.end(), [](const raft::Entry& e) {
                    return e.type == raft::EntryType::kConfChange;
                  });
  if (commits_conf_change) {
    CHRONIK_CHECK_GE(group.last_hard_state.commit,
                     ready.committed_entries.back().index);
    hard_state = group.last_hard_state;
  } else if (hard_state.has_value() &&
             hard_state->term == group.persisted_term &&
             hard_state->vote == group.persisted_vote) {
    hard_state.reset();
  }
  storage::PersistRequest install;
  if (ready.snapshot.has_value() &&
      !PrepareInstall(group, *ready.snapshot, &install)) {
    return false;
  }
  if (ready.snapshot.has_value() || !ready.entries.empty() ||
      hard_state.has_value()) {
    auto make_request = [&] {
      storage::PersistRequest request;
      request.group_id = id;
      request.snapshot = install.snapshot;
      request.snapshot_replaces_log = true;
      request.entries.reserve(ready.entries.size());
      for (const raft::Entry& entry : ready.entries) {
        request.entries.push_back(ToStorage(entry));
      }
      if (hard_state.has_value()) request.hard_state = ToStorage(*hard_state);
      return request;
    };
    if (hard_state.has_value()) {
      group.persisted_term = hard_state->term;
      group.persisted_vote = hard_state->vote;
    }
    absl::Status queued = store_->Enqueue(make_request());
    if (absl::IsResourceExhausted(queued) && !options_.async_flush) {
      // The queue is full: drain it and try once more.
      FlushStorage(outbox);
      queued = store_->Enqueue(make_request());
    }
    if (!queued.ok()) {
      Fail(id, queued);
      return false;
    }
    ++enqueued_;
    if (options_.observer != nullptr && !ready.entries.empty()) {
      options_.observer->OnAppend(id, ready.entries);
    }
  }
  for (raft::Message& message : ready.messages) {
    outbox->push_back(OutgoingMessage{id, std::move(message)});
  }
  group.pending.push_back(
      PendingPersist{ready.persist_ack, std::move(ready.messages_after_persist),
                     enqueued_, std::move(ready.snapshot)});
  ApplyReady(group, ready);
  ServeLogReads(group, ready.log_reads);
  ReportLeader(group);
  return true;
}

void RaftHost::ApplyReady(Group& group, const raft::Ready& ready) {
  const GroupId id = group.spec.group_id;
  RaftHostObserver* const observer = options_.observer;
  if (observer != nullptr && ready.hard_state.has_value() &&
      ready.hard_state->commit != group.reported_commit) {
    group.reported_commit = ready.hard_state->commit;
    observer->OnCommit(id, ready.hard_state->term, ready.hard_state->commit);
  }
  // A conf change waits for this Ready's (forced) hard state to be durable;
  // what follows it waits behind it.
  absl::Span<const raft::Entry> entries = ready.committed_entries;
  size_t now = 0;
  while (group.apply_backlog.empty() && now < entries.size() &&
         entries[now].type != raft::EntryType::kConfChange) {
    ++now;
  }
  ApplyEntries(group, entries.subspan(0, now));
  for (const raft::Entry& entry : entries.subspan(now)) {
    group.apply_backlog.push_back(Group::Waiting{entry, enqueued_});
  }
  for (const raft::ReadState& read : ready.read_states) {
    group.spec.applier->OnReadState(id, read);
  }
}

void RaftHost::ApplyEntries(Group& group,
                            absl::Span<const raft::Entry> entries) {
  if (entries.empty()) return;
  const GroupId id = group.spec.group_id;
  bool conf_changed = false;
  for (const raft::Entry& entry : entries) {
    group.spec.applier->Apply(id, entry);
    CountApplied(group, entry);
    TrackMembership(group, entry);
    conf_changed |= entry.type == raft::EntryType::kConfChange;
  }
  group.node->OnApplied(entries.back().index);
  CHRONIK_CHECK(!conf_changed || group.node->Status().conf_state == group.conf)
      << "group " << id << ": the host's membership diverged from the core's";
  if (options_.observer != nullptr) {
    options_.observer->OnApplied(id, entries.back().index);
  }
  MaybeSnapshot(group);
}

void RaftHost::DrainApplyBacklog(Group& group) {
  std::vector<raft::Entry> ready;
  while (!group.apply_backlog.empty() &&
         group.apply_backlog.front().needs_flushed <= flushed_) {
    ready.push_back(std::move(group.apply_backlog.front().entry));
    group.apply_backlog.pop_front();
  }
  ApplyEntries(group, ready);
}

void RaftHost::ServeLogReads(Group& group,
                             const std::vector<raft::LogRead>& reads) {
  for (const raft::LogRead& read : reads) {
    std::vector<storage::Entry> stored;
    absl::Status s =
        group.storage->Entries(read.lo, read.hi + 1, read.max_bytes, &stored);
    if (!s.ok()) {
      group.node->OnLogRead(read, s);
      continue;
    }
    std::vector<raft::Entry> entries;
    entries.reserve(stored.size());
    for (storage::Entry& entry : stored) {
      entries.push_back(FromStorage(std::move(entry)));
    }
    group.node->OnLogRead(read, std::move(entries));
  }
}

void RaftHost::FlushStorage(std::vector<OutgoingMessage>* outbox) {
  CHRONIK_CHECK(!flush_in_flight());
  while (store_->queued_requests() > 0) {
    const size_t before = store_->queued_requests();
    std::vector<storage::Completion> completions;
    if (options_.sync_files) {
      storage::FlushPlan plan = store_->BeginFlush();
      std::vector<absl::Status> synced =
          options_.sync_files(absl::MakeConstSpan(plan.files_to_sync));
      CHRONIK_CHECK_EQ(synced.size(), plan.files_to_sync.size());
      completions = store_->FinishFlush(std::move(plan), synced);
    } else {
      completions = store_->Flush();
    }
    TakeCompletions(completions);
    CHRONIK_CHECK_LT(store_->queued_requests(), before)
        << "LogStore::Flush made no progress";
  }
  flushed_ = enqueued_;  // everything queued is durable now
  ReleaseDurable(outbox);
}

void RaftHost::TakeCompletions(
    const std::vector<storage::Completion>& completions) {
  for (const storage::Completion& completion : completions) {
    if (!completion.status.ok()) {
      Fail(completion.group_id, completion.status);
      continue;
    }
    auto it = groups_.find(completion.group_id);
    if (it == groups_.end()) continue;  // removed while its flush ran
    Group& group = it->second;
    if (completion.hard_state.has_value()) {
      const storage::HardState& hs = *completion.hard_state;
      group.durable_hard_state = raft::HardState{hs.term, hs.vote, hs.commit};
    }
    if (options_.observer != nullptr) {
      options_.observer->OnDurable(
          completion.group_id,
          DurableState{group.durable_hard_state, completion.durable_term,
                       completion.durable_index});
    }
  }
  std::vector<GroupId> failed;
  for (const auto& [id, status] : failed_) {
    if (groups_.count(id) > 0) failed.push_back(id);
  }
  for (GroupId id : failed) EraseGroup(id);
}

void RaftHost::ReportLeader(Group& group) {
  const raft::NodeId leader = group.node->leader();
  const raft::Term term = group.node->term();
  if (leader == group.last_leader && term == group.last_term) return;
  group.last_leader = leader;
  group.last_term = term;
  group.spec.applier->OnLeaderChange(group.spec.group_id, leader, term);
  if (options_.observer != nullptr) {
    options_.observer->OnRoleChange(
        group.spec.group_id, RoleState{group.node->is_leader(), term, leader});
  }
}

void RaftHost::Fail(GroupId group_id, absl::Status status) {
  CHRONIK_CHECK(!status.ok());
  if (options_.observer != nullptr && failed_.count(group_id) == 0) {
    options_.observer->OnFailed(group_id, status);
  }
  failed_[group_id] = std::move(status);
}

const raft::RawNode* RaftHost::node(GroupId group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.node.get();
}

raft::NodeId RaftHost::leader(GroupId group_id) const {
  const raft::RawNode* n = node(group_id);
  return n == nullptr ? raft::kNoNode : n->leader();
}

bool RaftHost::is_leader(GroupId group_id) const {
  const raft::RawNode* n = node(group_id);
  return n != nullptr && n->is_leader();
}

std::vector<GroupId> RaftHost::group_ids() const {
  std::vector<GroupId> ids;
  for (const auto& [id, group] : groups_) ids.push_back(id);
  return ids;
}

}  // namespace chronik::replication
