#include "broker/kafka/wire.h"

#include <memory>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::kafka {

void Reader::Fail(absl::string_view what) {
  if (!status_.ok()) return;
  status_ = absl::InvalidArgumentError(absl::StrCat(what, " (field '", field_,
                                                    "', at byte ", position_,
                                                    " of ", data_.size(), ")"));
  // Stop all further reads: they return zero values from here on.
  position_ = data_.size();
}

void Reader::Absorb(const Reader& sub) {
  if (!sub.ok() && status_.ok()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("in tagged field: ", sub.status().message()));
    position_ = data_.size();
  }
}

bool Reader::Need(size_t size) {
  if (!status_.ok()) return false;
  if (size > remaining()) {
    Fail(absl::StrCat("truncated: need ", size, " bytes, ", remaining(),
                      " remain"));
    return false;
  }
  return true;
}

int8_t Reader::ReadInt8() {
  if (!Need(1)) return 0;
  return static_cast<int8_t>(data_[position_++]);
}

int16_t Reader::ReadInt16() {
  if (!Need(2)) return 0;
  uint16_t v = LoadBigEndian16(data_.data() + position_);
  position_ += 2;
  return static_cast<int16_t>(v);
}

uint32_t Reader::ReadUint32() {
  if (!Need(4)) return 0;
  uint32_t v = LoadBigEndian32(data_.data() + position_);
  position_ += 4;
  return v;
}

int32_t Reader::ReadInt32() { return static_cast<int32_t>(ReadUint32()); }

int64_t Reader::ReadInt64() {
  if (!Need(8)) return 0;
  uint64_t v = LoadBigEndian64(data_.data() + position_);
  position_ += 8;
  return static_cast<int64_t>(v);
}

uint64_t Reader::ReadUnsignedVarlong() {
  uint64_t value = 0;
  for (int i = 0; i < kMaxVarint64Bytes; ++i) {
    if (!Need(1)) return 0;
    uint8_t byte = static_cast<uint8_t>(data_[position_++]);
    if (i == kMaxVarint64Bytes - 1 && byte > 1) break;  // > 64 bits
    value |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) return value;
  }
  Fail("varint longer than 64 bits");
  return 0;
}

uint32_t Reader::ReadUnsignedVarint() {
  uint32_t value = 0;
  for (int i = 0; i < kMaxVarint32Bytes; ++i) {
    if (!Need(1)) return 0;
    uint8_t byte = static_cast<uint8_t>(data_[position_++]);
    if (i == kMaxVarint32Bytes - 1 && byte > 0x0f) break;  // > 32 bits
    value |= static_cast<uint32_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) return value;
  }
  Fail("varint longer than 32 bits");
  return 0;
}

int32_t Reader::ReadVarint() { return UnZigZag32(ReadUnsignedVarint()); }
int64_t Reader::ReadVarlong() { return UnZigZag64(ReadUnsignedVarlong()); }

Uuid Reader::ReadUuid() {
  Uuid v{};
  if (!Need(v.size())) return v;
  std::memcpy(v.data(), data_.data() + position_, v.size());
  position_ += v.size();
  return v;
}

int64_t Reader::ReadLength(bool compact, bool classic_int32) {
  int64_t length;
  if (compact) {
    length = static_cast<int64_t>(ReadUnsignedVarint()) - 1;
  } else if (classic_int32) {
    length = ReadInt32();
  } else {
    length = ReadInt16();
  }
  if (!ok()) return 0;
  if (length < -1) {
    Fail(absl::StrCat("negative length ", length));
    return 0;
  }
  if (length > static_cast<int64_t>(remaining())) {
    Fail(absl::StrCat("length ", length, " exceeds the ", remaining(),
                      " bytes that remain"));
    return 0;
  }
  return length;
}

std::optional<std::string> Reader::ReadNullableString(bool compact) {
  int64_t length = ReadLength(compact, /*classic_int32=*/false);
  if (length < 0) return std::nullopt;
  absl::string_view raw = ReadRaw(static_cast<size_t>(length));
  return std::string(raw);
}

