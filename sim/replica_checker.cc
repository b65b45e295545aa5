#include "sim/replica_checker.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "sim/random.h"

namespace chronik::sim {
namespace {

// A Kafka record batch from its CRC on (v2: base offset 8 bytes, length 4,
// partition leader epoch 4, magic 1, then the CRC of everything after it):
// storage and the leader assign the base offset and epoch, so the stored and
// replicated copies differ from the producer's bytes only before the CRC.
constexpr size_t kCrcOffset = 17;

uint64_t BatchFingerprint(std::string_view batch) {
  if (batch.size() > kCrcOffset) batch.remove_prefix(kCrcOffset);
  return Fnv1a64(batch);
}

// The header fields compaction keeps (v2: last offset delta at 23 to the
// base sequence's end at 57; the attributes before them lose the codec when
// a batch is emptied, the record count after them changes).
constexpr size_t kKeptHeaderStart = 23;
constexpr size_t kKeptHeaderEnd = 57;

uint64_t HeaderFingerprint(std::string_view batch) {
  if (batch.size() < kKeptHeaderEnd) return Fnv1a64(batch);
  return Fnv1a64(
      batch.substr(kKeptHeaderStart, kKeptHeaderEnd - kKeptHeaderStart));
}

int64_t RecordCount(std::string_view batch) {
  if (batch.size() < kKeptHeaderEnd + 4) return -1;
  int64_t count = 0;
  for (size_t i = kKeptHeaderEnd; i < kKeptHeaderEnd + 4; ++i) {
    count = (count << 8) | static_cast<unsigned char>(batch[i]);
  }
  return count;
}

}  // namespace

ReplicaChecker::StoredBatch ReplicaChecker::Fingerprints(
    std::string_view batch) {
  return StoredBatch{BatchFingerprint(batch), HeaderFingerprint(batch),
                     RecordCount(batch)};
}

void ReplicaChecker::Store(int node, uint64_t group, const raft::Entry& entry) {
  const StoredBatch stored =
      Fingerprints(std::string_view(entry.data.data(), entry.data.size()));
  logs_[{node, group}].fingerprints[entry.index] = stored;
  where_[stored.batch].push_back({{node, group}, entry.index});
}

void ReplicaChecker::OnAppend(int node, uint64_t group,
                              absl::Span<const raft::Entry> entries) {
  if (group == 0 || entries.empty()) return;
  GroupLog& log = logs_[{node, group}];
  // The log is truncated from the first entry, then appended: what replaces
  // durable entries is not durable yet.
  const raft::Index first = entries.front().index;
  log.fingerprints.erase(log.fingerprints.lower_bound(first),
                         log.fingerprints.end());
  log.durable = std::min(log.durable, first - 1);
  for (const raft::Entry& entry : entries) Store(node, group, entry);
}

void ReplicaChecker::OnDurable(int node, uint64_t group,
                               raft::Index durable_index) {
  if (group == 0) return;
  logs_[{node, group}].durable = durable_index;
}

void ReplicaChecker::OnRecover(int node, uint64_t group,
                               raft::Index last_index) {
  if (group == 0) return;
  GroupLog& log = logs_[{node, group}];
  log.fingerprints.clear();
  log.durable = last_index;
}

void ReplicaChecker::OnRecoveredEntries(int node, uint64_t group,
                                        absl::Span<const raft::Entry> entries) {
  if (group == 0) return;
  for (const raft::Entry& entry : entries) Store(node, group, entry);
}

void ReplicaChecker::OnLogCut(uint64_t group, raft::Index index) {
  if (group == 0) return;
  raft::Index& cut = cut_[group];
  cut = std::max(cut, index);
}

bool ReplicaChecker::CutAway(const std::string& batch) const {
  auto it = where_.find(BatchFingerprint(batch));
  if (it == where_.end()) return false;
  // Every place: a copy a truncation left below the cut does not speak for
  // the record stored again above it.
  for (const auto& [node_group, index] : it->second) {
    auto cut = cut_.find(node_group.second);
    if (cut == cut_.end() || index > cut->second) return false;
  }
  return true;
}

int ReplicaChecker::DurableCopies(const std::string& batch) const {
  auto it = where_.find(BatchFingerprint(batch));
  if (it == where_.end()) return 0;
  const StoredBatch wanted = Fingerprints(batch);
  // Every (group, index) where the batch was stored, then every node's log
  // of that group.
  std::set<std::pair<uint64_t, raft::Index>> places;
  for (const auto& [node_group, index] : it->second) {
    places.insert({node_group.second, index});
  }
  std::set<int> nodes;
  for (const auto& [node_group, log] : logs_) {
    for (const auto& [group, index] : places) {
      if (group != node_group.second || index > log.durable) continue;
      auto stored = log.fingerprints.find(index);
      if (stored == log.fingerprints.end()) continue;
      const StoredBatch& copy = stored->second;
      const bool compacted = copy.header == wanted.header &&
                             copy.records >= 0 && copy.records < wanted.records;
      if (copy.batch == wanted.batch || compacted) {
        nodes.insert(node_group.first);
      }
    }
  }
  return static_cast<int>(nodes.size());
}

void ReplicaChecker::OnAllAck(Nanos now, int partition, int64_t offset,
                              const std::string& value,
                              const std::string& batch, int min_insync,
                              int64_t log_start) {
  // A retry answered for a record deleted meanwhile (DeleteRecords,
  // retention) needs no copies: replicas may have dropped it with the log
  // prefix, or never stored it (a snapshot installed past it).
  if (offset < log_start) return;
  // The same for a record retention cut away before the answer, which no
  // client may have seen yet (a follower behind installs the cut instead of
  // storing the record).
  if (CutAway(batch)) return;
  const int copies = DurableCopies(batch);
  if (copies >= min_insync || violation_.has_value()) return;
  violation_ = absl::StrCat(
      "UNDER-REPLICATED ACK at ", FormatTime(now), ": partition ", partition,
      " offset ", offset, " value ", value,
      " was acknowledged (acks=all) while ", copies,
      " replicas held it durably; min.insync.replicas is ", min_insync);
}

}  // namespace chronik::sim
