#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace chronik::crc32c {
namespace {

constexpr uint32_t kReflectedPolynomial = 0x82F63B78u;
constexpr int kSliceCount = 8;

using Tables = std::array<std::array<uint32_t, 256>, kSliceCount>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of
// byte b followed by k zero bytes, which lets the loop consume 8 bytes per
// step.
constexpr Tables MakeTables() {
  Tables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1) ? kReflectedPolynomial : 0);
    }
    tables[0][byte] = crc;
  }
  for (int slice = 1; slice < kSliceCount; ++slice) {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      const uint32_t previous = tables[slice - 1][byte];
      tables[slice][byte] = (previous >> 8) ^ tables[0][previous & 0xFF];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();

uint64_t LoadLittleEndian64(const uint8_t* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;  // x86_64 and aarch64 targets here are little-endian.
}

}  // namespace

uint32_t ExtendPortable(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t state = ~crc;
  while (size >= 8) {
    const uint64_t word = LoadLittleEndian64(p) ^ state;
    state = kTables[7][word & 0xFF] ^ kTables[6][(word >> 8) & 0xFF] ^
            kTables[5][(word >> 16) & 0xFF] ^ kTables[4][(word >> 24) & 0xFF] ^
            kTables[3][(word >> 32) & 0xFF] ^ kTables[2][(word >> 40) & 0xFF] ^
            kTables[1][(word >> 48) & 0xFF] ^ kTables[0][word >> 56];
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    state = (state >> 8) ^ kTables[0][(state ^ *p) & 0xFF];
    ++p;
    --size;
  }
  return ~state;
}

// The shift operator of a lane: the raw (not inverted) CRC register after
// `lane_bytes` zero bytes, as four 256-entry tables (one per byte of the
// register). The register is linear over GF(2), so
//   raw(r, A B) = Shift_|B|(raw(r, A)) ^ raw(0, B),
// which lets three independent lanes run at once and be joined afterwards.
struct LaneShift {
  size_t lane_bytes = 0;
  std::array<std::array<uint32_t, 256>, 4> tables{};
};

LaneShift MakeLaneShift(size_t lane_bytes) {
  LaneShift shift;
  shift.lane_bytes = lane_bytes;
  std::array<uint32_t, 32> column{};  // the operator applied to bit i
  for (int bit = 0; bit < 32; ++bit) {
    uint32_t r = uint32_t{1} << bit;
    for (size_t i = 0; i < lane_bytes; ++i) r = (r >> 8) ^ kTables[0][r & 0xFF];
    column[bit] = r;
  }
  for (int byte = 0; byte < 4; ++byte) {
    for (uint32_t value = 0; value < 256; ++value) {
      uint32_t r = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if ((value >> bit) & 1) r ^= column[8 * byte + bit];
      }
      shift.tables[byte][value] = r;
    }
  }
  return shift;
}

uint32_t Apply(const LaneShift& shift, uint32_t r) {
  return shift.tables[0][r & 0xFF] ^ shift.tables[1][(r >> 8) & 0xFF] ^
         shift.tables[2][(r >> 16) & 0xFF] ^ shift.tables[3][r >> 24];
}

// Lane sizes (multiples of 8): long inputs in 3 x 4 KiB steps, the rest of
// at least 3 x 256 bytes in 3 x 256-byte steps.
const LaneShift& LongLanes() {
  static const LaneShift* shift = new LaneShift(MakeLaneShift(4096));
  return *shift;
}
const LaneShift& ShortLanes() {
  static const LaneShift* shift = new LaneShift(MakeLaneShift(256));
  return *shift;
}

#if defined(__x86_64__)
bool HardwareAvailable() { return __builtin_cpu_supports("sse4.2"); }

