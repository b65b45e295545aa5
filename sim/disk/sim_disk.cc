#include "sim/disk/sim_disk.h"

#include <algorithm>
#include <set>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/check.h"

namespace chronik::sim {

class SimFile final : public env::File {
 public:
  SimFile(SimDisk* disk, std::shared_ptr<SimDisk::Inode> inode,
          std::string path)
      : disk_(disk),
        inode_(std::move(inode)),
        path_(std::move(path)),
        generation_(disk->generation_) {}

  uint64_t Size() const override { return inode_->data.size(); }

  absl::Status Append(absl::string_view data) override {
    return WriteAt(inode_->data.size(), data);
  }

  absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
    if (absl::Status s = Alive(); !s.ok()) return s;
    std::string& bytes = inode_->data;
    if (offset > bytes.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "write at ", offset, " past end ", bytes.size(), " of ", path_));
    }
    if (absl::Status s = disk_->MaybeWriteError(path_); !s.ok()) return s;
    const uint64_t end = offset + data.size();
    if (absl::Status s =
            disk_->Reserve(bytes.size(), std::max<uint64_t>(bytes.size(), end));
        !s.ok()) {
      return s;
    }
    if (end > bytes.size()) bytes.resize(end);
    bytes.replace(offset, data.size(), data.data(), data.size());
    inode_->unsynced.push_back(SimDisk::Op{
        .truncate = false, .offset = offset, .bytes = std::string(data)});
    disk_->stats_.writes++;
    disk_->stats_.bytes_written += data.size();
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t size,
                                char* out) const override {
    if (absl::Status s = Alive(); !s.ok()) return s;
    const std::string& bytes = inode_->data;
    if (offset >= bytes.size()) return size_t{0};
    const size_t n = std::min<uint64_t>(size, bytes.size() - offset);
    std::copy_n(bytes.data() + offset, n, out);
    return n;
  }

  absl::Status Truncate(uint64_t size) override {
    if (absl::Status s = Alive(); !s.ok()) return s;
    if (absl::Status s = disk_->MaybeWriteError(path_); !s.ok()) return s;
    if (absl::Status s = disk_->Reserve(inode_->data.size(), size); !s.ok()) {
      return s;
    }
    inode_->data.resize(size, '\0');
    inode_->unsynced.push_back(
        SimDisk::Op{.truncate = true, .offset = size, .bytes = ""});
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (absl::Status s = Alive(); !s.ok()) return s;
    if (absl::Status s = disk_->BeginMutation(path_); !s.ok()) return s;
    disk_->AddSyncLatency();
    disk_->stats_.syncs++;
    if (disk_->options_.sync_error_probability > 0 &&
        absl::Bernoulli(disk_->rng_, disk_->options_.sync_error_probability)) {
      // Unknown outcome: the unsynced changes stay unsynced (a crash may drop
      // them).
      return absl::UnavailableError(absl::StrCat("EIO: fsync ", path_));
    }
    // Replay the unsynced operations onto the durable bytes: O(unsynced
    // bytes), not O(file size), so long simulations stay fast.
    for (const SimDisk::Op& op : inode_->unsynced) {
      std::string& durable = inode_->durable;
      if (op.truncate) {
        durable.resize(op.offset, '\0');
        continue;
      }
      const uint64_t end = op.offset + op.bytes.size();
      if (end > durable.size()) durable.resize(end);
      durable.replace(op.offset, op.bytes.size(), op.bytes);
    }
    inode_->unsynced.clear();
    CHRONIK_DCHECK(inode_->durable == inode_->data);
    return absl::OkStatus();
  }

 private:
  absl::Status Alive() const {
    if (generation_ != disk_->generation_) {
      return absl::FailedPreconditionError(
          absl::StrCat("file ", path_, " was open across a crash"));
    }
    return absl::OkStatus();
  }

  SimDisk* const disk_;
  const std::shared_ptr<SimDisk::Inode> inode_;
  const std::string path_;
  const uint64_t generation_;
};

SimDisk::SimDisk(const SimDiskOptions& options, absl::BitGenRef rng)
    : options_(options), rng_(rng) {
  CHRONIK_CHECK_GT(options_.sector_size_bytes, 0u);
  CHRONIK_CHECK_LE(options_.fsync_latency_min_micros,
                   options_.fsync_latency_max_micros);
}

