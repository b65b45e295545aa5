// PosixDisk: the production implementation of env::Disk on a real file system.
//
// The only place in chronik that makes file syscalls (open, pread, pwrite,
// ftruncate, fdatasync, rename, unlink, mkdir, directory fsync, statvfs). Every
// path is resolved under the root directory given at construction; the root
// must exist. Errors carry the path and the errno text. File::Sync uses
// fdatasync (the file size is metadata fdatasync covers); SyncDir opens the
// directory and fsyncs it.
//
// Thread-safety: as env::Disk (one thread at a time per disk and per file).
// Ownership: the PosixDisk outlives its files; each File owns its descriptor.
#ifndef CHRONIK_BROKER_RUNTIME_POSIX_DISK_H_
#define CHRONIK_BROKER_RUNTIME_POSIX_DISK_H_

#include <memory>
#include <string>
#include <vector>

#include "broker/env/disk.h"

namespace chronik::runtime {

class PosixDisk final : public env::Disk {
 public:
  explicit PosixDisk(std::string root);

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

 private:
  absl::StatusOr<std::string> Resolve(absl::string_view path) const;
  absl::StatusOr<std::unique_ptr<env::File>> OpenWithFlags(
      absl::string_view path, int flags);

  std::string root_;
};

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_POSIX_DISK_H_
