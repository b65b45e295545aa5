#include "broker/runtime/posix_disk.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/env/disk_conformance.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

// A fresh directory under $TEST_TMPDIR per test.
std::string FreshDir() {
  static int counter =
      0;  // test-only helper in broker/runtime (not simulated code)
  const char* base = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(base != nullptr ? base : "/tmp",
                                 "/posix_disk_", ::getpid(), "_", counter++);
  EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
  return dir;
}

class PosixHarness : public env::DiskHarness {
 public:
  PosixHarness() : disk_(FreshDir()) {}
  env::Disk* disk() override { return &disk_; }

 private:
  PosixDisk disk_;
};

TEST(PosixDiskTest, DataIsOnTheRealFileSystem) {
  const std::string dir = FreshDir();
  PosixDisk disk(dir);
  absl::StatusOr<std::unique_ptr<env::File>> file = disk.Create("x");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("abc").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  struct stat st;
  ASSERT_EQ(::stat((dir + "/x").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 3);
}

constexpr uint64_t kMiB = 1 << 20;

// Which MiB of the file at `path` (the first `mib`) have every page in the
// page cache (mincore).
std::vector<bool> CachedMiB(const std::string& path, uint64_t mib) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  EXPECT_GE(fd, 0) << path;
  void* map = ::mmap(nullptr, mib * kMiB, PROT_READ, MAP_SHARED, fd, 0);
  EXPECT_NE(map, MAP_FAILED);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident(mib * kMiB / page);
  EXPECT_EQ(::mincore(map, mib * kMiB, resident.data()), 0);
  ::munmap(map, mib * kMiB);
  ::close(fd);
  std::vector<bool> cached(mib, true);
  for (size_t i = 0; i < resident.size(); ++i) {
    if ((resident[i] & 1) == 0) cached[i * page / kMiB] = false;
  }
  return cached;
}

std::string Pattern(uint64_t bytes) {
  std::string data(bytes, '\0');
  for (uint64_t i = 0; i < bytes; ++i) data[i] = static_cast<char>(i * 131);
  return data;
}

TEST(PosixDiskDropBehindTest, SyncedLogBytesBehindTheWindowLeaveThePageCache) {
  const std::string dir = FreshDir();
  PosixDisk disk(dir, /*drop_behind_bytes=*/1 * kMiB);
  absl::StatusOr<std::unique_ptr<env::File>> log = disk.Create("log");
  absl::StatusOr<std::unique_ptr<env::File>> other = disk.Create("other");
  ASSERT_TRUE(log.ok() && other.ok());
  (*log)->AdviseAppendOnlyLog();
  const std::string data = Pattern(8 * kMiB + 100);
  for (auto* file : {log->get(), other->get()}) {
    ASSERT_TRUE(file->Append(data).ok());
    ASSERT_TRUE(file->Sync().ok());
  }
  // What lies more than 1 MiB behind the synced end (8 MiB + 100), in whole
  // 2 MiB chunks, left the cache; the newest stayed, and a file without the
  // hint kept everything.
  const std::vector<bool> all(8, true);
  std::vector<bool> newest(8, false);
  newest[6] = newest[7] = true;
  EXPECT_EQ(CachedMiB(dir + "/log", 8), newest);
  EXPECT_EQ(CachedMiB(dir + "/other", 8), all);
  EXPECT_EQ(disk.dropped_behind_bytes(), 6 * kMiB);
  // The bytes are on disk as written.
  std::string read(data.size(), '\0');
  ASSERT_EQ(*(*log)->ReadAt(0, read.size(), read.data()), data.size());
  EXPECT_TRUE(read == data);
  // A later sync drops only what newly fell behind: the bytes read back
  // above are cached again, as reads of any file, and stay.
  ASSERT_TRUE((*log)->Append(Pattern(2 * kMiB)).ok());
  ASSERT_TRUE((*log)->Sync().ok());
  EXPECT_EQ(disk.dropped_behind_bytes(), 8 * kMiB);
  EXPECT_EQ(
      CachedMiB(dir + "/log", 8),
      (std::vector<bool>{true, true, true, true, true, true, false, false}));
}

TEST(PosixDiskDropBehindTest, OffByDefaultAndAfterATruncateDropsAgain) {
  const std::string dir = FreshDir();
  {
    PosixDisk disk(dir);
    absl::StatusOr<std::unique_ptr<env::File>> log = disk.Create("off");
    ASSERT_TRUE(log.ok());
    (*log)->AdviseAppendOnlyLog();
    ASSERT_TRUE((*log)->Append(Pattern(5 * kMiB)).ok());
    ASSERT_TRUE((*log)->Sync().ok());
    EXPECT_EQ(disk.dropped_behind_bytes(), 0u);
    EXPECT_EQ(CachedMiB(dir + "/off", 5), std::vector<bool>(5, true));
  }
  PosixDisk disk(dir, kMiB);
  absl::StatusOr<std::unique_ptr<env::File>> log = disk.Create("log");
  ASSERT_TRUE(log.ok());
  (*log)->AdviseAppendOnlyLog();
  ASSERT_TRUE((*log)->Append(Pattern(5 * kMiB)).ok());
  ASSERT_TRUE((*log)->Sync().ok());
  EXPECT_EQ(disk.dropped_behind_bytes(), 4 * kMiB);
  // Cut back and written again (a Raft log truncation): the rewritten bytes
  // are dropped once synced, though they lie below the earlier mark.
  ASSERT_TRUE((*log)->Truncate(kMiB).ok());
  ASSERT_TRUE((*log)->Append(Pattern(4 * kMiB)).ok());
  ASSERT_TRUE((*log)->Sync().ok());
  EXPECT_EQ(disk.dropped_behind_bytes(), 8 * kMiB);
  EXPECT_EQ(CachedMiB(dir + "/log", 5),
            (std::vector<bool>{false, false, false, false, true}));
}

}  // namespace
}  // namespace chronik::runtime

namespace chronik::env {
INSTANTIATE_TEST_SUITE_P(
    Posix, DiskConformanceTest,
    ::testing::Values(DiskFactory{
        "posix",
        [] { return std::make_unique<::chronik::runtime::PosixHarness>(); }}),
    DiskFactoryName);
}  // namespace chronik::env
