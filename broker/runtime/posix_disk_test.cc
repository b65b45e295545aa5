#include "broker/runtime/posix_disk.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

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
