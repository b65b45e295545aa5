#include "broker/runtime/parallel_sync.h"

#include <algorithm>
#include <atomic>
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

}  // namespace chronik::runtime
