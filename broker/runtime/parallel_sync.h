// SyncInParallel: the production driver's way to run the fsyncs of one
// LogStore flush (FlushPlan::files_to_sync) concurrently.
//
// File systems batch concurrent fsyncs of different files into one journal
// commit, so syncing the segments of 100 groups from a few threads costs about
// as much as syncing one (measured by storage_bench). Runs on the calling
// thread when there is at most one file; otherwise starts up to `max_threads`
// threads that take files from a shared counter, and joins them before
// returning. Returns one status per file, in the order of `files`.
//
// SyncFlushFiles: what the driver runs for a flush. Concurrent fdatasyncs
// still cost about one journal commit each on ext4 (storage_bench: 100 groups
// reach about a third of the raw disk), so a flush of at least
// `filesystem_sync_min_files` files of the data directory's file system syncs
// that file system once instead (PosixDisk::SyncFilesystem, syncfs(2)): the
// cost of a flush no longer grows with the number of groups it touches. The
// price: syncfs also writes back other dirty data of that file system (other
// programs' too), so a data directory on a busy shared file system should
// set the threshold to 0 (never). Files elsewhere (another mount, or not
// PosixDisk files) are fdatasynced as before.
#ifndef CHRONIK_BROKER_RUNTIME_PARALLEL_SYNC_H_
#define CHRONIK_BROKER_RUNTIME_PARALLEL_SYNC_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "broker/env/disk.h"
#include "broker/runtime/posix_disk.h"

namespace chronik::runtime {

std::vector<absl::Status> SyncInParallel(absl::Span<env::File* const> files,
                                         int max_threads);

// The production driver's threshold (ServerOptions::filesystem_sync_min_files).
inline constexpr size_t kDefaultFilesystemSyncMinFiles = 8;

struct SyncPolicy {
  int max_threads = 8;  // concurrent fdatasyncs
  // A flush with at least this many files on `disk`'s file system syncs it
  // with one syncfs; 0: never.
  size_t filesystem_sync_min_files = 0;
  PosixDisk* disk = nullptr;  // the data directory (required for syncfs)
};

std::vector<absl::Status> SyncFlushFiles(absl::Span<env::File* const> files,
                                         const SyncPolicy& policy);

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_PARALLEL_SYNC_H_
