// TransactionTable: the transaction coordinator's state (KIP-98), part of the
// metadata group's replicated state (MetadataState owns one).
//
// Per transactional id: the producer id and epoch, the state (Empty,
// Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort), the
// partitions and consumer groups in the transaction, the offsets staged by
// TxnOffsetCommit, the timeout and times, and txn_seq (transactions ended so
// far; the markers of the one being ended carry it). Every transition is an
// apply of a committed command and judges the request as Kafka's coordinator
// does, answering with Kafka's error code:
//
//   Init       (InitProducerId)   Empty/Complete* -> Empty, epoch + 1 (a new
//              producer id when the epoch would overflow); Ongoing -> abort
//              with the epoch bumped (fences the old producer) and
//              CONCURRENT_TRANSACTIONS; Prepare* -> CONCURRENT_TRANSACTIONS
//   Add        (AddPartitionsToTxn, AddOffsetsToTxn) Empty/Complete* ->
//              Ongoing; Ongoing adds; Prepare* -> CONCURRENT_TRANSACTIONS
//   Stage      (TxnOffsetCommit)  Ongoing with the group added
//   End        (EndTxn, a timeout's abort) Ongoing -> Prepare*, txn_seq + 1
//              (straight to Complete* without partitions); a commit's staged
//              offsets are handed back to be committed
//   Marker     a partition leader wrote the marker of txn_seq: when none is
//              left, Prepare* -> Complete*
//
// A wrong producer id is INVALID_PRODUCER_ID_MAPPING, an older epoch
// PRODUCER_FENCED (handlers map it to INVALID_PRODUCER_EPOCH for request
// versions older than KIP-588). Deterministic (sorted map); pure apply.
#ifndef CHRONIK_BROKER_METADATA_TRANSACTIONS_H_
#define CHRONIK_BROKER_METADATA_TRANSACTIONS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/metadata.pb.h"

namespace chronik::metadata {

// Kafka's transaction.max.timeout.ms default.
inline constexpr int32_t kMaxTransactionTimeoutMs = 900'000;
inline constexpr size_t kMaxTransactionalIds = 100'000;
inline constexpr int kMaxTxnPartitions = 10'000;
inline constexpr int kMaxTxnGroups = 1'000;
// An epoch at or above this gets a new producer id instead of a bump.
inline constexpr int32_t kMaxProducerEpoch = 32'766;

// Kafka's names of the states (DescribeTransactions, ListTransactions).
const char* TxnStatusName(metapb::TxnStatus status);
bool IsPrepare(metapb::TxnStatus status);

struct TxnApply {
  int16_t error_code = 0;
  std::string error_message;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  // End with commit: the staged offsets to commit now.
  std::vector<metapb::CommitOffsets> offsets_to_commit = {};
};

class TransactionTable {
 public:
  TxnApply Init(const metapb::InitTxnProducer& command,
                int64_t* next_producer_id);
  TxnApply Add(const metapb::AddTxnPartitions& command);
  TxnApply Stage(const metapb::StageTxnOffsets& command);
  TxnApply End(const metapb::EndTxn& command);
  TxnApply MarkerWritten(const metapb::TxnMarkerWritten& command);
  // Partition groups that are gone (a deleted topic): their markers can
  // never be written, so they are no longer waited for.
  void DropGroups(const std::set<uint64_t>& group_ids);

  const metapb::TransactionInfo* Find(absl::string_view id) const;
  // Sorted by transactional id.
  std::vector<const metapb::TransactionInfo*> All() const;
  // An Ongoing or PrepareCommit transaction has staged an offset of `group`
  // for the partition (OffsetFetch require_stable: UNSTABLE_OFFSET_COMMIT).
  bool HasStagedOffset(absl::string_view group, absl::string_view topic,
                       int32_t partition) const;

  void ToSnapshot(metapb::MetadataSnapshot* snapshot) const;
  absl::Status FromSnapshot(const metapb::MetadataSnapshot& snapshot);

 private:
  // The producer check of Add/Stage/End: the transaction, or the error.
  metapb::TransactionInfo* Check(absl::string_view id, int64_t producer_id,
                                 int32_t producer_epoch, TxnApply* result);
  // Ongoing -> PrepareCommit/PrepareAbort (or Complete* with no partition).
  void BeginEnd(metapb::TransactionInfo& txn, bool commit, int64_t now_ms,
                TxnApply* result);
  void MaybeComplete(metapb::TransactionInfo& txn, int64_t now_ms);

  std::map<std::string, metapb::TransactionInfo, std::less<>> txns_;
};

}  // namespace chronik::metadata

#endif  // CHRONIK_BROKER_METADATA_TRANSACTIONS_H_
