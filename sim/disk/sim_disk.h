// SimDisk: the simulator's implementation of env::Disk, one per simulated
// node.
//
// What it is for: running the real storage code under crashes and disk
// faults, from a seed. Files live in memory. Every file keeps its durable
// bytes and the list of writes and truncates made since its last Sync; the
// namespace keeps its durable entries and the live ones. Crash() keeps only
// what the env::Disk contract promises:
//  - directory entries: the durable namespace (made durable by SyncDir);
//    files created or renamed but not dir-synced vanish or come back under
//    the old name;
//  - file bytes: the durable bytes plus an in-order prefix of the unsynced
//    changes, of random length; with `torn_write_probability` the first
//    dropped write is torn (a random prefix of it is kept), and with
//    `corrupt_sector_probability` the last sector of that torn prefix is
//    filled with garbage (a partially written sector).
// Crash invalidates every open File (they then fail with FailedPrecondition).
//
// Faults on demand: write and sync failures (EIO as Unavailable) with
// configured probabilities, ENOSPC (ResourceExhausted) when the live bytes
// would exceed `capacity_bytes`, a power cut after N more operations
// (FreezeAfterOps) and CorruptByte() for tests of durable-data corruption.
//
// Time: the disk never waits. Each Sync/SyncDir draws a latency from
// [fsync_latency_min_micros, fsync_latency_max_micros]; the simulator's
// scheduler reads the sum with TakeSyncLatencyMicros() and delays the
// completion by that much simulated time.
//
// Determinism: all randomness comes from the generator passed in (by
// reference; it must outlive the disk); maps are ordered, so the same seed and
// calls give the same result. Single-threaded.
#ifndef CHRONIK_SIM_DISK_SIM_DISK_H_
#define CHRONIK_SIM_DISK_SIM_DISK_H_

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "broker/env/disk.h"

namespace chronik::sim {

struct SimDiskOptions {
  uint64_t sector_size_bytes = 512;
  double torn_write_probability = 0.5;
  double corrupt_sector_probability = 0.0;
  uint64_t fsync_latency_min_micros = 50;
  uint64_t fsync_latency_max_micros = 2000;
  double write_error_probability = 0.0;
  double sync_error_probability = 0.0;
  uint64_t capacity_bytes = std::numeric_limits<uint64_t>::max();
};

struct SimDiskStats {
  uint64_t syncs = 0;
  uint64_t dir_syncs = 0;
  uint64_t writes = 0;
  uint64_t bytes_written = 0;
  uint64_t crashes = 0;
};

class SimDisk final : public env::Disk {
 public:
  SimDisk(const SimDiskOptions& options, absl::BitGenRef rng);
  ~SimDisk() override;

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
  // `capacity_bytes`, and what the live files leave of it.
  absl::StatusOr<env::DiskSpace> Space() override;

  // Loses what a power cut loses (see the file comment) and invalidates open
  // files.
  void Crash();

  // Power cut in the middle of whatever runs next: after `ops` more mutating
  // calls (writes, truncates, syncs, creates, renames, removes) every mutating
  // call fails with Unavailable and changes nothing, until Crash(). Lets tests
  // crash inside a flush, a segment roll, a truncation or a snapshot install.
  void FreezeAfterOps(uint64_t ops);
  bool frozen() const { return frozen_; }

  // Sum of the latencies of the syncs since the last call, then resets it.
  uint64_t TakeSyncLatencyMicros();

  // XORs `mask` into the byte at `offset` of `path`, both in its live and its
  // durable bytes (bit rot of data already on the platter). For corruption
  // tests.
  absl::Status CorruptByte(absl::string_view path, uint64_t offset,
                           uint8_t mask);

  void set_options(const SimDiskOptions& options) { options_ = options; }
  // Bytes held by files now (what capacity_bytes bounds).
  uint64_t live_bytes() const { return live_bytes_; }
  const SimDiskOptions& options() const { return options_; }
  const SimDiskStats& stats() const { return stats_; }

  // Internal state shared with the files it opened.
  struct Op {
    bool truncate = false;
    uint64_t offset = 0;  // write position, or new size for a truncate
    std::string bytes;
  };
  struct Inode {
    std::string data;     // what reads see
    std::string durable;  // what survives a crash for sure
    std::vector<Op> unsynced;
  };
  struct Entry {
    bool is_dir = false;
    std::shared_ptr<Inode> inode;  // null for directories
  };

 private:
  friend class SimFile;

  absl::Status CheckPath(absl::string_view path) const;
  bool DirExists(absl::string_view dir) const;
  absl::Status MaybeWriteError(absl::string_view what);
  // Counts a mutating call against the freeze budget.
  absl::Status BeginMutation(absl::string_view what);
  absl::Status Reserve(uint64_t old_size, uint64_t new_size);
  void AddSyncLatency();
  void CrashInode(Inode& inode);

  SimDiskOptions options_;
  absl::BitGenRef rng_;
  std::map<std::string, Entry> live_;
  std::map<std::string, Entry> durable_;
  uint64_t generation_ =
      0;  // bumped by Crash; files of older generations are dead
  uint64_t live_bytes_ = 0;
  uint64_t pending_latency_micros_ = 0;
  std::optional<uint64_t> ops_until_freeze_;
  bool frozen_ = false;
  SimDiskStats stats_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_DISK_SIM_DISK_H_
