// TxnState: the transactions of one partition, from its applied log (as the
// producer windows are): each producer's open transaction (the offset of its
// first transactional batch since its last marker), the transaction number
// (txn_seq, carried as the marker's coordinator epoch) of each producer's
// last applied marker, and the aborted transactions (producer, first offset,
// offset of the abort marker) in marker order.
//
// The last stable offset (LSO) is the first offset of the oldest open
// transaction, else the high watermark: read_committed consumers read below
// it. A marker applies only when its txn_seq is above the producer's last
// one (a repeated or late marker changes nothing; see docs/ARCHITECTURE.md,
// Transactions). Deterministic (sorted maps); bounded; thread-compatible.
#ifndef CHRONIK_BROKER_PARTITION_TXN_STATE_H_
#define CHRONIK_BROKER_PARTITION_TXN_STATE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace chronik::partition {

// Bound on the producers whose last marker is remembered (those without an
// open transaction, smallest id first, are forgotten beyond it).
inline constexpr size_t kMaxMarkerProducers = 100'000;

struct AbortedTxn {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;  // the abort marker's
};

struct MarkerInfo {
  int32_t txn_seq = 0;
  int64_t offset = -1;
};

class TxnState {
 public:
  // A transactional data batch of `producer_id` at `offset`.
  void OnData(int64_t producer_id, int64_t offset);
  // A marker (commit or abort) at `offset`; false when it was not newer
  // than the producer's last one (ignored).
  bool OnMarker(int64_t producer_id, bool commit, int32_t txn_seq,
                int64_t offset);

  // A marker log compaction removed (an empty control batch, see
  // partition/compaction.h): no record of the producer's transaction is
  // left, so it ends without an abort to remember, whatever it was.
  void OnMarkerRemoved(int64_t producer_id);

  // The producer's last applied marker's txn_seq (0: none known).
  int32_t LastMarkerSeq(int64_t producer_id) const;
  std::optional<int64_t> OpenFirstOffset(int64_t producer_id) const;
  int64_t StableOffset(int64_t high_watermark) const;
  // Aborted transactions that may cover offsets in [from, to): their abort
  // marker is at or after `from` and their first offset below `to`.
  std::vector<AbortedTxn> AbortedIn(int64_t from, int64_t to) const;
  // Forgets aborted transactions wholly below `log_start`.
  void TrimBelow(int64_t log_start);

  const std::map<int64_t, int64_t>& open() const { return open_; }

  // The state as of Kafka offset `next_offset` (everything applied before
  // it), appended to `out`, and its decoding: open transactions that started
  // before it (those aborted since included), aborted ones that ended before
  // it, and each producer's last marker before it (0 when its last marker
  // is at or after it: the log after the cut applies its markers again).
  void EncodeAsOf(int64_t next_offset, std::string* out) const;
  static absl::Status Decode(absl::string_view* in, TxnState* state);

 private:
  std::map<int64_t, int64_t> open_;  // producer id -> first offset
  std::map<int64_t, MarkerInfo> markers_;
  std::deque<AbortedTxn> aborted_;  // by last_offset
};

}  // namespace chronik::partition

#endif  // CHRONIK_BROKER_PARTITION_TXN_STATE_H_
