#include "base/crc32c.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace chronik::crc32c {
namespace {

// Published check values: RFC 3720 (iSCSI) appendix B.4 and the CRC catalogue.
struct Vector {
  std::string data;
  uint32_t crc;
};

std::vector<Vector> KnownVectors() {
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  return {
      {"123456789", 0xE3069283u},
      {std::string(32, '\0'), 0x8A9136AAu},
      {std::string(32, '\xff'), 0x62A8AB43u},
      {ascending, 0x46DD794Eu},
      {descending, 0x113FDB5Cu},
      {"", 0x00000000u},
  };
}

TEST(Crc32cTest, KnownVectorsPortable) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(ExtendPortable(0, v.data.data(), v.data.size()), v.crc)
        << "size " << v.data.size();
  }
}

TEST(Crc32cTest, KnownVectorsHardwareAndDispatch) {
  for (const Vector& v : KnownVectors()) {
    if (HardwareAvailable()) {
      EXPECT_EQ(ExtendHardware(0, v.data.data(), v.data.size()), v.crc);
    }
    EXPECT_EQ(Value(v.data), v.crc);
  }
}

TEST(Crc32cTest, ExtendEqualsWholeForEverySplitAndAlignment) {
  std::string data;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 300; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    data.push_back(static_cast<char>(x >> 56));
  }
  for (size_t offset = 0; offset < 9; ++offset) {
    const std::string part = data.substr(offset);
    const uint32_t whole = ExtendPortable(0, part.data(), part.size());
    EXPECT_EQ(Value(part), whole);
    for (size_t split = 0; split <= part.size(); split += 7) {
      const uint32_t first = Extend(0, part.data(), split);
      EXPECT_EQ(Extend(first, part.data() + split, part.size() - split), whole)
          << "offset " << offset << " split " << split;
    }
  }
}

// The hardware path runs three lanes of 4 KiB, then of 256 bytes, and joins
// them: every size around those steps, from any start value, must agree with
// the portable table.
TEST(Crc32cTest, HardwareLanesAgreeWithPortableAcrossLaneBoundaries) {
  if (!HardwareAvailable()) GTEST_SKIP() << "no SSE4.2";
  std::string data;
  uint64_t x = 0x243F6A8885A308D3ull;
  for (int i = 0; i < 3 * 4096 * 2 + 3 * 256 * 2 + 64; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    data.push_back(static_cast<char>(x >> 56));
  }
  const std::vector<size_t> edges = {
      0, 768, 3 * 4096, 3 * 4096 + 768, 2 * 3 * 4096, data.size()};
  for (size_t edge : edges) {
    for (size_t size = edge >= 9 ? edge - 9 : 0;
         size <= std::min(edge + 9, data.size()); ++size) {
      for (uint32_t start : {0u, 0xDEADBEEFu}) {
        EXPECT_EQ(ExtendHardware(start, data.data() + 1, size - (size > 0)),
                  ExtendPortable(start, data.data() + 1, size - (size > 0)))
            << "size " << size << " start " << start;
      }
    }
  }
}

// The folding path (AVX-512 VPCLMULQDQ) folds 256-byte steps and reduces
// the rest through the crc32 instruction: every length up to a few steps at
// every alignment of a vector, and random lengths, alignments and start
// values up to 64 KiB, must agree with the portable table.
TEST(Crc32cTest, FoldingAgreesWithPortableOnManyLengthsAndAlignments) {
  if (!FoldingAvailable()) GTEST_SKIP() << "no AVX-512 VPCLMULQDQ";
  std::string data;
  uint64_t x = 0x13198A2E03707344ull;
  for (int i = 0; i < (64 << 10) + 128; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    data.push_back(static_cast<char>(x >> 56));
  }
  for (size_t offset = 0; offset < 64; offset += 7) {
    for (size_t size = 0; size <= 1400; ++size) {
      ASSERT_EQ(ExtendFolding(0x5A5A5A5Au, data.data() + offset, size),
                ExtendPortable(0x5A5A5A5Au, data.data() + offset, size))
          << "offset " << offset << " size " << size;
    }
  }
  for (int i = 0; i < 3000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const size_t offset = (x >> 10) % 64;
    const size_t size = (x >> 20) % (i % 2 == 0 ? 4096 : (64 << 10));
    const auto start = static_cast<uint32_t>(x >> 32);
    ASSERT_EQ(ExtendFolding(start, data.data() + offset, size),
              ExtendPortable(start, data.data() + offset, size))
        << "offset " << offset << " size " << size << " start " << start;
  }
  const std::string zeros(4096, '\0');
  EXPECT_EQ(ExtendFolding(0, zeros.data(), zeros.size()),
            ExtendPortable(0, zeros.data(), zeros.size()));
}

TEST(Crc32cTest, DetectsSingleBitFlip) {
  std::string data(1024, 'k');
  const uint32_t before = Value(data);
  data[517] ^= 0x10;
  EXPECT_NE(Value(data), before);
}

}  // namespace
}  // namespace chronik::crc32c
