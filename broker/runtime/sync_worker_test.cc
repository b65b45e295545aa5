#include "broker/runtime/sync_worker.h"

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "broker/runtime/posix_disk.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

TEST(SyncWorkerTest, SyncsOffThreadAndDeliversOnTheCallersThread) {
  auto disk = std::make_unique<PosixDisk>(std::getenv("TEST_TMPDIR"));
  std::vector<std::unique_ptr<env::File>> files;
  std::vector<env::File*> raw;
  for (int i = 0; i < 3; ++i) {
    auto file = disk->Create("f" + std::to_string(i));
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("data").ok());
    raw.push_back(file->get());
    files.push_back(std::move(*file));
  }
  std::atomic<int> wakes{0};
  SyncWorker worker([&] { ++wakes; }, 4);
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<std::vector<absl::Status>> delivered;
  std::thread::id delivered_on;
  for (int job = 0; job < 2; ++job) {
    worker.Submit(raw, [&](std::vector<absl::Status> results) {
      delivered_on = std::this_thread::get_id();
      delivered.push_back(std::move(results));
    });
  }
  worker.WaitIdle();
  EXPECT_TRUE(delivered.empty()) << "nothing runs until DeliverCompleted";
  EXPECT_EQ(wakes.load(), 2);
  worker.DeliverCompleted();
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered_on, caller);
  for (const auto& results : delivered) {
    ASSERT_EQ(results.size(), 3u);
    for (const absl::Status& status : results) EXPECT_TRUE(status.ok());
  }
}

}  // namespace
}  // namespace chronik::runtime
