#include "broker/server/partition_replica.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/control_batch.h"
#include "broker/kafka/errors.h"
#include "broker/storage/format.h"

namespace chronik::broker {
BatchFacts FactsOf(const kafka::BatchHeader& header) {
  BatchFacts facts;
  facts.record_count = header.last_offset_delta + 1;
  facts.max_timestamp_ms = header.max_timestamp;
  facts.producer_id = header.producer_id;
  facts.producer_epoch = header.producer_epoch;
  facts.base_sequence = header.base_sequence;
  facts.transactional = header.is_transactional();
  facts.control = header.is_control();
  CHRONIK_CHECK_GT(facts.record_count, 0);
  return facts;
}

BatchFacts ReadBatchFacts(absl::string_view batch) {
  CHRONIK_CHECK_GE(batch.size(), kafka::kBatchHeaderBytes);
  const kafka::BatchHeader header = kafka::ReadBatchHeader(batch);
  BatchFacts facts = FactsOf(header);
  facts.removed = facts.control && header.record_count == 0;
  if (facts.control && !facts.removed) {
    // Only the broker writes control batches (Produce refuses them).
    absl::StatusOr<kafka::TxnMarker> marker = kafka::ReadTxnMarker(batch);
    CHRONIK_CHECK(marker.ok())
        << "a stored control batch does not decode: " << marker.status();
    facts.commit = marker->commit;
    facts.txn_seq = marker->coordinator_epoch;
  }
  return facts;
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
  epochs_.Assign(storage::LeaderEpochOfTerm(entry.term), next_offset_);
  // What a pending append of this entry completes with: a batch's base
  // offset, a log start entry's log start after it.
  std::optional<int64_t> result;
  bool is_log_start = false;
  if (entry.type == raft::EntryType::kNormal && !entry.data.empty()) {
    const absl::string_view payload(entry.data.data(), entry.data.size());
    if (std::optional<int64_t> start = storage::DecodeLogStartEntry(payload)) {
      ApplyLogStart(entry.index, *start);
      is_log_start = true;
      result = log_start_;
    } else {
      const BatchFacts facts = ReadBatchFacts(payload);
      result = next_offset_;
      ApplyBatch(entry.index, facts, next_offset_);
      next_offset_ += facts.record_count;
    }
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
  const bool ours = pending.term == entry.term && result.has_value();
  if (ours) {
    // (term, index) names one entry: the one proposed.
    CHRONIK_CHECK_EQ(is_log_start, pending.base_offset < 0)
        << "index " << entry.index << " applied another kind of entry";
    if (!is_log_start) {
      CHRONIK_CHECK_EQ(*result, pending.base_offset)
          << "leader's offset prediction diverged at index " << entry.index;
    }
  }
  for (AppendDone& done : pending.waiters) {
    if (ours) {
      done(kafka::error::kNone, *result);
    } else {
      done(kafka::error::kNotLeaderOrFollower, -1);
    }
  }
}

void PartitionReplica::ApplyBatch(raft::Index index, const BatchFacts& facts,
                                  int64_t offset) {
  producers_.Record(partition::ProducerBatch{
      facts.producer_id, facts.producer_epoch, facts.base_sequence,
      facts.record_count, offset, index, facts.control});
  if (facts.producer_id < 0) return;
  if (facts.removed) {
    txn_.OnMarkerRemoved(facts.producer_id);
  } else if (facts.control) {
    txn_.OnMarker(facts.producer_id, facts.commit, facts.txn_seq, offset);
  } else if (facts.transactional) {
    txn_.OnData(facts.producer_id, offset);
  }
}

void PartitionReplica::ApplyLogStart(raft::Index index, int64_t offset) {
  // The leader asked for at most its high watermark, which the entries
  // before this one make up, on every replica.
  CHRONIK_CHECK_LE(offset, next_offset_)
      << "partition " << topic_ << "-" << partition_
      << ": log start entry at index " << index << " beyond the log end";
  if (log_start_only_on_leader_ && !is_leader_) return;  // TEST-ONLY
  log_start_ = std::max(log_start_, offset);
  epochs_.TruncateFromStart(log_start_);
  txn_.TrimBelow(log_start_);
}

std::string PartitionReplica::SnapshotImage(raft::Index index,
                                            int64_t next_offset) const {
  CHRONIK_CHECK_LE(index, applied_index_);
  const std::vector<partition::ProducerBatch> batches =
      producers_.BatchesUpTo(index);
  std::string image;
  image.reserve(kPartitionImageHeaderBytes +
                batches.size() * kPartitionImageBatchBytes);
  storage::format::PutU32(&image, kPartitionImageVersion);
  storage::format::PutU32(&image, static_cast<uint32_t>(batches.size()));
  for (const partition::ProducerBatch& b : batches) {
    storage::format::PutU64(&image, static_cast<uint64_t>(b.producer_id));
    storage::format::PutU32(
        &image, static_cast<uint32_t>(static_cast<int32_t>(b.producer_epoch)));
    storage::format::PutU32(&image, static_cast<uint32_t>(b.base_sequence));
    storage::format::PutU32(&image, static_cast<uint32_t>(b.record_count));
    storage::format::PutU64(&image, static_cast<uint64_t>(b.base_offset));
    storage::format::PutU64(&image, b.raft_index);
  }
  CHRONIK_CHECK_EQ(
      image.size(),
      kPartitionImageHeaderBytes + batches.size() * kPartitionImageBatchBytes);
  txn_.EncodeAsOf(next_offset, &image);
  return image;
}

absl::Status PartitionReplica::RestoreSnapshot(raft::Index index,
                                               raft::Term term,
                                               int64_t next_offset,
                                               absl::string_view image) {
  const char* p = image.data();
  const uint32_t version = image.size() < kPartitionImageHeaderBytes
                               ? 0
                               : storage::format::GetU32(p);
  const uint64_t batches_end =
      version == 0 ? 0
                   : kPartitionImageHeaderBytes +
                         uint64_t{storage::format::GetU32(p + 4)} *
                             kPartitionImageBatchBytes;
  partition::TxnState txn;
  absl::string_view rest =
      batches_end <= image.size() ? image.substr(batches_end) : "";
  if (version < 1 || version > kPartitionImageVersion ||
      batches_end > image.size() || (version == 1 && !rest.empty()) ||
      (version >= 2 &&
       (!partition::TxnState::Decode(&rest, &txn).ok() || !rest.empty())) ||
      next_offset < 0) {
    return absl::DataLossError(absl::StrCat("partition ", topic_, "-",
                                            partition_, ": snapshot at ", index,
                                            " does not decode"));
  }
  partition::ProducerStateTable producers;
  uint64_t last_index = 0;
  for (size_t pos = kPartitionImageHeaderBytes; pos < batches_end;
       pos += kPartitionImageBatchBytes) {
    const char* q = p + pos;
    partition::ProducerBatch b;
    b.producer_id = static_cast<int64_t>(storage::format::GetU64(q));
    b.producer_epoch = static_cast<int16_t>(
        static_cast<int32_t>(storage::format::GetU32(q + 8)));
    b.base_sequence = static_cast<int32_t>(storage::format::GetU32(q + 12));
    b.record_count = static_cast<int32_t>(storage::format::GetU32(q + 16));
    b.base_offset = static_cast<int64_t>(storage::format::GetU64(q + 20));
    b.raft_index = storage::format::GetU64(q + 28);
    // Version 3: a record count of 0 is a producer known by its epoch only.
    b.control = version >= 3 && b.record_count == 0;
    if (b.raft_index > index || b.raft_index < last_index ||
        (b.record_count <= 0 && !b.control) ||
        b.base_offset + b.record_count > next_offset) {
      return absl::DataLossError(
          absl::StrCat("partition ", topic_, "-", partition_, ": snapshot at ",
                       index, " has a bad producer batch"));
    }
    last_index = b.raft_index;
    producers.Record(b);
  }
  FailPending(kafka::error::kNotLeaderOrFollower);
  applied_index_ = index;
  next_offset_ = next_offset;
  log_start_ = next_offset;
  log_start_offset_ = next_offset;
  producers_ = std::move(producers);
  epochs_.Reset(storage::LeaderEpochOfTerm(term), next_offset);
  txn_ = std::move(txn);
  leader_ready_ = false;
  leader_producers_ = partition::ProducerStateTable();
  return absl::OkStatus();
}

std::string PartitionReplica::CheckpointImage() const {
  const std::vector<partition::EpochStart> epochs = epochs_.All();
  std::string image;
  storage::format::PutU32(&image, kCheckpointImageVersion);
  storage::format::PutU64(&image, static_cast<uint64_t>(next_offset_));
  storage::format::PutU64(&image, static_cast<uint64_t>(log_start_));
  storage::format::PutU32(&image, static_cast<uint32_t>(epochs.size()));
  CHRONIK_CHECK_EQ(image.size(), kCheckpointImageHeaderBytes);
  for (const partition::EpochStart& e : epochs) {
    storage::format::PutU32(&image, static_cast<uint32_t>(e.epoch));
    storage::format::PutU64(&image, static_cast<uint64_t>(e.start_offset));
  }
  image += SnapshotImage(applied_index_, next_offset_);
  return image;
}

absl::Status PartitionReplica::RestoreCheckpoint(raft::Index index,
                                                 raft::Term term,
                                                 absl::string_view image) {
  const absl::Status bad = absl::DataLossError(
      absl::StrCat("partition ", topic_, "-", partition_,
                   ": replay checkpoint at ", index, " does not decode"));
  if (image.size() < kCheckpointImageHeaderBytes) return bad;
  const char* p = image.data();
  const int64_t next_offset =
      static_cast<int64_t>(storage::format::GetU64(p + 4));
  const int64_t log_start =
      static_cast<int64_t>(storage::format::GetU64(p + 12));
  const uint64_t count = storage::format::GetU32(p + 20);
  const uint64_t epochs_end =
      kCheckpointImageHeaderBytes + count * kCheckpointImageEpochBytes;
  if (storage::format::GetU32(p) != kCheckpointImageVersion ||
      epochs_end > image.size() || log_start < 0 || log_start > next_offset) {
    return bad;
  }
  std::vector<partition::EpochStart> epochs;
  for (uint64_t i = 0; i < count; ++i) {
    const char* q =
        p + kCheckpointImageHeaderBytes + i * kCheckpointImageEpochBytes;
    epochs.push_back(partition::EpochStart{
        static_cast<int32_t>(storage::format::GetU32(q)),
        static_cast<int64_t>(storage::format::GetU64(q + 4))});
  }
  partition::LeaderEpochs restored;
  if (!restored.Restore(epochs)) return bad;
  if (absl::Status s =
          RestoreSnapshot(index, term, next_offset, image.substr(epochs_end));
      !s.ok()) {
    return s;
  }
  log_start_ = log_start;
  log_start_offset_ = std::nullopt;
  epochs_ = std::move(restored);
  return absl::OkStatus();
}

void PartitionReplica::OnLeaderChange(raft::NodeId leader, raft::Term term) {
  const bool now_leader = leader == self_;
  if (now_leader && is_leader_ && term == leader_term_) return;
  if (!now_leader || term != leader_term_)
    FailPending(kafka::error::kNotLeaderOrFollower);
  is_leader_ = now_leader;
  leader_term_ = term;
  if (leader != raft::kNoNode) leader_epoch_ = storage::LeaderEpochOfTerm(term);
  leader_ready_ = false;
  leader_producers_ = partition::ProducerStateTable();
}

int16_t PartitionReplica::CheckLeaderEpoch(int32_t current_leader_epoch) const {
  if (current_leader_epoch == partition::kUndefinedEpoch) {
    return kafka::error::kNone;
  }
  if (current_leader_epoch < leader_epoch_) {
    return kafka::error::kFencedLeaderEpoch;
  }
  if (current_leader_epoch > leader_epoch_) {
    return kafka::error::kUnknownLeaderEpoch;
  }
  return kafka::error::kNone;
}

partition::ProducerCheck PartitionReplica::CheckProducer(
    const BatchFacts& facts) const {
  CHRONIK_CHECK(leader_ready_);
  partition::ProducerBatch batch{facts.producer_id,
                                 facts.producer_epoch,
                                 facts.base_sequence,
                                 facts.record_count,
                                 -1,
                                 0,
                                 facts.control};
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
      facts.record_count, base_offset, index, facts.control});
  PendingAppend& pending = pending_[index];
  pending.term = term;
  pending.base_offset = base_offset;
  pending.waiters.push_back(std::move(done));
  return base_offset;
}

