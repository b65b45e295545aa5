// Replay checkpoints in RaftHost: a restart restores the applier's
// checkpoint and replays only the entries after it; a damaged checkpoint, or
// one the log does not hold, falls back to replaying the whole log, and
// never loses a committed entry.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "broker/replication/raft_host.h"
#include "broker/replication/raft_host_test_util.h"
#include "broker/storage/format.h"
#include "gtest/gtest.h"

namespace chronik::replication {
namespace {

using testing::Settle;
using testing::TestNode;

constexpr GroupId kGroup = 9;

// Its state is the list of commands applied; counts the Apply calls.
class CountingApplier : public GroupApplier {
 public:
  void Apply(GroupId /*group_id*/, const raft::Entry& entry) override {
    if (entry.type != raft::EntryType::kNormal || entry.data.empty()) return;
    ++applied;
    commands.push_back(std::string(entry.data.view()));
  }
  std::optional<std::string> CheckpointImage(GroupId /*group_id*/) override {
    return absl::StrJoin(commands, ",");
  }
  absl::Status RestoreCheckpoint(GroupId /*group_id*/, raft::Index /*index*/,
                                 raft::Term /*term*/,
                                 absl::string_view image) override {
    ++restored;
    commands = absl::StrSplit(image, ',', absl::SkipEmpty());
    return absl::OkStatus();
  }
  std::vector<std::string> commands;
  int applied = 0;
  int restored = 0;
};

class RaftHostCheckpointTest : public ::testing::Test {
 protected:
  RaftHostCheckpointTest() : node_(1, 3) {}

  void Start(CountingApplier* applier) {
    ASSERT_TRUE(
        node_.host->AddGroup(GroupSpec{kGroup, {1}, false, applier}).ok());
    ASSERT_TRUE(node_.host->Campaign(kGroup).ok());
    Settle(nodes_);
  }
  void Propose(int from, int count) {
    for (int i = from; i < from + count; ++i) {
      expected_.push_back(absl::StrCat("c", i));
      ASSERT_TRUE(
          node_.host->Propose(kGroup, raft::Bytes::Copy(expected_.back()))
              .ok());
      if (i % 10 == 9) Settle(nodes_);
    }
    Settle(nodes_);
  }
  std::string CheckpointPath() const {
    return absl::StrCat("data/", storage::format::GroupDir(kGroup), "/",
                        storage::format::kReplayCheckpointFile);
  }

  TestNode node_;
  std::map<raft::NodeId, TestNode*> nodes_ = {{1, &node_}};
  std::vector<std::string> expected_;
};

TEST_F(RaftHostCheckpointTest, RestartReplaysOnlyTheEntriesAfterIt) {
  CountingApplier applier;
  Start(&applier);
  Propose(0, 300);
  ASSERT_TRUE(node_.host->WriteAllCheckpoints().ok());
  EXPECT_EQ(node_.host->checkpoint_stats().written, 1u);
  Propose(300, 20);
  node_.Restart(1, /*crash=*/false);
  CountingApplier restarted;
  Start(&restarted);
  EXPECT_EQ(restarted.restored, 1);
  EXPECT_EQ(node_.host->checkpoint_stats().used, 1u);
  EXPECT_EQ(restarted.applied, 20) << "only the entries after it";
  EXPECT_EQ(restarted.commands, expected_);
  // The observer still heard of every stored entry.
  EXPECT_GE(node_.observer.recovered[kGroup].size(), 320u);
  Propose(320, 5);
  EXPECT_EQ(restarted.commands, expected_);
}

TEST_F(RaftHostCheckpointTest, DamagedCheckpointFallsBackToTheWholeLog) {
  CountingApplier applier;
  Start(&applier);
  Propose(0, 100);
  ASSERT_TRUE(node_.host->WriteAllCheckpoints().ok());
  Propose(100, 10);
  node_.host.reset();
  node_.store.reset();
  // A byte of the image (its last command): only the CRC can tell.
  uint64_t size = 0;
  {
    auto file = node_.disk.Open(CheckpointPath());
    ASSERT_TRUE(file.ok());
    size = (*file)->Size();
  }
  ASSERT_TRUE(node_.disk.CorruptByte(CheckpointPath(), size - 6, 0x04).ok());
  node_.Restart(1, /*crash=*/false);
  CountingApplier restarted;
  Start(&restarted);
  EXPECT_EQ(restarted.restored, 0);
  EXPECT_EQ(node_.host->checkpoint_stats().rejected, 1u);
  EXPECT_EQ(restarted.applied, 110);
  EXPECT_EQ(restarted.commands, expected_);
}

// A checkpoint that decodes (good CRC) but names an entry the log does not
// hold, by term or by index (as after a log lost under it), is not used.
TEST_F(RaftHostCheckpointTest, CheckpointTheLogDoesNotHoldIsNotUsed) {
  CountingApplier applier;
  Start(&applier);
  Propose(0, 50);
  ASSERT_TRUE(node_.host->WriteAllCheckpoints().ok());
  node_.host.reset();
  node_.store.reset();
  absl::StatusOr<storage::ReplayCheckpoint> stored =
      storage::DecodeReplayCheckpoint(
          *storage::ReadWholeFile(node_.disk, CheckpointPath()));
  ASSERT_TRUE(stored.ok());
  for (const auto& [term_delta, index_delta] :
       std::vector<std::pair<uint64_t, uint64_t>>{{7, 0}, {0, 1'000}}) {
    storage::ReplayCheckpoint wrong = *stored;
    wrong.term += term_delta;
    wrong.index += index_delta;
    wrong.image = "forged";  // restoring it would lose the commands
    auto file = node_.disk.Create(CheckpointPath());
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(storage::EncodeReplayCheckpoint(wrong)).ok());
    node_.Restart(1, /*crash=*/false);
    CountingApplier restarted;
    Start(&restarted);
    EXPECT_EQ(restarted.restored, 0);
    EXPECT_EQ(node_.host->checkpoint_stats().rejected, 1u);
    EXPECT_EQ(restarted.commands, expected_);
    node_.host.reset();
    node_.store.reset();
  }
}

TEST_F(RaftHostCheckpointTest, CleanStopThenPowerCutLosesNothing) {
  CountingApplier applier;
  Start(&applier);
  Propose(0, 80);
  ASSERT_TRUE(node_.host->StopCleanly().ok());
  node_.Restart(1, /*crash=*/true);  // unsynced checkpoint files may go
  CountingApplier restarted;
  Start(&restarted);
  EXPECT_EQ(restarted.commands, expected_);
}

TEST_F(RaftHostCheckpointTest, TickWritesDueCheckpointsWithinItsBound) {
  node_.checkpoints =
      CheckpointPolicy{.bytes = 1, .interval_ticks = 0, .max_per_tick = 1};
  node_.Restart(1, /*crash=*/false);
  CountingApplier applier;
  Start(&applier);
  Propose(0, 30);
  const uint64_t before = node_.host->checkpoint_stats().written;
  node_.host->Tick();
  EXPECT_EQ(node_.host->checkpoint_stats().written, before + 1);
  node_.host->Tick();  // nothing applied since
  EXPECT_EQ(node_.host->checkpoint_stats().written, before + 1);
  node_.Restart(1, /*crash=*/false);
  CountingApplier restarted;
  Start(&restarted);
  EXPECT_EQ(restarted.restored, 1);
  EXPECT_EQ(restarted.applied, 0);
  EXPECT_EQ(restarted.commands, expected_);
}

}  // namespace
}  // namespace chronik::replication
