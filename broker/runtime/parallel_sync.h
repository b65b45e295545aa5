// SyncInParallel: the production driver's way to run the fsyncs of one
// LogStore flush (FlushPlan::files_to_sync) concurrently.
//
// File systems batch concurrent fsyncs of different files into one journal
// commit, so syncing the segments of 100 groups from a few threads costs about
// as much as syncing one (measured by storage_bench). Runs on the calling
// thread when there is at most one file; otherwise starts up to `max_threads`
// threads that take files from a shared counter, and joins them before
// returning. Returns one status per file, in the order of `files`.
#ifndef CHRONIK_BROKER_RUNTIME_PARALLEL_SYNC_H_
#define CHRONIK_BROKER_RUNTIME_PARALLEL_SYNC_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "broker/env/disk.h"

namespace chronik::runtime {

std::vector<absl::Status> SyncInParallel(absl::Span<env::File* const> files,
                                         int max_threads);

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_PARALLEL_SYNC_H_
