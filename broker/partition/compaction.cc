#include "broker/partition/compaction.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
#include "broker/kafka/batch_header.h"
#include "broker/kafka/record_batch.h"

namespace chronik::partition {
namespace {

// Fixes header fields the rebuild may have changed back to the original's
// (offsets, timestamps) and recomputes the CRC over the batch.
void Reseal(const kafka::BatchHeader& original, std::string* batch) {
  kafka::BatchHeader h = kafka::ReadBatchHeader(*batch);
  h.last_offset_delta = original.last_offset_delta;
  h.base_timestamp = original.base_timestamp;
  h.max_timestamp = original.max_timestamp;
  h.crc = 0;
  kafka::WriteBatchHeader(h, absl::MakeSpan(*batch));
  h.crc =
      crc32c::Value(absl::string_view(*batch).substr(kafka::kBatchCrcStart));
  kafka::WriteBatchHeader(h, absl::MakeSpan(*batch));
}

// The batch with no records: the original's header (offsets, producer,
// timestamps), uncompressed, record count 0.
std::string EmptyBatch(const kafka::BatchHeader& original) {
  kafka::BatchHeader h = original;
  h.attributes =
      static_cast<int16_t>(h.attributes & ~kafka::kAttributeCompressionMask);
  h.record_count = 0;
  h.batch_length = static_cast<int32_t>(kafka::kBatchHeaderBytes -
                                        kafka::kBatchLogOverheadBytes);
  std::string batch(kafka::kBatchHeaderBytes, '\0');
  kafka::WriteBatchHeader(h, absl::MakeSpan(batch));
  Reseal(original, &batch);
  return batch;
}

int64_t RecordTimestamp(const kafka::BatchHeader& h,
                        const kafka::Record& record) {
  return h.is_log_append_time() ? h.max_timestamp
                                : h.base_timestamp + record.timestamp_delta;
}

// Whether `record` (at `offset`) survives.
bool Survives(const kafka::BatchHeader& h, const kafka::Record& record,
              int64_t offset, const KeyMap& keys, const CleanRules& rules,
              CleanStats* stats) {
  if (!record.key.has_value()) return true;
  auto it = keys.find(*record.key);
  if (it != keys.end() && it->second > offset) return false;
  if (record.value.has_value()) return true;
  const int64_t timestamp = RecordTimestamp(h, record);
  if (rules.now_ms - timestamp > rules.delete_retention_ms) {
    ++stats->tombstones_dropped;
    return false;
  }
  stats->oldest_tombstone_ms = std::min(stats->oldest_tombstone_ms, timestamp);
  return true;
}

// A marker (control batch) stays while a record of its transaction does or
// for delete.retention.ms after it was written; then it becomes an empty
// control batch (removed). An empty one stays as it is.
std::optional<std::string> CleanMarker(const kafka::BatchHeader& h,
                                       const CleanRules& rules,
                                       CleanStats* stats) {
  auto it = stats->txn_kept_record.find(h.producer_id);
  const bool kept_record = it != stats->txn_kept_record.end() && it->second;
  if (it != stats->txn_kept_record.end()) stats->txn_kept_record.erase(it);
  if (h.record_count == 0 || kept_record) return std::nullopt;
  if (rules.now_ms - h.max_timestamp <= rules.delete_retention_ms) {
    stats->oldest_tombstone_ms =
        std::min(stats->oldest_tombstone_ms, h.max_timestamp);
    return std::nullopt;
  }
  ++stats->markers_removed;
  return EmptyBatch(h);
}

}  // namespace

bool InAbortedTxn(int64_t producer_id, int64_t offset,
                  absl::Span<const AbortedTxn> aborted) {
  for (const AbortedTxn& txn : aborted) {
    if (txn.producer_id == producer_id && txn.first_offset <= offset &&
        offset < txn.last_offset) {
      return true;
    }
  }
  return false;
}

absl::Status CollectKeys(absl::string_view batch,
                         absl::Span<const AbortedTxn> aborted, KeyMap* keys) {
  absl::StatusOr<kafka::RecordBatchView> view = kafka::ParseRecordBatch(batch);
  if (!view.ok()) return view.status();
  const kafka::BatchHeader& h = view->header;
  if (h.is_control()) return absl::OkStatus();
  if (h.is_transactional() &&
      InAbortedTxn(h.producer_id, h.base_offset, aborted)) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<kafka::Record>> records =
      kafka::DecodeRecords(*view);
  if (!records.ok()) return records.status();
  for (const kafka::Record& record : *records) {
    if (!record.key.has_value()) continue;
    (*keys)[*record.key] = h.base_offset + record.offset_delta;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> CleanBatch(
    absl::string_view batch, const KeyMap& keys,
    absl::Span<const AbortedTxn> aborted, const CleanRules& rules,
    CleanStats* stats) {
  absl::StatusOr<kafka::RecordBatchView> view = kafka::ParseRecordBatch(batch);
  if (!view.ok()) return view.status();
  const kafka::BatchHeader& h = view->header;
  if (h.is_control()) return CleanMarker(h, rules, stats);
  if (h.is_transactional()) stats->txn_kept_record.try_emplace(h.producer_id);
  if (h.record_count == 0) return std::nullopt;
  absl::StatusOr<std::vector<kafka::Record>> records =
      kafka::DecodeRecords(*view);
  if (!records.ok()) return records.status();
  const bool aborted_txn = h.is_transactional() &&
                           InAbortedTxn(h.producer_id, h.base_offset, aborted);
  std::vector<kafka::Record> kept;
  for (kafka::Record& record : *records) {
    if (!aborted_txn && Survives(h, record, h.base_offset + record.offset_delta,
                                 keys, rules, stats)) {
      kept.push_back(std::move(record));
    }
  }
  if (h.is_transactional() && !kept.empty()) {
    stats->txn_kept_record[h.producer_id] = true;
  }
  stats->records_kept += static_cast<int64_t>(kept.size());
  stats->records_removed += static_cast<int64_t>(records->size() - kept.size());
  if (kept.size() == records->size()) return std::nullopt;
  if (kept.empty()) return EmptyBatch(h);
  kafka::RecordBatchSpec spec;
  spec.base_offset = h.base_offset;
  spec.partition_leader_epoch = h.partition_leader_epoch;
  spec.compression = h.compression();
  spec.log_append_time = h.is_log_append_time();
  spec.transactional = h.is_transactional();
  spec.base_timestamp = h.base_timestamp;
  spec.producer_id = h.producer_id;
  spec.producer_epoch = h.producer_epoch;
  spec.base_sequence = h.base_sequence;
  absl::StatusOr<std::string> rebuilt = kafka::BuildRecordBatch(spec, kept);
  if (!rebuilt.ok()) return rebuilt.status();
  Reseal(h, &*rebuilt);
  return *std::move(rebuilt);
}

}  // namespace chronik::partition
