#include "broker/runtime/sync_worker.h"

#include <utility>

#include "base/check.h"
#include "broker/runtime/parallel_sync.h"

namespace chronik::runtime {

SyncWorker::SyncWorker(std::function<void()> wake, SyncPolicy policy)
    : wake_(std::move(wake)), policy_(policy) {
  CHRONIK_CHECK(wake_ != nullptr);
  CHRONIK_CHECK_GE(policy_.max_threads, 1);
  thread_ = std::thread([this] { Loop(); });
}

SyncWorker::~SyncWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void SyncWorker::Submit(env::SyncRequest request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_.push_back(std::move(request));
  }
  changed_.notify_all();
}

void SyncWorker::Loop() {
  while (true) {
    env::SyncRequest job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
      if (stopping_) return;
      job = std::move(queued_.front());
      queued_.pop_front();
      busy_ = true;
    }
    Completed done{job.flush_id, SyncFlushFiles(job.files, policy_)};
    CHRONIK_CHECK_EQ(done.results.size(), job.files.size());
    {
      std::lock_guard<std::mutex> lock(mu_);
      completed_.push_back(std::move(done));
    }
    wake_();
    {
      // Idle only after the wake-up: WaitIdle() then implies it happened.
      std::lock_guard<std::mutex> lock(mu_);
      busy_ = false;
    }
    changed_.notify_all();
  }
}

std::vector<SyncWorker::Completed> SyncWorker::TakeCompleted() {
  std::vector<Completed> completed;
  std::lock_guard<std::mutex> lock(mu_);
  completed.swap(completed_);
  return completed;
}

void SyncWorker::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return queued_.empty() && !busy_; });
}

}  // namespace chronik::runtime
