// Snapshots in RaftHost: a group with a SnapshotPolicy keeps its stored log
// bounded and restarts from its snapshot plus the tail; a follower that was
// down while the leader compacted catches up by installing the snapshot, for
// a state-machine group (the metadata group's shape) and for a partition
// group (whose snapshot is the leader's log start).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "broker/replication/raft_host.h"
#include "broker/replication/raft_host_test_util.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"

namespace chronik::replication {
namespace {

using testing::Settle;
using testing::TestNode;

constexpr GroupId kGroup = 0;
constexpr GroupId kPartition = 5;

// A state machine whose state is the list of commands applied (metadata
// style), and for partition groups the next Kafka offset.
class SnapshotApplier : public GroupApplier {
 public:
  void Apply(GroupId group_id, const raft::Entry& entry) override {
    if (entry.type != raft::EntryType::kNormal || entry.data.empty()) return;
    if (group_id == kPartition) {
      next_offset += 2;  // every test batch has two records
      return;
    }
    commands.push_back(std::string(entry.data.view()));
  }
  std::string TakeSnapshot(GroupId group_id) override {
    CHRONIK_CHECK_EQ(group_id, kGroup);
    return absl::StrJoin(commands, ",");
  }
  absl::Status RestoreSnapshot(GroupId group_id,
                               const SnapshotImage& image) override {
    ++restored;
    if (group_id == kPartition) {
      if (image.data != "producers") return absl::DataLossError("bad image");
      next_offset = image.next_offset;
      return absl::OkStatus();
    }
    commands = absl::StrSplit(image.data, ',', absl::SkipEmpty());
    return absl::OkStatus();
  }
  std::vector<std::string> commands;
  uint64_t next_offset = 0;
  int restored = 0;
};

GroupSpec Spec(GroupId group, std::vector<raft::NodeId> voters,
               SnapshotApplier* applier, uint64_t max_entries) {
  GroupSpec spec{group, std::move(voters), group == kPartition, applier};
  spec.snapshot_policy.max_entries = max_entries;
  spec.snapshot_policy.segment_max_bytes = max_entries > 0 ? 1024 : 0;
  return spec;
}

// Drives the cluster until quiet, ticking the leader so that it probes a
// follower whose earlier messages were lost.
void TickAndSettle(std::map<raft::NodeId, TestNode*>& nodes, TestNode* leader,
                   int ticks) {
  for (int i = 0; i < ticks; ++i) {
    leader->host->Tick();
    Settle(nodes);
  }
}

uint64_t StoredEntries(TestNode& node, GroupId group) {
  const storage::GroupStorage* storage = node.store->group(group);
  return storage->last_index() + 1 - storage->first_index();
}

TEST(RaftHostSnapshotTest, PolicyKeepsTheLogBoundedAndRestartReplaysTheTail) {
  constexpr uint64_t kEvery = 100;
  TestNode node(1, 7);
  SnapshotApplier applier;
  ASSERT_TRUE(node.host->AddGroup(Spec(kGroup, {1}, &applier, kEvery)).ok());
  ASSERT_TRUE(node.host->Campaign(kGroup).ok());
  std::map<raft::NodeId, TestNode*> nodes = {{1, &node}};
  Settle(nodes);
  std::vector<std::string> expected;
  uint64_t max_stored = 0;
  uint64_t max_bytes = 0;
  for (int i = 0; i < 2'000; ++i) {
    expected.push_back(absl::StrCat("c", i));
    ASSERT_TRUE(
        node.host->Propose(kGroup, raft::Bytes::Copy(expected.back())).ok());
    if (i % 10 == 9) {
      Settle(nodes);
      max_stored = std::max(max_stored, StoredEntries(node, kGroup));
      max_bytes =
          std::max(max_bytes, node.store->group(kGroup)->log().size_bytes());
    }
  }
  Settle(nodes);
  ASSERT_EQ(applier.commands, expected);
  EXPECT_GE(node.host->snapshot_stats().taken, 19u);
  // Entries since the last snapshot, plus at most one segment's (a 1 KiB
  // segment holds about 25 of these records).
  EXPECT_LE(max_stored, kEvery + 40) << "the log grows without bound";
  EXPECT_LE(max_bytes, 2 * 1024 + kEvery * 64);
  const raft::Index snapshot = node.store->group(kGroup)->snapshot_meta().index;
  EXPECT_GT(snapshot, 1'900u);

  node.Restart(1, /*crash=*/false);
  SnapshotApplier restarted;
  ASSERT_TRUE(node.host->AddGroup(Spec(kGroup, {1}, &restarted, kEvery)).ok());
  EXPECT_EQ(restarted.restored, 1);
  // Only the tail after the snapshot was read back and replayed.
  EXPECT_LE(node.observer.recovered[kGroup].size(), kEvery + 1);
  ASSERT_TRUE(node.host->Campaign(kGroup).ok());
  Settle(nodes);
  EXPECT_EQ(restarted.commands, expected)
      << "snapshot + tail restore the identical state";
}

TEST(RaftHostSnapshotTest, FollowerBehindTheCompactedLogInstallsTheSnapshot) {
  std::vector<std::unique_ptr<TestNode>> owned;
  std::map<raft::NodeId, TestNode*> nodes;
  std::map<raft::NodeId, SnapshotApplier> appliers;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    // A small in-memory tail: the leader cannot serve old entries from memory.
    owned.push_back(std::make_unique<TestNode>(id, id, nullptr, false, 0,
                                               /*max_log_tail_bytes=*/64));
    nodes[id] = owned.back().get();
    ASSERT_TRUE(nodes[id]
                    ->host->AddGroup(Spec(kGroup, {1, 2, 3}, &appliers[id], 20))
                    .ok());
  }
  TestNode* leader = nodes[1];
  ASSERT_TRUE(leader->host->Campaign(kGroup).ok());
  Settle(nodes);
  ASSERT_TRUE(leader->host->Propose(kGroup, raft::Bytes::Copy("first")).ok());
  Settle(nodes);
  ASSERT_EQ(appliers[3].commands.size(), 1u);

  // Node 3 is down while the leader applies and compacts 300 entries.
  std::map<raft::NodeId, TestNode*> two = {{1, nodes[1]}, {2, nodes[2]}};
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(
        leader->host->Propose(kGroup, raft::Bytes::Copy(absl::StrCat("c", i)))
            .ok());
    if (i % 10 == 9) Settle(two, /*drop_others=*/true);
  }
  Settle(two, /*drop_others=*/true);
  ASSERT_GT(leader->store->group(kGroup)->first_index(), 100u)
      << "the leader compacted its log";

