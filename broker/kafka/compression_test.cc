#include "broker/kafka/compression.h"

#include <string>

#include "gtest/gtest.h"

namespace chronik::kafka {
namespace {

constexpr Compression kCodecs[] = {Compression::kNone, Compression::kGzip,
                                   Compression::kSnappy, Compression::kLz4,
                                   Compression::kZstd};

std::string Sample(size_t bytes) {
  std::string s;
  s.reserve(bytes);
  for (size_t i = 0; s.size() < bytes; ++i) {
    s += "record-" + std::to_string(i % 97) + ";";
  }
  s.resize(bytes);
  return s;
}

TEST(CompressionTest, EveryCodecRoundTrips) {
  for (Compression codec : kCodecs) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{1000}, size_t{200000}}) {
      SCOPED_TRACE(testing::Message() << CompressionName(codec) << " " << size);
      const std::string input = Sample(size);
      absl::StatusOr<std::string> packed = Compress(codec, input);
      ASSERT_TRUE(packed.ok()) << packed.status();
      if (codec != Compression::kNone && size >= 1000) {
        EXPECT_LT(packed->size(), input.size());
      }
      absl::StatusOr<std::string> unpacked =
          Decompress(codec, *packed, input.size());
      ASSERT_TRUE(unpacked.ok()) << unpacked.status();
      EXPECT_EQ(*unpacked, input);
    }
  }
}

TEST(CompressionTest, OutputCapStopsBombs) {
  const std::string input(1 << 20, 'a');
  for (Compression codec : kCodecs) {
    SCOPED_TRACE(CompressionName(codec));
    absl::StatusOr<std::string> packed = Compress(codec, input);
    ASSERT_TRUE(packed.ok());
    absl::StatusOr<std::string> capped =
        Decompress(codec, *packed, input.size() - 1);
    EXPECT_EQ(capped.status().code(), absl::StatusCode::kResourceExhausted)
        << capped.status();
  }
}

TEST(CompressionTest, CorruptAndTruncatedInputFails) {
  const std::string input = Sample(5000);
  for (Compression codec : kCodecs) {
    if (codec == Compression::kNone) continue;
    SCOPED_TRACE(CompressionName(codec));
    absl::StatusOr<std::string> packed = Compress(codec, input);
    ASSERT_TRUE(packed.ok());
    const std::string truncated = packed->substr(0, packed->size() / 2);
    EXPECT_FALSE(Decompress(codec, truncated, 1 << 20).ok());
    EXPECT_FALSE(Decompress(codec, "definitely not compressed", 1 << 20).ok());
    // A few bit flips: must fail or produce something, never crash.
    for (size_t i = 0; i < packed->size(); i += 7) {
      std::string flipped = *packed;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
      (void)Decompress(codec, flipped, 1 << 20);
    }
  }
}

TEST(CompressionTest, SnappyAcceptsRawBlocksAsLibrdkafkaWrites) {
  // Raw snappy of "hello": varint length 5, literal tag (4 << 2), bytes.
  const std::string raw("\x05\x10hello", 7);
  absl::StatusOr<std::string> out = Decompress(Compression::kSnappy, raw, 100);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "hello");
  // Our own output uses the xerial framing that Java clients write.
  absl::StatusOr<std::string> framed = Compress(Compression::kSnappy, "hello");
  ASSERT_TRUE(framed.ok());
  EXPECT_EQ(framed->substr(0, 8), std::string("\x82SNAPPY\x00", 8));
}

}  // namespace
}  // namespace chronik::kafka
