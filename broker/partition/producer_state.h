// ProducerStateTable: idempotent-producer bookkeeping of one partition.
//
// For each producer id it remembers the current epoch and the last five
// batches (sequence range and assigned offsets), the window Kafka clients rely
// on: a batch equal to one of those is a duplicate (acknowledged with the
// original offsets, not appended again); a batch that does not continue the
// sequence is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is fenced.
//
// How the broker uses it: every node updates one table as batches are applied
// (committed, in log order), so the table is a pure function of the log and
// survives restarts and failovers without side files. The partition leader
// checks new batches against a second copy that also holds its own in-flight
// proposals (the leader is the only appender in its term, and it starts taking
// produce requests only once it has applied its whole log), and drops that
// copy when it loses leadership.
//
// Deterministic (sorted maps), bounded per producer; thread-compatible.
#ifndef CHRONIK_BROKER_PARTITION_PRODUCER_STATE_H_
#define CHRONIK_BROKER_PARTITION_PRODUCER_STATE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "broker/kafka/errors.h"

namespace chronik::partition {

// How many batches per producer are remembered for duplicate detection.
inline constexpr size_t kProducerBatchWindow = 5;
// Bound on producers tracked per partition; the least recently written one is
// forgotten beyond it (it then restarts its sequence like a new producer).
inline constexpr size_t kMaxProducersPerPartition = 10'000;

struct ProducerBatch {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;
  int64_t base_offset = -1;  // assigned offsets (known once appended)
  uint64_t raft_index = 0;   // where the batch sits in the partition log
  // A transaction marker: it carries no sequence; one with a newer epoch
  // fences the older (the coordinator bumped it to abort).
  bool control = false;
  int32_t last_sequence() const;
};

struct ProducerCheck {
  enum class Verdict { kAppend, kDuplicate, kReject };
  Verdict verdict = Verdict::kAppend;
  int16_t error_code = 0;  // for kReject
  ProducerBatch original;  // for kDuplicate
};

// What DescribeProducers lists of one producer.
struct ProducerSummary {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t last_sequence = -1;  // -1: none remembered
};

class ProducerStateTable {
 public:
  // Judges a new batch. Non-idempotent batches (producer_id < 0) always append.
  ProducerCheck Check(const ProducerBatch& batch) const;
  // Records an appended batch (the caller checked it) or marker (which only
  // moves the epoch forward). batch.raft_index orders
  // writes; the producer written longest ago is forgotten when over the bound.
  void Record(const ProducerBatch& batch);
  size_t producer_count() const { return producers_.size(); }
  // Every producer remembered, by id.
  std::vector<ProducerSummary> Producers() const;
  // The remembered batches written at or below `raft_index`, in raft index
  // order, and for a producer known only by the epoch a marker gave it, a
  // marker (control, record_count 0): Recording them into an empty table,
  // then the batches after `raft_index`, gives the windows and epochs this
  // table has (a partition snapshot at `raft_index` carries them).
  std::vector<ProducerBatch> BatchesUpTo(uint64_t raft_index) const;

 private:
  void RecordMarker(const ProducerBatch& marker);
  void ForgetOldestBeyondBound();

  struct Producer {
    int16_t epoch = -1;
    std::deque<ProducerBatch> recent;  // oldest first, at most the window
    uint64_t last_write = 0;
  };
  std::map<int64_t, Producer> producers_;
};

}  // namespace chronik::partition

#endif  // CHRONIK_BROKER_PARTITION_PRODUCER_STATE_H_