std::string Reader::ReadString(bool compact) {
  int64_t length = ReadLength(compact, /*classic_int32=*/false);
  if (length < 0) {
    Fail("null string where the schema does not allow null");
    return {};
  }
  return std::string(ReadRaw(static_cast<size_t>(length)));
}

std::optional<std::string> Reader::ReadNullableBytes(bool compact) {
  int64_t length = ReadLength(compact, /*classic_int32=*/true);
  if (length < 0) return std::nullopt;
  return std::string(ReadRaw(static_cast<size_t>(length)));
}

std::string Reader::ReadBytes(bool compact) {
  int64_t length = ReadLength(compact, /*classic_int32=*/true);
  if (length < 0) {
    Fail("null bytes where the schema does not allow null");
    return {};
  }
  return std::string(ReadRaw(static_cast<size_t>(length)));
}

SharedBytes Reader::ReadRecords(bool compact) {
  std::optional<SharedBytes> records = ReadNullableRecords(compact);
  if (!records.has_value()) {
    if (ok()) Fail("null records where the schema does not allow null");
    return {};
  }
  return *std::move(records);
}

std::optional<SharedBytes> Reader::ReadNullableRecords(bool compact) {
  int64_t length = ReadLength(compact, /*classic_int32=*/true);
  if (length < 0) return std::nullopt;
  const absl::string_view raw = ReadRaw(static_cast<size_t>(length));
  const std::string_view part(raw.data(), raw.size());
  if (owner_ == nullptr || raw.empty()) return SharedBytes::Copy(part);
  return SharedBytes::Owned(owner_, part);
}

int32_t Reader::ReadArrayLength(bool compact) {
  int64_t count = compact ? static_cast<int64_t>(ReadUnsignedVarint()) - 1
                          : static_cast<int64_t>(ReadInt32());
  if (!ok()) return 0;
  if (count < -1) {
    Fail(absl::StrCat("negative array length ", count));
    return 0;
  }
  if (count > static_cast<int64_t>(remaining())) {
    Fail(absl::StrCat("array length ", count, " exceeds the ", remaining(),
                      " bytes that remain"));
    return 0;
  }
  return static_cast<int32_t>(count);
}

absl::string_view Reader::ReadRaw(size_t size) {
  if (!Need(size)) return {};
  absl::string_view v = data_.substr(position_, size);
  position_ += size;
  return v;
}

void Reader::SkipTaggedFields() {
  uint32_t count = ReadUnsignedVarint();
  for (uint32_t i = 0; i < count && ok(); ++i) {
    ReadUnsignedVarint();  // tag
    uint32_t size = ReadUnsignedVarint();
    ReadRaw(size);
  }
}

void Writer::WriteInt16(int16_t v) {
  uint16_t u = static_cast<uint16_t>(v);
  buffer_.push_back(static_cast<char>(u >> 8));
  buffer_.push_back(static_cast<char>(u));
}

void Writer::WriteUint32(uint32_t v) {
  char bytes[4];
  StoreBigEndian32(bytes, v);
  buffer_.append(bytes, 4);
}

void Writer::WriteInt32(int32_t v) { WriteUint32(static_cast<uint32_t>(v)); }

void Writer::WriteInt64(int64_t v) {
  char bytes[8];
  StoreBigEndian64(bytes, static_cast<uint64_t>(v));
  buffer_.append(bytes, 8);
}

