// storage_bench: throughput of the storage layer on the real disk, next to the
// raw sequential write speed of the same disk measured in the same run.
//
//   bazel run -c opt //broker/storage:storage_bench -- [--dir=/path]
//   [--mib=256]
//       [--repeat=5] [--sync_threads=8]
//
// Scenarios (MB = 10^6 bytes; log figures count payload bytes only):
//  raw      plain pwrite + fdatasync, repeated, of the bytes the log writes per
//           batch (1 MiB of payload + record headers), and, for reference, of
//           aligned 1 MiB chunks (slower on this VM's disk);
//  1 group  LogStore, one group, 1 MiB batches of 1024 x 1 KiB entries, one
//           flush (one fsync) per batch;
//  100 grp  100 groups, each adds 10 x 1 KiB per round, one flush per round
//           (1 MiB, 100 fsyncs run on --sync_threads threads), and the same
//           with the production driver's default: one syncfs per flush
//           (runtime::SyncFlushFiles, a flush of 8 or more files), and the
//           same with the node's tail log (storage/tail_wal.h, 64 MiB):
//           one fdatasync per flush, the segments written in rounds of
//           8 MiB while it runs (LogStore::WriteBehind), synced at
//           checkpoints; a flush begins while the one before syncs
//           (LogStore::CanBeginFlush), as in the broker;
//  small    100 groups, a producer thread hands single 1 KiB appends to an IO
//           thread (the production driver's shape: a staging queue, Enqueue
//           all, flush): how many appends one fsync covers;
//  read     reading everything back with Entries() in 1 MiB chunks, from the
//           page cache and after dropping it (posix_fadvise DONTNEED).
// The disk is shared and noisy: write scenarios run --repeat times,
// interleaved; best and median are printed.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/runtime/parallel_sync.h"
#include "broker/runtime/posix_disk.h"
#include "broker/runtime/sync_worker.h"
#include "broker/storage/format.h"
#include "broker/storage/log_store.h"

ABSL_FLAG(std::string, dir, "",
          "directory to write in (default: $TEST_TMPDIR or /tmp), must be on "
          "the disk "
          "to measure");
ABSL_FLAG(int, mib, 256, "MiB written per scenario");
ABSL_FLAG(int, sync_threads, 8,
          "threads for the fsyncs of one flush (1 = one after another)");
ABSL_FLAG(int, tail_wal_mib, 64,
          "tail log size of the tail log scenario (the broker's default: 64)");
ABSL_FLAG(int, repeat, 5,
          "runs of each write scenario (interleaved); best and median shown");

namespace chronik::runtime {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kEntryBytes = 1024;
constexpr size_t kBatchBytes = 1 << 20;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double MBps(uint64_t bytes, double seconds) { return bytes / seconds / 1e6; }

std::string MakeDir(const std::string& parent, const std::string& name) {
  std::string dir = absl::StrCat(parent, "/", name);
  CHRONIK_CHECK_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
  return dir;
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = ::opendir(path.c_str());
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    for (const std::string& name : names) RemoveTree(path + "/" + name);
    ::rmdir(path.c_str());
  } else {
    ::unlink(path.c_str());
  }
}

