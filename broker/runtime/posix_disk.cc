#include "broker/runtime/posix_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::runtime {
namespace {

absl::Status ErrnoStatus(int error, absl::string_view what,
                         absl::string_view path) {
  return absl::ErrnoToStatus(error, absl::StrCat(what, " ", path));
}

class PosixFile final : public env::File {
 public:
  PosixFile(int fd, std::string path, uint64_t size, uint64_t device,
            PosixDisk::DropBehind* drop_behind)
      : fd_(fd),
        path_(std::move(path)),
        size_(size),
        device_(device),
        drop_behind_(drop_behind) {}
  ~PosixFile() override { ::close(fd_); }

  uint64_t Size() const override { return size_; }

  absl::Status Append(absl::string_view data) override {
    return WriteAt(size_, data);
  }

  // pwritev of up to kMaxIovecs pieces at a time; a short write resumes
  // inside the piece where it stopped.
  absl::Status AppendV(absl::Span<const absl::string_view> pieces) override {
    std::vector<struct iovec> iov;
    iov.reserve(std::min(pieces.size(), kMaxIovecs));
    size_t next = 0;   // the first piece not yet in `iov`
    size_t first = 0;  // the first entry of `iov` not yet written
    while (first < iov.size() || next < pieces.size()) {
      if (first == iov.size()) {
        iov.clear();
        first = 0;
        while (iov.size() < kMaxIovecs && next < pieces.size()) {
          const absl::string_view piece = pieces[next++];
          if (piece.empty()) continue;
          iov.push_back({const_cast<char*>(piece.data()), piece.size()});
        }
        if (iov.empty()) break;
      }
      const ssize_t n = ::pwritev(fd_, iov.data() + first,
                                  static_cast<int>(iov.size() - first),
                                  static_cast<off_t>(size_));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "pwritev", path_);
      }
      if (n == 0) {
        return absl::UnavailableError(
            absl::StrCat("pwritev wrote nothing to ", path_));
      }
      size_ += static_cast<uint64_t>(n);
      first = SkipWritten(absl::MakeSpan(iov), first, static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
    if (offset > size_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "write at ", offset, " past end ", size_, " of ", path_));
    }
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                                 static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "pwrite", path_);
      }
      done += static_cast<size_t>(n);
    }
    size_ = std::max<uint64_t>(size_, offset + data.size());
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t size,
                                char* out) const override {
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pread(fd_, out + done, size - done,
                                static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "pread", path_);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  absl::Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoStatus(errno, "ftruncate", path_);
    }
    size_ = size;
    if (dropped_until_.load() > size) dropped_until_ = size;
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    const std::optional<uint64_t> mark = DropBehindMark();
    if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync", path_);
    if (mark.has_value()) DropSyncedBehind(*mark);
    return absl::OkStatus();
  }

  void AdviseAppendOnlyLog() override {
    append_only_log_ = drop_behind_->keep_bytes > 0;
  }

  // The file's size before a sync (fstat, not size_: the sync may run on
  // another thread than the appends): every byte below it is durable once
  // the sync returns. nullopt without drop-behind.
  std::optional<uint64_t> DropBehindMark() const {
    if (!append_only_log_) return std::nullopt;
    struct stat st;
    if (::fstat(fd_, &st) != 0) return std::nullopt;
    return static_cast<uint64_t>(st.st_size);
  }

  // Drops [dropped_until_, synced_end - keep_bytes) from the page cache, in
  // whole aligned chunks: the kernel drops only the page cache folios (up to
  // 2 MiB, naturally aligned) that lie wholly inside the range, so a range
  // edge inside a folio would leave it cached for good. Advisory: a failure
  // only leaves the pages cached.
  void DropSyncedBehind(uint64_t synced_end) {
    const uint64_t keep = drop_behind_->keep_bytes;
    if (synced_end <= keep) return;
    const uint64_t until = AlignDown(synced_end - keep);
    const uint64_t from = AlignDown(dropped_until_.load());
    if (until <= from) return;
    if (::posix_fadvise(fd_, static_cast<off_t>(from),
                        static_cast<off_t>(until - from),
                        POSIX_FADV_DONTNEED) != 0) {
      return;
    }
    dropped_until_ = until;
    drop_behind_->dropped += until - from;
  }

  uint64_t device() const { return device_; }

 private:
  const int fd_;
  const std::string path_;
  uint64_t size_;
  const uint64_t device_;
  PosixDisk::DropBehind* const drop_behind_;
  static constexpr uint64_t kDropChunkBytes = 2 << 20;
  // IOV_MAX on Linux: the most pieces one pwritev takes.
  static constexpr size_t kMaxIovecs = 1024;
  // Advances past `written` bytes of iov[first..]: returns the first entry
  // not wholly written, whose start moves past its written part.
  static size_t SkipWritten(absl::Span<struct iovec> iov, size_t first,
                            size_t written) {
    while (written > 0) {
      CHRONIK_CHECK_LT(first, iov.size()) << "pwritev wrote more than asked";
      struct iovec& at = iov[first];
      const size_t step = std::min(written, at.iov_len);
      at.iov_base = static_cast<char*>(at.iov_base) + step;
      at.iov_len -= step;
      written -= step;
      if (at.iov_len == 0) ++first;
    }
    return first;
  }
  static uint64_t AlignDown(uint64_t offset) {
    return offset / kDropChunkBytes * kDropChunkBytes;
  }
  bool append_only_log_ = false;  // AdviseAppendOnlyLog with drop-behind on
  // Where the bytes dropped from the page cache end (Sync's thread; Truncate
  // lowers it).
  std::atomic<uint64_t> dropped_until_{0};
};

}  // namespace

