// The Disk interface: all file access of deterministic broker code goes
// through it.
//
// What it is for: the storage layer (broker/storage/) is written against this
// narrow interface so the same code runs on a real file system
// (broker/runtime/posix_disk.h) and on the simulator's disk
// (sim/disk/sim_disk.h), which can lose unsynced data, tear writes and fail
// operations on purpose. Both implementations pass one conformance suite
// (broker/env/disk_conformance.h).
//
// Paths are relative to the disk's root, '/'-separated, without "." or ".."
// parts ("g7/log-00000000000000000001.seg"); "" names the root directory.
//
// Durability contract (what survives a crash; anything else may be lost):
//  - File bytes written by Append/WriteAt and size changes by Truncate are
//    durable once a later File::Sync on that file returned OK. Before that, a
//    crash may keep none, all, or an in-order prefix of the unsynced changes,
//    and the last kept write may be torn (only a prefix of it kept) with its
//    last sector garbled.
//  - A directory entry (a file or directory created in `dir`, a Rename into
//    or out of `dir`, a Remove from `dir`) is durable once a later
//    SyncDir(dir) returned OK. A file created and synced whose directory was
//    never synced may vanish in a crash; a renamed file may come back under
//    its old name. Rename replaces the target atomically.
//  - A failed Sync (EIO, ENOSPC) leaves the unsynced changes in an unknown
//    state: callers must not retry and assume durability (the log treats it
//    as fatal for the group).
//
// Errors are absl::Status: NotFound (missing file/dir), AlreadyExists,
// InvalidArgument (bad path, write past end), Unavailable for EIO,
// ResourceExhausted for ENOSPC, FailedPrecondition for a handle used after a
// simulated crash.
//
// Ownership: Disk outlives every File it returned. Thread-safety: a Disk and
// its Files are used from one thread at a time (the production IO thread or
// the simulator's loop), with one exception: File::Sync of distinct files may
// run concurrently (a driver's parallel fsyncs). Implementations do no locking.
#ifndef CHRONIK_BROKER_ENV_DISK_H_
#define CHRONIK_BROKER_ENV_DISK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace chronik::env {

// The volume a Disk's root lives on (DescribeLogDirs' total and usable
// bytes).
struct DiskSpace {
  uint64_t total_bytes = 0;
  uint64_t usable_bytes = 0;  // what new files may still take
};

// An open file. Writes go at explicit positions; the file's size is the end of
// its furthest byte. Closing (destruction) does not sync.
class File {
 public:
  virtual ~File() = default;

  // Current size in bytes (including unsynced writes).
  virtual uint64_t Size() const = 0;

  // Writes `data` at the current end of the file.
  virtual absl::Status Append(absl::string_view data) = 0;

  // Writes `pieces`, in order, at the current end of the file: the same
  // write as Append of their concatenation (one write for the durability
  // contract: a crash keeps none, all or a prefix of it), without the caller
  // concatenating them first (production: pwritev, so a payload the caller
  // shares reaches the page cache with no copy in user space). The default
  // concatenates and calls Append.
  virtual absl::Status AppendV(absl::Span<const absl::string_view> pieces);

  // Writes `data` at `offset`; `offset` must be <= Size() (no holes):
  // InvalidArgument otherwise. Extends the file when it writes past the end.
  virtual absl::Status WriteAt(uint64_t offset, absl::string_view data) = 0;

  // Reads up to `size` bytes at `offset` into `out` (which must hold `size`
  // bytes). Returns the number of bytes read: fewer than `size` only at the end
  // of the file, 0 when `offset` >= Size().
  virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t size,
                                        char* out) const = 0;

  // Sets the size to `size` (shrinking or zero-extending).
  virtual absl::Status Truncate(uint64_t size) = 0;

  // Makes every earlier write and truncate of this file durable
  // (fsync/fdatasync).
  virtual absl::Status Sync() = 0;

  // A hint with no effect on the contract: this file is a log, appended at
  // its end and read mostly near it. The production disk then drops its
  // synced bytes from the page cache once they lie far enough behind the end
  // (PosixDisk's drop-behind); other implementations ignore it.
  virtual void AdviseAppendOnlyLog() {}
};

class Disk {
 public:
  virtual ~Disk() = default;

  // Opens an existing file for reading and writing. NotFound when it does not
  // exist.
  virtual absl::StatusOr<std::unique_ptr<File>> Open(
      absl::string_view path) = 0;

  // Creates a file (empty; an existing file is truncated to empty) and opens
  // it. The parent directory must exist. The new entry is durable after
  // SyncDir(parent).
  virtual absl::StatusOr<std::unique_ptr<File>> Create(
      absl::string_view path) = 0;

  // Creates a directory whose parent exists. OK when it already exists as a
  // directory. Durable after SyncDir(parent).
  virtual absl::Status CreateDir(absl::string_view path) = 0;

  // Names (not paths) of the entries of `dir`, files and directories, sorted
  // bytewise.
  virtual absl::StatusOr<std::vector<std::string>> List(
      absl::string_view dir) = 0;

  // True when `path` names an existing file or directory.
  virtual absl::StatusOr<bool> Exists(absl::string_view path) = 0;

  // Removes a file. NotFound when it does not exist. Durable after
  // SyncDir(parent).
  virtual absl::Status Remove(absl::string_view path) = 0;

  // Removes an empty directory. Durable after SyncDir(parent).
  virtual absl::Status RemoveDir(absl::string_view path) = 0;

  // Atomically renames file `from` to `to`, replacing `to` if it exists.
  // Durable after SyncDir of both parents.
  virtual absl::Status Rename(absl::string_view from, absl::string_view to) = 0;

  // Makes the entries of directory `dir` durable (creations, renames,
  // removals).
  virtual absl::Status SyncDir(absl::string_view dir) = 0;

  // Makes every file and directory entry under the root durable, as if
  // each file and directory had been synced (production: one syncfs(2) of
  // the root's file system). Unimplemented (the default): the caller syncs
  // what it needs one by one.
  virtual absl::Status SyncAll() {
    return absl::UnimplementedError("SyncAll is not implemented");
  }

  // The size of the volume holding the root and the bytes still usable on
  // it (production: statvfs; the simulator: its capacity and what its files
  // hold). Unavailable when it cannot be read.
  virtual absl::StatusOr<DiskSpace> Space() = 0;
};

// "a/b/c" -> "a/b"; "c" -> "".
std::string ParentDir(absl::string_view path);
// JoinPath("", "x") == "x"; JoinPath("a", "x") == "a/x".
std::string JoinPath(absl::string_view dir, absl::string_view name);
// True for "", "a", "a/b": no empty, "." or ".." parts, no leading or trailing
// '/'.
bool IsValidPath(absl::string_view path);

}  // namespace chronik::env

#endif  // CHRONIK_BROKER_ENV_DISK_H_
