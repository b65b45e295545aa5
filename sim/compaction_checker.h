// The compaction rules of the Kafka history checker (sim/kafka_checker.h),
// for a topic with cleanup.policy=compact: what the final consumer read of a
// compacted partition against the keys producers wrote.
//
// Compaction removes a record only when a later record with the same key is
// in the log (Kafka's log cleaner keeps the last record of every key); a
// removed record leaves its offset unused (a batch may keep no records).
// Rules (on compacted seeds only; KafkaChecker names them):
//   COMPACTED LOST   an acknowledged value is missing from the final read and
//                    the read holds no record of its key at a higher offset
//                    (so for every key the latest acknowledged value, or a
//                    later one, is read);
//   COMPACTION ORDER the consumer read offsets of a partition that do not
//                    strictly increase;
//   WRONG KEY        a value read with a key other than the one it was sent
//                    with (UNEXPECTED, a value never sent, stays the Kafka
//                    checker's).
// KafkaChecker's LOST, GAP and the group deliveries compared with the final
// log allow exactly what these rules allow: a missing record whose key has a
// later one read or a transactional one (CompactedAway), and offsets inside a
// batch read that hold no record (Covered). Tombstones are not written by the
// scenario. Plain value type; knows nothing of the broker.
#ifndef CHRONIK_SIM_COMPACTION_CHECKER_H_
#define CHRONIK_SIM_COMPACTION_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace chronik::sim {

class CompactionChecker {
 public:
  // The topic compacts (else every query below answers false / nothing).
  void SetCompacted(bool on) { on_ = on; }
  bool compacted() const { return on_; }
  // A producer sends `value` with `key`.
  void OnSend(const std::string& value, const std::string& key);
  // A transactional producer sends `value` (unkeyed): compaction removes
  // the records of aborted transactions, so it may be missing; the
  // TxnChecker judges transactions (a committed one's records must stay).
  void OnTransactionalSend(const std::string& value);
  // The final consumer read `value` with `key` ("" for none) at `offset`.
  void OnRead(int partition, int64_t offset, const std::string& key,
              const std::string& value);
  // The final consumer read a (non-control) batch spanning [first, last].
  void OnBatch(int partition, int64_t first, int64_t last);

  // True when `value`, at `offset` of `partition`, may be missing from the
  // final read: its key has a record read at a higher offset.
  bool CompactedAway(int partition, int64_t offset,
                     const std::string& value) const;
  // True when `offset` lies inside a batch the final consumer read.
  bool Covered(int partition, int64_t offset) const;
  // COMPACTION ORDER or WRONG KEY, the first seen.
  const std::optional<std::string>& anomaly() const { return anomaly_; }

 private:
  bool on_ = false;
  std::map<std::string, std::string> key_of_;  // value -> key sent with
  std::set<std::string> transactional_;        // values
  // partition -> key -> the highest offset read with it.
  std::map<int, std::map<std::string, int64_t>> latest_read_;
  std::map<int, int64_t> last_read_;  // partition -> last offset read
  // partition -> first -> last offset of the batches read.
  std::map<int, std::map<int64_t, int64_t>> batches_;
  std::optional<std::string> anomaly_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_COMPACTION_CHECKER_H_
