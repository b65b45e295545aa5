#include "broker/kafka/wire.h"

#include <limits>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace chronik::kafka {
namespace {

// With an owner (the frame buffer the connection table took over), records
// are parts of its memory, kept alive by it: not copies.
TEST(WireTest, RecordsAreSlicesOfTheOwnersMemory) {
  SharedBytes frame =
      SharedBytes::Copy(std::string("\x00\x00\x00\x05"
                                    "abcde",
                                    9));
  std::weak_ptr<const void> alive = frame.owner();
  Reader r(frame.absl_view(), frame.owner());
  SharedBytes records = r.ReadRecords(/*compact=*/false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(records, std::string_view("abcde"));
  EXPECT_EQ(records.data(), frame.data() + 4);
  frame = SharedBytes();
  EXPECT_FALSE(alive.expired());  // the records keep the frame alive
  // Without an owner they are copies.
  Reader copying(absl::string_view(records.data() - 4, 9));
  EXPECT_NE(copying.ReadRecords(false).data(), records.data());
}

TEST(WireTest, UnsignedVarintKnownEncodings) {
  struct Case {
    uint32_t value;
    std::string bytes;
  };
  const Case cases[] = {{0, std::string("\x00", 1)},
                        {1, "\x01"},
                        {127, "\x7f"},
                        {128, "\x80\x01"},
                        {300, "\xac\x02"},
                        {0xffffffffu, "\xff\xff\xff\xff\x0f"}};
  for (const Case& c : cases) {
    Writer w;
    w.WriteUnsignedVarint(c.value);
    EXPECT_EQ(w.buffer(), c.bytes) << c.value;
    EXPECT_EQ(UnsignedVarintSize(c.value), static_cast<int>(c.bytes.size()));
    Reader r(c.bytes);
    EXPECT_EQ(r.ReadUnsignedVarint(), c.value);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.at_end());
  }
}

TEST(WireTest, ZigZagVarintsAndVarlongs) {
  // Zig-zag maps 0,-1,1,-2,2 to 0,1,2,3,4.
  EXPECT_EQ(ZigZag32(0), 0u);
  EXPECT_EQ(ZigZag32(-1), 1u);
  EXPECT_EQ(ZigZag32(1), 2u);
  EXPECT_EQ(ZigZag32(-2), 3u);
  EXPECT_EQ(ZigZag64(std::numeric_limits<int64_t>::min()),
            std::numeric_limits<uint64_t>::max());
  const int64_t longs[] = {0,
                           -1,
                           1,
                           63,
                           -64,
                           64,
                           std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::min()};
  for (int64_t v : longs) {
    Writer w;
    w.WriteVarlong(v);
    Reader r(w.buffer());
    EXPECT_EQ(r.ReadVarlong(), v);
    EXPECT_TRUE(r.at_end());
  }
  const int32_t ints[] = {0, -1, 1, std::numeric_limits<int32_t>::max(),
                          std::numeric_limits<int32_t>::min()};
  for (int32_t v : ints) {
    Writer w;
    w.WriteVarint(v);
    Reader r(w.buffer());
    EXPECT_EQ(r.ReadVarint(), v);
    EXPECT_TRUE(r.at_end());
  }
  Writer w;
  w.WriteVarint(-1);
  EXPECT_EQ(w.buffer(), "\x01");
}

TEST(WireTest, OverlongVarintsFail) {
  const std::string r32_bytes("\xff\xff\xff\xff\x1f", 5);  // 33 bits
  Reader r32(r32_bytes);
  r32.ReadUnsignedVarint();
  EXPECT_FALSE(r32.ok());
  const std::string r64_bytes(11, '\xff');
  Reader r64(r64_bytes);
  r64.ReadUnsignedVarlong();
  EXPECT_FALSE(r64.ok());
  const std::string truncated_bytes("\x80\x80", 2);
  Reader truncated(truncated_bytes);
  truncated.ReadUnsignedVarint();
  EXPECT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find("truncated"),
            absl::string_view::npos);
}

