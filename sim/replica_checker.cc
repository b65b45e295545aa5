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

// What log compaction keeps of a v2 batch: after the CRC (4 bytes) the
// attributes (2), last offset delta (4), base and max timestamps (8 + 8),
// producer id (8) and epoch (2) and base sequence (4); then the record
// count (4) and the records, which compaction thins. 0: not a v2 batch.
constexpr size_t kIdentityOffset = kCrcOffset + 4;
constexpr size_t kIdentityBytes = 36;
constexpr size_t kRecordCountBytes = 4;

uint64_t BatchIdentity(std::string_view batch) {
  if (batch.size() < kIdentityOffset + kIdentityBytes + kRecordCountBytes) {
    return 0;
  }
  return Fnv1a64(batch.substr(kIdentityOffset, kIdentityBytes)) | 1;
}

uint64_t Fingerprint(const raft::Entry& entry) {
  return BatchFingerprint(
      std::string_view(entry.data.data(), entry.data.size()));
}

}  // namespace

void ReplicaChecker::Store(int node, uint64_t group, const raft::Entry& entry) {
  const uint64_t fingerprint = Fingerprint(entry);
  GroupLog& log = logs_[{node, group}];
  log.fingerprints[entry.index] = fingerprint;
  log.identities[entry.index] =
      BatchIdentity(std::string_view(entry.data.data(), entry.data.size()));
  where_[fingerprint].push_back({{node, group}, entry.index});
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
  log.identities.erase(log.identities.lower_bound(first), log.identities.end());
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

int ReplicaChecker::DurableCopies(const std::string& batch) const {
  auto it = where_.find(BatchFingerprint(batch));
  if (it == where_.end()) return 0;
  const uint64_t fingerprint = it->first;
  const uint64_t identity = BatchIdentity(batch);
  // Where some node stored the batch as produced: (group, index).
  std::set<std::pair<uint64_t, raft::Index>> places;
  for (const auto& [node_group, index] : it->second) {
    places.insert({node_group.second, index});
  }
  std::set<int> nodes;
  for (const auto& [node_group, log] : logs_) {
    for (const auto& [group, index] : places) {
      if (node_group.second != group || index > log.durable) continue;
      auto stored = log.fingerprints.find(index);
      if (stored == log.fingerprints.end()) continue;
      auto kept = log.identities.find(index);
      if (stored->second == fingerprint ||
          (identity != 0 && kept != log.identities.end() &&
           kept->second == identity)) {
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
  const int copies = DurableCopies(batch);
  if (copies >= min_insync || violation_.has_value()) return;
  violation_ = absl::StrCat(
      "UNDER-REPLICATED ACK at ", FormatTime(now), ": partition ", partition,
      " offset ", offset, " value ", value,
      " was acknowledged (acks=all) while ", copies,
      " replicas held it durably; min.insync.replicas is ", min_insync);
}

}  // namespace chronik::sim
