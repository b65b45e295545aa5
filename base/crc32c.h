// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), the
// checksum of Kafka record batches v2 and of chronik's log records.
//
// Uses, by what the CPU has (looked up once): folding by carry-less
// multiplication of 512-bit vectors (AVX-512 VPCLMULQDQ) for inputs of 512
// bytes and more; else the SSE4.2 `crc32` instruction, in three independent
// lanes joined by a table-driven shift for inputs of 768 bytes and more; else
// a portable slicing-by-8 table. All give identical results (tested). Pure
// functions, thread-safe.
#ifndef CHRONIK_BASE_CRC32C_H_
#define CHRONIK_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace chronik::crc32c {

// Continues a CRC-32C computed over earlier bytes (`crc` = value so far, 0 to
// start) with `size` more bytes.
uint32_t Extend(uint32_t crc, const void* data, size_t size);

inline uint32_t Value(const void* data, size_t size) {
  return Extend(0, data, size);
}
inline uint32_t Value(absl::string_view data) {
  return Extend(0, data.data(), data.size());
}

// The implementations, exposed so tests and benchmarks can compare them.
// ExtendHardware needs HardwareAvailable(), ExtendFolding FoldingAvailable().
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t size);
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t size);
bool HardwareAvailable();
uint32_t ExtendFolding(uint32_t crc, const void* data, size_t size);
bool FoldingAvailable();

}  // namespace chronik::crc32c

#endif  // CHRONIK_BASE_CRC32C_H_
