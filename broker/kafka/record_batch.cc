#include "broker/kafka/record_batch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/crc32c.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/wire.h"

namespace chronik::kafka {
namespace {

// Smallest possible encoded record: length, attributes, timestamp delta,
// offset delta, key length, value length, header count (one byte each).
constexpr size_t kMinRecordBytes = 7;

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("record batch: ", what));
}

// Reads one record from `r` (positioned at its length varint).
absl::Status ReadRecord(Reader& r, Record* record) {
  r.Field("record length");
  const int32_t length = r.ReadVarint();
  if (!r.ok()) return Invalid(r.status().message());
  if (length < 0 || static_cast<size_t>(length) > r.remaining()) {
    return Invalid(absl::StrCat("record length ", length, " with ",
                                r.remaining(), " bytes left"));
  }
  Reader body(r.ReadRaw(static_cast<size_t>(length)));
  body.Field("record attributes");
  record->attributes = body.ReadInt8();
  body.Field("record timestamp delta");
  record->timestamp_delta = body.ReadVarlong();
  body.Field("record offset delta");
  record->offset_delta = body.ReadVarint();
  auto read_optional =
      [&body](const char* field) -> std::optional<std::string> {
    body.Field(field);
    const int32_t n = body.ReadVarint();
    if (n == -1) return std::nullopt;
    if (n < -1 || static_cast<size_t>(n) > body.remaining()) {
      body.Fail(absl::StrCat("length ", n, " out of range"));
      return std::nullopt;
    }
    return std::string(body.ReadRaw(static_cast<size_t>(n)));
  };
  record->key = read_optional("record key");
  record->value = read_optional("record value");
  body.Field("record header count");
  const int32_t header_count = body.ReadVarint();
  if (body.ok() && (header_count < 0 ||
                    static_cast<size_t>(header_count) > body.remaining())) {
    body.Fail(absl::StrCat("header count ", header_count, " out of range"));
  }
  record->headers.clear();
  for (int32_t i = 0; i < header_count && body.ok(); ++i) {
    RecordHeader header;
    std::optional<std::string> key = read_optional("header key");
    if (body.ok() && !key.has_value()) body.Fail("null header key");
    header.key = key.value_or("");
    header.value = read_optional("header value");
    record->headers.push_back(std::move(header));
  }
  if (!body.ok()) return Invalid(body.status().message());
  if (!body.at_end()) {
    return Invalid(
        absl::StrCat(body.remaining(), " bytes left over inside a record"));
  }
  return absl::OkStatus();
}

void WriteOptionalVarBytes(Writer& w, const std::optional<std::string>& v) {
  if (!v.has_value()) {
    w.WriteVarint(-1);
    return;
  }
  w.WriteVarint(static_cast<int32_t>(v->size()));
  w.WriteRaw(*v);
}

void WriteRecord(Writer& out, const Record& record) {
  Writer body;
  body.WriteInt8(record.attributes);
  body.WriteVarlong(record.timestamp_delta);
  body.WriteVarint(record.offset_delta);
  WriteOptionalVarBytes(body, record.key);
  WriteOptionalVarBytes(body, record.value);
  body.WriteVarint(static_cast<int32_t>(record.headers.size()));
  for (const RecordHeader& header : record.headers) {
    body.WriteVarint(static_cast<int32_t>(header.key.size()));
    body.WriteRaw(header.key);
    WriteOptionalVarBytes(body, header.value);
  }
  out.WriteVarint(static_cast<int32_t>(body.size()));
  out.WriteRaw(body.buffer());
}

}  // namespace

absl::StatusOr<RecordBatchView> ParseRecordBatch(absl::string_view data) {
  if (data.size() < kBatchLogOverheadBytes + 5) {
    return Invalid(absl::StrCat("truncated: ", data.size(),
                                " bytes, a batch header needs ",
                                kBatchHeaderBytes));
  }
  const int32_t batch_length = static_cast<int32_t>(
      LoadBigEndian32(data.data() + batch_field::kBatchLength.pos));
  const int8_t magic = static_cast<int8_t>(data[batch_field::kMagic.pos]);
  if (magic == 0 || magic == 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("record batch: message format v", magic, " (magic ", magic,
                     ") is not supported; use magic 2"));
  }
  if (magic != kMagicV2) {
    return Invalid(absl::StrCat("unknown magic ", magic));
  }
  if (batch_length <
      static_cast<int32_t>(kBatchHeaderBytes - kBatchLogOverheadBytes)) {
    return Invalid(absl::StrCat("batch length ", batch_length,
                                " is shorter than the header"));
  }
  const size_t total =
      kBatchLogOverheadBytes + static_cast<size_t>(batch_length);
  if (total > data.size()) {
    return Invalid(
        absl::StrCat("truncated: batch length ", batch_length, " but only ",
                     data.size() - kBatchLogOverheadBytes, " bytes follow"));
  }
  RecordBatchView view;
  view.bytes = data.substr(0, total);
  view.header = ReadBatchHeader(view.bytes);
  const BatchHeader& h = view.header;
  const uint32_t crc = crc32c::Value(view.bytes.substr(kBatchCrcStart));
  if (crc != h.crc) {
    return absl::DataLossError(
        absl::StrCat("record batch: CRC-32C mismatch (stored ", h.crc,
                     ", computed ", crc, ")"));
  }
  if (static_cast<int>(h.compression()) > 4) {
    return absl::UnimplementedError(
        absl::StrCat("record batch: unknown compression codec ",
                     static_cast<int>(h.compression())));
  }
  view.records = view.bytes.substr(kBatchHeaderBytes);
  if (h.record_count < 0) {
    return Invalid(absl::StrCat("negative record count ", h.record_count));
  }
  if (h.compression() == Compression::kNone &&
      static_cast<size_t>(h.record_count) >
          view.records.size() / kMinRecordBytes) {
    return Invalid(absl::StrCat("record count ", h.record_count,
                                " cannot fit in ", view.records.size(),
                                " bytes"));
  }
  if (h.last_offset_delta < 0 ||
      (h.record_count > 0 && h.last_offset_delta < h.record_count - 1)) {
    return Invalid(absl::StrCat("last offset delta ", h.last_offset_delta,
                                " for ", h.record_count, " records"));
  }
  return view;
}

