#include "broker/storage/log_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/crc32c.h"

namespace chronik::storage {
namespace {

using format::GetU32;
using format::GetU64;
using format::PutU32;
using format::PutU64;

uint64_t RequestBytes(const PersistRequest& request) {
  uint64_t bytes = 64;
  for (const Entry& e : request.entries) bytes += e.data.size() + 48;
  if (request.snapshot) {
    bytes += request.snapshot->data.size() +
             request.snapshot->meta.conf_state.size();
  }
  return bytes;
}

}  // namespace

std::string EncodeSnapshot(const Snapshot& snapshot) {
  std::string out(format::kSnapshotMagic, 8);
  PutU32(&out, format::kFormatVersion);
  PutU32(&out, static_cast<uint32_t>(snapshot.meta.conf_state.size()));
  PutU64(&out, snapshot.meta.index);
  PutU64(&out, snapshot.meta.term);
  PutU64(&out, snapshot.meta.next_offset);
  PutU64(&out, snapshot.data.size());
  CHRONIK_CHECK_EQ(out.size(), format::kSnapshotHeaderBytes);
  out.append(snapshot.meta.conf_state);
  out.append(snapshot.data);
  PutU32(&out, crc32c::Value(out));
  return out;
}

absl::StatusOr<Snapshot> DecodeSnapshot(absl::string_view bytes) {
  if (bytes.size() < format::kSnapshotHeaderBytes + 4 ||
      bytes.substr(0, 8) != absl::string_view(format::kSnapshotMagic, 8) ||
      GetU32(bytes.data() + 8) != format::kFormatVersion) {
    return absl::DataLossError("snapshot file: bad header");
  }
  const char* p = bytes.data();
  const uint64_t conf_bytes = GetU32(p + 12);
  const uint64_t data_bytes = GetU64(p + 40);
  if (format::kSnapshotHeaderBytes + conf_bytes + data_bytes + 4 !=
      bytes.size()) {
    return absl::DataLossError("snapshot file: bad length");
  }
  if (GetU32(p + bytes.size() - 4) != crc32c::Value(p, bytes.size() - 4)) {
    return absl::DataLossError("snapshot file: checksum mismatch");
  }
  Snapshot snapshot;
  snapshot.meta.index = GetU64(p + 16);
  snapshot.meta.term = GetU64(p + 24);
  snapshot.meta.next_offset = GetU64(p + 32);
  snapshot.meta.conf_state.assign(p + format::kSnapshotHeaderBytes, conf_bytes);
  snapshot.data.assign(p + format::kSnapshotHeaderBytes + conf_bytes,
                       data_bytes);
  return snapshot;
}

std::string EncodeHardStates(const std::map<uint64_t, HardState>& states) {
  std::string out(format::kHardStateMagic, 8);
  PutU32(&out, format::kFormatVersion);
  PutU32(&out, static_cast<uint32_t>(states.size()));
  for (const auto& [group, state] : states) {
    PutU64(&out, group);
    PutU64(&out, state.term);
    PutU64(&out, state.vote);
    PutU64(&out, state.commit);
    PutU64(&out, 0);
  }
  PutU32(&out, crc32c::Value(out));
  return out;
}

absl::StatusOr<std::map<uint64_t, HardState>> DecodeHardStates(
    absl::string_view bytes) {
  if (bytes.size() < 20 ||
      bytes.substr(0, 8) != absl::string_view(format::kHardStateMagic, 8) ||
      GetU32(bytes.data() + 8) != format::kFormatVersion) {
    return absl::DataLossError("hard state file: bad header");
  }
  const char* p = bytes.data();
  const uint64_t count = GetU32(p + 12);
  if (16 + count * format::kHardStateEntryBytes + 4 != bytes.size()) {
    return absl::DataLossError("hard state file: bad length");
  }
  if (GetU32(p + bytes.size() - 4) != crc32c::Value(p, bytes.size() - 4)) {
    return absl::DataLossError("hard state file: checksum mismatch");
  }
  std::map<uint64_t, HardState> states;
  for (uint64_t i = 0; i < count; ++i) {
    const char* q = p + 16 + i * format::kHardStateEntryBytes;
    states[GetU64(q)] = HardState{.term = GetU64(q + 8),
                                  .vote = GetU64(q + 16),
                                  .commit = GetU64(q + 24)};
  }
  return states;
}

absl::Status WriteFileAtomically(env::Disk& disk, absl::string_view dir,
                                 absl::string_view name,
                                 absl::string_view bytes) {
  const std::string tmp =
      env::JoinPath(dir, absl::StrCat(name, format::kTmpSuffix));
  absl::StatusOr<std::unique_ptr<env::File>> file = disk.Create(tmp);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Append(bytes); !s.ok()) return s;
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  if (absl::Status s = disk.Rename(tmp, env::JoinPath(dir, name)); !s.ok()) {
    return s;
  }
  return disk.SyncDir(dir);
}

