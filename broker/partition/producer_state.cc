#include "broker/partition/producer_state.h"

#include <algorithm>
#include <limits>

#include "base/check.h"

namespace chronik::partition {
namespace {

// Sequence numbers wrap from INT32_MAX to 0 (Kafka's rule).
int32_t NextSequence(int32_t sequence, int32_t increment) {
  const int64_t next = static_cast<int64_t>(sequence) + increment;
  return static_cast<int32_t>(
      next % (int64_t{std::numeric_limits<int32_t>::max()} + 1));
}

}  // namespace

int32_t ProducerBatch::last_sequence() const {
  CHRONIK_CHECK_GT(record_count, 0);
  return NextSequence(base_sequence, record_count - 1);
}

ProducerCheck ProducerStateTable::Check(const ProducerBatch& batch) const {
  ProducerCheck result;
  if (batch.producer_id < 0) return result;
  auto it = producers_.find(batch.producer_id);
  if (it == producers_.end()) {
    // A producer we do not know is new or was forgotten (bounded table); like
    // Kafka, accept its sequence as the start of a new history.
    return result;
  }
  const Producer& producer = it->second;
  if (batch.producer_epoch < producer.epoch) {
    result.verdict = ProducerCheck::Verdict::kReject;
    result.error_code = kafka::error::kInvalidProducerEpoch;
    return result;
  }
  if (batch.producer_epoch > producer.epoch) {
    if (batch.base_sequence != 0) {
      result.verdict = ProducerCheck::Verdict::kReject;
      result.error_code = kafka::error::kOutOfOrderSequenceNumber;
    }
    return result;
  }
  for (const ProducerBatch& recent : producer.recent) {
    if (recent.base_sequence == batch.base_sequence &&
        recent.record_count == batch.record_count) {
      result.verdict = ProducerCheck::Verdict::kDuplicate;
      result.original = recent;
      return result;
    }
  }
  if (producer.recent.empty()) {
    // Its epoch came with a marker (a fencing abort): a new sequence.
    if (batch.base_sequence != 0) {
      result.verdict = ProducerCheck::Verdict::kReject;
      result.error_code = kafka::error::kOutOfOrderSequenceNumber;
    }
    return result;
  }
  const int32_t expected =
      NextSequence(producer.recent.back().last_sequence(), 1);
  if (batch.base_sequence != expected) {
    result.verdict = ProducerCheck::Verdict::kReject;
    result.error_code = kafka::error::kOutOfOrderSequenceNumber;
  }
  return result;
}

void ProducerStateTable::Record(const ProducerBatch& batch) {
  if (batch.producer_id < 0) return;
  if (batch.control) {
    RecordMarker(batch);
    return;
  }
  CHRONIK_CHECK_GT(batch.record_count, 0);
  Producer& producer = producers_[batch.producer_id];
  if (batch.producer_epoch != producer.epoch) {
    producer.epoch = batch.producer_epoch;
    producer.recent.clear();
  }
  producer.recent.push_back(batch);
  if (producer.recent.size() > kProducerBatchWindow)
    producer.recent.pop_front();
  producer.last_write = batch.raft_index;
  ForgetOldestBeyondBound();
}

void ProducerStateTable::RecordMarker(const ProducerBatch& marker) {
  // A marker of a producer this partition holds no data of still fences its
  // older epochs: the coordinator aborts a timed-out transaction with a
  // bumped epoch on every partition added to it, including ones the producer
  // has not written to yet, and its late batches must not start a new
  // transaction here that the next one's marker would then commit (the sim's
  // seed 538 with 5 brokers: ABORTED READ).
  auto [it, added] = producers_.try_emplace(marker.producer_id);
  Producer& producer = it->second;
  if (added || marker.producer_epoch > producer.epoch) {
    producer.epoch = marker.producer_epoch;
    producer.recent.clear();
    producer.last_write = marker.raft_index;
  }
  ForgetOldestBeyondBound();
}

void ProducerStateTable::ForgetOldestBeyondBound() {
  if (producers_.size() > kMaxProducersPerPartition) {
    auto oldest = producers_.begin();
    for (auto it = producers_.begin(); it != producers_.end(); ++it) {
      if (it->second.last_write < oldest->second.last_write) oldest = it;
    }
    producers_.erase(oldest);
  }
  CHRONIK_CHECK_LE(producers_.size(), kMaxProducersPerPartition);
}

std::vector<ProducerSummary> ProducerStateTable::Producers() const {
  std::vector<ProducerSummary> all;
  for (const auto& [id, producer] : producers_) {
    all.push_back({id, producer.epoch,
                   producer.recent.empty()
                       ? -1
                       : producer.recent.back().last_sequence()});
  }
  return all;
}

std::vector<ProducerBatch> ProducerStateTable::BatchesUpTo(
    uint64_t raft_index) const {
  std::vector<ProducerBatch> batches;
  for (const auto& [id, producer] : producers_) {
    if (producer.recent.empty() && producer.last_write <= raft_index) {
      // Only its epoch is known (it came with a marker).
      batches.push_back(ProducerBatch{.producer_id = id,
                                      .producer_epoch = producer.epoch,
                                      .base_sequence = -1,
                                      .record_count = 0,
                                      .base_offset = -1,
                                      .raft_index = producer.last_write,
                                      .control = true});
    }
    for (const ProducerBatch& batch : producer.recent) {
      if (batch.raft_index <= raft_index) batches.push_back(batch);
    }
  }
  std::stable_sort(batches.begin(), batches.end(),
                   [](const ProducerBatch& a, const ProducerBatch& b) {
                     return a.raft_index < b.raft_index;
                   });
  return batches;
}

}  // namespace chronik::partition
