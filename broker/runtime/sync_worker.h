// SyncWorker: the production driver's IO thread for storage fsyncs.
//
// The broker (through replication::RaftHost's async mode) hands it the files
// of one storage flush; the worker fsyncs them (concurrently when there are
// several, runtime::SyncInParallel) while the event loop goes on reading and
// handling requests, then calls `wake` from its own thread. The loop thread
// then calls DeliverCompleted(), which runs the flush's `done` callback there,
// so everything the broker does stays on the loop thread.
//
// Thread-safety: Submit, DeliverCompleted and WaitIdle are called from the
// loop thread; the worker thread only syncs files and calls `wake`. The files
// must stay open until their job completed (the broker keeps them: deleting a
// group waits for the flush in flight). The destructor finishes the running
// job, abandons queued ones and joins.
#ifndef CHRONIK_BROKER_RUNTIME_SYNC_WORKER_H_
#define CHRONIK_BROKER_RUNTIME_SYNC_WORKER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "broker/env/disk.h"
#include "broker/replication/raft_host.h"

namespace chronik::runtime {

class SyncWorker {
 public:
  // `wake` runs on the worker thread after each job (e.g. post a task to the
  // event loop that calls DeliverCompleted). `max_threads` bounds the
  // concurrent fsyncs of one job.
  SyncWorker(std::function<void()> wake, int max_threads);
  ~SyncWorker();
  SyncWorker(const SyncWorker&) = delete;
  SyncWorker& operator=(const SyncWorker&) = delete;

  void Submit(std::vector<env::File*> files, replication::SyncDone done);
  // Runs the callbacks of finished jobs, in submission order.
  void DeliverCompleted();
  // Blocks until every submitted job has been synced (not delivered).
  void WaitIdle();

 private:
  struct Job {
    std::vector<env::File*> files;
    replication::SyncDone done;
    std::vector<absl::Status> results;
  };
  void Loop();

  const std::function<void()> wake_;
  const int max_threads_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Job> queued_;     // guarded by mu_
  std::deque<Job> completed_;  // guarded by mu_
  bool busy_ = false;          // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread thread_;
};

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_SYNC_WORKER_H_