absl::StatusOr<std::string> ReadWholeFile(env::Disk& disk,
                                          absl::string_view path) {
  absl::StatusOr<std::unique_ptr<env::File>> file = disk.Open(path);
  if (!file.ok()) return file.status();
  std::string bytes((*file)->Size(), '\0');
  absl::StatusOr<size_t> n = (*file)->ReadAt(0, bytes.size(), bytes.data());
  if (!n.ok()) return n.status();
  bytes.resize(*n);
  return bytes;
}

// ---- GroupStorage

uint64_t GroupStorage::first_index() const {
  return std::max(log_->first_index(), snapshot_meta_.index + 1);
}

absl::StatusOr<uint64_t> GroupStorage::Term(uint64_t index) const {
  if (index == snapshot_meta_.index && index > 0) return snapshot_meta_.term;
  if (index + 1 < first_index()) {
    return absl::OutOfRangeError(absl::StrCat(
        "entry ", index, " is compacted (first ", first_index(), ")"));
  }
  return log_->Term(index);
}

absl::Status GroupStorage::Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                                   std::vector<Entry>* out) {
  if (lo < first_index()) {
    return absl::OutOfRangeError(absl::StrCat(
        "entry ", lo, " is compacted (first ", first_index(), ")"));
  }
  return log_->Read(lo, hi, max_bytes, out);
}

absl::StatusOr<Snapshot> GroupStorage::LoadSnapshot() const {
  absl::StatusOr<std::string> bytes =
      ReadWholeFile(*disk_, env::JoinPath(dir_, format::kSnapshotFile));
  if (!bytes.ok()) return bytes.status();
  return DecodeSnapshot(*bytes);
}

// ---- LogStore

LogStore::LogStore(env::Disk* disk, std::string root,
                   const StoreOptions& options)
    : disk_(disk), root_(std::move(root)), options_(options) {
  CHRONIK_CHECK(disk_ != nullptr);
  CHRONIK_CHECK_GT(options_.max_queued_requests, 0u);
  CHRONIK_CHECK_GT(options_.max_flush_bytes, 0u);
}

LogStore::~LogStore() = default;

