#include "base/input_buffer.h"

#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace chronik {
namespace {

TEST(InputBufferTest, AppendConsumeAndClear) {
  InputBuffer input;
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(input.capacity(), 0u);
  input.Append("hello ");
  input.Append("world");
  EXPECT_EQ(input.view(), "hello world");
  input.Consume(6);
  EXPECT_EQ(input.view(), "world");
  const size_t capacity = input.capacity();
  input.Clear();
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(input.capacity(), capacity);  // kept for the next bytes
  input.Append("again");
  EXPECT_EQ(input.view(), "again");
  input.Consume(5);
  EXPECT_TRUE(input.empty());
}

TEST(InputBufferTest, ReadsIntoTheSpareRoomAndCommits) {
  InputBuffer input("ab");
  input.Reserve(100);
  EXPECT_GE(input.capacity(), 100u);
  EXPECT_EQ(input.view(), "ab");  // Reserve keeps the content
  ASSERT_GE(input.spare_bytes(), 98u);
  std::memcpy(input.spare_data(), "cdef", 4);
  input.Commit(3);  // only what was "read" counts
  EXPECT_EQ(input.view(), "abcde");
  input.Reserve(10);  // never shrinks
  EXPECT_GE(input.capacity(), 100u);
  EXPECT_DEATH(input.Commit(input.spare_bytes() + 1), "beyond the capacity");
  EXPECT_DEATH(input.Consume(6), "more than the content");
}

TEST(InputBufferTest, AppendGrowsGeometrically) {
  InputBuffer input;
  int reallocations = 0;
  const char* data = nullptr;
  for (int i = 0; i < 10'000; ++i) {
    input.Append("x");
    if (input.data() != data) ++reallocations;
    data = input.data();
  }
  EXPECT_EQ(input.size(), 10'000u);
  EXPECT_LT(reallocations, 20);
}

TEST(InputBufferTest, TakeSharesTheBytesWithoutACopy) {
  InputBuffer input;
  input.Reserve(64);
  input.Append("frame one|frame two");
  const char* data = input.data();
  SharedBytes taken = input.Take();
  EXPECT_EQ(taken.data(), data);  // the same memory: no copy
  EXPECT_EQ(taken, std::string_view("frame one|frame two"));
  EXPECT_NE(taken.owner(), nullptr);
  EXPECT_TRUE(input.empty());
  EXPECT_EQ(input.capacity(), 0u);
  // The buffer is usable again, in a new allocation.
  input.Append("next");
  EXPECT_EQ(input.view(), "next");
  EXPECT_EQ(taken, std::string_view("frame one|frame two"));
  EXPECT_EQ(InputBuffer().Take().size(), 0u);
}

TEST(InputBufferTest, MovesLeaveTheSourceEmpty) {
  InputBuffer a("bytes");
  InputBuffer b(std::move(a));
  EXPECT_EQ(b.view(), "bytes");
  EXPECT_EQ(a.size(), 0u);  // NOLINT: a moved-from buffer is empty
  EXPECT_EQ(a.capacity(), 0u);
  a = std::move(b);
  EXPECT_EQ(a.view(), "bytes");
}

}  // namespace
}  // namespace chronik
