#include "broker/env/disk_conformance.h"

#include <string>
#include <vector>

namespace chronik::env {
namespace {

std::string ReadAll(const File& file) {
  std::string out(file.Size(), '\0');
  absl::StatusOr<size_t> n = file.ReadAt(0, out.size(), out.data());
  EXPECT_TRUE(n.ok()) << n.status();
  if (!n.ok()) return "";
  out.resize(*n);
  return out;
}

std::unique_ptr<File> MustCreate(Disk& disk, absl::string_view path) {
  absl::StatusOr<std::unique_ptr<File>> file = disk.Create(path);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? std::move(*file) : nullptr;
}

}  // namespace

std::string DiskFactoryName(const ::testing::TestParamInfo<DiskFactory>& info) {
  return info.param.name;
}

void DiskConformanceTest::SetUp() {
  harness_ = GetParam().make();
  ASSERT_NE(harness_, nullptr);
}

TEST_P(DiskConformanceTest, AppendThenReadBack) {
  std::unique_ptr<File> file = MustCreate(disk(), "a");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->Size(), 0u);
  ASSERT_TRUE(file->Append("hello ").ok());
  ASSERT_TRUE(file->Append("world").ok());
  EXPECT_EQ(file->Size(), 11u);
  EXPECT_EQ(ReadAll(*file), "hello world");
  char buf[5];
  absl::StatusOr<size_t> n = file->ReadAt(6, 5, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "world");
}

