// PosixDisk: the production implementation of env::Disk on a real file system.
//
// The only place in chronik that makes file syscalls (open, pread, pwrite,
// ftruncate, fdatasync, rename, unlink, mkdir, directory fsync, statvfs). Every
// path is resolved under the root directory given at construction; the root
// must exist. Errors carry the path and the errno text. File::Sync uses
// fdatasync (the file size is metadata fdatasync covers); SyncDir opens the
// directory and fsyncs it. SyncFilesystem makes every file of the root's file
// system durable with one syncfs(2) (see parallel_sync.h for when that is
// used instead of one fdatasync per file).
//
// Drop-behind (File::AdviseAppendOnlyLog, with drop_behind_bytes > 0): once a
// log file's bytes are synced and lie more than drop_behind_bytes behind its
// end, they are dropped from the page cache (posix_fadvise DONTNEED, in
// aligned 2 MiB chunks). Why: a steady write load then reuses the same page
// cache pages instead of growing the cache into memory nobody touched yet,
// which on a VM whose free memory goes back to the host (virtio-balloon free
// page reporting) costs a host page fault per new page: measured here, writing
// into such pages ran at a third of the speed of reusing pages. The newest
// bytes stay cached for consumers at the end of the log; older ones are
// read from disk (and cached again) as any uncached file.
//
// Thread-safety: as env::Disk (one thread at a time per disk and per file).
// Ownership: the PosixDisk outlives its files; each File owns its descriptor.
#ifndef CHRONIK_BROKER_RUNTIME_POSIX_DISK_H_
#define CHRONIK_BROKER_RUNTIME_POSIX_DISK_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/env/disk.h"

namespace chronik::runtime {

class PosixDisk final : public env::Disk {
 public:
  // `drop_behind_bytes` 0: no drop-behind (the kernel keeps what it can).
  explicit PosixDisk(std::string root, uint64_t drop_behind_bytes = 0);
  ~PosixDisk() override;
  PosixDisk(const PosixDisk&) = delete;
  PosixDisk& operator=(const PosixDisk&) = delete;

  absl::StatusOr<std::unique_ptr<env::File>> Open(
      absl::string_view path) override;
  absl::StatusOr<std::unique_ptr<env::File>> Create(
      absl::string_view path) override;
  absl::Status CreateDir(absl::string_view path) override;
  absl::StatusOr<std::vector<std::string>> List(absl::string_view dir) override;
  absl::StatusOr<bool> Exists(absl::string_view path) override;
  absl::Status Remove(absl::string_view path) override;
  absl::Status RemoveDir(absl::string_view path) override;
  absl::Status Rename(absl::string_view from, absl::string_view to) override;
  absl::Status SyncDir(absl::string_view dir) override;
  absl::StatusOr<env::DiskSpace> Space() override;

  const std::string& root() const { return root_; }

  // The file system (st_dev) of the root, nullopt when the root could not be
  // opened at construction (then SyncFilesystem fails).
  std::optional<uint64_t> device() const { return device_; }
  // syncfs(2) through a descriptor of the root opened at construction: on
  // return every file of the root's file system is durable as after its own
  // fdatasync, and an error reports any writeback error of the file system
  // since the previous call (Linux 5.8+ tracks them per descriptor), so a
  // failure counts for every file the caller meant to sync.
  absl::Status SyncFilesystem();
  // env::Disk: SyncFilesystem.
  absl::Status SyncAll() override { return SyncFilesystem(); }
  // How many SyncFilesystem calls were made (any thread).
  uint64_t filesystem_syncs() const { return filesystem_syncs_.load(); }
  // Bytes of synced log files dropped from the page cache (any thread).
  uint64_t dropped_behind_bytes() const { return drop_behind_.dropped.load(); }

  // Drop-behind settings and count, shared with the files (the disk
  // outlives them).
  struct DropBehind {
    uint64_t keep_bytes = 0;  // 0: off
    std::atomic<uint64_t> dropped{0};
  };

 private:
  absl::StatusOr<std::string> Resolve(absl::string_view path) const;
  absl::StatusOr<std::unique_ptr<env::File>> OpenWithFlags(
      absl::string_view path, int flags);

  std::string root_;
  int root_fd_ = -1;
  std::optional<uint64_t> device_;
  std::atomic<uint64_t> filesystem_syncs_{0};
  DropBehind drop_behind_;
};

// The file system (st_dev) a file of a PosixDisk lives on; nullopt for any
// other env::File.
std::optional<uint64_t> PosixDeviceOf(const env::File& file);

// Drop-behind for a file synced by SyncFilesystem rather than its own Sync:
// DropBehindMark before the syncfs (the end every byte below which it makes
// durable; nullopt for a file without drop-behind), DropBehindAfterSync with
// that mark once it succeeded.
std::optional<uint64_t> DropBehindMark(const env::File& file);
void DropBehindAfterSync(env::File& file, uint64_t mark);

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_POSIX_DISK_H_