  // Back: the entries it lacks are gone, so it gets the snapshot.
  TickAndSettle(nodes, leader, 5);
  ASSERT_TRUE(leader->host->Propose(kGroup, raft::Bytes::Copy("last")).ok());
  Settle(nodes);
  EXPECT_EQ(nodes[3]->host->snapshot_stats().installed, 1u);
  EXPECT_TRUE(nodes[3]->host->failed_groups().empty());
  EXPECT_EQ(appliers[3].commands, appliers[1].commands);
  EXPECT_EQ(appliers[3].commands.back(), "last");
  EXPECT_EQ(appliers[3].commands.size(), 302u);

  // Its restart starts from the installed snapshot.
  nodes[3]->Restart(3, /*crash=*/false);
  SnapshotApplier restarted;
  ASSERT_TRUE(
      nodes[3]->host->AddGroup(Spec(kGroup, {1, 2, 3}, &restarted, 20)).ok());
  EXPECT_EQ(restarted.restored, 1);
  TickAndSettle(nodes, leader, 3);
  EXPECT_EQ(restarted.commands, appliers[1].commands);
}

TEST(RaftHostSnapshotTest, PartitionFollowerBehindTheLogStartCatchesUp) {
  std::vector<std::unique_ptr<TestNode>> owned;
  std::map<raft::NodeId, TestNode*> nodes;
  std::map<raft::NodeId, SnapshotApplier> appliers;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    owned.push_back(std::make_unique<TestNode>(id, id, nullptr, false,
                                               /*segment_max_bytes=*/2048,
                                               /*max_log_tail_bytes=*/256));
    nodes[id] = owned.back().get();
    ASSERT_TRUE(
        nodes[id]
            ->host->AddGroup(Spec(kPartition, {1, 2, 3}, &appliers[id], 0))
            .ok());
  }
  TestNode* leader = nodes[1];
  ASSERT_TRUE(leader->host->Campaign(kPartition).ok());
  Settle(nodes);
  auto produce = [&](std::map<raft::NodeId, TestNode*>& to, int batches) {
    for (int i = 0; i < batches; ++i) {
      ASSERT_TRUE(leader->host
                      ->Propose(kPartition,
                                raft::Bytes::Own(
                                    storage::testing::MakeKafkaBatch(2, 1000)))
                      .ok());
      if (i % 10 == 9) Settle(to, /*drop_others=*/true);
    }
    Settle(to, /*drop_others=*/true);
  };
  produce(nodes, 5);
  std::map<raft::NodeId, TestNode*> two = {{1, nodes[1]}, {2, nodes[2]}};
  produce(two, 200);

