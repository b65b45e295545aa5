// Crash tests on the simulated disk: random workloads of appends, conflicting
// appends (suffix truncation), snapshot installs, local snapshots (compaction),
// hard state changes and flushes over three groups sharing one store, with a
// power cut at a random disk operation (inside flushes, segment rolls,
// truncations, snapshot installs), torn writes and garbled sectors in what was
// not synced, and injected EIO. After every recovery:
//  - the recovered log of each group is a prefix of a state the log went
//    through since the last completed flush (same snapshot, same terms),
//  - it contains every entry reported durable that the caller did not replace
//    since (a replaced entry was uncommitted: recovery may land mid-way),
//  - every entry reads back with a good checksum and the payload written;
//    nothing is reported damaged,
//  - the hard state is the last durable one or one enqueued after it.
// A second test does the same for a partition log and checks Kafka offsets.
#include <map>
#include <random>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/log_store.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

constexpr uint64_t kGroups = 3;
constexpr int kSeeds = 150;
constexpr int kCyclesPerSeed = 4;
constexpr int kStepsPerCycle = 40;

size_t SizeFor(uint64_t index, uint64_t term) {
  return static_cast<size_t>((index * 2654435761u + term * 40503u) % 300);
}

std::string Payload(uint64_t index, uint64_t term) {
  return testing::PayloadFor(index, term, SizeFor(index, term));
}

// What a group's storage should hold, as the caller sees it.
struct ModelState {
  uint64_t snap_index = 0;
  uint64_t snap_term = 0;
  std::map<uint64_t, uint64_t> terms;  // index -> term, for (snap_index, last]
  HardState hard_state;

  uint64_t last() const {
    return terms.empty() ? snap_index : terms.rbegin()->first;
  }
  uint64_t last_term() const {
    return terms.empty() ? snap_term : terms.rbegin()->second;
  }
  uint64_t max_term() const {
    uint64_t t = std::max(snap_term, hard_state.term);
    for (const auto& [i, term] : terms) t = std::max(t, term);
    return t;
  }
};

void ApplyToModel(ModelState& m, const PersistRequest& r) {
  if (r.snapshot) {
    const SnapshotMeta& meta = r.snapshot->meta;
    if (r.snapshot_replaces_log) {
      m.terms.clear();
    } else {
      m.terms.erase(m.terms.begin(), m.terms.upper_bound(meta.index));
    }
    m.snap_index = meta.index;
    m.snap_term = meta.term;
  }
  if (!r.entries.empty()) {
    m.terms.erase(m.terms.lower_bound(r.entries.front().index), m.terms.end());
    for (const Entry& e : r.entries) m.terms[e.index] = e.term;
  }
  if (r.hard_state) m.hard_state = *r.hard_state;
}

struct Counters {
  uint64_t crashes = 0;
  uint64_t crashes_inside_flush = 0;
  uint64_t torn_tails_cut = 0;
  uint64_t recovered_beyond_durable = 0;
  uint64_t lost_undurable = 0;
  uint64_t installs = 0;
  uint64_t truncations = 0;
  uint64_t multi_segment_logs = 0;
  uint64_t failed_groups =
      0;  // steps skipped because an IO error failed the group
  // Tail log: entries replayed at open, checkpoints and barriers.
  uint64_t wal_replayed = 0;
  uint64_t wal_checkpoints = 0;
  uint64_t wal_barriers = 0;
};

class CrashTest {
 public:
  CrashTest(uint64_t seed, uint64_t tail_wal_bytes)
      : seed_(seed),
        tail_wal_bytes_(tail_wal_bytes),
        rng_(seed),
        disk_rng_(seed ^ 0x5eed),
        disk_(sim::SimDiskOptions{.sector_size_bytes = 64,
                                  .torn_write_probability = 0.6,
                                  .corrupt_sector_probability = 0.3,
                                  .write_error_probability = 0.002,
                                  .sync_error_probability = 0.01},
              disk_rng_) {}

