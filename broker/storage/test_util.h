// Helpers shared by the storage tests: entry and Kafka batch builders.
#ifndef CHRONIK_BROKER_STORAGE_TEST_UTIL_H_
#define CHRONIK_BROKER_STORAGE_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/crc32c.h"
#include "broker/kafka/batch_header.h"
#include "broker/storage/group_log.h"

namespace chronik::storage::testing {

// A payload determined by (index, term), so any copy can be checked against it.
inline std::string PayloadFor(uint64_t index, uint64_t term, size_t size = 0) {
  std::string data = absl::StrCat("entry-", index, "-term-", term, ":");
  for (size_t i = 0; data.size() < size; ++i) {
    data.push_back(static_cast<char>('a' + (index * 7 + term * 13 + i) % 26));
  }
  return data;
}

inline std::vector<Entry> MakeEntries(uint64_t first, uint64_t count,
                                      uint64_t term, size_t size = 0) {
  std::vector<Entry> entries;
  for (uint64_t i = first; i < first + count; ++i) {
    entries.push_back(
        Entry{.index = i,
              .term = term,
              .type = 0,
              .data = raft::Bytes::Own(PayloadFor(i, term, size))});
  }
  return entries;
}

// A Kafka v2 record batch of `records` records with `body_bytes` of opaque
// record bytes, base offset 0 and a correct batch CRC (over attributes to the
// end).
inline std::string MakeKafkaBatch(uint32_t records, int64_t max_timestamp_ms,
                                  size_t body_bytes = 32) {
  std::string batch(kafka::kBatchHeaderBytes + body_bytes, '\0');
  for (size_t i = kafka::kBatchHeaderBytes; i < batch.size(); ++i) {
    batch[i] = static_cast<char>(i);
  }
  kafka::BatchHeader header;
  header.batch_length =
      static_cast<int32_t>(batch.size() - kafka::kBatchLogOverheadBytes);
  header.last_offset_delta = static_cast<int32_t>(records - 1);
  header.base_timestamp = max_timestamp_ms;
  header.max_timestamp = max_timestamp_ms;
  header.record_count = static_cast<int32_t>(records);
  kafka::WriteBatchHeader(header, absl::MakeSpan(batch));
  header.crc =
      crc32c::Value(absl::string_view(batch).substr(kafka::kBatchCrcStart));
  kafka::WriteBatchHeader(header, absl::MakeSpan(batch));
  return batch;
}

// The base offset written into a stored batch.
inline uint64_t BatchBaseOffset(absl::string_view batch) {
  return static_cast<uint64_t>(kafka::ReadBatchHeader(batch).base_offset);
}

inline bool KafkaBatchCrcOk(absl::string_view batch) {
  return kafka::ReadBatchHeader(batch).crc ==
         crc32c::Value(batch.substr(kafka::kBatchCrcStart));
}

// The same for an entry's payload.
inline absl::string_view View(const raft::Bytes& bytes) {
  return absl::string_view(bytes.data(), bytes.size());
}
inline uint64_t BatchBaseOffset(const raft::Bytes& batch) {
  return BatchBaseOffset(View(batch));
}
inline bool KafkaBatchCrcOk(const raft::Bytes& batch) {
  return KafkaBatchCrcOk(View(batch));
}

}  // namespace chronik::storage::testing

#endif  // CHRONIK_BROKER_STORAGE_TEST_UTIL_H_