// Drops the page cache of every file under `path` (files are synced, so clean).
void DropCache(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = ::opendir(path.c_str());
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(dir);
    for (const std::string& name : names) DropCache(path + "/" + name);
    return;
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

// Plain pwrite of `chunk_bytes` + fdatasync until `total` bytes are written;
// returns MB/s of the bytes written.
double RawWrite(const std::string& parent, uint64_t total, size_t chunk_bytes) {
  const std::string path = parent + "/raw.bin";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  CHRONIK_CHECK_GE(fd, 0);
  std::string chunk(chunk_bytes, '\0');
  for (size_t i = 0; i < chunk.size(); ++i) {
    chunk[i] = static_cast<char>(i * 131 + (i >> 10));
  }
  const Clock::time_point start = Clock::now();
  uint64_t off = 0;
  while (off < total) {
    CHRONIK_CHECK_EQ(::pwrite(fd, chunk.data(), chunk.size(), off),
                     static_cast<ssize_t>(chunk.size()));
    CHRONIK_CHECK_EQ(::fdatasync(fd), 0);
    off += chunk.size();
  }
  const double seconds = Seconds(start);
  ::close(fd);
  ::unlink(path.c_str());
  return MBps(off, seconds);
}

std::unique_ptr<storage::LogStore> OpenStore(PosixDisk& disk, uint64_t groups,
                                             uint64_t tail_wal_bytes = 0) {
  absl::StatusOr<std::unique_ptr<storage::LogStore>> store =
      storage::LogStore::Open(
          &disk, "", storage::StoreOptions{.tail_wal_bytes = tail_wal_bytes});
  CHRONIK_CHECK(store.ok()) << store.status();
  for (uint64_t g = 1; g <= groups; ++g) {
    CHRONIK_CHECK((*store)->OpenGroup(g, storage::LogOptions{}).ok());
  }
  return std::move(*store);
}

std::vector<storage::Entry> Entries(uint64_t first, size_t count,
                                    const std::string& payload) {
  std::vector<storage::Entry> entries(count);
  for (size_t i = 0; i < count; ++i) {
    entries[i].index = first + i;
    entries[i].term = 1;
    entries[i].data = payload;
  }
  return entries;
}

void CheckCompletions(const std::vector<storage::Completion>& done) {
  for (const storage::Completion& c : done) {
    CHRONIK_CHECK(c.status.ok()) << c.status;
  }
}

SyncPolicy Policy(PosixDisk& disk, size_t filesystem_sync_min_files) {
  SyncPolicy policy;
  policy.max_threads = absl::GetFlag(FLAGS_sync_threads);
  policy.filesystem_sync_min_files = filesystem_sync_min_files;
  policy.disk = &disk;
  return policy;
}

// Flushing the way the production driver does it: this thread (the event
// loop, RaftHost in async mode) begins a flush when the store allows one (a
// second may overlap the first's fsync: LogStore::CanBeginFlush), hands its
// files to the IO thread (runtime::SyncWorker: concurrent fsyncs or one
// syncfs, `filesystem_sync_min_files`), does the store's write-behind
// meanwhile, and finishes the flushes in order as their fsyncs complete.
class Flusher {
 public:
  Flusher(storage::LogStore& store, PosixDisk& disk,
          size_t filesystem_sync_min_files)
      : store_(store),
        worker_([this] { Wake(); }, Policy(disk, filesystem_sync_min_files)) {}

  // Begins flushes until nothing is queued; the last may still be in flight.
  void Flush() {
    while (store_.queued_requests() > 0) {
      FinishCompleted();
      if (!store_.CanBeginFlush()) {
        WaitForOne();
        continue;
      }
      plans_.push_back(store_.BeginFlush());
      worker_.Submit(env::SyncRequest{.flush_id = next_id_++,
                                      .files = plans_.back().files_to_sync});
      store_.WriteBehind();
    }
  }
  // Finishes every flush in flight.
  void Drain() {
    while (!plans_.empty()) WaitForOne();
  }

 private:
  void Wake() {
    std::lock_guard<std::mutex> lock(mu_);
    ++woken_;
    cv_.notify_all();
  }
  void WaitForOne() {
    CHRONIK_CHECK(!plans_.empty());
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return woken_ > finished_; });
    }
    FinishCompleted();
  }
  void FinishCompleted() {
    for (SyncWorker::Completed& done : worker_.TakeCompleted()) {
      CHRONIK_CHECK(!plans_.empty());
      CheckCompletions(
          store_.FinishFlush(std::move(plans_.front()), done.results));
      plans_.pop_front();
      std::lock_guard<std::mutex> lock(mu_);
      ++finished_;
    }
  }

  storage::LogStore& store_;
  std::deque<storage::FlushPlan> plans_;  // in flight, oldest first
  uint64_t next_id_ = 1;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t woken_ = 0;     // jobs the IO thread finished; guarded by mu_
  uint64_t finished_ = 0;  // ... of which FinishFlush ran; guarded by mu_
  SyncWorker worker_;      // last: its thread calls Wake
};

