#include "broker/replication/raft_host.h"

#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/check.h"
#include "broker/replication/raft_host_test_util.h"
#include "broker/storage/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::replication {
namespace {

using testing::RecordingApplier;
using testing::Settle;
using testing::TestNode;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RaftHostTest, SingleVoterGroupCommitsAndReplaysAfterRestart) {
  TestNode node(1, 7);
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(0).ok());
  std::map<raft::NodeId, TestNode*> nodes = {{1, &node}};
  Settle(nodes);
  ASSERT_TRUE(node.host->is_leader(0));
  EXPECT_EQ(node.applier.leaders[0], 1u);
  for (const char* command : {"a", "b", "c"}) {
    ASSERT_TRUE(node.host->Propose(0, raft::Bytes::Copy(command)).ok());
  }
  Settle(nodes);
  EXPECT_THAT(node.applier.applied[0], ElementsAre("a", "b", "c"));

  node.Restart(1, /*crash=*/true);
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  // The commit index is not written on every commit, so after a crash the
  // entries come back once the group has a leader again.
  ASSERT_TRUE(node.host->Campaign(0).ok());
  Settle(nodes);
  EXPECT_THAT(node.applier.applied[0], ElementsAre("a", "b", "c"))
      << "committed entries are applied again from disk after a crash";
  ASSERT_TRUE(node.host->Propose(0, raft::Bytes::Copy("d")).ok());
  Settle(nodes);
  EXPECT_THAT(node.applier.applied[0], ElementsAre("a", "b", "c", "d"));
}

TEST(RaftHostTest, ThreeNodesAgreeOnManyGroups) {
  std::vector<std::unique_ptr<TestNode>> owned;
  std::map<raft::NodeId, TestNode*> nodes;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    owned.push_back(std::make_unique<TestNode>(id, id));
    nodes[id] = owned.back().get();
  }
  for (GroupId group = 0; group < 4; ++group) {
    for (auto& [id, node] : nodes) {
      ASSERT_TRUE(
          node->host->AddGroup({group, {1, 2, 3}, false, &node->applier}).ok());
    }
    // Spread leadership: group g is led by node g % 3 + 1.
    ASSERT_TRUE(nodes[group % 3 + 1]->host->Campaign(group).ok());
  }
  Settle(nodes);
  for (GroupId group = 0; group < 4; ++group) {
    TestNode* leader = nodes[group % 3 + 1];
    ASSERT_TRUE(leader->host->is_leader(group)) << "group " << group;
    absl::StatusOr<RaftHost::Proposed> proposed = leader->host->Propose(
        group, raft::Bytes::Copy("g" + std::to_string(group)));
    ASSERT_TRUE(proposed.ok()) << proposed.status();
    // A follower refuses and names the leader.
    absl::StatusOr<RaftHost::Proposed> refused =
        nodes[(group + 1) % 3 + 1]->host->Propose(group,
                                                  raft::Bytes::Copy("x"));
    EXPECT_FALSE(refused.ok());
  }
  Settle(nodes);
  for (auto& [id, node] : nodes) {
    for (GroupId group = 0; group < 4; ++group) {
      EXPECT_THAT(node->applier.applied[group],
                  ElementsAre("g" + std::to_string(group)))
          << "node " << id << " group " << group;
    }
  }
}