  // Retention removes every sealed segment of the leader's log.
  storage::GroupStorage* stored = leader->store->group(kPartition);
  storage::RetentionLimits limits;
  limits.retention_bytes = 0;
  limits.max_removable_index = stored->last_index();
  const std::optional<storage::GroupLog::RetentionCutPoint> cut =
      stored->log().RetentionCut(limits);
  ASSERT_TRUE(cut.has_value());
  ASSERT_TRUE(
      leader->host
          ->CompactLog(kPartition, SnapshotImage{cut->index, cut->term,
                                                 cut->next_offset, "producers"})
          .ok());
  EXPECT_FALSE(leader->host
                   ->CompactLog(kPartition, SnapshotImage{cut->index + 1, 99, 0,
                                                          "producers"})
                   .ok())
      << "a term storage does not have is refused";
  Settle(two, /*drop_others=*/true);
  ASSERT_EQ(stored->first_index(), cut->index + 1);
  ASSERT_GT(cut->index, 10u) << "node 3 holds less than the leader's start";

  TickAndSettle(nodes, leader, 5);
  produce(nodes, 3);
  TestNode& follower = *nodes[3];
  EXPECT_EQ(follower.host->snapshot_stats().installed, 1u);
  EXPECT_TRUE(follower.host->failed_groups().empty());
  storage::GroupLog& log = follower.store->group(kPartition)->log();
  EXPECT_EQ(log.first_index(), cut->index + 1);
  EXPECT_EQ(log.next_offset(), stored->log().next_offset());
  EXPECT_EQ(appliers[3].next_offset, appliers[1].next_offset);
  EXPECT_EQ(appliers[3].next_offset, 2u * 208);
  // The follower's batches carry the leader's Kafka offsets.
  std::vector<storage::Entry> mine;
  std::vector<storage::Entry> theirs;
  ASSERT_TRUE(
      log.Read(log.first_index(), log.last_index() + 1, 1 << 20, &mine).ok());
  ASSERT_TRUE(
      stored->log()
          .Read(log.first_index(), log.last_index() + 1, 1 << 20, &theirs)
          .ok());
  ASSERT_EQ(mine.size(), theirs.size());
  for (size_t i = 0; i < mine.size(); ++i) {
    EXPECT_EQ(mine[i].offset_base, theirs[i].offset_base) << i;
  }

  follower.Restart(3, /*crash=*/true);
  SnapshotApplier restarted;
  ASSERT_TRUE(
      follower.host->AddGroup(Spec(kPartition, {1, 2, 3}, &restarted, 0)).ok());
  EXPECT_EQ(restarted.restored, 1);
  TickAndSettle(nodes, leader, 3);
  EXPECT_EQ(restarted.next_offset, appliers[1].next_offset);
}

}  // namespace
}  // namespace chronik::replication