// One crc32 instruction has a latency of 3 cycles but a throughput of one per
// cycle: three independent lanes keep it busy (about 3x one chain).
__attribute__((target("sse4.2"))) uint64_t ThreeLanes(const LaneShift& shift,
                                                      uint64_t state,
                                                      const uint8_t** p,
                                                      size_t* size) {
  const size_t lane = shift.lane_bytes;
  while (*size >= 3 * lane) {
    const uint8_t* a = *p;
    uint64_t ra = state, rb = 0, rc = 0;
    for (size_t i = 0; i < lane; i += 8) {
      ra = _mm_crc32_u64(ra, LoadLittleEndian64(a + i));
      rb = _mm_crc32_u64(rb, LoadLittleEndian64(a + lane + i));
      rc = _mm_crc32_u64(rc, LoadLittleEndian64(a + 2 * lane + i));
    }
    const uint32_t ab =
        Apply(shift, static_cast<uint32_t>(ra)) ^ static_cast<uint32_t>(rb);
    state = Apply(shift, ab) ^ static_cast<uint32_t>(rc);
    *p += 3 * lane;
    *size -= 3 * lane;
  }
  return state;
}

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc,
                                                          const void* data,
                                                          size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t state = ~crc;
  state = ThreeLanes(LongLanes(), state, &p, &size);
  state = ThreeLanes(ShortLanes(), state, &p, &size);
  while (size >= 8) {
    state = _mm_crc32_u64(state, LoadLittleEndian64(p));
    p += 8;
    size -= 8;
  }
  auto state32 = static_cast<uint32_t>(state);
  while (size > 0) {
    state32 = _mm_crc32_u8(state32, *p);
    ++p;
    --size;
  }
  return ~state32;
}

// ---- Folding with carry-less multiplication (Intel's method, "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction"), four
// 512-bit accumulators, each holding four 16-byte blocks.
//
// In the reflected domain a 16-byte block X followed by d more bytes adds
// X(x) * x^(8d) to the message polynomial. With X = A x^64 + B (A its first 8
// bytes), that is congruent mod P to A (x^(8d+64) mod P) + B (x^(8d) mod P),
// a value under 96 bits: it is folded into the block d bytes on by xor. A
// carry-less product of 64-bit reflected values comes out multiplied by x and
// a 32-bit reflected constant by x^32, hence the exponents' -33. The last 16
// bytes are reduced by the crc32 instruction itself.

// x^n mod P in the register's reflected form (bit j <-> x^(31 - j)).
constexpr uint32_t XPowModP(uint64_t n) {
  uint32_t r = 0x80000000u;
  for (uint64_t i = 0; i < n; ++i)
    r = (r >> 1) ^ ((r & 1) ? kReflectedPolynomial : 0);
  return r;
}

struct FoldConstants {
  uint64_t first_half = 0;   // multiplies a block's first 8 bytes
  uint64_t second_half = 0;  // and its last 8
};
constexpr FoldConstants FoldBy(uint64_t distance_bytes) {
  return {XPowModP(8 * distance_bytes + 64 - 33),
          XPowModP(8 * distance_bytes - 33)};
}
constexpr FoldConstants kFold256 = FoldBy(256);
constexpr FoldConstants kFold64 = FoldBy(64);
constexpr FoldConstants kFold16 = FoldBy(16);
// Below this the folding's set-up and reduction cost more than they save.
constexpr size_t kFoldingMinBytes = 512;

#define CHRONIK_FOLDING_TARGET \
  __attribute__((target("sse4.2,pclmul,avx512f,avx512vl,vpclmulqdq")))

CHRONIK_FOLDING_TARGET __m512i Fold512(__m512i x, __m512i k, __m512i next) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
                                   _mm512_clmulepi64_epi128(x, k, 0x11), next,
                                   0x96);  // a ^ b ^ c
}
CHRONIK_FOLDING_TARGET __m128i Fold128(__m128i x, __m128i k, __m128i next) {
  return _mm_ternarylogic_epi64(_mm_clmulepi64_si128(x, k, 0x00),
                                _mm_clmulepi64_si128(x, k, 0x11), next, 0x96);
}
CHRONIK_FOLDING_TARGET __m512i Broadcast(const FoldConstants& k) {
  // (_mm512_broadcast_i32x4 and _mm512_extracti32x4_epi32 trip gcc 12's
  // -Wuninitialized through their undefined pass-through operand.)
  const auto hi = static_cast<int64_t>(k.second_half);
  const auto lo = static_cast<int64_t>(k.first_half);
  return _mm512_set_epi64(hi, lo, hi, lo, hi, lo, hi, lo);
}
// 16-byte block i (0..3) of x.
#define CHRONIK_BLOCK(x, i) _mm512_maskz_extracti32x4_epi32(0xF, (x), (i))