TEST_P(DiskConformanceTest, ReadAtEndIsShort) {
  std::unique_ptr<File> file = MustCreate(disk(), "a");
  ASSERT_TRUE(file->Append("abc").ok());
  char buf[10];
  absl::StatusOr<size_t> n = file->ReadAt(1, 10, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "bc");
  n = file->ReadAt(3, 10, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  n = file->ReadAt(100, 10, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST_P(DiskConformanceTest, WriteAtOverwritesAndExtendsButRejectsHoles) {
  std::unique_ptr<File> file = MustCreate(disk(), "a");
  ASSERT_TRUE(file->Append("0123456789").ok());
  ASSERT_TRUE(file->WriteAt(2, "ab").ok());
  ASSERT_TRUE(file->WriteAt(8, "XYZ").ok());
  EXPECT_EQ(ReadAll(*file), "01ab4567XYZ");
  EXPECT_EQ(file->WriteAt(12, "hole").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(file->Size(), 11u);
}

TEST_P(DiskConformanceTest, TruncateShrinksAndZeroExtends) {
  std::unique_ptr<File> file = MustCreate(disk(), "a");
  ASSERT_TRUE(file->Append("0123456789").ok());
  ASSERT_TRUE(file->Truncate(4).ok());
  EXPECT_EQ(file->Size(), 4u);
  EXPECT_EQ(ReadAll(*file), "0123");
  ASSERT_TRUE(file->Truncate(6).ok());
  EXPECT_EQ(ReadAll(*file), std::string("0123\0\0", 6));
  ASSERT_TRUE(file->Append("z").ok());
  EXPECT_EQ(ReadAll(*file), std::string("0123\0\0z", 7));
}

TEST_P(DiskConformanceTest, SyncedDataIsVisibleThroughANewHandle) {
  {
    std::unique_ptr<File> file = MustCreate(disk(), "a");
    ASSERT_TRUE(file->Append("durable").ok());
    ASSERT_TRUE(file->Sync().ok());
  }
  ASSERT_TRUE(disk().SyncDir("").ok());
  absl::StatusOr<std::unique_ptr<File>> reopened = disk().Open("a");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->Size(), 7u);
  EXPECT_EQ(ReadAll(**reopened), "durable");
}

TEST_P(DiskConformanceTest, CreateTruncatesAnExistingFile) {
  std::unique_ptr<File> file = MustCreate(disk(), "a");
  ASSERT_TRUE(file->Append("old contents").ok());
  file.reset();
  std::unique_ptr<File> again = MustCreate(disk(), "a");
  EXPECT_EQ(again->Size(), 0u);
}

TEST_P(DiskConformanceTest, MissingThingsAreNotFound) {
  EXPECT_EQ(disk().Open("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(disk().Create("nodir/x").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(disk().Remove("nope").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(disk().Rename("nope", "x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(disk().List("nodir").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(disk().SyncDir("nodir").code(), absl::StatusCode::kNotFound);
  absl::StatusOr<bool> exists = disk().Exists("nope");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_P(DiskConformanceTest, BadPathsAreRejected) {
  for (const char* path : {"/abs", "a//b", "../up", "a/./b", "trailing/"}) {
    EXPECT_EQ(disk().Create(path).status().code(),
              absl::StatusCode::kInvalidArgument)
        << path;
  }
}

TEST_P(DiskConformanceTest, DirectoriesAndSortedListing) {
  ASSERT_TRUE(disk().CreateDir("d").ok());
  ASSERT_TRUE(disk().CreateDir("d").ok());  // idempotent
  ASSERT_TRUE(disk().CreateDir("d/sub").ok());
  for (const char* name : {"d/c", "d/a", "d/b"}) {
    ASSERT_NE(MustCreate(disk(), name), nullptr);
  }
  absl::StatusOr<std::vector<std::string>> names = disk().List("d");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "c", "sub"}));
  absl::StatusOr<std::vector<std::string>> root = disk().List("");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, (std::vector<std::string>{"d"}));
  EXPECT_TRUE(*disk().Exists("d/sub"));
  EXPECT_FALSE(disk().RemoveDir("d").ok());  // not empty
  ASSERT_TRUE(disk().RemoveDir("d/sub").ok());
  EXPECT_FALSE(*disk().Exists("d/sub"));
  ASSERT_TRUE(disk().SyncDir("d").ok());
  ASSERT_TRUE(disk().SyncDir("").ok());
}

TEST_P(DiskConformanceTest, RenameReplacesTarget) {
  std::unique_ptr<File> a = MustCreate(disk(), "a");
  ASSERT_TRUE(a->Append("new").ok());
  std::unique_ptr<File> b = MustCreate(disk(), "b");
  ASSERT_TRUE(b->Append("old").ok());
  a.reset();
  b.reset();
  ASSERT_TRUE(disk().Rename("a", "b").ok());
  EXPECT_FALSE(*disk().Exists("a"));
  absl::StatusOr<std::unique_ptr<File>> file = disk().Open("b");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ReadAll(**file), "new");
  ASSERT_TRUE(disk().SyncDir("").ok());
}

TEST_P(DiskConformanceTest, RemoveDeletesTheEntry) {
  ASSERT_NE(MustCreate(disk(), "a"), nullptr);
  ASSERT_TRUE(disk().Remove("a").ok());
  EXPECT_FALSE(*disk().Exists("a"));
  EXPECT_EQ(disk().Open("a").status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<std::string>> names = disk().List("");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_P(DiskConformanceTest, OpenFileSurvivesRemoval) {
  std::unique_ptr<File> file = MustCreate(disk(), "a");
  ASSERT_TRUE(file->Append("still here").ok());
  ASSERT_TRUE(disk().Remove("a").ok());
  EXPECT_EQ(ReadAll(*file), "still here");
}

TEST_P(DiskConformanceTest, SpaceHasUsableBytesWithinTheTotal) {
  absl::StatusOr<DiskSpace> space = disk().Space();
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_GT(space->total_bytes, 0u);
  EXPECT_LE(space->usable_bytes, space->total_bytes);
}

TEST_P(DiskConformanceTest, LargeWriteRoundTrips) {
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131);
  std::unique_ptr<File> file = MustCreate(disk(), "big");
  ASSERT_TRUE(file->Append(big).ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(ReadAll(*file), big);
}

// AppendV writes the pieces as one Append of their concatenation would: in
// order, after what the file holds, empty pieces included, and more pieces
// than one system call takes (IOV_MAX is 1024 on Linux), some large.
TEST_P(DiskConformanceTest, AppendVWritesThePiecesInOrder) {
  std::unique_ptr<File> file = MustCreate(disk(), "v");
  ASSERT_TRUE(file->Append("head:").ok());
  std::vector<std::string> owned;
  for (int i = 0; i < 3000; ++i) {
    const size_t size = i % 7 == 0 ? 0 : (i % 500 == 1 ? 70000 : i % 13 + 1);
    owned.push_back(std::string(size, static_cast<char>('a' + i % 26)));
  }
  std::vector<absl::string_view> pieces(owned.begin(), owned.end());
  std::string expected = "head:";
  for (const std::string& piece : owned) expected += piece;
  ASSERT_TRUE(file->AppendV(pieces).ok());
  EXPECT_EQ(file->Size(), expected.size());
  ASSERT_TRUE(file->AppendV({}).ok());
  ASSERT_TRUE(file->Append(":tail").ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(ReadAll(*file), expected + ":tail");
}

}  // namespace chronik::env
