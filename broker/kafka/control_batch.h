// Transaction markers (KIP-98): control batches a partition's log holds where
// a transaction ended. A marker is a v2 batch with the control and
// transactional attributes (bits 5 and 4), the producer's id and epoch, no
// sequence (-1), and one record: key = int16 version (0), int16 type (0
// abort, 1 commit); value = int16 version (0), int32 coordinator epoch.
// Clients recognise control batches by the attribute and skip them. chronik
// puts the transaction's number (txn_seq, see docs/ARCHITECTURE.md,
// Transactions) in the coordinator epoch.
#ifndef CHRONIK_BROKER_KAFKA_CONTROL_BATCH_H_
#define CHRONIK_BROKER_KAFKA_CONTROL_BATCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace chronik::kafka {

inline constexpr int16_t kControlTypeAbort = 0;
inline constexpr int16_t kControlTypeCommit = 1;

struct TxnMarker {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  bool commit = false;
  int32_t coordinator_epoch = 0;
  int64_t timestamp_ms = 0;
};

// The marker batch (base offset 0; the log assigns the offset).
std::string BuildTxnMarker(const TxnMarker& marker);
// Reads the marker of a validated control batch; InvalidArgument when its
// record is not a transaction marker.
absl::StatusOr<TxnMarker> ReadTxnMarker(absl::string_view batch);

}  // namespace chronik::kafka

#endif  // CHRONIK_BROKER_KAFKA_CONTROL_BATCH_H_
