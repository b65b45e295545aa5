#include "broker/runtime/parallel_sync.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/runtime/posix_disk.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

// A File that is not a PosixDisk file: counts its syncs, fails on demand.
class CountingFile final : public env::File {
 public:
  explicit CountingFile(absl::Status result) : result_(std::move(result)) {}
  uint64_t Size() const override { return 0; }
  absl::Status Append(absl::string_view) override { return absl::OkStatus(); }
  absl::Status WriteAt(uint64_t, absl::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<size_t> ReadAt(uint64_t, size_t, char*) const override {
    return 0;
  }
  absl::Status Truncate(uint64_t) override { return absl::OkStatus(); }
  absl::Status Sync() override {
    ++syncs;
    return result_;
  }
  int syncs = 0;

 private:
  absl::Status result_;
};

class SyncFlushFilesTest : public ::testing::Test {
 protected:
  SyncFlushFilesTest() : disk_(MakeRoot()) {}

  static std::string MakeRoot() {
    std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR"), "/syncXXXXXX");
    return ::mkdtemp(dir.data());
  }

  // `count` files of the disk with a few unsynced bytes each.
  std::vector<env::File*> DiskFiles(int count) {
    std::vector<env::File*> files;
    for (int i = 0; i < count; ++i) {
      auto file = disk_.Create(absl::StrCat("f", owned_.size()));
      EXPECT_TRUE(file.ok()) << file.status();
      EXPECT_TRUE((*file)->Append("bytes").ok());
      owned_.push_back(*std::move(file));
      files.push_back(owned_.back().get());
    }
    return files;
  }

  SyncPolicy Policy(size_t min_files) {
    return SyncPolicy{.max_threads = 4,
                      .filesystem_sync_min_files = min_files,
                      .disk = &disk_};
  }

  PosixDisk disk_;
  std::vector<std::unique_ptr<env::File>> owned_;
};

TEST_F(SyncFlushFilesTest, ManyFilesOfTheDiskShareOneFilesystemSync) {
  ASSERT_TRUE(disk_.device().has_value());
  std::vector<absl::Status> results = SyncFlushFiles(DiskFiles(5), Policy(3));
  ASSERT_EQ(results.size(), 5u);
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(disk_.filesystem_syncs(), 1u);
}

TEST_F(SyncFlushFilesTest, AFilesystemSyncDropsLogBytesBehindTheWindow) {
  PosixDisk disk(MakeRoot(), /*drop_behind_bytes=*/1 << 20);
  std::vector<std::unique_ptr<env::File>> owned;
  std::vector<env::File*> files;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::unique_ptr<env::File>> file =
        disk.Create(absl::StrCat("log", i));
    ASSERT_TRUE(file.ok()) << file.status();
    if (i > 0) (*file)->AdviseAppendOnlyLog();  // log0 is not a log
    ASSERT_TRUE((*file)->Append(std::string(3 << 20, 'x')).ok());
    files.push_back(file->get());
    owned.push_back(*std::move(file));
  }
  const SyncPolicy policy{
      .max_threads = 4, .filesystem_sync_min_files = 2, .disk = &disk};
  for (const absl::Status& s : SyncFlushFiles(files, policy)) {
    EXPECT_TRUE(s.ok()) << s;
  }
  EXPECT_EQ(disk.filesystem_syncs(), 1u);
  EXPECT_EQ(disk.dropped_behind_bytes(), 2u * (2 << 20));  // log1, log2:
                                                           // 3 - 1 MiB each
}

TEST_F(SyncFlushFilesTest, FewFilesAreSyncedEachOnItsOwn) {
  std::vector<absl::Status> results = SyncFlushFiles(DiskFiles(2), Policy(3));
  ASSERT_EQ(results.size(), 2u);
  for (const absl::Status& s : results) EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(disk_.filesystem_syncs(), 0u);
}

TEST_F(SyncFlushFilesTest, ThresholdZeroNeverSyncsTheFilesystem) {
  SyncFlushFiles(DiskFiles(20), Policy(0));
  EXPECT_EQ(disk_.filesystem_syncs(), 0u);
}

TEST_F(SyncFlushFilesTest, FilesElsewhereAreSyncedAndReportTheirOwnStatus) {
  std::vector<env::File*> files = DiskFiles(3);
  CountingFile good(absl::OkStatus());
  CountingFile bad(absl::DataLossError("EIO on the other disk"));
  files.insert(files.begin() + 1, &bad);
  files.push_back(&good);
  std::vector<absl::Status> results = SyncFlushFiles(files, Policy(3));
  ASSERT_EQ(results.size(), 5u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(results[2].ok());
  EXPECT_TRUE(results[3].ok());
  EXPECT_TRUE(results[4].ok());
  EXPECT_EQ(good.syncs, 1);
  EXPECT_EQ(bad.syncs, 1);
  EXPECT_EQ(disk_.filesystem_syncs(), 1u);
}

TEST_F(SyncFlushFilesTest, TooFewFilesOfTheDiskFallBackToOneSyncEach) {
  std::vector<env::File*> files = DiskFiles(2);
  CountingFile other(absl::OkStatus());
  files.push_back(&other);
  SyncFlushFiles(files, Policy(3));  // 3 files, only 2 of them on the disk
  EXPECT_EQ(disk_.filesystem_syncs(), 0u);
  EXPECT_EQ(other.syncs, 1);
}

TEST(SyncFlushFilesNoDiskTest, AnUnopenableRootNeverSyncsTheFilesystem) {
  PosixDisk missing("/nonexistent/chronik-sync-test");
  EXPECT_FALSE(missing.device().has_value());
  EXPECT_FALSE(missing.SyncFilesystem().ok());
  CountingFile a(absl::OkStatus()), b(absl::OkStatus());
  std::vector<env::File*> files = {&a, &b};
  std::vector<absl::Status> results =
      SyncFlushFiles(files, SyncPolicy{.max_threads = 2,
                                       .filesystem_sync_min_files = 1,
                                       .disk = &missing});
  EXPECT_TRUE(results[0].ok() && results[1].ok());
  EXPECT_EQ(a.syncs + b.syncs, 2);
  EXPECT_EQ(missing.filesystem_syncs(), 0u);  // no syncfs was made
}

}  // namespace
}  // namespace chronik::runtime