  void Run(Counters& counters) {
    OpenStore();
    for (int cycle = 0; cycle < kCyclesPerSeed; ++cycle) {
      disk_.FreezeAfterOps(absl::Uniform<uint64_t>(rng_, 0, 120));
      for (int step = 0; step < kStepsPerCycle && !disk_.frozen(); ++step) {
        Step(counters);
        if (::testing::Test::HasFatalFailure()) return;
      }
      if (disk_.frozen()) counters.crashes_inside_flush++;
      counters.crashes++;
      counters.wal_checkpoints += store_->stats().wal_checkpoints;
      counters.wal_barriers += store_->stats().wal_barriers;
      store_.reset();
      disk_.Crash();
      OpenStore();
      if (store_ != nullptr) {
        counters.wal_replayed += store_->stats().wal_entries_replayed;
      }
      for (uint64_t g = 1; g <= kGroups; ++g) {
        Check(g, counters);
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  }

 private:
  std::string Where(uint64_t group) const {
    return absl::StrCat("seed ", seed_, " group ", group);
  }

  void OpenStore() {
    // Recovery runs without injected IO errors (a node whose open fails
    // retries).
    const sim::SimDiskOptions faulty = disk_.options();
    sim::SimDiskOptions clean = faulty;
    clean.write_error_probability = 0;
    clean.sync_error_probability = 0;
    disk_.set_options(clean);
    OpenStoreWithoutFaults();
    disk_.set_options(faulty);
  }

  void OpenStoreWithoutFaults() {
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(&disk_, "node",
                       StoreOptions{.max_flush_bytes = 1ull << 30,
                                    .tail_wal_bytes = tail_wal_bytes_,
                                    // flushes of one group sync its files
                                    .tail_wal_min_groups = 2});
    ASSERT_TRUE(store.ok()) << "seed " << seed_ << ": " << store.status();
    store_ = std::move(*store);
    for (uint64_t g = 1; g <= kGroups; ++g) {
      absl::StatusOr<GroupStorage*> group =
          store_->OpenGroup(g, LogOptions{.segment_max_bytes = 1024,
                                          .index_interval_bytes = 200,
                                          .write_buffer_bytes = 300,
                                          .read_chunk_bytes = 256});
      ASSERT_TRUE(group.ok()) << Where(g) << ": " << group.status();
    }
  }

  PersistRequest RandomRequest(uint64_t g, Counters& counters) {
    ModelState& m = current_[g];
    PersistRequest r{.group_id = g};
    const int kind = absl::Uniform<int>(rng_, 0, 100);
    const uint64_t term = std::max<uint64_t>(m.max_term(), 1);
    auto add_entries = [&](uint64_t first, uint64_t count, uint64_t t) {
      for (uint64_t i = first; i < first + count; ++i) {
        r.entries.push_back(Entry{
            .index = i, .term = t, .data = raft::Bytes::Own(Payload(i, t))});
      }
    };
    if (kind < 60 || m.last() == m.snap_index) {
      add_entries(m.last() + 1, absl::Uniform<uint64_t>(rng_, 1, 8), term);
    } else if (kind < 72) {
      // A new leader's conflicting entries replace a suffix.
      const uint64_t from = absl::Uniform<uint64_t>(
          absl::IntervalClosedClosed, rng_, m.snap_index + 1, m.last());
      add_entries(from, absl::Uniform<uint64_t>(rng_, 1, 6), term + 1);
      counters.truncations++;
    } else if (kind < 78) {
      // Install a snapshot from a leader that is ahead.
      const uint64_t index = m.last() + absl::Uniform<uint64_t>(rng_, 1, 30);
      r.snapshot =
          Snapshot{.meta = {.index = index,
                            .term = term + 1,
                            .conf_state = absl::StrCat("conf@", index)},
                   .data = absl::StrCat("snapshot data ", index)};
      if (absl::Bernoulli(rng_, 0.5)) add_entries(index + 1, 3, term + 1);
      counters.installs++;
    } else if (kind < 85) {
      // A local snapshot of applied state compacts the log.
      const uint64_t index = absl::Uniform<uint64_t>(
          absl::IntervalClosedClosed, rng_, m.snap_index + 1, m.last());
      r.snapshot = Snapshot{.meta = {.index = index, .term = m.terms.at(index)},
                            .data = "local"};
      r.snapshot_replaces_log = false;
    } else {
      r.hard_state =
          HardState{.term = term + absl::Uniform<uint64_t>(rng_, 0, 2),
                    .vote = absl::Uniform<uint64_t>(rng_, 0, 4),
                    .commit = m.last()};
    }
    if (absl::Bernoulli(rng_, 0.3)) {
      r.hard_state = HardState{.term = term, .vote = 1, .commit = m.snap_index};
    }
    return r;
  }

  void Step(Counters& counters) {
    const uint64_t g =
        absl::Uniform<uint64_t>(absl::IntervalClosedClosed, rng_, 1, kGroups);
    if (store_->group(g)->failed()) {
      counters.failed_groups++;
      return;
    }
    PersistRequest r = RandomRequest(g, counters);
    ApplyToModel(current_[g], r);
    history_[g].push_back(current_[g]);
    ASSERT_TRUE(store_->Enqueue(std::move(r)).ok()) << Where(g);
    if (!absl::Bernoulli(rng_, 0.35)) return;
    for (const Completion& c : store_->Flush()) {
      if (!c.status.ok()) continue;  // a power cut in this flush
      const ModelState& m = current_[c.group_id];
      ASSERT_EQ(c.durable_index, m.last()) << Where(c.group_id);
      ASSERT_EQ(c.durable_term, m.last_term()) << Where(c.group_id);
      durable_[c.group_id] = m;
      history_[c.group_id] = {m};
    }
  }

  // How much of `durable` the state `later` still holds (the caller may have
  // replaced durable entries since, e.g. by truncation or a snapshot install).
  static uint64_t StillDurable(const ModelState& durable,
                               const ModelState& later) {
    uint64_t k = later.snap_index;
    while (true) {
      auto in_later = later.terms.find(k + 1);
      auto in_durable = durable.terms.find(k + 1);
      if (in_later == later.terms.end() || in_durable == durable.terms.end() ||
          in_later->second != in_durable->second) {
        return k;
      }
      ++k;
    }
  }

  void Check(uint64_t g, Counters& counters) {
    GroupStorage& storage = *store_->group(g);
    const RecoveryReport& report = storage.recovery();
    ASSERT_TRUE(report.damage.empty())
        << Where(g) << ": damage at " << report.damage[0].file << ":"
        << report.damage[0].position << " " << report.damage[0].reason;
    if (report.torn_bytes_cut > 0) counters.torn_tails_cut++;
    if (storage.log().segment_count() > 1) counters.multi_segment_logs++;
    // Read everything back: checksums good, payloads as written.
    ModelState recovered;
    recovered.snap_index = storage.snapshot_meta().index;
    recovered.snap_term = storage.snapshot_meta().term;
    recovered.hard_state = storage.hard_state();
    ASSERT_EQ(storage.first_index(), recovered.snap_index + 1) << Where(g);
    std::vector<Entry> entries;
    for (uint64_t i = storage.first_index(); i <= storage.last_index();) {
      entries.clear();
      absl::Status s =
          storage.Entries(i, storage.last_index() + 1, 4096, &entries);
      ASSERT_TRUE(s.ok()) << Where(g) << ": " << s;
      ASSERT_FALSE(entries.empty());
      for (const Entry& e : entries) {
        ASSERT_EQ(e.index, i) << Where(g);
        ASSERT_EQ(e.data.view(), Payload(e.index, e.term))
            << Where(g) << " index " << i;
        ASSERT_EQ(*storage.Term(i), e.term);
        recovered.terms[i++] = e.term;
      }
    }
    if (recovered.snap_index > 0) {
      absl::StatusOr<Snapshot> snap = storage.LoadSnapshot();
      ASSERT_TRUE(snap.ok()) << Where(g) << ": " << snap.status();
      ASSERT_EQ(snap->meta, storage.snapshot_meta());
    }
    // Some state since the last durable point explains the recovered log. A
    // durable entry may be missing only if a later request replaced it (it was
    // uncommitted, e.g. a conflicting suffix): recovery may land inside that
    // replacement.
    const ModelState& durable = durable_[g];
    const std::vector<ModelState>& history = history_[g];
    std::vector<uint64_t> must_keep(history.size());
    for (size_t t = history.size(); t-- > 0;) {
      must_keep[t] = StillDurable(durable, history[t]);
      if (t + 1 < history.size())
        must_keep[t] = std::min(must_keep[t], must_keep[t + 1]);
    }
    bool explained = false;
    for (size_t t = 0; t < history.size() && !explained; ++t) {
      const ModelState& m = history[t];
      if (m.snap_index != recovered.snap_index ||
          m.snap_term != recovered.snap_term) {
        continue;
      }
      if (recovered.last() > m.last()) continue;
      bool prefix = true;
      for (const auto& [i, term] : recovered.terms) {
        auto it = m.terms.find(i);
        if (it == m.terms.end() || it->second != term) {
          prefix = false;
          break;
        }
      }
      explained = prefix && recovered.last() >= must_keep[t];
    }
    ASSERT_TRUE(explained) << Where(g) << ": recovered snapshot "
                           << recovered.snap_index << "/" << recovered.snap_term
                           << " log up to " << recovered.last()
                           << "; durable was up to " << durable.last()
                           << Describe(g, recovered);
    bool hard_state_ok = false;
    for (const ModelState& m : history_[g]) {
      hard_state_ok |= m.hard_state == recovered.hard_state;
    }
    ASSERT_TRUE(hard_state_ok)
        << Where(g) << ": hard state term " << recovered.hard_state.term;
    if (recovered.last() > durable.last()) counters.recovered_beyond_durable++;
    if (recovered.last() < current_[g].last()) counters.lost_undurable++;
    // The recovered state is the new baseline (the simulated disk keeps what it
    // shows after a crash).
    current_[g] = recovered;
    durable_[g] = recovered;
    history_[g] = {recovered};
  }

  static std::string Show(const ModelState& m) {
    std::string out =
        absl::StrCat("snap ", m.snap_index, "/", m.snap_term, " [");
    for (const auto& [i, t] : m.terms) absl::StrAppend(&out, i, ":", t, " ");
    return out + "]";
  }

  std::string Describe(uint64_t g, const ModelState& recovered) {
    const RecoveryReport& r = store_->group(g)->recovery();
    std::string out = absl::StrCat(
        "\nrecovered ", Show(recovered), "\ndurable ", Show(durable_[g]),
        "\ntorn cut ", r.torn_bytes_cut, " scanned ", r.segments_scanned,
        " segments ", r.segments, " removed:");
    for (const std::string& f : r.files_removed) absl::StrAppend(&out, " ", f);
    for (const ModelState& m : history_[g])
      absl::StrAppend(&out, "\nstate ", Show(m));
    return out;
  }

  const uint64_t seed_;
  const uint64_t tail_wal_bytes_;
  std::mt19937_64 rng_;
  std::mt19937_64 disk_rng_;
  sim::SimDisk disk_;
  std::unique_ptr<LogStore> store_;
  std::map<uint64_t, ModelState> current_;
  std::map<uint64_t, ModelState> durable_;
  std::map<uint64_t, std::vector<ModelState>> history_ = {
      {1, {ModelState{}}}, {2, {ModelState{}}}, {3, {ModelState{}}}};
};

// Without a tail log (each flush syncs the segments it wrote) and with a
// small one (flushes sync one file; checkpoints, barriers and the replay at
// open run many times per seed).
class StorageCrashTest : public ::testing::TestWithParam<uint64_t> {};
INSTANTIATE_TEST_SUITE_P(TailLog, StorageCrashTest,
                         ::testing::Values(0, kTailWalMinBytes));

TEST_P(StorageCrashTest, RecoveredLogIsADurablePrefixOverFixedSeeds) {
  Counters counters;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    CrashTest test(seed, GetParam());
    test.Run(counters);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // The scenarios the test is about actually happened.
  EXPECT_EQ(counters.crashes, uint64_t{kSeeds} * kCyclesPerSeed);
  EXPECT_GT(counters.crashes_inside_flush, 100u);
  EXPECT_GT(counters.torn_tails_cut, GetParam() == 0 ? 20u : 10u);
  EXPECT_GT(counters.recovered_beyond_durable, 20u);
  EXPECT_GT(counters.lost_undurable, 20u);
  EXPECT_GT(counters.installs, 50u);
  EXPECT_GT(counters.truncations, 50u);
  EXPECT_GT(counters.multi_segment_logs, 50u);
  EXPECT_GT(counters.failed_groups, 10u);
  if (GetParam() == 0) {
    EXPECT_EQ(counters.wal_replayed + counters.wal_checkpoints, 0u);
  } else {
    EXPECT_GT(counters.wal_replayed, 500u);
    EXPECT_GT(counters.wal_checkpoints, 30u);
    EXPECT_GT(counters.wal_barriers, 100u);
  }
  std::printf("tail log: replayed=%lu checkpoints=%lu barriers=%lu\n",
              counters.wal_replayed, counters.wal_checkpoints,
              counters.wal_barriers);
  std::printf(
      "crashes=%lu inside_flush=%lu torn_tails_cut=%lu beyond_durable=%lu "
      "lost_undurable=%lu installs=%lu truncations=%lu multi_segment=%lu "
      "failed_groups=%lu\n",
      counters.crashes, counters.crashes_inside_flush, counters.torn_tails_cut,
      counters.recovered_beyond_durable, counters.lost_undurable,
      counters.installs, counters.truncations, counters.multi_segment_logs,
      counters.failed_groups);
}

// Partition logs under crashes: Kafka offsets stay contiguous from the
// snapshot's next offset, every batch carries its assigned base offset with a
// valid batch CRC, offsets reported in completions are the ones recovered, and
// offset lookups agree with the log.
TEST_P(StorageCrashTest, PartitionOffsetsSurviveCrashes) {
  KafkaV2BatchOffsets kafka;
  uint64_t checked_entries = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    std::mt19937_64 rng(seed);
    std::mt19937_64 disk_rng(seed * 31);
    sim::SimDisk disk(sim::SimDiskOptions{.sector_size_bytes = 64,
                                          .torn_write_probability = 0.6,
                                          .corrupt_sector_probability = 0.3},
                      disk_rng);
    std::map<std::pair<uint64_t, uint64_t>, uint64_t>
        reported;  // (i,t)->offset
    uint64_t term = 1;
    for (int cycle = 0; cycle < 4; ++cycle) {
      std::unique_ptr<LogStore> store =
          *LogStore::Open(&disk, "",
                          StoreOptions{.max_flush_bytes = 1ull << 30,
                                       .tail_wal_bytes = GetParam(),
                                       .tail_wal_min_groups = 1});
      absl::StatusOr<GroupStorage*> opened =
          store->OpenGroup(7, LogOptions{.segment_max_bytes = 2048,
                                         .index_interval_bytes = 300,
                                         .batch_offsets = &kafka});
      ASSERT_TRUE(opened.ok()) << "seed " << seed << ": " << opened.status();
      GroupStorage& g = **opened;
      // Check what recovery left.
      const std::string where = absl::StrCat("seed ", seed, " cycle ", cycle);
      uint64_t offset = g.snapshot_meta().next_offset;
      std::vector<Entry> got;
      if (g.last_index() >= g.first_index()) {
        ASSERT_TRUE(
            g.Entries(g.first_index(), g.last_index() + 1, ~0ull, &got).ok());
      }
      for (const Entry& e : got) {
        ASSERT_EQ(e.offset_base, offset) << where << " index " << e.index;
        ASSERT_EQ(testing::BatchBaseOffset(e.data), offset) << where;
        ASSERT_TRUE(testing::KafkaBatchCrcOk(e.data)) << where;
        auto it = reported.find({e.index, e.term});
        if (it != reported.end()) {
          ASSERT_EQ(it->second, offset) << where;
        }
        for (uint64_t o = offset; o < offset + e.offset_count; ++o) {
          ASSERT_EQ(*g.log().IndexForOffset(o), e.index)
              << where << " offset " << o;
        }
        offset += e.offset_count;
        checked_entries++;
      }
      ASSERT_EQ(g.log().next_offset(), offset) << where;
      // New work, then a power cut somewhere in it.
      disk.FreezeAfterOps(absl::Uniform<uint64_t>(rng, 0, 80));
      for (int step = 0; step < 30 && !disk.frozen(); ++step) {
        PersistRequest r{.group_id = 7};
        const uint64_t last = g.last_index();
        const int kind = absl::Uniform<int>(rng, 0, 10);
        uint64_t first = last + 1;
        if (kind == 0 && last >= g.first_index()) {
          first = absl::Uniform<uint64_t>(absl::IntervalClosedClosed, rng,
                                          g.first_index(), last);
          ++term;
        } else if (kind == 1) {
          const uint64_t at = last + absl::Uniform<uint64_t>(rng, 1, 10);
          r.snapshot = Snapshot{.meta = {.index = at,
                                         .term = ++term,
                                         .next_offset = offset + 1000}};
          first = at + 1;
        }
        for (uint64_t i = first; i < first + absl::Uniform<uint64_t>(rng, 1, 5);
             ++i) {
          r.entries.push_back(
              Entry{.index = i,
                    .term = term,
                    .data = raft::Bytes::Own(testing::MakeKafkaBatch(
                        static_cast<uint32_t>((i * 7 + term) % 5 + 1),
                        static_cast<int64_t>(i), (i * 13) % 100))});
        }
        if (!store->Enqueue(std::move(r)).ok()) break;
        for (const Completion& c : store->Flush()) {
          if (!c.status.ok()) continue;
          for (const AssignedOffsets& a : c.offsets) {
            absl::StatusOr<uint64_t> t = g.Term(a.index);
            if (t.ok()) reported[{a.index, *t}] = a.offset_base;
          }
        }
        if (g.failed()) break;
        offset = g.log().next_offset();
      }
      store.reset();
      disk.Crash();
    }
  }
  EXPECT_GT(checked_entries, 1000u);
}

}  // namespace
}  // namespace chronik::storage
