// Kafka wire primitives: a bounds-checked reader and an appending writer.
//
// Purpose: every Kafka message (generated code in messages.h), the request and
// response headers and record batches are spelled with these primitives.
//
// Wire format (all integers big-endian unless they are varints):
//   int8/int16/int32/int64  fixed width, two's complement.
//   bool                    one byte, 0 = false, anything else = true.
//   unsigned varint         7 bits per byte, least significant group first,
//   high
//                           bit set on every byte but the last (at most 5 bytes
//                           for 32 bits, 10 for 64 bits).
//   varint / varlong        zig-zag ((n << 1) ^ (n >> 31|63)) then unsigned
//                           varint; used inside record batches.
//   uuid                    16 raw bytes.
//   string (classic)        int16 length N then N bytes; N = -1 means null.
//   string (compact)        unsigned varint N+1 then N bytes; 0 means null.
//   bytes (classic)         int32 length N then N bytes; -1 means null.
//   bytes (compact)         unsigned varint N+1 then N bytes; 0 means null.
//   array (classic)         int32 count then the elements; -1 means null.
//   array (compact)         unsigned varint count+1 then elements; 0 = null.
//   tagged fields           (flexible versions only) unsigned varint count,
//                           then per field: unsigned varint tag, unsigned
//                           varint size, size bytes. Unknown tags are skipped.
//
// Contract: Reader never reads past its view and never allocates from a length
// it has not checked against the bytes that remain. Errors are sticky: the
// first failure records an absl::Status naming the field being read and the
// byte offset, every later read returns a zero value, and callers check ok()
// once at the end. Writer appends to a std::string it owns; a splicing
// Writer (Writer::Splicing()) does not copy the large parts of records
// fields (ByteChain): it keeps them, and ReleaseChain() returns its bytes as
// its buffer's pieces with those parts in between (a Fetch response's stored
// batches go to the socket without a copy).
// Ownership: Reader borrows the bytes it reads (they must outlive it); values
// it returns are copies. Thread-safety: none (one object per thread).
#ifndef CHRONIK_BROKER_KAFKA_WIRE_H_
#define CHRONIK_BROKER_KAFKA_WIRE_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/byte_chain.h"
#include "base/check.h"
#include "base/shared_bytes.h"
#include "base/splitmix64.h"

namespace chronik::kafka {

using Uuid = std::array<uint8_t, 16>;

// Bytes of the longest unsigned varint encoding of a 32/64-bit value.
inline constexpr int kMaxVarint32Bytes = 5;
inline constexpr int kMaxVarint64Bytes = 10;

class Reader {
 public:
  explicit Reader(absl::string_view data) : data_(data) {}
  // Records fields then come out as slices of the memory `owner` keeps
  // alive (which must hold the data: a frame buffer's SharedBytes::owner())
  // instead of copies.
  Reader(absl::string_view data, std::shared_ptr<const void> owner)
      : data_(data), owner_(std::move(owner)) {}

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  size_t remaining() const { return data_.size() - position_; }
  size_t position() const { return position_; }
  bool at_end() const { return position_ == data_.size(); }

  // Names the field the next reads belong to, for error messages. `name`
  // must be a string literal (it is kept as a pointer).
  void Field(const char* name) { field_ = name; }

  // Records the first error; later calls keep the first one.
  void Fail(absl::string_view what);
  // Takes over the error of a sub-reader (tagged field payloads).
  void Absorb(const Reader& sub);

  int8_t ReadInt8();
  int16_t ReadInt16();
  int32_t ReadInt32();
  int64_t ReadInt64();
  uint32_t ReadUint32();
  bool ReadBool() { return ReadInt8() != 0; }
  uint32_t ReadUnsignedVarint();
  uint64_t ReadUnsignedVarlong();
  int32_t ReadVarint();
  int64_t ReadVarlong();
  Uuid ReadUuid();

  // Strings and bytes; `compact` selects the flexible-version encoding.
  std::string ReadString(bool compact);
  std::optional<std::string> ReadNullableString(bool compact);
  std::string ReadBytes(bool compact);
  std::optional<std::string> ReadNullableBytes(bool compact);
  // Record batches: bytes, shared with the owner when there is one.
  SharedBytes ReadRecords(bool compact);
  std::optional<SharedBytes> ReadNullableRecords(bool compact);

  // Array element count, -1 for null. Fails (and returns 0) when the count is
  // negative other than -1 or larger than the bytes that remain (every element
  // takes at least one byte), so callers may reserve from it.
  int32_t ReadArrayLength(bool compact);

  // The next `size` bytes as a view into the input (no copy).
  absl::string_view ReadRaw(size_t size);
  // Skips the tagged-field section of a flexible struct.
  void SkipTaggedFields();

 private:
  bool Need(size_t size);
  // Length of a string/bytes value: -1 null, else checked <= remaining().
  int64_t ReadLength(bool compact, bool classic_int32);

