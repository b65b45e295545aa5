// The broker scenario's replica checker: an acks=all acknowledgement means at
// least min.insync.replicas replicas hold the record durably.
//
// Fed by every node's RaftHost observer (what each node appended to which
// partition group, what it made durable, what it recovered at a restart), it
// knows, per node and group, the stored entries up to the durable index. A
// record is found by the fingerprint (FNV-1a) of its Raft entry, the
// producer's record batch from its CRC on (a retry sends the same bytes; the
// broker assigns only the base offset and leader epoch before the CRC). Log
// compaction rewrites a stored batch's records (and CRC) but keeps its
// header from the last offset delta to the base sequence: a node's durable
// entry at an index where the batch was stored counts as a copy when it has
// the batch's bytes or, compacted, that header and fewer records (another
// batch that replaced it after a truncation has its records: not a copy).
//   UNDER-REPLICATED ACK  an acks=all Produce was acknowledged while fewer
//                         than min.insync.replicas nodes held its entry
//                         durably.
// Plain value type; knows nothing of the broker's logic.
#ifndef CHRONIK_SIM_REPLICA_CHECKER_H_
#define CHRONIK_SIM_REPLICA_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "raft/types.h"
#include "sim/time.h"

namespace chronik::sim {

class ReplicaChecker {
 public:
  // Raft entries of partition groups (the metadata group, 0, is ignored).
  void OnAppend(int node, uint64_t group,
                absl::Span<const raft::Entry> entries);
  void OnDurable(int node, uint64_t group, raft::Index durable_index);
  // A restart: the stored log is reported again (OnRecoveredEntries) and is
  // durable up to `last_index`.
  void OnRecover(int node, uint64_t group, raft::Index last_index);
  void OnRecoveredEntries(int node, uint64_t group,
                          absl::Span<const raft::Entry> entries);
  // A partition group's log was cut at `index` on some node: retention's
  // snapshot (taken) or a follower installing the leader's. A record stored
  // at or below a cut was deleted by retention, and an acknowledgement that
  // comes after it needs no copies (Kafka also answers once the replicas'
  // log starts pass it).
  void OnLogCut(uint64_t group, raft::Index index);

  // Nodes holding the entry whose data is `batch` durably.
  int DurableCopies(const std::string& batch) const;
  // An acks=all acknowledgement of `batch` (partition, offset, value name it
  // in the violation), when a broker reported `log_start` for the partition.
  void OnAllAck(Nanos now, int partition, int64_t offset,
                const std::string& value, const std::string& batch,
                int min_insync, int64_t log_start);

  const std::optional<std::string>& violation() const { return violation_; }

 private:
  struct StoredBatch {
    uint64_t batch = 0;    // fingerprint of the batch from its CRC on
    uint64_t header = 0;   // ... of the header fields compaction keeps
    int64_t records = -1;  // its record count (-1: not a batch)
  };
  static StoredBatch Fingerprints(std::string_view batch);
  struct GroupLog {
    // Stored, by index.
    std::map<raft::Index, StoredBatch> fingerprints;
    raft::Index durable = 0;
  };
  void Store(int node, uint64_t group, const raft::Entry& entry);
  // True when every place `batch` was stored at lies at or below its group's
  // cut.
  bool CutAway(const std::string& batch) const;

  std::map<std::pair<int, uint64_t>, GroupLog> logs_;  // (node, group)
  // fingerprint -> where it was stored (node, group, index)
  std::unordered_map<
      uint64_t, std::vector<std::pair<std::pair<int, uint64_t>, raft::Index>>>
      where_;
  // The highest log cut seen per partition group (OnLogCut).
  std::map<uint64_t, raft::Index> cut_;
  std::optional<std::string> violation_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_REPLICA_CHECKER_H_
