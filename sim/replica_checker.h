// The broker scenario's replica checker: an acks=all acknowledgement means at
// least min.insync.replicas replicas hold the record durably.
//
// Fed by every node's RaftHost observer (what each node appended to which
// partition group, what it made durable, what it recovered at a restart), it
// knows, per node and group, the stored entries up to the durable index. A
// record is found by the fingerprint (FNV-1a) of its Raft entry, the
// producer's record batch from its CRC on (a retry sends the same bytes; the
// broker assigns only the base offset and leader epoch before the CRC).
//   UNDER-REPLICATED ACK  an acks=all Produce was acknowledged while fewer
//                         than min.insync.replicas nodes held its entry
//                         durably.
// A node holds the entry too when it holds, at the same index of the group,
// the batch as log compaction left it: the same v2 batch header from the
// attributes to the base sequence (producer, sequence, offsets, timestamps),
// its records thinned (a follower that catches up from a compacted leader log
// stores what the leader stores now, as a Kafka follower fetching a cleaned
// segment does).
// Plain value type; knows nothing of the broker's logic.
#ifndef CHRONIK_SIM_REPLICA_CHECKER_H_
#define CHRONIK_SIM_REPLICA_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
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

  // Nodes holding the entry whose data is `batch` durably.
  int DurableCopies(const std::string& batch) const;
  // An acks=all acknowledgement of `batch` (partition, offset, value name it
  // in the violation), when a broker reported `log_start` for the partition.
  void OnAllAck(Nanos now, int partition, int64_t offset,
                const std::string& value, const std::string& batch,
                int min_insync, int64_t log_start);

  const std::optional<std::string>& violation() const { return violation_; }

 private:
  struct GroupLog {
    std::map<raft::Index, uint64_t> fingerprints;  // stored, by index
    // BatchIdentity of stored v2 batches, by index (see the file comment).
    std::map<raft::Index, uint64_t> identities;
    raft::Index durable = 0;
  };
  void Store(int node, uint64_t group, const raft::Entry& entry);

  std::map<std::pair<int, uint64_t>, GroupLog> logs_;  // (node, group)
  // fingerprint -> where it was stored (node, group, index)
  std::unordered_map<
      uint64_t, std::vector<std::pair<std::pair<int, uint64_t>, raft::Index>>>
      where_;
  std::optional<std::string> violation_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_REPLICA_CHECKER_H_