PosixDisk::PosixDisk(std::string root, uint64_t drop_behind_bytes)
    : root_(std::move(root)) {
  drop_behind_.keep_bytes = drop_behind_bytes;
  CHRONIK_CHECK(!root_.empty()) << "PosixDisk needs a root directory";
  root_fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (root_fd_ >= 0 && ::fstat(root_fd_, &st) == 0) {
    device_ = static_cast<uint64_t>(st.st_dev);
  }
}

PosixDisk::~PosixDisk() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

absl::Status PosixDisk::SyncFilesystem() {
  if (root_fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", root_, " to sync its file system"));
  }
  ++filesystem_syncs_;
  if (::syncfs(root_fd_) != 0) return ErrnoStatus(errno, "syncfs", root_);
  return absl::OkStatus();
}

std::optional<uint64_t> PosixDeviceOf(const env::File& file) {
  const auto* posix = dynamic_cast<const PosixFile*>(&file);
  if (posix == nullptr) return std::nullopt;
  return posix->device();
}

std::optional<uint64_t> DropBehindMark(const env::File& file) {
  const auto* posix = dynamic_cast<const PosixFile*>(&file);
  if (posix == nullptr) return std::nullopt;
  return posix->DropBehindMark();
}

void DropBehindAfterSync(env::File& file, uint64_t mark) {
  auto* posix = dynamic_cast<PosixFile*>(&file);
  CHRONIK_CHECK(posix != nullptr) << "a drop-behind mark of a PosixFile only";
  posix->DropSyncedBehind(mark);
}

absl::StatusOr<std::string> PosixDisk::Resolve(absl::string_view path) const {
  if (!env::IsValidPath(path)) {
    return absl::InvalidArgumentError(absl::StrCat("bad path '", path, "'"));
  }
  if (path.empty()) return root_;
  return absl::StrCat(root_, "/", path);
}

absl::StatusOr<std::unique_ptr<env::File>> PosixDisk::OpenWithFlags(
    absl::string_view path, int flags) {
  absl::StatusOr<std::string> full = Resolve(path);
  if (!full.ok()) return full.status();
  const int fd = ::open(full->c_str(), flags | O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "open", *full);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return ErrnoStatus(error, "fstat", *full);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(*full, " is not a file"));
  }
  return std::unique_ptr<env::File>(
      new PosixFile(fd, *full, static_cast<uint64_t>(st.st_size),
                    static_cast<uint64_t>(st.st_dev), &drop_behind_));
}

