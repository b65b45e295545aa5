// SyncWorker: the production driver's IO thread for storage fsyncs.
//
// The broker (env::FsyncMode::kAsync) returns the files of one storage flush
// in its StepOutput (env::SyncRequest); the Server submits them here and the
// worker fsyncs them (runtime::SyncFlushFiles: concurrently when there are
// several, or one syncfs for many) while the event loop goes on reading and
// handling requests, then calls `wake` from its own thread. The loop thread
// then takes the finished flushes (TakeCompleted) and hands them to the node as
// inputs (Node::OnSyncDone), so everything the broker does stays on the loop
// thread.
//
// Thread-safety: Submit, TakeCompleted and WaitIdle are called from the loop
// thread; the worker thread only syncs files and calls `wake`. The files
// must stay open until their job completed (the broker keeps them: deleting a
// group waits for the flush in flight). The destructor finishes the running
// job, abandons queued ones and joins.
#ifndef CHRONIK_BROKER_RUNTIME_SYNC_WORKER_H_
#define CHRONIK_BROKER_RUNTIME_SYNC_WORKER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "broker/env/env.h"
#include "broker/runtime/parallel_sync.h"

namespace chronik::runtime {

class SyncWorker {
 public:
  struct Completed {
    uint64_t flush_id = 0;
    std::vector<absl::Status> results;  // one per file, in request order
  };

  // `wake` runs on the worker thread after each job (e.g. post a task to the
  // event loop that calls TakeCompleted). `policy` says how one job's files
  // are synced.
  SyncWorker(std::function<void()> wake, SyncPolicy policy);
  ~SyncWorker();
  SyncWorker(const SyncWorker&) = delete;
  SyncWorker& operator=(const SyncWorker&) = delete;

  void Submit(env::SyncRequest request);
  // The finished jobs, in submission order.
  std::vector<Completed> TakeCompleted();
  // Blocks until every submitted job has been synced (not taken).
  void WaitIdle();

 private:
  void Loop();

  const std::function<void()> wake_;
  const SyncPolicy policy_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<env::SyncRequest> queued_;  // guarded by mu_
  std::vector<Completed> completed_;     // guarded by mu_
  bool busy_ = false;                    // guarded by mu_
  bool stopping_ = false;                // guarded by mu_
  std::thread thread_;
};

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_SYNC_WORKER_H_
