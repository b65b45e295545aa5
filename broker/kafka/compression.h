// Compression codecs of Kafka record batches: gzip, snappy, lz4, zstd.
//
// Purpose: the broker stores batches exactly as producers send them and only
// decompresses when it must look inside (validation, tests, the simulator's
// consumers); the simulator's producers and tests compress when building.
//
// Formats (what Kafka's clients write, from the attribute bits 0-2 of a batch):
//   1 gzip:   RFC 1952 gzip stream (zlib).
//   2 snappy: the xerial framing Java clients write ("\x82SNAPPY\0", int32
//             version 1, int32 compatible version 1, then blocks of int32
//             compressed size + raw snappy block), or a single raw snappy
//             block (librdkafka writes raw). Decompress accepts both;
//             Compress writes the xerial framing.
//   3 lz4:    LZ4 frame format (magic 0x184D2204).
//   4 zstd:   zstd frame(s).
// Contract: Decompress never produces more than `max_output_bytes` (a
// compressed bomb gets an error, not an allocation) and reports corrupt input
// as an error naming the codec. Pure functions, thread-safe.
#ifndef CHRONIK_BROKER_KAFKA_COMPRESSION_H_
#define CHRONIK_BROKER_KAFKA_COMPRESSION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace chronik::kafka {

enum class Compression : int8_t {
  kNone = 0,
  kGzip = 1,
  kSnappy = 2,
  kLz4 = 3,
  kZstd = 4,
};

const char* CompressionName(Compression c);

absl::StatusOr<std::string> Compress(Compression codec,
                                     absl::string_view input);
absl::StatusOr<std::string> Decompress(Compression codec,
                                       absl::string_view input,
                                       size_t max_output_bytes);

}  // namespace chronik::kafka

#endif  // CHRONIK_BROKER_KAFKA_COMPRESSION_H_
