#include "sim/disk/sim_disk.h"

#include <random>
#include <set>
#include <string>

#include "broker/env/disk_conformance.h"
#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

class SimHarness : public env::DiskHarness {
 public:
  SimHarness() : rng_(7), disk_(SimDiskOptions{}, rng_) {}
  env::Disk* disk() override { return &disk_; }

 private:
  std::mt19937_64 rng_;
  SimDisk disk_;
};

std::string ReadFile(SimDisk& disk, const std::string& path) {
  absl::StatusOr<std::unique_ptr<env::File>> file = disk.Open(path);
  if (!file.ok())
    return "<" + std::string(absl::StatusCodeToString(file.status().code())) +
           ">";
  std::string out((*file)->Size(), '\0');
  absl::StatusOr<size_t> n = (*file)->ReadAt(0, out.size(), out.data());
  EXPECT_TRUE(n.ok());
  return out;
}

// Writes "AAAA" synced, then "BBBB" and "CCCC" unsynced, into a dir-synced
// file.
void WriteSyncedThenUnsynced(SimDisk& disk) {
  std::unique_ptr<env::File> file = *disk.Create("f");
  ASSERT_TRUE(disk.SyncDir("").ok());
  ASSERT_TRUE(file->Append("AAAA").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Append("BBBB").ok());
  ASSERT_TRUE(file->Append("CCCC").ok());
}

TEST(SimDiskCrashTest, WithoutTearingAnInOrderPrefixOfUnsyncedWritesSurvives) {
  std::set<std::string> outcomes;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    std::mt19937_64 rng(seed);
    SimDisk disk(SimDiskOptions{.torn_write_probability = 0.0}, rng);
    WriteSyncedThenUnsynced(disk);
    disk.Crash();
    outcomes.insert(ReadFile(disk, "f"));
  }
  EXPECT_EQ(outcomes,
            (std::set<std::string>{"AAAA", "AAAABBBB", "AAAABBBBCCCC"}));
}

TEST(SimDiskCrashTest, TornWritesKeepAPrefixOfTheFirstLostWrite) {
  std::set<std::string> outcomes;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 rng(seed);
    SimDisk disk(SimDiskOptions{.torn_write_probability = 1.0}, rng);
    WriteSyncedThenUnsynced(disk);
    disk.Crash();
    const std::string got = ReadFile(disk, "f");
    EXPECT_EQ(std::string("AAAABBBBCCCC").substr(0, got.size()), got);
    EXPECT_GE(got.size(), 4u);
    outcomes.insert(got);
  }
  EXPECT_GT(outcomes.size(), 5u);  // torn lengths actually vary
}

TEST(SimDiskCrashTest, CorruptSectorGarblesOnlyTheTornTail) {
  bool saw_garbage = false;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    std::mt19937_64 rng(seed);
    SimDisk disk(SimDiskOptions{.sector_size_bytes = 2,
                                .torn_write_probability = 1.0,
                                .corrupt_sector_probability = 1.0},
                 rng);
    WriteSyncedThenUnsynced(disk);
    disk.Crash();
    const std::string got = ReadFile(disk, "f");
    ASSERT_GE(got.size(), 4u);
    EXPECT_EQ(got.substr(0, 4), "AAAA");  // synced bytes never garbled
    if (got != std::string("AAAABBBBCCCC").substr(0, got.size())) {
      saw_garbage = true;
    }
  }
  EXPECT_TRUE(saw_garbage);
}

TEST(SimDiskCrashTest, UnsyncedDirectoryEntriesVanish) {
  std::mt19937_64 rng(1);
  SimDisk disk(SimDiskOptions{}, rng);
  std::unique_ptr<env::File> file = *disk.Create("f");
  ASSERT_TRUE(file->Append("x").ok());
  ASSERT_TRUE(file->Sync().ok());  // data synced, directory not
  disk.Crash();
  EXPECT_FALSE(*disk.Exists("f"));
}

