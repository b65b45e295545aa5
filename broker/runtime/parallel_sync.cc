#include "broker/runtime/parallel_sync.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "base/check.h"

namespace chronik::runtime {

std::vector<absl::Status> SyncInParallel(absl::Span<env::File* const> files,
                                         int max_threads) {
  CHRONIK_CHECK_GT(max_threads, 0);
  std::vector<absl::Status> results(files.size());
  if (files.size() <= 1 || max_threads == 1) {
    for (size_t i = 0; i < files.size(); ++i) results[i] = files[i]->Sync();
    return results;
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      results[i] = files[i]->Sync();
    }
  };
  const size_t threads =
      std::min<size_t>(static_cast<size_t>(max_threads), files.size()) - 1;
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
  worker();  // the calling thread works too
  for (std::thread& thread : pool) thread.join();
  return results;
}

std::vector<absl::Status> SyncFlushFiles(absl::Span<env::File* const> files,
                                         const SyncPolicy& policy) {
  const bool may_sync_filesystem =
      policy.filesystem_sync_min_files > 0 && policy.disk != nullptr &&
      policy.disk->device().has_value() &&
      files.size() >= policy.filesystem_sync_min_files;
  if (!may_sync_filesystem) return SyncInParallel(files, policy.max_threads);
  std::vector<size_t> on_disk;    // indexes of files syncfs covers
  std::vector<size_t> elsewhere;  // indexes of the others
  std::vector<env::File*> elsewhere_files;
  for (size_t i = 0; i < files.size(); ++i) {
    if (PosixDeviceOf(*files[i]) == policy.disk->device()) {
      on_disk.push_back(i);
    } else {
      elsewhere.push_back(i);
      elsewhere_files.push_back(files[i]);
    }
  }
  if (on_disk.size() < policy.filesystem_sync_min_files) {
    return SyncInParallel(files, policy.max_threads);
  }
  std::vector<absl::Status> results(files.size());
  std::vector<std::optional<uint64_t>> marks;  // drop-behind, by on_disk
  marks.reserve(on_disk.size());
  for (size_t i : on_disk) marks.push_back(DropBehindMark(*files[i]));
  const absl::Status synced = policy.disk->SyncFilesystem();
  for (size_t k = 0; k < on_disk.size(); ++k) {
    results[on_disk[k]] = synced;
    if (synced.ok() && marks[k].has_value()) {
      DropBehindAfterSync(*files[on_disk[k]], *marks[k]);
    }
  }
  std::vector<absl::Status> others =
      SyncInParallel(elsewhere_files, policy.max_threads);
  CHRONIK_CHECK_EQ(others.size(), elsewhere.size());
  for (size_t k = 0; k < elsewhere.size(); ++k) {
    results[elsewhere[k]] = std::move(others[k]);
  }
  return results;
}

}  // namespace chronik::runtime
