// Helpers shared by the storage tests: entry and Kafka batch builders.
#ifndef CHRONIK_BROKER_STORAGE_TEST_UTIL_H_
#define CHRONIK_BROKER_STORAGE_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/crc32c.h"
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
    entries.push_back(Entry{.index = i,
                            .term = term,
                            .type = 0,
                            .data = PayloadFor(i, term, size)});
  }
  return entries;
}

inline void PutBigEndian(std::string& out, size_t pos, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) {
    out[pos + i] = static_cast<char>(v >> (8 * (width - 1 - i)));
  }
}

inline uint64_t GetBigEndian(const std::string& in, size_t pos, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i)
    v = (v << 8) | static_cast<uint8_t>(in[pos + i]);
  return v;
}

// A Kafka v2 record batch of `records` records with `body_bytes` of opaque
// record bytes, base offset 0 and a correct batch CRC (over attributes to the
// end).
inline std::string MakeKafkaBatch(uint32_t records, int64_t max_timestamp_ms,
                                  size_t body_bytes = 32) {
  std::string batch(61 + body_bytes, '\0');
  PutBigEndian(batch, 8, batch.size() - 12, 4);
  batch[16] = 2;
  PutBigEndian(batch, 23, records - 1, 4);
  PutBigEndian(batch, 27, static_cast<uint64_t>(max_timestamp_ms), 8);
  PutBigEndian(batch, 35, static_cast<uint64_t>(max_timestamp_ms), 8);
  PutBigEndian(batch, 57, records, 4);
  for (size_t i = 61; i < batch.size(); ++i) batch[i] = static_cast<char>(i);
  PutBigEndian(batch, 17, crc32c::Value(batch.data() + 21, batch.size() - 21),
               4);
  return batch;
}

inline bool KafkaBatchCrcOk(const std::string& batch) {
  return GetBigEndian(batch, 17, 4) ==
         crc32c::Value(batch.data() + 21, batch.size() - 21);
}

}  // namespace chronik::storage::testing

#endif  // CHRONIK_BROKER_STORAGE_TEST_UTIL_H_