SimDisk::~SimDisk() = default;

absl::Status SimDisk::CheckPath(absl::string_view path) const {
  if (!env::IsValidPath(path) || path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("bad path '", path, "'"));
  }
  if (!DirExists(env::ParentDir(path))) {
    return absl::NotFoundError(
        absl::StrCat("no directory '", env::ParentDir(path), "'"));
  }
  return absl::OkStatus();
}

bool SimDisk::DirExists(absl::string_view dir) const {
  if (dir.empty()) return true;
  auto it = live_.find(std::string(dir));
  return it != live_.end() && it->second.is_dir;
}

void SimDisk::FreezeAfterOps(uint64_t ops) { ops_until_freeze_ = ops; }

absl::Status SimDisk::BeginMutation(absl::string_view what) {
  if (!frozen_ && ops_until_freeze_.has_value()) {
    if (*ops_until_freeze_ == 0) {
      frozen_ = true;
    } else {
      --*ops_until_freeze_;
    }
  }
  if (frozen_) {
    return absl::UnavailableError(absl::StrCat("power cut before: ", what));
  }
  return absl::OkStatus();
}

absl::Status SimDisk::MaybeWriteError(absl::string_view what) {
  if (absl::Status s = BeginMutation(what); !s.ok()) return s;
  if (options_.write_error_probability > 0 &&
      absl::Bernoulli(rng_, options_.write_error_probability)) {
    return absl::UnavailableError(absl::StrCat("EIO: write ", what));
  }
  return absl::OkStatus();
}

absl::Status SimDisk::Reserve(uint64_t old_size, uint64_t new_size) {
  if (new_size <= old_size) {
    live_bytes_ -= std::min(live_bytes_, old_size - new_size);
    return absl::OkStatus();
  }
  const uint64_t growth = new_size - old_size;
  if (live_bytes_ + growth > options_.capacity_bytes) {
    return absl::ResourceExhaustedError("ENOSPC: simulated disk full");
  }
  live_bytes_ += growth;
  return absl::OkStatus();
}

void SimDisk::AddSyncLatency() {
  pending_latency_micros_ += absl::Uniform<uint64_t>(
      absl::IntervalClosedClosed, rng_, options_.fsync_latency_min_micros,
      options_.fsync_latency_max_micros);
}

uint64_t SimDisk::TakeSyncLatencyMicros() {
  const uint64_t latency = pending_latency_micros_;
  pending_latency_micros_ = 0;
  return latency;
}

absl::StatusOr<std::unique_ptr<env::File>> SimDisk::Open(
    absl::string_view path) {
  if (absl::Status s = CheckPath(path); !s.ok()) return s;
  auto it = live_.find(std::string(path));
  if (it == live_.end()) {
    return absl::NotFoundError(absl::StrCat("no file '", path, "'"));
  }
  if (it->second.is_dir) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory"));
  }
  return std::unique_ptr<env::File>(
      new SimFile(this, it->second.inode, std::string(path)));
}

absl::StatusOr<std::unique_ptr<env::File>> SimDisk::Create(
    absl::string_view path) {
  if (absl::Status s = BeginMutation(path); !s.ok()) return s;
  if (absl::Status s = CheckPath(path); !s.ok()) return s;
  Entry& entry = live_[std::string(path)];
  if (entry.is_dir) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is a directory"));
  }
  if (entry.inode == nullptr) {
    entry.inode = std::make_shared<Inode>();
  } else if (!entry.inode->data.empty()) {
    // O_TRUNC on an existing file: a truncate of that inode, durable after
    // Sync.
    live_bytes_ -= std::min<uint64_t>(live_bytes_, entry.inode->data.size());
    entry.inode->data.clear();
    entry.inode->unsynced.push_back(
        Op{.truncate = true, .offset = 0, .bytes = ""});
  }
  return std::unique_ptr<env::File>(
      new SimFile(this, entry.inode, std::string(path)));
}