absl::StatusOr<std::unique_ptr<env::File>> PosixDisk::Open(
    absl::string_view path) {
  return OpenWithFlags(path, 0);
}

absl::StatusOr<std::unique_ptr<env::File>> PosixDisk::Create(
    absl::string_view path) {
  return OpenWithFlags(path, O_CREAT | O_TRUNC);
}

absl::Status PosixDisk::CreateDir(absl::string_view path) {
  absl::StatusOr<std::string> full = Resolve(path);
  if (!full.ok()) return full.status();
  if (::mkdir(full->c_str(), 0755) == 0) return absl::OkStatus();
  const int error = errno;
  struct stat st;
  if (error == EEXIST && ::stat(full->c_str(), &st) == 0 &&
      S_ISDIR(st.st_mode)) {
    return absl::OkStatus();
  }
  return ErrnoStatus(error, "mkdir", *full);
}

absl::StatusOr<std::vector<std::string>> PosixDisk::List(
    absl::string_view dir) {
  absl::StatusOr<std::string> full = Resolve(dir);
  if (!full.ok()) return full.status();
  DIR* handle = ::opendir(full->c_str());
  if (handle == nullptr) return ErrnoStatus(errno, "opendir", *full);
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    struct dirent* entry = ::readdir(handle);
    if (entry == nullptr) break;
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(name);
  }
  const int error = errno;
  ::closedir(handle);
  if (error != 0) return ErrnoStatus(error, "readdir", *full);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<bool> PosixDisk::Exists(absl::string_view path) {
  absl::StatusOr<std::string> full = Resolve(path);
  if (!full.ok()) return full.status();
  struct stat st;
  if (::stat(full->c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus(errno, "stat", *full);
}

absl::Status PosixDisk::Remove(absl::string_view path) {
  absl::StatusOr<std::string> full = Resolve(path);
  if (!full.ok()) return full.status();
  if (::unlink(full->c_str()) != 0) return ErrnoStatus(errno, "unlink", *full);
  return absl::OkStatus();
}

absl::Status PosixDisk::RemoveDir(absl::string_view path) {
  absl::StatusOr<std::string> full = Resolve(path);
  if (!full.ok()) return full.status();
  if (path.empty()) return absl::InvalidArgumentError("cannot remove the root");
  if (::rmdir(full->c_str()) != 0) return ErrnoStatus(errno, "rmdir", *full);
  return absl::OkStatus();
}

absl::Status PosixDisk::Rename(absl::string_view from, absl::string_view to) {
  absl::StatusOr<std::string> full_from = Resolve(from);
  if (!full_from.ok()) return full_from.status();
  absl::StatusOr<std::string> full_to = Resolve(to);
  if (!full_to.ok()) return full_to.status();
  if (::rename(full_from->c_str(), full_to->c_str()) != 0) {
    return ErrnoStatus(errno, "rename",
                       absl::StrCat(*full_from, " -> ", *full_to));
  }
  return absl::OkStatus();
}

absl::Status PosixDisk::SyncDir(absl::string_view dir) {
  absl::StatusOr<std::string> full = Resolve(dir);
  if (!full.ok()) return full.status();
  const int fd = ::open(full->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open dir", *full);
  const int result = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (result != 0) return ErrnoStatus(error, "fsync dir", *full);
  return absl::OkStatus();
}

absl::StatusOr<env::DiskSpace> PosixDisk::Space() {
  struct statvfs fs {};
  if (::statvfs(root_.c_str(), &fs) != 0) {
    return ErrnoStatus(errno, "statvfs", root_);
  }
  return env::DiskSpace{
      .total_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize,
      .usable_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize};
}

}  // namespace chronik::runtime
