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

TEST(SyncWorkerTest, SyncsOffThreadAndHandsResultsBackInOrder) {
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
  SyncWorker worker([&] { ++wakes; }, SyncPolicy{.max_threads = 4});
  for (uint64_t flush_id = 1; flush_id <= 2; ++flush_id) {
    worker.Submit(env::SyncRequest{flush_id, raw});
  }
  worker.WaitIdle();
  EXPECT_EQ(wakes.load(), 2);
  std::vector<SyncWorker::Completed> completed = worker.TakeCompleted();
  ASSERT_EQ(completed.size(), 2u);
  for (uint64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(completed[i].flush_id, i + 1) << "in submission order";
    ASSERT_EQ(completed[i].results.size(), 3u);
    for (const absl::Status& status : completed[i].results) {
      EXPECT_TRUE(status.ok());
    }
  }
  EXPECT_TRUE(worker.TakeCompleted().empty()) << "taken once";
}

}  // namespace
}  // namespace chronik::runtime