absl::Status SimDisk::CreateDir(absl::string_view path) {
  if (absl::Status s = BeginMutation(path); !s.ok()) return s;
  if (absl::Status s = CheckPath(path); !s.ok()) return s;
  auto it = live_.find(std::string(path));
  if (it != live_.end()) {
    if (it->second.is_dir) return absl::OkStatus();
    return absl::AlreadyExistsError(absl::StrCat(path, " is a file"));
  }
  live_[std::string(path)] = Entry{.is_dir = true, .inode = nullptr};
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SimDisk::List(absl::string_view dir) {
  if (!env::IsValidPath(dir)) {
    return absl::InvalidArgumentError(absl::StrCat("bad path '", dir, "'"));
  }
  if (!DirExists(dir)) {
    return absl::NotFoundError(absl::StrCat("no directory '", dir, "'"));
  }
  std::vector<std::string> names;
  for (const auto& [path, entry] : live_) {
    if (env::ParentDir(path) != dir) continue;
    names.push_back(dir.empty() ? path : path.substr(dir.size() + 1));
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<bool> SimDisk::Exists(absl::string_view path) {
  if (!env::IsValidPath(path)) {
    return absl::InvalidArgumentError(absl::StrCat("bad path '", path, "'"));
  }
  if (path.empty()) return true;
  return live_.count(std::string(path)) > 0;
}

absl::Status SimDisk::Remove(absl::string_view path) {
  if (absl::Status s = BeginMutation(path); !s.ok()) return s;
  if (absl::Status s = CheckPath(path); !s.ok()) return s;
  auto it = live_.find(std::string(path));
  if (it == live_.end() || it->second.is_dir) {
    return absl::NotFoundError(absl::StrCat("no file '", path, "'"));
  }
  live_bytes_ -= std::min<uint64_t>(live_bytes_, it->second.inode->data.size());
  live_.erase(it);
  return absl::OkStatus();
}

absl::Status SimDisk::RemoveDir(absl::string_view path) {
  if (absl::Status s = BeginMutation(path); !s.ok()) return s;
  if (absl::Status s = CheckPath(path); !s.ok()) return s;
  auto it = live_.find(std::string(path));
  if (it == live_.end() || !it->second.is_dir) {
    return absl::NotFoundError(absl::StrCat("no directory '", path, "'"));
  }
  absl::StatusOr<std::vector<std::string>> children = List(path);
  if (!children.ok()) return children.status();
  if (!children->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("directory '", path, "' is not empty"));
  }
  live_.erase(it);
  return absl::OkStatus();
}

absl::Status SimDisk::Rename(absl::string_view from, absl::string_view to) {
  if (absl::Status s = BeginMutation(from); !s.ok()) return s;
  if (absl::Status s = CheckPath(from); !s.ok()) return s;
  if (absl::Status s = CheckPath(to); !s.ok()) return s;
  auto it = live_.find(std::string(from));
  if (it == live_.end()) {
    return absl::NotFoundError(absl::StrCat("no file '", from, "'"));
  }
  if (it->second.is_dir) {
    return absl::InvalidArgumentError("SimDisk renames files only");
  }
  if (from == to) return absl::OkStatus();
  Entry moved = it->second;
  live_.erase(it);
  auto target = live_.find(std::string(to));
  if (target != live_.end()) {
    if (target->second.is_dir) {
      live_[std::string(from)] = moved;
      return absl::InvalidArgumentError(absl::StrCat(to, " is a directory"));
    }
    live_bytes_ -=
        std::min<uint64_t>(live_bytes_, target->second.inode->data.size());
  }
  live_[std::string(to)] = moved;
  return absl::OkStatus();
}

absl::StatusOr<env::DiskSpace> SimDisk::Space() {
  return env::DiskSpace{
      .total_bytes = options_.capacity_bytes,
      .usable_bytes = options_.capacity_bytes -
                      std::min<uint64_t>(live_bytes_, options_.capacity_bytes)};
}

absl::Status SimDisk::SyncDir(absl::string_view dir) {
  if (absl::Status s = BeginMutation(dir); !s.ok()) return s;
  if (!env::IsValidPath(dir)) {
    return absl::InvalidArgumentError(absl::StrCat("bad path '", dir, "'"));
  }
  if (!DirExists(dir)) {
    return absl::NotFoundError(absl::StrCat("no directory '", dir, "'"));
  }
  AddSyncLatency();
  stats_.dir_syncs++;
  if (options_.sync_error_probability > 0 &&
      absl::Bernoulli(rng_, options_.sync_error_probability)) {
    return absl::UnavailableError(absl::StrCat("EIO: fsync dir '", dir, "'"));
  }
  for (auto it = durable_.begin(); it != durable_.end();) {
    it = env::ParentDir(it->first) == dir ? durable_.erase(it) : std::next(it);
  }
  for (const auto& [path, entry] : live_) {
    if (env::ParentDir(path) == dir) durable_[path] = entry;
  }
  return absl::OkStatus();
}

void SimDisk::CrashInode(Inode& inode) {
  std::string data = inode.durable;
  const size_t ops = inode.unsynced.size();
  const size_t kept = ops == 0 ? 0
                               : absl::Uniform<size_t>(
                                     absl::IntervalClosedClosed, rng_, 0, ops);
  for (size_t i = 0; i < kept; ++i) {
    const Op& op = inode.unsynced[i];
    if (op.truncate) {
      data.resize(op.offset, '\0');
    } else {
      if (op.offset + op.bytes.size() > data.size()) {
        data.resize(op.offset + op.bytes.size());
      }
      data.replace(op.offset, op.bytes.size(), op.bytes);
    }
  }
  if (kept < ops && !inode.unsynced[kept].truncate &&
      !inode.unsynced[kept].bytes.empty() &&
      absl::Bernoulli(rng_, options_.torn_write_probability)) {
    const Op& op = inode.unsynced[kept];
    // A write can only land where the file already reaches (no holes).
    if (op.offset <= data.size()) {
      const size_t prefix = absl::Uniform<size_t>(rng_, 0, op.bytes.size());
      if (op.offset + prefix > data.size()) data.resize(op.offset + prefix);
      data.replace(op.offset, prefix, op.bytes.substr(0, prefix));
      if (prefix > 0 && options_.corrupt_sector_probability > 0 &&
          absl::Bernoulli(rng_, options_.corrupt_sector_probability)) {
        const uint64_t end = op.offset + prefix;
        const uint64_t sector = options_.sector_size_bytes;
        const uint64_t start =
            std::max<uint64_t>(op.offset, (end - 1) / sector * sector);
        for (uint64_t i = start; i < end; ++i) {
          data[i] = static_cast<char>(absl::Uniform<uint32_t>(rng_, 0, 256));
        }
      }
    }
  }
  inode.data = data;
  inode.durable = std::move(data);
  inode.unsynced.clear();
}

void SimDisk::Crash() {
  stats_.crashes++;
  generation_++;
  frozen_ = false;
  ops_until_freeze_.reset();
  pending_latency_micros_ = 0;
  // Entries whose directory itself was never made durable are gone with it.
  std::map<std::string, Entry> survivors;
  for (const auto& [path, entry] : durable_) {
    bool reachable = true;
    for (std::string dir = env::ParentDir(path); !dir.empty();
         dir = env::ParentDir(dir)) {
      auto it = durable_.find(dir);
      if (it == durable_.end() || !it->second.is_dir) {
        reachable = false;
        break;
      }
    }
    if (reachable) survivors[path] = entry;
  }
  // An inode may be reachable under two durable names (renamed, old dir entry
  // not yet synced away); crash it once. The set is only a membership test,
  // never iterated.
  std::set<const Inode*> crashed;
  live_bytes_ = 0;
  for (auto& [path, entry] : survivors) {
    if (entry.is_dir) continue;
    if (crashed.insert(entry.inode.get()).second) CrashInode(*entry.inode);
  }
  for (auto& [path, entry] : survivors) {
    if (!entry.is_dir) live_bytes_ += entry.inode->data.size();
  }
  durable_ = survivors;
  live_ = std::move(survivors);
}

absl::Status SimDisk::CorruptByte(absl::string_view path, uint64_t offset,
                                  uint8_t mask) {
  auto it = live_.find(std::string(path));
  if (it == live_.end() || it->second.is_dir) {
    return absl::NotFoundError(absl::StrCat("no file '", path, "'"));
  }
  Inode& inode = *it->second.inode;
  if (offset >= inode.data.size()) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset, " past end"));
  }
  inode.data[offset] = static_cast<char>(inode.data[offset] ^ mask);
  if (offset < inode.durable.size()) {
    inode.durable[offset] = static_cast<char>(inode.durable[offset] ^ mask);
  }
  return absl::OkStatus();
}

}  // namespace chronik::sim