// `groups` groups, each adding `entries_per_group` entries per round; one
// flush per round. As in production, the rounds' entries are built by another
// thread (the Raft/network side), at most two rounds ahead; the IO thread
// enqueues one round and flushes it. With a tail log the time includes a
// last checkpoint (MarkCleanStop syncs every segment), so every byte counted
// is durable in the segments, not only in the tail log. Returns MB/s of
// payload.
double GroupCommit(const std::string& parent, const std::string& name,
                   uint64_t groups, size_t entries_per_group, uint64_t total,
                   size_t filesystem_sync_min_files, std::string* dir_out,
                   uint64_t tail_wal_bytes = 0,
                   uint64_t* overlapped_out = nullptr) {
  const std::string dir = MakeDir(parent, name);
  PosixDisk disk(dir);
  std::unique_ptr<storage::LogStore> store =
      OpenStore(disk, groups, tail_wal_bytes);  // creating the log: not timed
  Flusher flusher(*store, disk, filesystem_sync_min_files);
  const Clock::time_point start = Clock::now();
  const uint64_t per_round = groups * entries_per_group * kEntryBytes;
  const uint64_t rounds = (total + per_round - 1) / per_round;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<storage::PersistRequest>> ready;
  std::thread producer([&] {
    const std::string payload(kEntryBytes, 'p');
    std::vector<uint64_t> next(groups + 1, 1);
    for (uint64_t r = 0; r < rounds; ++r) {
      std::vector<storage::PersistRequest> round;
      for (uint64_t g = 1; g <= groups; ++g) {
        round.push_back(storage::PersistRequest{
            .group_id = g,
            .entries = Entries(next[g], entries_per_group, payload)});
        next[g] += entries_per_group;
      }
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return ready.size() < 2; });
      ready.push_back(std::move(round));
      cv.notify_all();
    }
  });
  for (uint64_t r = 0; r < rounds; ++r) {
    std::vector<storage::PersistRequest> round;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !ready.empty(); });
      round = std::move(ready.front());
      ready.pop_front();
      cv.notify_all();
    }
    for (storage::PersistRequest& request : round) {
      CHRONIK_CHECK(store->Enqueue(std::move(request)).ok());
    }
    flusher.Flush();
  }
  flusher.Drain();
  if (tail_wal_bytes > 0) CHRONIK_CHECK(store->MarkCleanStop().ok());
  const double seconds = Seconds(start);
  producer.join();
  CHRONIK_CHECK_EQ(store->stats().flushes, rounds);
  if (overlapped_out != nullptr) {
    *overlapped_out = store->stats().flushes_overlapped;
  }
  *dir_out = dir;
  return MBps(rounds * per_round, seconds);
}

double ReadBack(const std::string& dir, uint64_t groups, bool cold,
                uint64_t* bytes_out) {
  if (cold) DropCache(dir);
  PosixDisk disk(dir);
  std::unique_ptr<storage::LogStore> store = OpenStore(disk, groups);
  uint64_t bytes = 0;
  std::vector<storage::Entry> got;
  const Clock::time_point start = Clock::now();
  for (uint64_t g = 1; g <= groups; ++g) {
    storage::GroupStorage& group = *store->group(g);
    for (uint64_t i = group.first_index(); i <= group.last_index();) {
      got.clear();
      CHRONIK_CHECK(
          group.Entries(i, group.last_index() + 1, kBatchBytes, &got).ok());
      for (const storage::Entry& e : got) bytes += e.data.size();
      i += got.size();
    }
  }
  *bytes_out = bytes;
  return MBps(bytes, Seconds(start));
}