  absl::string_view data_;
  std::shared_ptr<const void> owner_;
  size_t position_ = 0;
  const char* field_ = "";
  absl::Status status_;
};

class Writer {
 public:
  Writer() = default;
  // A writer that splices records parts of at least kMinSplicedBytes.
  static Writer Splicing() {
    Writer w;
    w.splicing_ = true;
    return w;
  }
  // Records parts smaller than this are copied even when splicing (a part
  // costs an iovec and a reference).
  static constexpr size_t kMinSplicedBytes = 1024;

  // The bytes written, in one string: not for a writer that spliced parts
  // (CHECKs; use ReleaseChain).
  std::string& buffer() {
    CHRONIK_CHECK(spliced_.empty()) << "a splicing writer's bytes are a chain";
    return buffer_;
  }
  const std::string& buffer() const {
    CHRONIK_CHECK(spliced_.empty()) << "a splicing writer's bytes are a chain";
    return buffer_;
  }
  std::string Release() { return std::move(buffer()); }
  // The bytes written: the buffer's pieces and the spliced parts in order.
  ByteChain ReleaseChain();
  // Bytes written, spliced parts included.
  size_t size() const { return buffer_.size() + spliced_bytes_; }

  void WriteInt8(int8_t v) { buffer_.push_back(static_cast<char>(v)); }
  void WriteInt16(int16_t v);
  void WriteInt32(int32_t v);
  void WriteInt64(int64_t v);
  void WriteUint32(uint32_t v);
  void WriteBool(bool v) { WriteInt8(v ? 1 : 0); }
  void WriteUnsignedVarint(uint32_t v);
  void WriteUnsignedVarlong(uint64_t v);
  void WriteVarint(int32_t v);
  void WriteVarlong(int64_t v);
  void WriteUuid(const Uuid& v) {
    buffer_.append(reinterpret_cast<const char*>(v.data()), v.size());
  }

  void WriteString(absl::string_view v, bool compact);
  void WriteNullableString(const std::optional<std::string>& v, bool compact);
  void WriteBytes(absl::string_view v, bool compact);
  void WriteNullableBytes(const std::optional<std::string>& v, bool compact);
  void WriteRecords(const SharedBytes& v, bool compact) {
    WriteBytes(v.absl_view(), compact);
  }
  void WriteNullableRecords(const std::optional<SharedBytes>& v, bool compact);
  // Records held as parts: copied, or spliced by a splicing writer.
  void WriteRecords(const ByteChain& v, bool compact);
  void WriteNullableRecords(const std::optional<ByteChain>& v, bool compact);
  // `count` = -1 writes a null array.
  void WriteArrayLength(int64_t count, bool compact);
  void WriteRaw(absl::string_view v) {
    Reserve(v.size());
    buffer_.append(v.data(), v.size());
  }

  // Overwrites 4 bytes at `offset` (a length or CRC reserved earlier), which
  // must lie before the first spliced part.
  void PatchInt32(size_t offset, int32_t v);
  void PatchUint32(size_t offset, uint32_t v);

 private:
  // Makes room for `extra` more bytes with slack: a large append (record
  // bytes) would otherwise size the buffer exactly, and the next one-byte
  // write would copy everything again.
  void Reserve(size_t extra) {
    const size_t needed = buffer_.size() + extra;
    if (needed <= buffer_.capacity()) return;
    buffer_.reserve(std::max(2 * buffer_.capacity(), needed + needed / 8 + 64));
  }

  // A part kept instead of copied: it goes after buffer_[0, at).
  struct Splice {
    size_t at = 0;
    SharedBytes part = {};
  };

  std::string buffer_;
  bool splicing_ = false;
  std::vector<Splice> spliced_;
  size_t spliced_bytes_ = 0;
};

// Bytes the unsigned varint encoding of `v` takes.
int UnsignedVarintSize(uint64_t v);
inline uint32_t ZigZag32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
inline uint64_t ZigZag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int32_t UnZigZag32(uint32_t v) {
  return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
}
inline int64_t UnZigZag64(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// Big-endian loads and stores on raw memory (record batch headers).
inline uint32_t LoadBigEndian32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline uint64_t LoadBigEndian64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline uint16_t LoadBigEndian16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return __builtin_bswap16(v);
}
inline void StoreBigEndian32(char* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void StoreBigEndian64(char* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}

// Deterministic generator for tests and fuzz-style mutation (SplitMix64).
// Generated messages use it in FillForTest to build arbitrary values.
class TestRng {
 public:
  explicit TestRng(uint64_t seed) : rng_(seed) {}
  uint64_t Next() { return rng_.Next(); }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }
  std::string String(size_t max_bytes);
  Uuid MakeUuid();

 private:
  SplitMix64 rng_;
};

}  // namespace chronik::kafka

#endif  // CHRONIK_BROKER_KAFKA_WIRE_H_