// A leader cut off from its peers steps down at a check-quorum round. That
// changes no durable state and sends nothing, so the core has no Ready; the
// applier must hear of it all the same, at once (the broker's partition
// replica otherwise kept judging produce requests as the leader until the
// node's next campaign, an election timeout later, and answered a batch
// after a refused one OUT_OF_ORDER_SEQUENCE_NUMBER).
TEST(RaftHostTest, CheckQuorumStepDownIsReportedAtOnce) {
  std::vector<std::unique_ptr<TestNode>> owned;
  std::map<raft::NodeId, TestNode*> nodes;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    owned.push_back(std::make_unique<TestNode>(id, id));
    nodes[id] = owned.back().get();
    ASSERT_TRUE(nodes[id]
                    ->host->AddGroup({0, {1, 2, 3}, false, &nodes[id]->applier})
                    .ok());
  }
  ASSERT_TRUE(nodes[1]->host->Campaign(0).ok());
  Settle(nodes);
  ASSERT_TRUE(nodes[1]->host->is_leader(0));
  ASSERT_EQ(nodes[1]->applier.leaders[0], 1u);
  // Node 1 alone: it ticks and processes, and whatever it sends is lost.
  TestNode& cut_off = *nodes[1];
  for (int tick = 0; tick < 100 && cut_off.host->is_leader(0); ++tick) {
    cut_off.host->Tick();
    std::vector<OutgoingMessage> lost;
    cut_off.host->Process(&lost);
  }
  ASSERT_FALSE(cut_off.host->is_leader(0)) << "check quorum stepped it down";
  EXPECT_EQ(cut_off.applier.leaders[0], raft::kNoNode)
      << "the applier still believes its node leads";
}

TEST(RaftHostTest, PartitionGroupAssignsKafkaOffsetsInTheStoredBatches) {
  TestNode node(1, 3);
  ASSERT_TRUE(node.host->AddGroup({5, {1}, true, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(5).ok());
  std::map<raft::NodeId, TestNode*> nodes = {{1, &node}};
  Settle(nodes);
  for (uint32_t records : {3u, 2u}) {
    ASSERT_TRUE(
        node.host
            ->Propose(5, raft::Bytes::Own(
                             storage::testing::MakeKafkaBatch(records, 1000)))
            .ok());
  }
  Settle(nodes);
  ASSERT_EQ(node.applier.applied[5].size(), 2u);
  storage::GroupLog& log = node.store->group(5)->log();
  EXPECT_EQ(log.next_offset(), 5u);
  std::vector<storage::Entry> stored;
  ASSERT_TRUE(log.Read(1, log.last_index() + 1, 1 << 20, &stored).ok());
  std::vector<uint64_t> bases;
  for (const storage::Entry& entry : stored) {
    if (entry.data.empty()) continue;  // the leader's first, empty entry
    bases.push_back(storage::testing::BatchBaseOffset(entry.data));
    EXPECT_TRUE(storage::testing::KafkaBatchCrcOk(entry.data));
  }
  EXPECT_THAT(bases, ElementsAre(0, 3));
}

TEST(RaftHostTest, TwoPhaseFlushUsesTheDriversSyncer) {
  int batches = 0;
  size_t files = 0;
  TestNode node(1, 9, [&](absl::Span<env::File* const> to_sync) {
    ++batches;
    files += to_sync.size();
    std::vector<absl::Status> results;
    for (env::File* file : to_sync) results.push_back(file->Sync());
    return results;
  });
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(0).ok());
  std::map<raft::NodeId, TestNode*> nodes = {{1, &node}};
  Settle(nodes);
  ASSERT_TRUE(node.host->Propose(0, raft::Bytes::Copy("x")).ok());
  Settle(nodes);
  EXPECT_THAT(node.applier.applied[0], ElementsAre("x"));
  EXPECT_GT(batches, 0);
  EXPECT_GT(files, 0u);
  node.Restart(1, /*crash=*/true);
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(0).ok());
  Settle(nodes);
  EXPECT_THAT(node.applier.applied[0], ElementsAre("x")) << "synced for real";
}

TEST(RaftHostTest, CommitOnlyHardStatesAreNotWritten) {
  TestNode node(1, 11);
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(0).ok());
  std::map<raft::NodeId, TestNode*> nodes = {{1, &node}};
  Settle(nodes);
  const uint64_t writes = node.store->stats().hard_state_writes;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(node.host->Propose(0, raft::Bytes::Copy("p")).ok());
    Settle(nodes);
  }
  EXPECT_EQ(node.applier.applied[0].size(), 10u);
  EXPECT_EQ(node.store->stats().hard_state_writes, writes)
      << "term and vote did not change, so no hard state write";
}