// A producer thread hands single-entry appends for 100 groups to the IO thread
// through a staging queue, as the production driver does; the IO thread moves
// everything staged into the store and flushes.
void SmallAppends(const std::string& parent, uint64_t total_appends) {
  constexpr uint64_t kGroups = 100;
  constexpr size_t kStagingLimit = 10000;  // below the store's queue bound
  const std::string dir = MakeDir(parent, "small");
  PosixDisk disk(dir);
  std::unique_ptr<storage::LogStore> store = OpenStore(disk, kGroups);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<storage::PersistRequest> staged;
  bool done = false;
  const std::string payload(kEntryBytes, 's');
  Flusher flusher(*store, disk, kDefaultFilesystemSyncMinFiles);
  const Clock::time_point start = Clock::now();
  std::thread producer([&] {
    std::vector<uint64_t> next(kGroups + 1, 1);
    for (uint64_t n = 0; n < total_appends; ++n) {
      const uint64_t g = 1 + n % kGroups;
      storage::PersistRequest r{.group_id = g,
                                .entries = Entries(next[g]++, 1, payload)};
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return staged.size() < kStagingLimit; });
      staged.push_back(std::move(r));
      cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });
  uint64_t appends = 0;
  while (true) {
    std::vector<storage::PersistRequest> batch;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return !staged.empty() || done; });
      if (staged.empty() && done) break;
      batch.swap(staged);
      cv.notify_all();
    }
    for (storage::PersistRequest& r : batch) {
      CHRONIK_CHECK(store->Enqueue(std::move(r)).ok());
    }
    appends += batch.size();
    flusher.Flush();
    flusher.Drain();
  }
  producer.join();
  const double seconds = Seconds(start);
  const storage::StoreStats& stats = store->stats();
  std::printf(
      "small appends, 100 groups (1 x 1 KiB each, producer thread + IO "
      "thread):\n"
      "    %.0f appends/s, %.0f fsyncs/s, %.1f appends per fsync, %.0f "
      "flushes/s, "
      "%.1f MB/s\n",
      appends / seconds, stats.log_fsyncs / seconds,
      static_cast<double>(appends) / stats.log_fsyncs, stats.flushes / seconds,
      MBps(appends * kEntryBytes, seconds));
}

// MB/s of every scenario, one entry per run.
struct Runs {
  std::vector<double> raw, raw_aligned, one, many, many_syncfs, many_wal;
  std::string one_dir, many_dir;  // the last run's logs (read back later)
};

// The disk is shared and its speed drifts: interleave the scenarios so every
// ratio compares runs of similar conditions.
Runs RunInterleaved(const std::string& parent, uint64_t total, int repeat) {
  Runs runs;
  for (int r = 0; r < repeat; ++r) {
    if (r > 0) {
      RemoveTree(runs.one_dir);
      RemoveTree(runs.many_dir);
    }
    const double one_r = GroupCommit(parent, absl::StrCat("one", r), 1, 1024,
                                     total, 0, &runs.one_dir);
    // The bytes the log writes per 1 MiB batch: 1024 records with headers.
    const double raw_r =
        RawWrite(parent, total,
                 1024 * (kEntryBytes + storage::format::kRecordHeaderBytes));
    const double raw_aligned_r = RawWrite(parent, total, kBatchBytes);
    const double many_r = GroupCommit(parent, absl::StrCat("many", r), 100, 10,
                                      total, 0, &runs.many_dir);
    std::string syncfs_dir;
    const double many_syncfs_r =
        GroupCommit(parent, absl::StrCat("many-syncfs", r), 100, 10, total,
                    kDefaultFilesystemSyncMinFiles, &syncfs_dir);
    RemoveTree(syncfs_dir);
    std::string wal_dir;
    uint64_t overlapped = 0;
    const double many_wal_r = GroupCommit(
        parent, absl::StrCat("many-wal", r), 100, 10, total,
        kDefaultFilesystemSyncMinFiles, &wal_dir,
        (uint64_t{1} << 20) * absl::GetFlag(FLAGS_tail_wal_mib), &overlapped);
    RemoveTree(wal_dir);
    runs.many_wal.push_back(many_wal_r);
    std::printf(
        "  run %d: raw %.1f (aligned 1 MiB: %.1f), 1 group %.1f, 100 groups "
        "%.1f, 100 groups syncfs %.1f, 100 groups tail log %.1f MB/s (%llu "
        "flushes begun while the one before synced)\n",
        r, raw_r, raw_aligned_r, one_r, many_r, many_syncfs_r, many_wal_r,
        static_cast<unsigned long long>(overlapped));
    runs.many_syncfs.push_back(many_syncfs_r);
    runs.raw.push_back(raw_r);
    runs.raw_aligned.push_back(raw_aligned_r);
    runs.one.push_back(one_r);
    runs.many.push_back(many_r);
  }
  return runs;
}

