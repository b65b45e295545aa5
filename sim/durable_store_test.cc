#include "sim/durable_store.h"

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

std::vector<raft::Entry> Entries(raft::Index first, raft::Index last,
                                 raft::Term term) {
  std::vector<raft::Entry> out;
  for (raft::Index i = first; i <= last; ++i) {
    out.push_back(
        raft::Entry{term, i, raft::EntryType::kNormal, raft::Bytes::Copy("x")});
  }
  return out;
}

TEST(DurableStoreTest, UnsyncedWritesAreLostOnCrash) {
  DurableStore store;
  Rng rng(1);
  store.Append(Entries(1, 3, 1));
  store.SetHardState({1, 2, 0});
  store.Sync();
  store.Append(Entries(4, 5, 1));
  store.SetHardState({2, 3, 0});
  EXPECT_EQ(store.current().last_index(), 5u);
  store.Crash(rng, /*torn=*/false);
  EXPECT_EQ(store.current().last_index(), 3u);
  EXPECT_EQ(store.current().hard_state, (raft::HardState{1, 2, 0}));
}

TEST(DurableStoreTest, SyncThroughCoversOnlyEarlierWrites) {
  DurableStore store;
  Rng rng(1);
  store.Append(Entries(1, 2, 1));
  const uint64_t mark = store.writes_issued();
  store.Append(Entries(3, 4, 1));
  store.SyncThrough(mark);
  EXPECT_EQ(store.durable().last_index(), 2u);
  EXPECT_EQ(store.pending_writes(), 1u);
  store.Crash(rng, /*torn=*/false);
  EXPECT_EQ(store.current().last_index(), 2u);
}

TEST(DurableStoreTest, AppendTruncatesConflictingSuffix) {
  DurableStore store;
  store.Append(Entries(1, 5, 1));
  store.Append(Entries(3, 3, 2));
  store.Sync();
  ASSERT_EQ(store.durable().last_index(), 3u);
  EXPECT_EQ(store.durable().entries[2].term, 2u);
  EXPECT_EQ(store.durable().entries[1].term, 1u);
}

TEST(DurableStoreTest, TornCrashKeepsAPrefixOfUnsyncedWrites) {
  bool saw_partial = false;
  for (uint64_t seed = 1; seed < 50; ++seed) {
    DurableStore store;
    Rng rng(seed);
    store.Append(Entries(1, 2, 1));
    store.Sync();
    store.Append(Entries(3, 10, 1));
    store.Crash(rng, /*torn=*/true);
    const raft::Index last = store.current().last_index();
    ASSERT_GE(last, 2u);
    ASSERT_LE(last, 10u);
    saw_partial |= last > 2 && last < 10;
    for (raft::Index i = 1; i <= last; ++i) {
      ASSERT_EQ(store.current().entries[i - 1].index, i);
    }
  }
  EXPECT_TRUE(saw_partial);
}

}  // namespace
}  // namespace chronik::sim