TEST(SimDiskCrashTest, UnsyncedRenameComesBackUnderTheOldName) {
  std::mt19937_64 rng(1);
  SimDisk disk(SimDiskOptions{}, rng);
  std::unique_ptr<env::File> file = *disk.Create("tmp");
  ASSERT_TRUE(file->Append("state").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(disk.SyncDir("").ok());
  ASSERT_TRUE(disk.Rename("tmp", "final").ok());
  disk.Crash();
  EXPECT_EQ(ReadFile(disk, "tmp"), "state");
  EXPECT_FALSE(*disk.Exists("final"));
}

TEST(SimDiskCrashTest, SyncedRenameAndDataSurvive) {
  std::mt19937_64 rng(1);
  SimDisk disk(SimDiskOptions{}, rng);
  ASSERT_TRUE(disk.CreateDir("d").ok());
  ASSERT_TRUE(disk.SyncDir("").ok());
  std::unique_ptr<env::File> file = *disk.Create("d/tmp");
  ASSERT_TRUE(file->Append("state").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(disk.Rename("d/tmp", "d/final").ok());
  ASSERT_TRUE(disk.SyncDir("d").ok());
  disk.Crash();
  EXPECT_EQ(ReadFile(disk, "d/final"), "state");
  EXPECT_FALSE(*disk.Exists("d/tmp"));
}

TEST(SimDiskCrashTest, EntriesOfAnUnsyncedDirectoryVanishWithIt) {
  std::mt19937_64 rng(1);
  SimDisk disk(SimDiskOptions{}, rng);
  ASSERT_TRUE(disk.CreateDir("d").ok());
  std::unique_ptr<env::File> file = *disk.Create("d/f");
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(disk.SyncDir("d").ok());  // but "" never synced
  disk.Crash();
  EXPECT_FALSE(*disk.Exists("d"));
  EXPECT_FALSE(*disk.Exists("d/f"));
}

TEST(SimDiskCrashTest, OpenFilesDieInACrash) {
  std::mt19937_64 rng(1);
  SimDisk disk(SimDiskOptions{}, rng);
  std::unique_ptr<env::File> file = *disk.Create("f");
  disk.Crash();
  EXPECT_EQ(file->Append("x").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(file->Sync().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SimDiskFaultTest, InjectedSyncFailureKeepsDataUnsynced) {
  std::mt19937_64 rng(3);
  SimDisk disk(SimDiskOptions{.torn_write_probability = 0.0,
                              .sync_error_probability = 1.0},
               rng);
  std::unique_ptr<env::File> file = *disk.Create("f");
  ASSERT_TRUE(file->Append("x").ok());
  EXPECT_EQ(file->Sync().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(disk.SyncDir("").code(), absl::StatusCode::kUnavailable);
}

TEST(SimDiskFaultTest, InjectedWriteFailureHasNoEffect) {
  std::mt19937_64 rng(3);
  SimDisk disk(SimDiskOptions{.write_error_probability = 1.0}, rng);
  std::unique_ptr<env::File> file = *disk.Create("f");
  EXPECT_EQ(file->Append("x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(file->Size(), 0u);
}

TEST(SimDiskFaultTest, FullDiskIsResourceExhausted) {
  std::mt19937_64 rng(3);
  SimDisk disk(SimDiskOptions{.capacity_bytes = 10}, rng);
  std::unique_ptr<env::File> file = *disk.Create("f");
  ASSERT_TRUE(file->Append("12345678").ok());
  EXPECT_EQ(file->Append("abc").code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(file->Truncate(2).ok());
  EXPECT_TRUE(file->Append("abc").ok());
}

TEST(SimDiskFaultTest, SyncLatencyIsDrawnFromTheConfiguredRange) {
  std::mt19937_64 rng(5);
  SimDisk disk(SimDiskOptions{.fsync_latency_min_micros = 100,
                              .fsync_latency_max_micros = 200},
               rng);
  std::unique_ptr<env::File> file = *disk.Create("f");
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Sync().ok());
  const uint64_t latency = disk.TakeSyncLatencyMicros();
  EXPECT_GE(latency, 200u);
  EXPECT_LE(latency, 400u);
  EXPECT_EQ(disk.TakeSyncLatencyMicros(), 0u);
}

TEST(SimDiskFaultTest, CorruptByteHitsDurableBytes) {
  std::mt19937_64 rng(5);
  SimDisk disk(SimDiskOptions{}, rng);
  std::unique_ptr<env::File> file = *disk.Create("f");
  ASSERT_TRUE(disk.SyncDir("").ok());
  ASSERT_TRUE(file->Append("abc").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(disk.CorruptByte("f", 1, 0x01).ok());
  disk.Crash();
  EXPECT_EQ(ReadFile(disk, "f"), "acc");
}

TEST(SimDiskFaultTest, SameSeedSameOutcome) {
  auto run = [](uint64_t seed) {
    std::mt19937_64 rng(seed);
    SimDisk disk(SimDiskOptions{.torn_write_probability = 0.7,
                                .corrupt_sector_probability = 0.5},
                 rng);
    std::unique_ptr<env::File> file = *disk.Create("f");
    EXPECT_TRUE(disk.SyncDir("").ok());
    for (int i = 0; i < 20; ++i) {
      EXPECT_TRUE(file->Append(std::string(100, 'a' + i)).ok());
    }
    disk.Crash();
    return ReadFile(disk, "f");
  };
  for (uint64_t seed = 0; seed < 10; ++seed) EXPECT_EQ(run(seed), run(seed));
}

}  // namespace
}  // namespace chronik::sim

namespace chronik::env {
INSTANTIATE_TEST_SUITE_P(
    Sim, DiskConformanceTest,
    ::testing::Values(DiskFactory{
        "sim", [] { return std::make_unique<::chronik::sim::SimHarness>(); }}),
    DiskFactoryName);
}  // namespace chronik::env

namespace chronik::sim {
namespace {

TEST(SimDiskFaultTest, FreezeFailsEveryMutationUntilTheCrash) {
  std::mt19937_64 rng(5);
  SimDisk disk(SimDiskOptions{.torn_write_probability = 0.0}, rng);
  std::unique_ptr<env::File> file = *disk.Create("f");
  ASSERT_TRUE(disk.SyncDir("").ok());
  disk.FreezeAfterOps(2);
  EXPECT_TRUE(file->Append("a").ok());
  EXPECT_TRUE(file->Sync().ok());
  EXPECT_EQ(file->Append("b").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(disk.Create("g").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(disk.frozen());
  disk.Crash();
  EXPECT_FALSE(disk.frozen());
  EXPECT_EQ(ReadFile(disk, "f"), "a");
  EXPECT_TRUE(disk.Create("g").ok());
}

}  // namespace
}  // namespace chronik::sim
