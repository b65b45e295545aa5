#include "broker/metadata/transactions.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"

namespace chronik::metadata {
namespace {

namespace error = kafka::error;
using metapb::TxnStatus;

bool PartitionLess(const metapb::TxnPartition& a,
                   const metapb::TxnPartition& b) {
  return a.topic() != b.topic() ? a.topic() < b.topic()
                                : a.partition() < b.partition();
}

TxnApply Refuse(int16_t code, std::string message) {
  TxnApply result;
  result.error_code = code;
  result.error_message = std::move(message);
  return result;
}

// Starts a new transaction on `txn` (Empty or Complete*).
void Begin(metapb::TransactionInfo& txn, int64_t now_ms) {
  txn.set_status(metapb::TXN_ONGOING);
  txn.clear_partitions();
  txn.clear_groups();
  txn.clear_staged_offsets();
  txn.clear_pending_markers();
  txn.set_start_time_ms(now_ms);
}

}  // namespace

const char* TxnStatusName(TxnStatus status) {
  switch (status) {
    case metapb::TXN_EMPTY:
      return "Empty";
    case metapb::TXN_ONGOING:
      return "Ongoing";
    case metapb::TXN_PREPARE_COMMIT:
      return "PrepareCommit";
    case metapb::TXN_PREPARE_ABORT:
      return "PrepareAbort";
    case metapb::TXN_COMPLETE_COMMIT:
      return "CompleteCommit";
    case metapb::TXN_COMPLETE_ABORT:
      return "CompleteAbort";
    default:
      return "Unknown";
  }
}

bool IsPrepare(TxnStatus status) {
  return status == metapb::TXN_PREPARE_COMMIT ||
         status == metapb::TXN_PREPARE_ABORT;
}

TxnApply TransactionTable::Init(const metapb::InitTxnProducer& command,
                                int64_t* next_producer_id) {
  if (command.transactional_id().empty()) {
    return Refuse(error::kInvalidRequest, "empty transactional id");
  }
  if (command.timeout_ms() <= 0 ||
      command.timeout_ms() > kMaxTransactionTimeoutMs) {
    return Refuse(
        error::kInvalidTransactionTimeout,
        absl::StrCat("transaction timeout ", command.timeout_ms(),
                     " ms is not in (0, ", kMaxTransactionTimeoutMs, "]"));
  }
  auto it = txns_.find(command.transactional_id());
  if (it == txns_.end()) {
    if (txns_.size() >= kMaxTransactionalIds) {
      return Refuse(error::kCoordinatorNotAvailable,
                    "too many transactional ids");
    }
    metapb::TransactionInfo& txn = txns_[command.transactional_id()];
    txn.set_transactional_id(command.transactional_id());
    txn.set_producer_id((*next_producer_id)++);
    txn.set_producer_epoch(0);
    txn.set_status(metapb::TXN_EMPTY);
    txn.set_timeout_ms(command.timeout_ms());
    txn.set_last_update_ms(command.now_ms());
    TxnApply result;
    result.producer_id = txn.producer_id();
    result.producer_epoch = 0;
    return result;
  }
  metapb::TransactionInfo& txn = it->second;
  if (command.expected_producer_id() >= 0 &&
      (command.expected_producer_id() != txn.producer_id() ||
       command.expected_producer_epoch() != txn.producer_epoch())) {
    return Refuse(error::kProducerFenced,
                  "the producer id and epoch are not the current ones");
  }
  if (IsPrepare(txn.status())) {
    return Refuse(error::kConcurrentTransactions,
                  "the previous transaction is being completed");
  }
  TxnApply result;
  if (txn.status() == metapb::TXN_ONGOING) {
    // Fence the producer of the open transaction and abort it.
    if (txn.producer_epoch() < kMaxProducerEpoch) {
      txn.set_producer_epoch(txn.producer_epoch() + 1);
    }
    BeginEnd(txn, /*commit=*/false, command.now_ms(), &result);
    if (IsPrepare(txn.status())) {
      return Refuse(error::kConcurrentTransactions,
                    "aborting the open transaction of the fenced producer");
    }
  }
  if (txn.producer_epoch() >= kMaxProducerEpoch) {
    txn.set_producer_id((*next_producer_id)++);
    txn.set_producer_epoch(0);
  } else {
    txn.set_producer_epoch(txn.producer_epoch() + 1);
  }
  txn.set_status(metapb::TXN_EMPTY);
  txn.clear_partitions();
  txn.clear_groups();
  txn.clear_staged_offsets();
  txn.set_timeout_ms(command.timeout_ms());
  txn.set_last_update_ms(command.now_ms());
  result.producer_id = txn.producer_id();
  result.producer_epoch = static_cast<int16_t>(txn.producer_epoch());
  return result;
}

metapb::TransactionInfo* TransactionTable::Check(absl::string_view id,
                                                 int64_t producer_id,
                                                 int32_t producer_epoch,
                                                 TxnApply* result) {
  auto it = txns_.find(id);
  if (it == txns_.end() || it->second.producer_id() != producer_id) {
    *result = Refuse(error::kInvalidProducerIdMapping,
                     absl::StrCat("producer id ", producer_id,
                                  " is not the one of transactional id ", id));
    return nullptr;
  }
  if (producer_epoch != it->second.producer_epoch()) {
    *result = Refuse(
        error::kProducerFenced,
        absl::StrCat("producer epoch ", producer_epoch, " is not the current ",
                     it->second.producer_epoch()));
    return nullptr;
  }
  return &it->second;
}

TxnApply TransactionTable::Add(const metapb::AddTxnPartitions& command) {
  TxnApply result;
  metapb::TransactionInfo* txn =
      Check(command.transactional_id(), command.producer_id(),
            command.producer_epoch(), &result);
  if (txn == nullptr) return result;
  if (IsPrepare(txn->status())) {
    return Refuse(error::kConcurrentTransactions,
                  "the previous transaction is being completed");
  }
  if (txn->status() != metapb::TXN_ONGOING) Begin(*txn, command.now_ms());
  for (const metapb::TxnPartition& p : command.partitions()) {
    auto& all = *txn->mutable_partitions();
    auto at = std::lower_bound(all.begin(), all.end(), p, PartitionLess);
    if (at != all.end() && !PartitionLess(p, *at)) continue;  // present
    if (all.size() >= kMaxTxnPartitions) {
      return Refuse(error::kPolicyViolation, "too many partitions");
    }
    all.Add(metapb::TxnPartition(p));
    std::sort(all.begin(), all.end(), PartitionLess);
  }
  for (const std::string& group : command.groups()) {
    auto& groups = *txn->mutable_groups();
    if (std::find(groups.begin(), groups.end(), group) != groups.end()) {
      continue;
    }
    if (groups.size() >= kMaxTxnGroups) {
      return Refuse(error::kPolicyViolation, "too many groups");
    }
    groups.Add(std::string(group));
    std::sort(groups.begin(), groups.end());
  }
  txn->set_last_update_ms(command.now_ms());
  return result;
}

TxnApply TransactionTable::Stage(const metapb::StageTxnOffsets& command) {
  TxnApply result;
  metapb::TransactionInfo* txn =
      Check(command.transactional_id(), command.producer_id(),
            command.producer_epoch(), &result);
  if (txn == nullptr) return result;
  const std::string& group = command.offsets().group();
  if (txn->status() != metapb::TXN_ONGOING ||
      std::find(txn->groups().begin(), txn->groups().end(), group) ==
          txn->groups().end()) {
    return Refuse(
        error::kInvalidTxnState,
        absl::StrCat("group ", group, " was not added to an open transaction"));
  }
  metapb::CommitOffsets* staged = nullptr;
  for (metapb::CommitOffsets& g : *txn->mutable_staged_offsets()) {
    if (g.group() == group) staged = &g;
  }
  if (staged == nullptr) {
    staged = txn->add_staged_offsets();
    staged->set_group(group);
    std::sort(
        txn->mutable_staged_offsets()->begin(),
        txn->mutable_staged_offsets()->end(),
        [](const auto& a, const auto& b) { return a.group() < b.group(); });
    for (metapb::CommitOffsets& g : *txn->mutable_staged_offsets()) {
      if (g.group() == group) staged = &g;
    }
  }
  for (const metapb::OffsetCommitEntry& entry : command.offsets().offsets()) {
    auto& all = *staged->mutable_offsets();
    auto same = std::find_if(all.begin(), all.end(), [&](const auto& e) {
      return e.topic() == entry.topic() && e.partition() == entry.partition();
    });
    if (same != all.end()) {
      *same = entry;
    } else {
      *staged->add_offsets() = entry;
    }
  }
  txn->set_last_update_ms(command.now_ms());
  return result;
}

TxnApply TransactionTable::End(const metapb::EndTxn& command) {
  TxnApply result;
  if (command.fence()) {
    // The coordinator's abort of a timed-out transaction: only the one meant.
    auto it = txns_.find(command.transactional_id());
    if (it == txns_.end() || it->second.status() != metapb::TXN_ONGOING ||
        it->second.txn_seq() != command.expected_txn_seq()) {
      return Refuse(error::kInvalidTxnState, "no longer the open transaction");
    }
    metapb::TransactionInfo& txn = it->second;
    if (txn.producer_epoch() < kMaxProducerEpoch) {
      txn.set_producer_epoch(txn.producer_epoch() + 1);
    }
    BeginEnd(txn, /*commit=*/false, command.now_ms(), &result);
    return result;
  }
  metapb::TransactionInfo* txn =
      Check(command.transactional_id(), command.producer_id(),
            command.producer_epoch(), &result);
  if (txn == nullptr) return result;
  const TxnStatus status = txn->status();
  if (status == metapb::TXN_ONGOING) {
    BeginEnd(*txn, command.commit(), command.now_ms(), &result);
    return result;
  }
  if (IsPrepare(status)) {
    // As Kafka's coordinator while its markers are written (a transition is
    // pending): whatever the outcome asked for, the client retries.
    return Refuse(error::kConcurrentTransactions,
                  "the transaction is being completed");
  }
  const bool same_outcome = command.commit()
                                ? status == metapb::TXN_COMPLETE_COMMIT
                                : status == metapb::TXN_COMPLETE_ABORT;
  if (same_outcome) return result;  // a retry
  return Refuse(error::kInvalidTxnState,
                absl::StrCat("cannot ", command.commit() ? "commit" : "abort",
                             " in state ", TxnStatusName(status)));
}

void TransactionTable::BeginEnd(metapb::TransactionInfo& txn, bool commit,
                                int64_t now_ms, TxnApply* result) {
  CHRONIK_CHECK_EQ(txn.status(), metapb::TXN_ONGOING);
  txn.set_status(commit ? metapb::TXN_PREPARE_COMMIT
                        : metapb::TXN_PREPARE_ABORT);
  txn.set_txn_seq(txn.txn_seq() + 1);
  *txn.mutable_pending_markers() = txn.partitions();
  if (commit) {
    for (const metapb::CommitOffsets& group : txn.staged_offsets()) {
      result->offsets_to_commit.push_back(group);
    }
  }
  txn.clear_staged_offsets();
  txn.set_last_update_ms(now_ms);
  MaybeComplete(txn, now_ms);
}

void TransactionTable::MaybeComplete(metapb::TransactionInfo& txn,
                                     int64_t now_ms) {
  if (!IsPrepare(txn.status()) || !txn.pending_markers().empty()) return;
  txn.set_status(txn.status() == metapb::TXN_PREPARE_COMMIT
                     ? metapb::TXN_COMPLETE_COMMIT
                     : metapb::TXN_COMPLETE_ABORT);
  txn.set_last_update_ms(now_ms);
}

TxnApply TransactionTable::MarkerWritten(
    const metapb::TxnMarkerWritten& command) {
  auto it = txns_.find(command.transactional_id());
  if (it == txns_.end() || !IsPrepare(it->second.status()) ||
      it->second.txn_seq() != command.txn_seq()) {
    return {};  // late or repeated: nothing waits for it
  }
  metapb::TransactionInfo& txn = it->second;
  auto& pending = *txn.mutable_pending_markers();
  for (int i = 0; i < pending.size(); ++i) {
    if (pending[i].group_id() == command.group_id()) {
      pending.DeleteSubrange(i, 1);
      break;
    }
  }
  MaybeComplete(txn, command.now_ms());
  return {};
}

void TransactionTable::DropGroups(const std::set<uint64_t>& group_ids) {
  for (auto& [id, txn] : txns_) {
    auto& pending = *txn.mutable_pending_markers();
    for (int i = pending.size() - 1; i >= 0; --i) {
      if (group_ids.count(pending[i].group_id()) > 0) {
        pending.DeleteSubrange(i, 1);
      }
    }
    MaybeComplete(txn, txn.last_update_ms());
  }
}

const metapb::TransactionInfo* TransactionTable::Find(
    absl::string_view id) const {
  auto it = txns_.find(id);
  return it == txns_.end() ? nullptr : &it->second;
}

std::vector<const metapb::TransactionInfo*> TransactionTable::All() const {
  std::vector<const metapb::TransactionInfo*> all;
  for (const auto& [id, txn] : txns_) all.push_back(&txn);
  return all;
}

bool TransactionTable::HasStagedOffset(absl::string_view group,
                                       absl::string_view topic,
                                       int32_t partition) const {
  for (const auto& [id, txn] : txns_) {
    for (const metapb::CommitOffsets& g : txn.staged_offsets()) {
      if (g.group() != group) continue;
      for (const metapb::OffsetCommitEntry& e : g.offsets()) {
        if (e.topic() == topic && e.partition() == partition) return true;
      }
    }
  }
  return false;
}

void TransactionTable::ToSnapshot(metapb::MetadataSnapshot* snapshot) const {
  for (const auto& [id, txn] : txns_) *snapshot->add_transactions() = txn;
}

absl::Status TransactionTable::FromSnapshot(
    const metapb::MetadataSnapshot& snapshot) {
  txns_.clear();
  for (const metapb::TransactionInfo& txn : snapshot.transactions()) {
    if (txn.transactional_id().empty() ||
        !txns_.emplace(txn.transactional_id(), txn).second) {
      return absl::DataLossError(
          absl::StrCat("metadata snapshot: bad or repeated transactional id '",
                       txn.transactional_id(), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace chronik::metadata