double Best(const std::vector<double>& v) {
  return *std::max_element(v.begin(), v.end());
}
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void ReportWrites(const Runs& runs, int repeat) {
  const double raw = Best(runs.raw), one = Best(runs.one),
               many = Best(runs.many);
  std::printf(
      "medians: raw %.1f, 1 group %.1f (%.0f%%), 100 groups %.1f (%.0f%%) "
      "MB/s\n",
      Median(runs.raw), Median(runs.one),
      100 * Median(runs.one) / Median(runs.raw), Median(runs.many),
      100 * Median(runs.many) / Median(runs.raw));
  std::printf("best of %d runs:\n", repeat);
  std::printf(
      "raw pwrite + fdatasync of the log's bytes per batch (1 MiB + headers): "
      "%.1f MB/s\n",
      raw);
  std::printf("raw pwrite + fdatasync of aligned 1 MiB chunks: %.1f MB/s\n",
              Best(runs.raw_aligned));
  std::printf(
      "1 group, 1 MiB batches, fsync per batch:     %8.1f MB/s  (%.0f%% of "
      "raw)\n",
      one, 100 * one / raw);
  std::printf(
      "100 groups x 10 KiB per flush (1 MiB):       %8.1f MB/s  (%.0f%% of "
      "raw, fsyncs on %d threads)\n",
      many, 100 * many / raw, absl::GetFlag(FLAGS_sync_threads));
  const double syncfs = Best(runs.many_syncfs);
  std::printf(
      "100 groups, one syncfs per flush (driver):   %8.1f MB/s  (%.0f%% of "
      "raw; median %.0f%%)\n",
      syncfs, 100 * syncfs / raw,
      100 * Median(runs.many_syncfs) / Median(runs.raw));
  const double wal = Best(runs.many_wal);
  std::printf(
      "100 groups, tail log (driver default):       %8.1f MB/s  (%.0f%% of "
      "raw; median %.0f%%)\n",
      wal, 100 * wal / raw, 100 * Median(runs.many_wal) / Median(runs.raw));
}

void ReportReads(const Runs& runs) {
  uint64_t bytes = 0;
  const double warm = ReadBack(runs.one_dir, 1, /*cold=*/false, &bytes);
  const double cold = ReadBack(runs.one_dir, 1, /*cold=*/true, &bytes);
  std::printf(
      "read back 1 group, page cache:               %8.1f MB/s (%lu MiB)\n",
      warm, bytes >> 20);
  std::printf("read back 1 group, cache dropped:            %8.1f MB/s\n",
              cold);
  const double cold_many = ReadBack(runs.many_dir, 100, /*cold=*/true, &bytes);
  std::printf("read back 100 groups, cache dropped:         %8.1f MB/s\n",
              cold_many);
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string parent = absl::GetFlag(FLAGS_dir);
  if (parent.empty()) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    parent = tmp != nullptr ? tmp : "/tmp";
  }
  parent = MakeDir(parent, absl::StrCat("chronik-storage-bench-", ::getpid()));
  const uint64_t total = static_cast<uint64_t>(absl::GetFlag(FLAGS_mib)) << 20;
  std::printf("storage_bench in %s, %lu MiB per scenario, 1 KiB entries\n",
              parent.c_str(), total >> 20);
  const int repeat = std::max(1, absl::GetFlag(FLAGS_repeat));
  const Runs runs = RunInterleaved(parent, total, repeat);
  ReportWrites(runs, repeat);
  ReportReads(runs);
  SmallAppends(parent, 200000);
  RemoveTree(parent);
  return 0;
}

}  // namespace
}  // namespace chronik::runtime

int main(int argc, char** argv) { return chronik::runtime::Main(argc, argv); }