absl::StatusOr<std::unique_ptr<LogStore>> LogStore::Open(
    env::Disk* disk, std::string root, const StoreOptions& options) {
  std::unique_ptr<LogStore> store(new LogStore(disk, std::move(root), options));
  if (!store->root_.empty()) {
    if (absl::Status s = disk->CreateDir(store->root_); !s.ok()) return s;
    if (absl::Status s = disk->SyncDir(env::ParentDir(store->root_)); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = store->SyncAtOpen(); !s.ok()) return s;
  if (absl::Status s = store->LoadHardStates(); !s.ok()) return s;
  if (absl::Status s = store->OpenTailWal(); !s.ok()) return s;
  return store;
}

absl::Status LogStore::LoadHardStates() {
  const std::string tmp = env::JoinPath(
      root_, absl::StrCat(format::kHardStateFile, format::kTmpSuffix));
  absl::StatusOr<bool> has_tmp = disk_->Exists(tmp);
  if (!has_tmp.ok()) return has_tmp.status();
  if (*has_tmp) {
    // A write that never got renamed: the previous file is the truth.
    if (absl::Status s = disk_->Remove(tmp); !s.ok()) return s;
  }
  absl::StatusOr<std::string> bytes =
      ReadWholeFile(*disk_, env::JoinPath(root_, format::kHardStateFile));
  if (absl::IsNotFound(bytes.status())) return absl::OkStatus();
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::map<uint64_t, HardState>> states =
      DecodeHardStates(*bytes);
  if (!states.ok()) {
    return absl::DataLossError(
        absl::StrCat(env::JoinPath(root_, format::kHardStateFile), ": ",
                     states.status().message()));
  }
  hard_states_ = std::move(*states);
  return absl::OkStatus();
}

absl::Status LogStore::WriteHardStates() {
  stats_.hard_state_writes++;
  return WriteFileAtomically(*disk_, root_, format::kHardStateFile,
                             EncodeHardStates(hard_states_));
}

absl::StatusOr<GroupStorage*> LogStore::OpenGroup(uint64_t group_id,
                                                  const LogOptions& options) {
  if (groups_.count(group_id) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("group ", group_id, " is open"));
  }
  std::unique_ptr<GroupStorage> group(new GroupStorage(disk_, group_id));
  group->dir_ = env::JoinPath(root_, format::GroupDir(group_id));
  LogOptions log_options = options;
  log_options.store_synced = synced_at_open_;
  absl::StatusOr<std::unique_ptr<GroupLog>> log =
      GroupLog::Open(disk_, group->dir_, log_options, &group->recovery_);
  if (!log.ok()) return log.status();
  group->log_ = std::move(*log);
  auto hs = hard_states_.find(group_id);
  if (hs != hard_states_.end()) group->hard_state_ = hs->second;
  // The snapshot: a leftover temporary never made it; the renamed file is
  // complete.
  const std::string tmp = env::JoinPath(
      group->dir_, absl::StrCat(format::kSnapshotFile, format::kTmpSuffix));
  absl::StatusOr<bool> has_tmp = disk_->Exists(tmp);
  if (!has_tmp.ok()) return has_tmp.status();
  if (*has_tmp) {
    if (absl::Status s = disk_->Remove(tmp); !s.ok()) return s;
  }
  absl::StatusOr<Snapshot> snapshot = group->LoadSnapshot();
  if (snapshot.ok()) {
    group->snapshot_meta_ = snapshot->meta;
    const SnapshotMeta& meta = snapshot->meta;
    GroupLog& l = *group->log_;
    bool matches = false;
    if (meta.index + 1 >= l.first_index() && meta.index <= l.last_index()) {
      absl::StatusOr<uint64_t> term = l.Term(meta.index);
      if (!term.ok()) return term.status();
      matches = *term == meta.term;
    }
    // Crash between a snapshot install and the log reset: finish the reset.
    absl::Status s = matches ? l.RemovePrefix(meta.index)
                             : l.Reset(meta.index, meta.term, meta.next_offset);
    if (!s.ok()) return s;
    if (absl::Status s2 = l.Sync(); !s2.ok()) return s2;
  } else if (!absl::IsNotFound(snapshot.status())) {
    return absl::DataLossError(
        absl::StrCat("group ", group_id, ": ", snapshot.status().message()));
  }
  LoadCheckpoint(*group);
  GroupStorage* result = group.get();
  groups_[group_id] = std::move(group);
  return result;
}