void Writer::WriteUnsignedVarlong(uint64_t v) {
  char bytes[kMaxVarint64Bytes];
  int n = 0;
  while (v >= 0x80) {
    bytes[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  bytes[n++] = static_cast<char>(v);
  buffer_.append(bytes, n);
}

void Writer::WriteUnsignedVarint(uint32_t v) { WriteUnsignedVarlong(v); }
void Writer::WriteVarint(int32_t v) { WriteUnsignedVarlong(ZigZag32(v)); }
void Writer::WriteVarlong(int64_t v) { WriteUnsignedVarlong(ZigZag64(v)); }

void Writer::WriteString(absl::string_view v, bool compact) {
  if (compact) {
    WriteUnsignedVarlong(v.size() + 1);
  } else {
    CHRONIK_CHECK_LE(v.size(), 0x7fffu) << "classic string too long";
    WriteInt16(static_cast<int16_t>(v.size()));
  }
  WriteRaw(v);
}

void Writer::WriteNullableString(const std::optional<std::string>& v,
                                 bool compact) {
  if (v.has_value()) return WriteString(*v, compact);
  if (compact) {
    WriteUnsignedVarint(0);
  } else {
    WriteInt16(-1);
  }
}

void Writer::WriteBytes(absl::string_view v, bool compact) {
  if (compact) {
    WriteUnsignedVarlong(v.size() + 1);
  } else {
    CHRONIK_CHECK_LE(v.size(), 0x7fffffffu) << "bytes too long";
    WriteInt32(static_cast<int32_t>(v.size()));
  }
  WriteRaw(v);
}

void Writer::WriteNullableBytes(const std::optional<std::string>& v,
                                bool compact) {
  if (v.has_value()) return WriteBytes(*v, compact);
  if (compact) {
    WriteUnsignedVarint(0);
  } else {
    WriteInt32(-1);
  }
}

void Writer::WriteNullableRecords(const std::optional<SharedBytes>& v,
                                  bool compact) {
  if (v.has_value()) return WriteRecords(*v, compact);
  WriteNullableBytes(std::nullopt, compact);
}

void Writer::WriteRecords(const ByteChain& v, bool compact) {
  CHRONIK_CHECK_LE(v.size(), 0x7fffffffu) << "records too large";
  if (compact) {
    WriteUnsignedVarint(static_cast<uint32_t>(v.size() + 1));
  } else {
    WriteInt32(static_cast<int32_t>(v.size()));
  }
  for (const SharedBytes& part : v.parts()) {
    if (!splicing_ || part.size() < kMinSplicedBytes) {
      WriteRaw(part.absl_view());
      continue;
    }
    spliced_bytes_ += part.size();
    spliced_.push_back(Splice{buffer_.size(), part});
  }
}

void Writer::WriteNullableRecords(const std::optional<ByteChain>& v,
                                  bool compact) {
  if (v.has_value()) return WriteRecords(*v, compact);
  WriteNullableBytes(std::nullopt, compact);
}

ByteChain Writer::ReleaseChain() {
  if (spliced_.empty()) return ByteChain(std::move(buffer_));
  // The pieces of the buffer are slices of it, shared.
  auto whole = std::make_shared<const std::string>(std::move(buffer_));
  const std::string_view all(*whole);
  ByteChain out;
  size_t from = 0;
  for (Splice& splice : spliced_) {
    out.Append(SharedBytes::Slice(whole, all.substr(from, splice.at - from)));
    out.Append(std::move(splice.part));
    from = splice.at;
  }
  out.Append(SharedBytes::Slice(whole, all.substr(from)));
  spliced_.clear();
  spliced_bytes_ = 0;
  return out;
}

void Writer::WriteArrayLength(int64_t count, bool compact) {
  CHRONIK_CHECK_GE(count, -1);
  CHRONIK_CHECK_LE(count, 0x7fffffff);
  if (compact) {
    WriteUnsignedVarlong(static_cast<uint64_t>(count + 1));
  } else {
    WriteInt32(static_cast<int32_t>(count));
  }
}

void Writer::PatchInt32(size_t offset, int32_t v) {
  PatchUint32(offset, static_cast<uint32_t>(v));
}

void Writer::PatchUint32(size_t offset, uint32_t v) {
  CHRONIK_CHECK_LE(offset + 4, buffer_.size());
  CHRONIK_CHECK(spliced_.empty() || offset + 4 <= spliced_.front().at)
      << "a patch after a spliced part";
  StoreBigEndian32(buffer_.data() + offset, v);
}

int UnsignedVarintSize(uint64_t v) {
  int n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

std::string TestRng::String(size_t max_bytes) {
  std::string s(Below(max_bytes + 1), '\0');
  for (char& c : s) c = static_cast<char>('a' + Below(26));
  return s;
}

Uuid TestRng::MakeUuid() {
  Uuid u;
  for (uint8_t& b : u) b = static_cast<uint8_t>(Next());
  return u;
}

}  // namespace chronik::kafka