void PartitionReplica::AddPendingLogStart(raft::Term term, raft::Index index,
                                          AppendDone done) {
  CHRONIK_CHECK(leader_ready_);
  CHRONIK_CHECK_GT(index, applied_index_);
  CHRONIK_CHECK(pending_.count(index) == 0) << "index " << index << " reused";
  PendingAppend& pending = pending_[index];
  pending.term = term;
  pending.base_offset = -1;
  pending.waiters.push_back(std::move(done));
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
  std::vector<CopyWait> waits;
  waits.swap(copy_waits_);
  for (CopyWait& wait : waits) wait.done(error_code, -1);
}

void PartitionReplica::ReleaseCopyWaits(
    const std::function<int(raft::Index)>& copies_of, size_t isr_size,
    int64_t now_ms) {
  std::vector<CopyWait> waits;
  waits.swap(copy_waits_);
  for (CopyWait& wait : waits) {
    if (copies_of(wait.index) >= wait.copies) {
      wait.done(kafka::error::kNone, wait.base_offset);
    } else if (isr_size < static_cast<size_t>(wait.copies)) {
      wait.done(kafka::error::kNotEnoughReplicasAfterAppend, -1);
    } else if (now_ms < wait.deadline_ms) {
      copy_waits_.push_back(std::move(wait));
    }  // else: the request has answered REQUEST_TIMED_OUT
  }
}

}  // namespace chronik::broker