TEST(RaftHostTest, DeleteGroupRemovesItsStorage) {
  TestNode node(1, 12);
  ASSERT_TRUE(node.host->AddGroup({4, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(4).ok());
  std::map<raft::NodeId, TestNode*> nodes = {{1, &node}};
  Settle(nodes);
  ASSERT_TRUE(node.host->Propose(4, raft::Bytes::Copy("q")).ok());
  Settle(nodes);
  ASSERT_TRUE(node.host->DeleteGroup(4).ok());
  EXPECT_FALSE(node.host->HasGroup(4));
  EXPECT_EQ(node.store->group(4), nullptr);
  // A group created again under that id starts empty.
  node.applier = RecordingApplier();
  ASSERT_TRUE(node.host->AddGroup({4, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(4).ok());
  Settle(nodes);
  EXPECT_TRUE(node.applier.applied[4].empty());
}

// An IO "thread" the test runs by hand: flushes wait until Complete().
struct ManualSyncer {
  explicit ManualSyncer(RaftHost* host) : host(host) {}
  // Process, then take the flush it started (if any).
  void Process(std::vector<OutgoingMessage>* outbox) {
    host->Process(outbox);
    if (std::optional<SyncRequest> request = host->TakeSyncRequest()) {
      started.push_back(std::move(*request));
    }
  }
  // Syncs and acknowledges the oldest started flush.
  void Complete() {
    CHRONIK_CHECK(!started.empty());
    SyncRequest request = std::move(started.front());
    started.erase(started.begin());
    std::vector<absl::Status> results;
    for (env::File* file : request.files) results.push_back(file->Sync());
    host->OnSyncDone(request.flush_id, std::move(results));
  }
  RaftHost* host;
  std::vector<SyncRequest> started;
};

TEST(RaftHostTest, AsyncFlushHoldsDurabilityUntilTheSyncsComplete) {
  TestNode node(1, 13, nullptr, /*async_flush=*/true);
  ManualSyncer io(node.host.get());
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(0).ok());
  std::vector<OutgoingMessage> outbox;
  auto settle = [&] {
    for (int i = 0; i < 20; ++i) {
      io.Process(&outbox);
      if (io.started.empty()) return;
      io.Complete();
    }
  };
  settle();
  ASSERT_TRUE(node.host->is_leader(0));

  ASSERT_TRUE(node.host->Propose(0, raft::Bytes::Copy("a")).ok());
  io.Process(&outbox);
  ASSERT_EQ(io.started.size(), 1u);
  EXPECT_TRUE(node.host->flush_in_flight());
  EXPECT_TRUE(node.applier.applied[0].empty())
      << "a single voter commits only what its own fsync made durable";
  // More work while the flush is in flight: a second flush, which only
  // appends, begins while the first syncs (LogStore::CanBeginFlush).
  ASSERT_TRUE(node.host->Propose(0, raft::Bytes::Copy("b")).ok());
  io.Process(&outbox);
  ASSERT_EQ(io.started.size(), 2u) << "b's flush overlaps a's";
  EXPECT_TRUE(node.applier.applied[0].empty());
  io.Complete();  // a's, first: flushes finish in the order they began
  io.Process(&outbox);
  EXPECT_THAT(node.applier.applied[0], ElementsAre("a"))
      << "b is not durable until its own flush finishes";
  ASSERT_EQ(io.started.size(), 1u) << "b's flush still syncs";
  io.Complete();
  settle();
  EXPECT_THAT(node.applier.applied[0], ElementsAre("a", "b"));
  EXPECT_FALSE(node.host->flush_in_flight());
}

TEST(RaftHostTest, AsyncDeleteWaitsForTheFlushInFlight) {
  TestNode node(1, 14, nullptr, /*async_flush=*/true);
  ManualSyncer io(node.host.get());
  ASSERT_TRUE(node.host->AddGroup({6, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(6).ok());
  std::vector<OutgoingMessage> outbox;
  for (int i = 0; i < 10; ++i) {
    io.Process(&outbox);
    if (!io.started.empty()) io.Complete();
  }
  ASSERT_TRUE(node.host->Propose(6, raft::Bytes::Copy("z")).ok());
  io.Process(&outbox);
  ASSERT_EQ(io.started.size(), 1u);
  ASSERT_TRUE(node.host->DeleteGroup(6).ok());
  EXPECT_NE(node.store->group(6), nullptr) << "files still syncing elsewhere";
  io.Complete();  // the flush finishes; the deletion follows
  EXPECT_EQ(node.store->group(6), nullptr);
}

// Its state is how many entries it applied (a checkpoint image).
class CheckpointedApplier : public RecordingApplier {
 public:
  std::optional<std::string> CheckpointImage(GroupId group_id) override {
    return std::to_string(applied[group_id].size());
  }
};

TEST(RaftHostTest, CheckpointsDueUnderASteadyLoadWaitForAQuietStore) {
  TestNode node(1, 16, nullptr, /*async_flush=*/true);
  node.checkpoints =
      CheckpointPolicy{.bytes = 1, .interval_ticks = 0, .max_per_tick = 4};
  node.Restart(1, /*crash=*/false);
  CheckpointedApplier applier;
  ManualSyncer io(node.host.get());
  ASSERT_TRUE(node.host->AddGroup({3, {1}, false, &applier}).ok());
  ASSERT_TRUE(node.host->Campaign(3).ok());
  std::vector<OutgoingMessage> outbox;
  for (int i = 0; i < 10; ++i) {
    io.Process(&outbox);
    if (!io.started.empty()) io.Complete();
  }
  ASSERT_TRUE(node.host->is_leader(3));
  const uint64_t before = node.host->checkpoint_stats().written;
  // A steady load: a proposal and a flush each round, the IO thread
  // finishing the flushes of earlier rounds, a tick while one syncs.
  int ticks_with_a_flush_in_flight = 0;
  constexpr int kRounds = 40;
  for (int round = 0; round < kRounds; ++round) {
    const size_t earlier = io.started.size();
    ASSERT_TRUE(node.host->Propose(3, raft::Bytes::Copy("x")).ok());
    io.Process(&outbox);
    for (size_t i = 0; i < earlier; ++i) {
      io.Complete();
      io.Process(&outbox);
    }
    ticks_with_a_flush_in_flight += node.host->flush_in_flight() ? 1 : 0;
    node.host->Tick();
    io.Process(&outbox);
  }
  EXPECT_EQ(ticks_with_a_flush_in_flight, kRounds) << "the load was steady";
  EXPECT_GE(applier.applied[3].size(), static_cast<size_t>(kRounds / 2));
  EXPECT_GE(node.host->checkpoint_stats().written, before + kRounds / 4)
      << "due checkpoints ran between flushes, though one was in flight at "
         "every tick";
}

TEST(RaftHostTest, AnIdleHostCheckpointsItsTailLog) {
  TestNode node(1, 17, nullptr, /*async_flush=*/true);
  node.store_options = storage::StoreOptions{.tail_wal_bytes = 1 << 20,
                                             .tail_wal_min_groups = 1};
  node.Restart(1, /*crash=*/false);
  ManualSyncer io(node.host.get());
  ASSERT_TRUE(node.host->AddGroup({2, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(2).ok());
  std::vector<OutgoingMessage> outbox;
  auto settle = [&] {
    io.Process(&outbox);
    while (!io.started.empty()) {
      io.Complete();
      io.Process(&outbox);
    }
  };
  settle();
  ASSERT_TRUE(node.host->Propose(2, raft::Bytes::Copy("a")).ok());
  settle();
  ASSERT_THAT(node.applier.applied[2], ElementsAre("a"));
  ASSERT_TRUE(node.store->TailLogCheckpointPossible()) << "a is covered";
  const uint64_t flushes = node.store->stats().flushes;
  int ticks = 0;
  while (node.store->stats().wal_idle_checkpoints == 0 && ticks < 100) {
    node.host->Tick();
    ++ticks;
    settle();
  }
  EXPECT_EQ(ticks, 20) << "HostOptions::idle_tail_log_checkpoint_ticks";
  EXPECT_EQ(node.store->stats().flushes, flushes + 1);
  EXPECT_FALSE(node.store->TailLogCheckpointPossible()) << "all synced";
  for (int i = 0; i < 40; ++i) {
    node.host->Tick();
    settle();
  }
  EXPECT_EQ(node.store->stats().flushes, flushes + 1) << "once";
  EXPECT_FALSE(node.host->HasWork());
}

TEST(RaftHostTest, ObserverSeesAppendThenDurableThenCommitThenApply) {
  TestNode node(1, 15, nullptr, /*async_flush=*/true);
  ManualSyncer io(node.host.get());
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  EXPECT_THAT(node.observer.events, ElementsAre("recover g0 0 0 0"));
  ASSERT_TRUE(node.host->Campaign(0).ok());
  std::vector<OutgoingMessage> outbox;
  for (int i = 0; i < 10; ++i) {
    io.Process(&outbox);
    if (!io.started.empty()) io.Complete();
  }
  ASSERT_TRUE(node.host->is_leader(0));
  EXPECT_THAT(node.observer.Of("role"), ElementsAre("g0 0 1 0", "g0 1 1 1"))
      << "candidate of term 1, then its leader";
  EXPECT_THAT(node.observer.Of("durable"), ::testing::Contains("g0 1 1 1"))
      << "term 1, vote for itself, its empty entry";

  node.observer.events.clear();
  ASSERT_TRUE(node.host->Propose(0, raft::Bytes::Copy("a")).ok());
  io.Process(&outbox);
  EXPECT_THAT(node.observer.events, ElementsAre("append g0 2 2"))
      << "queued, not durable, so not committed";
  io.Complete();
  io.Process(&outbox);
  EXPECT_THAT(node.observer.events,
              ElementsAre("append g0 2 2", "durable g0 1 1 2", "commit g0 1 2",
                          "applied g0 2"));
  EXPECT_THAT(node.applier.applied[0], ElementsAre("a"));
}

TEST(RaftHostTest, ObserverHearsTheRecoveredLogAndTheReplay) {
  std::vector<std::unique_ptr<TestNode>> owned;
  std::map<raft::NodeId, TestNode*> nodes;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    owned.push_back(std::make_unique<TestNode>(id, 20 + id));
    nodes[id] = owned.back().get();
    ASSERT_TRUE(nodes[id]
                    ->host->AddGroup({0, {1, 2, 3}, false, &nodes[id]->applier})
                    .ok());
  }
  ASSERT_TRUE(nodes[1]->host->Campaign(0).ok());
  Settle(nodes);
  for (const char* command : {"a", "b"}) {
    ASSERT_TRUE(nodes[1]->host->Propose(0, raft::Bytes::Copy(command)).ok());
  }
  Settle(nodes);
  // Node 1 is cut off; nodes 2 and 3 elect a leader of term 2 and write
  // their hard states (term and vote) with the commit index they know.
  std::map<raft::NodeId, TestNode*> rest = {{2, nodes[2]}, {3, nodes[3]}};
  TestNode* leader = nullptr;
  for (int tick = 0; tick < 100 && leader == nullptr; ++tick) {
    for (auto& [id, node] : rest) node->host->Tick();
    Settle(rest, /*drop_others=*/true);
    for (auto& [id, node] : rest) {
      if (node->host->is_leader(0)) leader = node;
    }
  }
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(leader->host->Propose(0, raft::Bytes::Copy("c")).ok());
  Settle(rest, /*drop_others=*/true);

  // The follower of the two crashes and restarts.
  const raft::NodeId follower = leader == nodes[2] ? 3 : 2;
  TestNode& restarted = *nodes[follower];
  restarted.Restart(follower, /*crash=*/true);
  ASSERT_TRUE(
      restarted.host->AddGroup({0, {1, 2, 3}, false, &restarted.applier}).ok());
  // (Settled: everything node 3 acknowledged was synced before the crash.)
  ASSERT_FALSE(restarted.observer.events.empty());
  EXPECT_EQ(restarted.observer.events[0], "recover g0 2 3 5")
      << "term 2, commit 3 (a and b), entries through c";
  EXPECT_THAT(restarted.observer.recovered[0], ElementsAre(1, 2, 3, 4, 5))
      << "each stored entry once, in order";
  EXPECT_THAT(restarted.observer.Of("applied"), ElementsAre("g0 3"));
  EXPECT_THAT(restarted.applier.applied[0], ElementsAre("a", "b"))
      << "replayed before the group runs";
  for (int tick = 0; tick < 5; ++tick) {  // heartbeats carry the commit
    for (auto& [id, node] : rest) node->host->Tick();
    Settle(rest, /*drop_others=*/true);
  }
  EXPECT_THAT(restarted.applier.applied[0], ElementsAre("a", "b", "c"));
}

TEST(RaftHostTest, ReadIndexDeliversReadStatesToTheApplier) {
  std::vector<std::unique_ptr<TestNode>> owned;
  std::map<raft::NodeId, TestNode*> nodes;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    owned.push_back(std::make_unique<TestNode>(id, 30 + id));
    nodes[id] = owned.back().get();
    ASSERT_TRUE(nodes[id]
                    ->host->AddGroup({0, {1, 2, 3}, false, &nodes[id]->applier})
                    .ok());
  }
  ASSERT_TRUE(nodes[1]->host->Campaign(0).ok());
  Settle(nodes);
  ASSERT_TRUE(nodes[1]->host->Propose(0, raft::Bytes::Copy("a")).ok());
  Settle(nodes);
  ASSERT_TRUE(nodes[1]->host->ReadIndex(0, raft::Bytes::Copy("r1")).ok());
  Settle(nodes);
  using Read = std::pair<raft::Index, std::string>;
  EXPECT_THAT(nodes[1]->applier.reads[0], ElementsAre(Read{2, "r1"}))
      << "confirmed by a heartbeat round, at the commit index";
  EXPECT_EQ(nodes[1]->applier.last_index[0], 2u);
  // A follower's read goes through the leader and comes back to it.
  ASSERT_TRUE(nodes[2]->host->ReadIndex(0, raft::Bytes::Copy("r2")).ok());
  Settle(nodes);
  EXPECT_THAT(nodes[2]->applier.reads[0], ElementsAre(Read{2, "r2"}));
  EXPECT_EQ(nodes[1]->host->ReadIndex(7, raft::Bytes::Copy("r3")).code(),
            absl::StatusCode::kNotFound);
}

TEST(RaftHostTest, ObserverHearsOfAFailedGroup) {
  TestNode node(1, 16);
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  ASSERT_TRUE(node.host->Campaign(0).ok());
  std::map<raft::NodeId, TestNode*> nodes = {{1, &node}};
  Settle(nodes);
  sim::SimDiskOptions failing;
  failing.sync_error_probability = 1.0;
  node.disk.set_options(failing);
  ASSERT_TRUE(node.host->Propose(0, raft::Bytes::Copy("x")).ok());
  std::vector<OutgoingMessage> outbox;
  node.host->Process(&outbox);
  EXPECT_THAT(node.observer.Of("failed"), ElementsAre("g0"));
  EXPECT_FALSE(node.observer.failure.ok());
  EXPECT_FALSE(node.host->HasGroup(0));
  EXPECT_EQ(node.host->failed_groups().count(0), 1u);
  EXPECT_TRUE(node.observer.Of("commit").empty() ||
              node.observer.Of("commit").back() != "g0 1 2")
      << "nothing that failed to sync commits";
}

TEST(RaftHostTest, GroupsNeedThisNodeAsVoter) {
  TestNode node(1, 3);
  absl::Status status = node.host->AddGroup({0, {2, 3}, false, &node.applier});
  EXPECT_THAT(status.message(),
              HasSubstr("node 1 is not an initial voter of group 0"));
  ASSERT_TRUE(node.host->AddGroup({0, {1}, false, &node.applier}).ok());
  EXPECT_EQ(node.host->AddGroup({0, {1}, false, &node.applier}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(node.host->Step(9, raft::Message{}).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace chronik::replication
