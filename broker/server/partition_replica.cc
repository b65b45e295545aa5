#include "broker/server/partition_replica.h"

#include <utility>

#include "base/check.h"
#include "broker/kafka/errors.h"

namespace chronik::broker {
BatchFacts FactsOf(const kafka::BatchHeader& header) {
  BatchFacts facts;
  facts.record_count = header.last_offset_delta + 1;
  facts.max_timestamp_ms = header.max_timestamp;
  facts.producer_id = header.producer_id;
  facts.producer_epoch = header.producer_epoch;
  facts.base_sequence = header.base_sequence;
  CHRONIK_CHECK_GT(facts.record_count, 0);
  return facts;
}

BatchFacts ReadBatchFacts(absl::string_view batch) {
  CHRONIK_CHECK_GE(batch.size(), kafka::kBatchHeaderBytes);
  return FactsOf(kafka::ReadBatchHeader(batch));
}

PartitionReplica::PartitionReplica(std::string topic, int32_t partition,
                                   uint64_t group_id, raft::NodeId self)
    : topic_(std::move(topic)),
      partition_(partition),
      group_id_(group_id),
      self_(self) {}

void PartitionReplica::Apply(const raft::Entry& entry) {
  CHRONIK_CHECK_GT(entry.index, applied_index_);
  applied_index_ = entry.index;
  std::optional<int64_t> base_offset;
  if (entry.type == raft::EntryType::kNormal && !entry.data.empty()) {
    const BatchFacts facts =
        ReadBatchFacts(absl::string_view(entry.data.data(), entry.data.size()));
    base_offset = next_offset_;
    producers_.Record(partition::ProducerBatch{
        facts.producer_id, facts.producer_epoch, facts.base_sequence,
        facts.record_count, next_offset_, entry.index});
    next_offset_ += facts.record_count;
  }
  if (is_leader_ && !leader_ready_ && entry.term == leader_term_) {
    // Everything before our first entry is applied: our view starts here.
    leader_ready_ = true;
    leader_producers_ = producers_;
    leader_next_offset_ = next_offset_;
  }
  auto it = pending_.find(entry.index);
  if (it == pending_.end()) return;
  PendingAppend pending = std::move(it->second);
  pending_.erase(it);
  const bool ours = pending.term == entry.term && base_offset.has_value();
  if (ours) {
    CHRONIK_CHECK_EQ(*base_offset, pending.base_offset)
        << "leader's offset prediction diverged at index " << entry.index;
  }
  for (AppendDone& done : pending.waiters) {
    if (ours) {
      done(kafka::error::kNone, *base_offset);
    } else {
      done(kafka::error::kNotLeaderOrFollower, -1);
    }
  }
}

void PartitionReplica::OnLeaderChange(raft::NodeId leader, raft::Term term) {
  const bool now_leader = leader == self_;
  if (now_leader && is_leader_ && term == leader_term_) return;
  if (!now_leader || term != leader_term_)
    FailPending(kafka::error::kNotLeaderOrFollower);
  is_leader_ = now_leader;
  leader_term_ = term;
  leader_ready_ = false;
  leader_producers_ = partition::ProducerStateTable();
}

partition::ProducerCheck PartitionReplica::CheckProducer(
    const BatchFacts& facts) const {
  CHRONIK_CHECK(leader_ready_);
  partition::ProducerBatch batch{facts.producer_id,
                                 facts.producer_epoch,
                                 facts.base_sequence,
                                 facts.record_count,
                                 -1,
                                 0};
  return leader_producers_.Check(batch);
}

int64_t PartitionReplica::AddPendingAppend(raft::Term term, raft::Index index,
                                           const BatchFacts& facts,
                                           AppendDone done) {
  CHRONIK_CHECK(leader_ready_);
  CHRONIK_CHECK_GT(index, applied_index_);
  CHRONIK_CHECK(pending_.count(index) == 0) << "index " << index << " reused";
  const int64_t base_offset = leader_next_offset_;
  leader_next_offset_ += facts.record_count;
  leader_producers_.Record(partition::ProducerBatch{
      facts.producer_id, facts.producer_epoch, facts.base_sequence,
      facts.record_count, base_offset, index});
  PendingAppend& pending = pending_[index];
  pending.term = term;
  pending.base_offset = base_offset;
  pending.waiters.push_back(std::move(done));
  return base_offset;
}

void PartitionReplica::WaitForPending(raft::Index index, AppendDone done) {
  auto it = pending_.find(index);
  CHRONIK_CHECK(it != pending_.end());
  it->second.waiters.push_back(std::move(done));
}

void PartitionReplica::FailPending(int16_t error_code) {
  std::map<raft::Index, PendingAppend> failed;
  failed.swap(pending_);
  for (auto& [index, pending] : failed) {
    for (AppendDone& done : pending.waiters) done(error_code, -1);
  }
}

}  // namespace chronik::broker