TEST(WireTest, FixedWidthIntegersAreBigEndian) {
  Writer w;
  w.WriteInt8(-2);
  w.WriteInt16(0x0102);
  w.WriteInt32(-3);
  w.WriteInt64(0x0102030405060708);
  EXPECT_EQ(w.buffer(), std::string("\xfe\x01\x02\xff\xff\xff\xfd"
                                    "\x01\x02\x03\x04\x05\x06\x07\x08",
                                    15));
  Reader r(w.buffer());
  EXPECT_EQ(r.ReadInt8(), -2);
  EXPECT_EQ(r.ReadInt16(), 0x0102);
  EXPECT_EQ(r.ReadInt32(), -3);
  EXPECT_EQ(r.ReadInt64(), 0x0102030405060708);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.ReadInt32(), 0);  // past the end: zero and a sticky error
  EXPECT_FALSE(r.ok());
}

TEST(WireTest, ClassicAndCompactStringsAndBytes) {
  Writer w;
  w.WriteString("hi", false);
  w.WriteNullableString(std::nullopt, false);
  w.WriteString("hi", true);
  w.WriteNullableString(std::nullopt, true);
  w.WriteBytes("xyz", false);
  w.WriteNullableBytes(std::nullopt, false);
  w.WriteBytes("", true);
  EXPECT_EQ(w.buffer(), std::string("\x00\x02hi\xff\xff"
                                    "\x03hi\x00"
                                    "\x00\x00\x00\x03xyz\xff\xff\xff\xff"
                                    "\x01",
                                    22));
  Reader r(w.buffer());
  EXPECT_EQ(r.ReadString(false), "hi");
  EXPECT_EQ(r.ReadNullableString(false), std::nullopt);
  EXPECT_EQ(r.ReadString(true), "hi");
  EXPECT_EQ(r.ReadNullableString(true), std::nullopt);
  EXPECT_EQ(r.ReadBytes(false), "xyz");
  EXPECT_EQ(r.ReadNullableBytes(false), std::nullopt);
  EXPECT_EQ(r.ReadBytes(true), "");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
}

TEST(WireTest, NullForANonNullableStringFails) {
  const std::string r_bytes("\xff\xff", 2);
  Reader r(r_bytes);
  r.Field("Name");
  r.ReadString(false);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'Name'"), absl::string_view::npos);
}

TEST(WireTest, LengthsBeyondTheInputFailWithoutReading) {
  const std::string s_bytes("\x00\x05hi", 4);
  Reader s(s_bytes);
  s.ReadString(false);
  EXPECT_FALSE(s.ok());
  const std::string b_bytes("\x7f\xff\xff\xff", 4);
  Reader b(b_bytes);
  b.ReadBytes(false);
  EXPECT_FALSE(b.ok());
  const std::string a_bytes("\x00\x00\x00\x09\x00", 5);
  Reader a(a_bytes);
  EXPECT_EQ(a.ReadArrayLength(false), 0);
  EXPECT_FALSE(a.ok());
  const std::string neg_bytes("\xff\xff\xff\xfe", 4);
  Reader neg(neg_bytes);
  neg.ReadArrayLength(false);
  EXPECT_FALSE(neg.ok());
  const std::string null_array_bytes("\x00", 1);
  Reader null_array(null_array_bytes);
  EXPECT_EQ(null_array.ReadArrayLength(true), -1);
  EXPECT_TRUE(null_array.ok());
}

TEST(WireTest, SkipTaggedFields) {
  Writer w;
  w.WriteUnsignedVarint(2);
  w.WriteUnsignedVarint(0);
  w.WriteUnsignedVarint(3);
  w.WriteRaw("abc");
  w.WriteUnsignedVarint(100);
  w.WriteUnsignedVarint(0);
  w.WriteInt8(42);
  Reader r(w.buffer());
  r.SkipTaggedFields();
  EXPECT_EQ(r.ReadInt8(), 42);
  EXPECT_TRUE(r.ok());
  const std::string bad_bytes("\x01\x00\x09", 3);  // size 9 with nothing behind
  Reader bad(bad_bytes);
  bad.SkipTaggedFields();
  EXPECT_FALSE(bad.ok());
}

TEST(WireTest, UuidRoundTrip) {
  TestRng rng(1);
  Uuid u = rng.MakeUuid();
  Writer w;
  w.WriteUuid(u);
  EXPECT_EQ(w.size(), 16u);
  Reader r(w.buffer());
  EXPECT_EQ(r.ReadUuid(), u);
}

}  // namespace
}  // namespace chronik::kafka