GroupStorage* LogStore::group(uint64_t group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

absl::Status LogStore::DeleteGroup(uint64_t group_id) {
  CHRONIK_CHECK_EQ(flushes_in_flight_, 0u);
  for (const PersistRequest& request : queue_) {
    if (request.group_id == group_id) {
      return absl::FailedPreconditionError(
          absl::StrCat("group ", group_id, " has queued requests"));
    }
  }
  if (absl::Status s = ForgetInTailWal(group_id); !s.ok()) return s;
  groups_.erase(group_id);  // closes its files
  // The hard state goes first: a group directory without hard state is just
  // an empty log if a crash stops the removal below.
  if (hard_states_.erase(group_id) > 0) {
    if (absl::Status s = WriteHardStates(); !s.ok()) return s;
  }
  const std::string dir = env::JoinPath(root_, format::GroupDir(group_id));
  absl::StatusOr<bool> exists = disk_->Exists(dir);
  if (!exists.ok()) return exists.status();
  if (!*exists) return absl::OkStatus();
  // The replay checkpoint first: never one without the log it describes.
  if (absl::Status s =
          disk_->Remove(env::JoinPath(dir, format::kReplayCheckpointFile));
      !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  absl::StatusOr<std::vector<std::string>> names = disk_->List(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (absl::Status s = disk_->Remove(env::JoinPath(dir, name)); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = disk_->RemoveDir(dir); !s.ok()) return s;
  return disk_->SyncDir(root_);
}

absl::Status LogStore::Enqueue(PersistRequest request) {
  GroupStorage* g = group(request.group_id);
  if (g == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", request.group_id, " is not open"));
  }
  if (!g->failed_.ok()) return g->failed_;
  const uint64_t bytes = RequestBytes(request);
  if (queue_.size() >= options_.max_queued_requests ||
      (!queue_.empty() && queued_bytes_ + bytes > options_.max_queued_bytes)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("storage queue full: ", queue_.size(), " requests, ",
                     queued_bytes_, " bytes"));
  }
  queued_bytes_ += bytes;
  queue_.push_back(std::move(request));
  return absl::OkStatus();
}

absl::Status LogStore::Apply(GroupStorage& group, PersistRequest& request,
                             Completion& completion) {
  GroupLog& log = *group.log_;
  if (request.snapshot) {
    const SnapshotMeta& meta = request.snapshot->meta;
    if (meta.index < group.snapshot_meta_.index) {
      return absl::InvalidArgumentError(absl::StrCat(
          "snapshot ", meta.index, " older than ", group.snapshot_meta_.index));
    }
    // Earlier requests first (the snapshot must not become durable before a
    // truncation queued ahead of it), then the snapshot before the log changes:
    // recovery finishes a reset or compaction that a crash interrupted.
    if (absl::Status s = log.Sync(); !s.ok()) return s;
    if (absl::Status s =
            WriteFileAtomically(*disk_, group.dir_, format::kSnapshotFile,
                                EncodeSnapshot(*request.snapshot));
        !s.ok()) {
      return s;
    }
    group.snapshot_meta_ = meta;
    absl::Status s = request.snapshot_replaces_log
                         ? log.Reset(meta.index, meta.term, meta.next_offset)
                         : log.RemovePrefix(meta.index);
    if (!s.ok()) return s;
    completion.snapshot_index = meta.index;
  }
  if (!request.entries.empty()) {
    if (request.entries.front().index < group.first_index()) {
      return absl::InvalidArgumentError(
          absl::StrCat("append at ", request.entries.front().index,
                       " before first index ", group.first_index()));
    }
    const uint64_t spliced_before = log.spliced_payload_bytes();
    if (absl::Status s = log.Append(absl::MakeSpan(request.entries)); !s.ok()) {
      return s;
    }
    stats_.spliced_bytes += log.spliced_payload_bytes() - spliced_before;
    stats_.appends++;
    stats_.entries += request.entries.size();
    for (const Entry& e : request.entries) {
      stats_.bytes += e.data.size();
      if (e.offset_count > 0) {
        completion.offsets.push_back(
            AssignedOffsets{e.index, e.offset_base, e.offset_count});
      }
    }
  }
  if (request.hard_state) {
    group.hard_state_ = *request.hard_state;
    completion.hard_state = *request.hard_state;
  }
  return absl::OkStatus();
}

std::vector<Completion> LogStore::Flush() {
  FlushPlan plan = BeginFlush();
  std::vector<absl::Status> results;
  results.reserve(plan.files_to_sync.size());
  for (env::File* file : plan.files_to_sync) results.push_back(file->Sync());
  return FinishFlush(std::move(plan), results);
}

FlushPlan LogStore::BeginFlush() {
  CHRONIK_CHECK(flushes_in_flight_ == 0 || CanBeginFlush())
      << "BeginFlush while " << flushes_in_flight_
      << " flushes are in flight and the next cannot overlap them";
  const bool overlaps = flushes_in_flight_ > 0;
  flushes_in_flight_++;
  stats_.flushes++;
  if (overlaps) stats_.flushes_overlapped++;
  FlushPlan plan;
  plan.use_wal_ = wal_ != nullptr &&
                  GroupsAppendingInNextFlush() >= options_.tail_wal_min_groups;
  uint64_t batch_bytes = 0;
  // 1. Apply queued requests in order (writes are buffered, nothing synced
  // yet).
  while (!queue_.empty()) {
    const uint64_t bytes = RequestBytes(queue_.front());
    if (!plan.completions_.empty() &&
        batch_bytes + bytes > options_.max_flush_bytes) {
      break;
    }
    PersistRequest request = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= bytes;
    batch_bytes += bytes;
    stats_.requests++;
    GroupStorage& group = *groups_.at(request.group_id);
    Completion& completion = plan.completions_[request.group_id];
    completion.group_id = request.group_id;
    if (!completion.status.ok()) continue;
    if (!group.failed_.ok()) {
      completion.status = group.failed_;
      continue;
    }
    if (absl::Status s = ApplyRequest(group, request, completion, plan);
        !s.ok()) {
      group.failed_ = s;
      completion.status = s;
    }
  }
  // 2. Collect the files to fsync: the tail log's, or one per changed
  // segment (usually one per group).
  PlanTailWal(plan);
  for (auto& [id, completion] : plan.completions_) {
    if (completion.status.ok()) PrepareGroupSync(id, plan);
  }
  // A driver that calls WriteBehind does this while the files sync; without
  // it the buffers are still bounded.
  if (!plan.checkpoint_) {
    WriteOutBuffered(2 * options_.tail_wal_buffer_bytes, &plan);
  }
  RecordDurablePoints(plan);
  if (overlaps) {
    CHRONIK_CHECK(!plan.checkpoint_ && plan.checkpoint_ranges_.empty())
        << "a flush begun while another syncs is a checkpoint";
  } else {
    checkpoint_in_flight_ = plan.checkpoint_;
  }
  return plan;
}

// What each completion will report durable is fixed now: a flush that
// begins before this one finishes may extend the same groups.
void LogStore::RecordDurablePoints(FlushPlan& plan) {
  for (auto& [id, completion] : plan.completions_) {
    if (!completion.status.ok()) continue;
    GroupStorage& group = *groups_.at(id);
    completion.durable_index = group.last_index();
    absl::StatusOr<uint64_t> term = group.Term(completion.durable_index);
    if (term.ok()) {
      completion.durable_term = *term;
    } else {
      completion.status = term.status();
    }
  }
}

bool LogStore::CanBeginFlush() const {
  if (queue_.empty()) return false;
  if (flushes_in_flight_ == 0) return true;
  return flushes_in_flight_ < options_.max_flushes_in_flight &&
         NextFlushOverlapsInFlight();
}

// How many queued requests the next flush takes: in order, up to
// max_flush_bytes (at least one), as BeginFlush does.
size_t LogStore::NextFlushRequestCount() const {
  uint64_t batch_bytes = 0;
  size_t count = 0;
  for (const PersistRequest& request : queue_) {
    const uint64_t bytes = RequestBytes(request);
    if (count > 0 && batch_bytes + bytes > options_.max_flush_bytes) break;
    batch_bytes += bytes;
    ++count;
  }
  return count;
}

// See CanBeginFlush. RequestBytes bounds what a request adds to the frame
// (a block header and, per entry, a record header and the data).
bool LogStore::NextFlushOverlapsInFlight() const {
  if (checkpoint_in_flight_) return false;
  std::map<uint64_t, uint64_t> next_index;  // per group, its next entry
  std::set<uint64_t> appending;
  uint64_t batch_bytes = 0;
  const size_t count = NextFlushRequestCount();
  for (size_t i = 0; i < count; ++i) {
    const PersistRequest& request = queue_[i];
    batch_bytes += RequestBytes(request);
    if (request.snapshot.has_value()) return false;
    const GroupStorage& group = *groups_.at(request.group_id);
    if (!group.failed_.ok()) return false;  // its completion fails at once
    auto [next, inserted] =
        next_index.try_emplace(request.group_id, group.log_->last_index() + 1);
    if (request.entries.empty()) continue;
    if (request.entries.front().index != next->second) return false;
    next->second = request.entries.back().index + 1;
    appending.insert(request.group_id);
  }
  // With the tail log covering them, its frame must fit (else a checkpoint).
  const bool covered =
      wal_ != nullptr && appending.size() >= options_.tail_wal_min_groups;
  return !covered || wal_->Fits(batch_bytes);
}

// The groups with entries among the requests the next flush takes, counted
// up to tail_wal_min_groups.
size_t LogStore::GroupsAppendingInNextFlush() const {
  std::set<uint64_t> groups;
  const size_t count = NextFlushRequestCount();
  for (size_t i = 0; i < count && groups.size() < options_.tail_wal_min_groups;
       ++i) {
    if (!queue_[i].entries.empty()) groups.insert(queue_[i].group_id);
  }
  return groups.size();
}

void LogStore::PrepareGroupSync(uint64_t id, FlushPlan& plan) {
  GroupStorage& group = *groups_.at(id);
  Completion& completion = plan.completions_.at(id);
  const bool covered =
      wal_ != nullptr && !plan.checkpoint_ && !plan.direct_.contains(id);
  absl::Status s;
  const size_t begin = plan.files_to_sync.size();
  // A covered group's appends stay in its write buffer: the tail log holds
  // them durably, and writing them out in larger pieces later
  // (WriteOutBuffered, a checkpoint, a read) costs the page cache far less
  // than one small write per flush.
  if (!covered) {
    s = group.log_->PrepareSync(&plan.files_to_sync, &plan.sync_points_[id]);
    plan.file_ranges_[id] = {begin, plan.files_to_sync.size()};
  }
  if (!s.ok()) {
    plan.file_ranges_.erase(id);
    group.failed_ = s;
    completion.status = s;
  }
}

std::vector<Completion> LogStore::FinishFlush(
    FlushPlan plan, absl::Span<const absl::Status> sync_results) {
  CHRONIK_CHECK_GT(flushes_in_flight_, 0u) << "FinishFlush without BeginFlush";
  CHRONIK_CHECK_EQ(sync_results.size(), plan.files_to_sync.size());
  flushes_in_flight_--;
  // A flush still in flight began while this one synced: not a checkpoint.
  checkpoint_in_flight_ = false;
  const absl::Status covered_synced = CoveredSyncResult(plan, sync_results);
  bool hard_state_dirty = false;
  for (auto& [id, completion] : plan.completions_) {
    if (!completion.status.ok()) continue;
    GroupStorage& group = *groups_.at(id);
    if (!group.failed_.ok()) {
      // Failed by an earlier flush's completion after this one began.
      completion.status = group.failed_;
      continue;
    }
    auto range = plan.file_ranges_.find(id);
    if (range == plan.file_ranges_.end()) {
      // Covered by the tail log.
      if (!covered_synced.ok()) {
        group.failed_ = covered_synced;
        completion.status = covered_synced;
        continue;
      }
    } else {
      const auto [begin, end] = range->second;
      absl::Status synced;
      for (size_t i = begin; i < end && synced.ok(); ++i)
        synced = sync_results[i];
      const uint64_t before = group.log_->fsyncs();
      if (absl::Status s =
              group.log_->FinishSync(synced, plan.sync_points_.at(id));
          !s.ok()) {
        group.failed_ = s;
        completion.status = s;
        continue;
      }
      stats_.log_fsyncs += group.log_->fsyncs() - before;
    }
    if (completion.hard_state && hard_states_[id] != *completion.hard_state) {
      hard_states_[id] = *completion.hard_state;
      hard_state_dirty = true;
    }
  }
  FinishTailWal(plan, sync_results);
  // 3. One atomic write covers every group's hard state.
  if (hard_state_dirty) {
    if (absl::Status s = WriteHardStates(); !s.ok()) {
      for (auto& [id, completion] : plan.completions_) {
        if (completion.status.ok() && completion.hard_state) {
          groups_.at(id)->failed_ = s;
          completion.status = s;
        }
      }
    }
  }
  std::vector<Completion> out;
  out.reserve(plan.completions_.size());
  for (auto& [id, completion] : plan.completions_) {
    if (!completion.status.ok()) {
      completion.durable_index = 0;
      completion.durable_term = 0;
      completion.hard_state.reset();
      completion.snapshot_index.reset();
      completion.offsets.clear();
    }
    out.push_back(std::move(completion));
  }
  return out;
}

}  // namespace chronik::storage