absl::StatusOr<std::vector<RecordBatchView>> ParseRecordBatches(
    absl::string_view data, bool allow_partial_tail) {
  std::vector<RecordBatchView> batches;
  while (!data.empty()) {
    if (allow_partial_tail) {
      if (data.size() < kBatchLogOverheadBytes) break;
      const int32_t length = static_cast<int32_t>(
          LoadBigEndian32(data.data() + batch_field::kBatchLength.pos));
      if (length >= 0 &&
          kBatchLogOverheadBytes + static_cast<size_t>(length) > data.size()) {
        break;
      }
    }
    absl::StatusOr<RecordBatchView> batch = ParseRecordBatch(data);
    if (!batch.ok()) {
      return absl::Status(batch.status().code(),
                          absl::StrCat("batch ", batches.size(), ": ",
                                       batch.status().message()));
    }
    data.remove_prefix(batch->bytes.size());
    batches.push_back(*batch);
  }
  return batches;
}

absl::StatusOr<std::vector<Record>> DecodeRecords(
    const RecordBatchView& batch, size_t max_decompressed_bytes) {
  const BatchHeader& h = batch.header;
  std::string decompressed;
  absl::string_view records = batch.records;
  if (h.compression() != Compression::kNone) {
    absl::StatusOr<std::string> plain =
        Decompress(h.compression(), batch.records, max_decompressed_bytes);
    if (!plain.ok()) {
      return absl::Status(
          plain.status().code(),
          absl::StrCat("record batch: ", plain.status().message()));
    }
    decompressed = *std::move(plain);
    records = decompressed;
    if (static_cast<size_t>(h.record_count) >
        records.size() / kMinRecordBytes) {
      return Invalid(absl::StrCat("record count ", h.record_count,
                                  " cannot fit in ", records.size(),
                                  " decompressed bytes"));
    }
  }
  std::vector<Record> out;
  out.reserve(static_cast<size_t>(h.record_count));
  Reader r(records);
  for (int32_t i = 0; i < h.record_count; ++i) {
    Record record;
    absl::Status status = ReadRecord(r, &record);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat("record ", i, ": ", status.message()));
    }
    if (record.offset_delta < 0 || record.offset_delta > h.last_offset_delta) {
      return Invalid(absl::StrCat("record ", i, ": offset delta ",
                                  record.offset_delta, " outside 0..",
                                  h.last_offset_delta));
    }
    out.push_back(std::move(record));
  }
  if (!r.at_end()) {
    return Invalid(absl::StrCat(r.remaining(), " bytes after the last of ",
                                h.record_count, " records"));
  }
  return out;
}

absl::StatusOr<std::string> BuildRecordBatch(const RecordBatchSpec& spec,
                                             absl::Span<const Record> records) {
  if (records.empty()) return Invalid("a batch needs at least one record");
  Writer body;
  int64_t max_delta = 0;
  int32_t last_offset_delta = 0;
  for (const Record& record : records) {
    WriteRecord(body, record);
    max_delta = std::max(max_delta, record.timestamp_delta);
    last_offset_delta = std::max(last_offset_delta, record.offset_delta);
  }
  absl::StatusOr<std::string> payload =
      Compress(spec.compression, body.buffer());
  if (!payload.ok()) return payload.status();
  int16_t attributes = static_cast<int16_t>(spec.compression);
  if (spec.log_append_time) attributes |= kAttributeLogAppendTime;
  if (spec.transactional) attributes |= kAttributeTransactional;
  if (spec.control) attributes |= kAttributeControl;

  BatchHeader h;
  h.base_offset = spec.base_offset;
  h.partition_leader_epoch = spec.partition_leader_epoch;
  h.attributes = attributes;
  h.last_offset_delta = last_offset_delta;
  h.base_timestamp = spec.base_timestamp;
  h.max_timestamp = spec.base_timestamp + max_delta;
  h.producer_id = spec.producer_id;
  h.producer_epoch = spec.producer_epoch;
  h.base_sequence = spec.base_sequence;
  h.record_count = static_cast<int32_t>(records.size());
  const size_t batch_length =
      kBatchHeaderBytes + payload->size() - kBatchLogOverheadBytes;
  if (batch_length > 0x7fffffffu) return Invalid("batch larger than 2 GiB");
  h.batch_length = static_cast<int32_t>(batch_length);
  std::string batch(kBatchHeaderBytes, '\0');
  batch.append(*payload);
  WriteBatchHeader(h, absl::MakeSpan(batch));  // crc 0 for now
  h.crc = crc32c::Value(absl::string_view(batch).substr(kBatchCrcStart));
  WriteBatchHeader(h, absl::MakeSpan(batch));
  return batch;
}

int16_t ProduceErrorCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return error::kNone;
    case absl::StatusCode::kFailedPrecondition:
      return error::kUnsupportedForMessageFormat;
    case absl::StatusCode::kDataLoss:
      return error::kCorruptMessage;
    case absl::StatusCode::kUnimplemented:
      return error::kUnsupportedCompressionType;
    default:
      return error::kInvalidRecord;
  }
}

}  // namespace chronik::kafka
