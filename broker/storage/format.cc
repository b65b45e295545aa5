#include "broker/storage/format.h"

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/check.h"
#include "base/crc32c.h"

namespace chronik::storage::format {

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string EncodeSegmentHeader(const SegmentHeader& header) {
  std::string out(kSegmentMagic, sizeof(kSegmentMagic));
  PutU32(&out, kFormatVersion);
  PutU32(&out, header.flags);
  PutU64(&out, header.first_index);
  PutU64(&out, header.prev_term);
  PutU64(&out, header.first_offset);
  PutU32(&out, crc32c::Value(out));
  PutU32(&out, 0);
  CHRONIK_CHECK_EQ(out.size(), kSegmentHeaderBytes);
  return out;
}

std::optional<SegmentHeader> DecodeSegmentHeader(absl::string_view bytes) {
  if (bytes.size() < kSegmentHeaderBytes) return std::nullopt;
  const char* p = bytes.data();
  if (std::memcmp(p, kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return std::nullopt;
  }
  if (GetU32(p + 8) != kFormatVersion) return std::nullopt;
  if (GetU32(p + 40) != crc32c::Value(p, 40)) return std::nullopt;
  return SegmentHeader{.flags = GetU32(p + 12),
                       .first_index = GetU64(p + 16),
                       .prev_term = GetU64(p + 24),
                       .first_offset = GetU64(p + 32)};
}

namespace {

void StoreU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

void StoreU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

}  // namespace

size_t BeginRecord(const RecordHeader& header, absl::string_view payload,
                   std::string* out, size_t payload_tail_bytes) {
  const size_t payload_bytes = payload.size() + payload_tail_bytes;
  CHRONIK_CHECK_LE(payload_bytes, kMaxPayloadBytes);
  // The header is built in place (this is the append hot path), then the
  // payload copied once.
  const size_t start = out->size();
  char head[kRecordHeaderBytes] = {};
  StoreU32(head + 4, static_cast<uint32_t>(payload_bytes));
  StoreU64(head + 8, header.index);
  StoreU64(head + 16, header.term);
  StoreU64(head + 24, header.offset_base);
  StoreU32(head + 32, header.offset_count);
  head[36] = static_cast<char>(header.type);
  CHRONIK_CHECK((header.flags & ~kRecordFlagBatchCrc) == 0);
  CHRONIK_CHECK(header.flags == 0 || payload.size() >= kBatchCrcCoveredFrom)
      << "a batch-CRC record needs a whole batch header";
  head[37] = static_cast<char>(header.flags);
  StoreU64(head + 40, static_cast<uint64_t>(header.max_timestamp_ms));
  out->append(head, kRecordHeaderBytes);
  out->append(payload.data(), payload.size());
  return start;
}

void SealRecord(size_t record_start, std::string* out,
                absl::string_view payload_tail) {
  CHRONIK_CHECK_LE(record_start + kRecordHeaderBytes, out->size());
  char* record = out->data() + record_start;
  const size_t in_out = out->size() - record_start;
  CHRONIK_CHECK_EQ(kRecordHeaderBytes + GetU32(record + 4),
                   in_out + payload_tail.size())
      << "the record to seal must be the last one";
  // The CRC covers header bytes 4..47 and the payload, or with the batch
  // CRC flag only the payload's bytes outside the batch's own CRC.
  const absl::string_view head(record + kRecordHeaderBytes,
                               in_out - kRecordHeaderBytes);
  if ((record[37] & kRecordFlagBatchCrc) != 0) {
    CHRONIK_CHECK_GE(head.size(), kBatchCrcCoveredFrom);
    CHRONIK_DCHECK(BatchCrcOk(head, payload_tail))
        << "a batch-CRC record's batch must carry a valid CRC";
    StoreU32(record, crc32c::Value(record + 4, kRecordHeaderBytes - 4 +
                                                   kBatchCrcCoveredFrom));
    return;
  }
  const uint32_t crc = crc32c::Value(record + 4, in_out - 4);
  StoreU32(record,
           crc32c::Extend(crc, payload_tail.data(), payload_tail.size()));
}

void AppendRecord(const RecordHeader& header, absl::string_view payload,
                  std::string* out) {
  SealRecord(BeginRecord(header, payload, out), out);
}

std::optional<RecordHeader> DecodeRecordHeader(absl::string_view bytes) {
  if (bytes.size() < kRecordHeaderBytes) return std::nullopt;
  const char* p = bytes.data();
  if ((p[37] & ~kRecordFlagBatchCrc) != 0 || p[38] != 0 || p[39] != 0) {
    return std::nullopt;
  }
  RecordHeader header;
  header.crc = GetU32(p);
  header.payload_bytes = GetU32(p + 4);
  if (header.payload_bytes > kMaxPayloadBytes) return std::nullopt;
  header.index = GetU64(p + 8);
  header.term = GetU64(p + 16);
  header.offset_base = GetU64(p + 24);
  header.offset_count = GetU32(p + 32);
  header.type = static_cast<uint8_t>(p[36]);
  header.flags = static_cast<uint8_t>(p[37]);
  header.max_timestamp_ms = static_cast<int64_t>(GetU64(p + 40));
  return header;
}

bool BatchCrcOk(absl::string_view batch, absl::string_view batch_tail) {
  if (batch.size() < kBatchCrcCoveredFrom) return false;
  const auto* at = reinterpret_cast<const uint8_t*>(batch.data() + kBatchCrcAt);
  const uint32_t stored = (uint32_t{at[0]} << 24) | (uint32_t{at[1]} << 16) |
                          (uint32_t{at[2]} << 8) | uint32_t{at[3]};
  const uint32_t crc = crc32c::Value(batch.substr(kBatchCrcCoveredFrom));
  return crc32c::Extend(crc, batch_tail.data(), batch_tail.size()) == stored;
}

bool RecordChecksumOk(absl::string_view header_bytes,
                      absl::string_view payload) {
  CHRONIK_DCHECK(header_bytes.size() >= kRecordHeaderBytes);
  const bool batch_crc = (header_bytes[37] & kRecordFlagBatchCrc) != 0;
  if (batch_crc && !BatchCrcOk(payload)) return false;
  uint32_t crc =
      crc32c::Extend(0, header_bytes.data() + 4, kRecordHeaderBytes - 4);
  crc = crc32c::Extend(crc, payload.data(),
                       batch_crc ? kBatchCrcCoveredFrom : payload.size());
  return crc == GetU32(header_bytes.data());
}

std::string GroupDir(uint64_t group_id) {
  return absl::StrCat("group-", group_id);
}

std::string SegmentName(uint64_t first_index) {
  return absl::StrFormat("log-%020u.seg", first_index);
}

std::string IndexName(uint64_t first_index) {
  return absl::StrFormat("log-%020u.idx", first_index);
}

std::string ActiveIndexName(uint64_t first_index) {
  return absl::StrFormat("log-%020u%s", first_index, kActiveIndexSuffix);
}

std::optional<uint64_t> ParseSegmentName(absl::string_view name) {
  constexpr absl::string_view kPrefix = "log-";
  constexpr absl::string_view kSuffix = ".seg";
  if (name.size() != kPrefix.size() + 20 + kSuffix.size()) return std::nullopt;
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  const absl::string_view digits = name.substr(kPrefix.size(), 20);
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(digits, &value)) return std::nullopt;
  return value;
}

}  // namespace chronik::storage::format