// Folds all but the last size % 256 bytes (size >= 512) to a raw register.
CHRONIK_FOLDING_TARGET uint32_t FoldBlocks(uint32_t state, const uint8_t** p,
                                           size_t* size) {
  const uint8_t* in = *p;
  __m512i x0 = _mm512_loadu_si512(in);
  __m512i x1 = _mm512_loadu_si512(in + 64);
  __m512i x2 = _mm512_loadu_si512(in + 128);
  __m512i x3 = _mm512_loadu_si512(in + 192);
  x0 = _mm512_xor_si512(
      x0, _mm512_castsi128_si512(_mm_cvtsi32_si128(static_cast<int>(state))));
  in += 256;
  size_t left = *size - 256;
  const __m512i k256 = Broadcast(kFold256);
  while (left >= 256) {
    x0 = Fold512(x0, k256, _mm512_loadu_si512(in));
    x1 = Fold512(x1, k256, _mm512_loadu_si512(in + 64));
    x2 = Fold512(x2, k256, _mm512_loadu_si512(in + 128));
    x3 = Fold512(x3, k256, _mm512_loadu_si512(in + 192));
    in += 256;
    left -= 256;
  }
  const __m512i k64 = Broadcast(kFold64);
  x1 = Fold512(x0, k64, x1);
  x2 = Fold512(x1, k64, x2);
  x3 = Fold512(x2, k64, x3);
  const __m128i k16 = _mm_set_epi64x(static_cast<int64_t>(kFold16.second_half),
                                     static_cast<int64_t>(kFold16.first_half));
  __m128i x = CHRONIK_BLOCK(x3, 0);
  x = Fold128(x, k16, CHRONIK_BLOCK(x3, 1));
  x = Fold128(x, k16, CHRONIK_BLOCK(x3, 2));
  x = Fold128(x, k16, CHRONIK_BLOCK(x3, 3));
  uint64_t r = _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(x)));
  r = _mm_crc32_u64(r, static_cast<uint64_t>(_mm_extract_epi64(x, 1)));
  *p = in;
  *size = left;
  return static_cast<uint32_t>(r);
}

bool FoldingAvailable() {
  return __builtin_cpu_supports("sse4.2") &&
         __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("vpclmulqdq");
}

CHRONIK_FOLDING_TARGET uint32_t ExtendFolding(uint32_t crc, const void* data,
                                              size_t size) {
  if (size < kFoldingMinBytes) return ExtendHardware(crc, data, size);
  const auto* p = static_cast<const uint8_t*>(data);
  const uint32_t state = FoldBlocks(~crc, &p, &size);
  return ExtendHardware(~state, p, size);  // the last size % 256 bytes
}
#undef CHRONIK_BLOCK
#undef CHRONIK_FOLDING_TARGET
#else
bool HardwareAvailable() { return false; }
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t size) {
  return ExtendPortable(crc, data, size);
}
bool FoldingAvailable() { return false; }
uint32_t ExtendFolding(uint32_t crc, const void* data, size_t size) {
  return ExtendPortable(crc, data, size);
}
#endif

uint32_t Extend(uint32_t crc, const void* data, size_t size) {
  // The CPU's features do not change: looked up once.
  static const int kind = FoldingAvailable() ? 2 : HardwareAvailable() ? 1 : 0;
  if (kind == 2) return ExtendFolding(crc, data, size);
  if (kind == 1) return ExtendHardware(crc, data, size);
  return ExtendPortable(crc, data, size);
}

}  // namespace chronik::crc32c
