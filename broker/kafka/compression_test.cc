#include "broker/kafka/compression.h"

#include <zstd.h>

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

// Streaming zstd producers may leave the content size out of the frame header
// and may send several frames: the streaming path handles both.
TEST(CompressionTest, ZstdWithoutDeclaredSizeAndConcatenatedFrames) {
  const std::string input = Sample(300000);
  std::string frame(ZSTD_compressBound(input.size()), '\0');
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ASSERT_NE(ctx, nullptr);
  ASSERT_FALSE(
      ZSTD_isError(ZSTD_CCtx_setParameter(ctx, ZSTD_c_contentSizeFlag, 0)));
  ZSTD_outBuffer out{frame.data(), frame.size(), 0};
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  const size_t left = ZSTD_compressStream2(ctx, &out, &in, ZSTD_e_end);
  ZSTD_freeCCtx(ctx);
  ASSERT_EQ(left, 0u);
  frame.resize(out.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()),
            ZSTD_CONTENTSIZE_UNKNOWN);
  absl::StatusOr<std::string> one =
      Decompress(Compression::kZstd, frame, input.size());
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, input);
  absl::StatusOr<std::string> two =
      Decompress(Compression::kZstd, frame + frame, 2 * input.size());
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(*two, input + input);
  EXPECT_EQ(
      Decompress(Compression::kZstd, frame, input.size() - 1).status().code(),
      absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace chronik::kafka
