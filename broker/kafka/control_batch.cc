#include "broker/kafka/control_batch.h"

#include <vector>

#include "base/check.h"
#include "broker/kafka/record_batch.h"
#include "broker/kafka/wire.h"

namespace chronik::kafka {

std::string BuildTxnMarker(const TxnMarker& marker) {
  RecordBatchSpec spec;
  spec.transactional = true;
  spec.control = true;
  spec.producer_id = marker.producer_id;
  spec.producer_epoch = marker.producer_epoch;
  spec.base_sequence = -1;
  spec.base_timestamp = marker.timestamp_ms;
  Writer key;
  key.WriteInt16(0);
  key.WriteInt16(marker.commit ? kControlTypeCommit : kControlTypeAbort);
  Writer value;
  value.WriteInt16(0);
  value.WriteInt32(marker.coordinator_epoch);
  Record record;
  record.key = key.Release();
  record.value = value.Release();
  absl::StatusOr<std::string> batch =
      BuildRecordBatch(spec, std::vector<Record>{record});
  CHRONIK_CHECK(batch.ok()) << batch.status();
  return *std::move(batch);
}

absl::StatusOr<TxnMarker> ReadTxnMarker(absl::string_view bytes) {
  absl::StatusOr<RecordBatchView> batch = ParseRecordBatch(bytes);
  if (!batch.ok()) return batch.status();
  if (!batch->header.is_control()) {
    return absl::InvalidArgumentError("not a control batch");
  }
  absl::StatusOr<std::vector<Record>> records = DecodeRecords(*batch);
  if (!records.ok()) return records.status();
  if (records->size() != 1 || !(*records)[0].key.has_value() ||
      !(*records)[0].value.has_value()) {
    return absl::InvalidArgumentError("a marker has one record");
  }
  Reader key(*(*records)[0].key);
  key.ReadInt16();  // version
  const int16_t type = key.ReadInt16();
  Reader value(*(*records)[0].value);
  value.ReadInt16();  // version
  const int32_t coordinator_epoch = value.ReadInt32();
  if (!key.ok() || !value.ok() ||
      (type != kControlTypeAbort && type != kControlTypeCommit)) {
    return absl::InvalidArgumentError("not a transaction marker");
  }
  TxnMarker marker;
  marker.producer_id = batch->header.producer_id;
  marker.producer_epoch = batch->header.producer_epoch;
  marker.commit = type == kControlTypeCommit;
  marker.coordinator_epoch = coordinator_epoch;
  marker.timestamp_ms = batch->header.base_timestamp;
  return marker;
}

}  // namespace chronik::kafka
