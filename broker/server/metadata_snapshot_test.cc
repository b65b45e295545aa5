// The metadata group's snapshots, end to end through one Broker: 20,000
// offset commits (real OffsetCommit frames) keep the metadata log bounded on
// disk, and a restart from the snapshot plus the tail restores the identical
// metadata state.
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/protocol.h"
#include "broker/metadata/metadata_state.h"
#include "broker/server/broker.h"
#include "broker/server/testing/test_driver.h"
#include "broker/storage/format.h"
#include "broker/storage/log_store.h"
#include "gtest/gtest.h"
#include "proto/metadata.pb.h"
#include "raft/types.h"
#include "sim/disk/sim_disk.h"

namespace chronik::broker {
namespace {

constexpr env::ConnectionId kConn = 1;
constexpr int kCommits = 20'000;

class MetadataSnapshotTest : public ::testing::Test {
 protected:
  MetadataSnapshotTest() : rng_(9), disk_(sim::SimDiskOptions{}, rng_) {}

  void StartBroker() {
    BrokerOptions options;
    options.config.node_id = 1;
    options.config.kafka_port = 9092;
    options.config.advertised_host = "127.0.0.1";
    options.config.max_inflight_requests_per_connection = 1'000;
    if (!snapshots_) {
      options.metadata_snapshot_entries = 0;
      options.metadata_snapshot_bytes = 0;
    }
    driver_ =
        std::make_unique<testing::TestDriver>(options, &disk_, &clock_, 9);
    absl::Status started = driver_->Start();
    CHRONIK_CHECK(started.ok()) << started;
    driver_->Open(kConn, "127.0.0.1:5555");
  }

  template <typename Request>
  void Send(const Request& request, int16_t version) {
    driver_->Write(kConn, kafka::EncodeRequestFrame(version, ++correlation_,
                                                    std::string("t"), request));
  }

  // Commits offsets 0..kCommits-1 (groups g0..g7, partitions 0..3 of "t"),
  // 100 requests in flight at a time; returns the largest size the metadata
  // group's files reached on disk.
  uint64_t CommitAll() {
    kafka::CreateTopicsRequest create;
    create.topics.push_back({"t", 4, 1, {}, {}});
    Send(create, 4);
    driver_->Settle();
    uint64_t max_bytes = 0;
    for (int i = 0; i < kCommits; ++i) {
      kafka::OffsetCommitRequest commit;
      commit.group_id = absl::StrCat("g", i % 8);
      commit.generation_id = -1;
      kafka::OffsetCommitRequest::OffsetCommitRequestTopic topic;
      topic.name = "t";
      kafka::OffsetCommitRequest::OffsetCommitRequestPartition partition;
      partition.partition_index = i % 4;
      partition.committed_offset = i;
      topic.partitions.push_back(partition);
      commit.topics.push_back(topic);
      Send(commit, 7);
      if (i % 100 == 99) {
        driver_->Settle();
        max_bytes = std::max(max_bytes, MetadataBytes());
      }
    }
    driver_->Settle();
    return max_bytes;
  }

  // Bytes of every file of the metadata group (segments, indexes, snapshot).
  uint64_t MetadataBytes() {
    const std::string dir = storage::format::GroupDir(0);
    absl::StatusOr<std::vector<std::string>> names = disk_.List(dir);
    CHRONIK_CHECK(names.ok()) << names.status();
    uint64_t bytes = 0;
    for (const std::string& name : *names) {
      absl::StatusOr<std::unique_ptr<env::File>> file =
          disk_.Open(env::JoinPath(dir, name));
      CHRONIK_CHECK(file.ok()) << file.status();
      bytes += (*file)->Size();
    }
    return bytes;
  }

  // Entries in the stored metadata log (the broker must be stopped).
  uint64_t StoredMetadataEntries() {
    auto store = storage::LogStore::Open(&disk_, "", {});
    CHRONIK_CHECK(store.ok()) << store.status();
    auto group = (*store)->OpenGroup(0, {});
    CHRONIK_CHECK(group.ok()) << group.status();
    return (*group)->last_index() + 1 - (*group)->first_index();
  }

  // The metadata state rebuilt from what is stored (the broker must be
  // stopped): the snapshot, then every stored entry after it (a node of one
  // commits what it stores).
  std::string StoredMetadataImage() {
    auto store = storage::LogStore::Open(&disk_, "", {});
    CHRONIK_CHECK(store.ok()) << store.status();
    auto group = (*store)->OpenGroup(0, {});
    CHRONIK_CHECK(group.ok()) << group.status();
    absl::StatusOr<storage::Snapshot> snapshot = (*group)->LoadSnapshot();
    CHRONIK_CHECK(snapshot.ok()) << snapshot.status();
    metapb::MetadataSnapshot image;
    CHRONIK_CHECK(image.ParseFromString(snapshot->data));
    absl::StatusOr<metadata::MetadataState> state =
        metadata::MetadataState::FromSnapshot(image);
    CHRONIK_CHECK(state.ok()) << state.status();
    for (uint64_t index = (*group)->first_index();
         index <= (*group)->last_index();) {
      std::vector<storage::Entry> entries;
      CHRONIK_CHECK(
          (*group)
              ->Entries(index, (*group)->last_index() + 1, 1 << 20, &entries)
              .ok());
      for (const storage::Entry& entry : entries) {
        metapb::MetadataCommand command;
        if (entry.type == static_cast<uint8_t>(raft::EntryType::kNormal) &&
            !entry.data.empty() &&
            command.ParseFromArray(entry.data.data(),
                                   static_cast<int>(entry.data.size()))) {
          state->Apply(entry.index, command);
        }
      }
      index = entries.back().index + 1;
    }
    std::string bytes;
    CHRONIK_CHECK(state->ToSnapshot().SerializeToString(&bytes));
    return bytes;
  }

  // `image` without what a restarted leader reports anew (partition
  // leadership terms) and the applied index.
  static std::string Settled(const std::string& image) {
    metapb::MetadataSnapshot snapshot;
    CHRONIK_CHECK(snapshot.ParseFromString(image));
    snapshot.clear_applied_index();
    for (metapb::TopicInfo& topic : *snapshot.mutable_topics()) {
      for (metapb::PartitionInfo& partition : *topic.mutable_partitions()) {
        partition.clear_leader_term();
      }
    }
    std::string bytes;
    CHRONIK_CHECK(snapshot.SerializeToString(&bytes));
    return bytes;
  }

  bool snapshots_ = true;
  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  testing::FakeClock clock_;
  std::unique_ptr<testing::TestDriver> driver_;
  int32_t correlation_ = 0;
};

TEST_F(MetadataSnapshotTest, TwentyThousandCommitsKeepTheLogBounded) {
  StartBroker();
  const uint64_t max_bytes = CommitAll();
  EXPECT_GE(driver_->broker().SnapshotStats().taken,
            kCommits / kMetadataSnapshotEntries);
  const std::string before = driver_->broker().MetadataImage();
  driver_.reset();
  const uint64_t entries = StoredMetadataEntries();
  // What was applied since the last snapshot, plus at most one segment's
  // entries (a 256 KiB segment holds well under 4,096 of these records).
  EXPECT_LE(entries, 2 * kMetadataSnapshotEntries);
  // About 80 bytes a record on disk: one segment plus the records since the
  // snapshot (20,000 commits without snapshots take 1.6 MB).
  EXPECT_LE(max_bytes, kMetadataSegmentBytes + kMetadataSnapshotEntries * 128);
  std::cout << "metadata log after " << kCommits << " commits: " << entries
            << " entries stored, at most " << max_bytes << " bytes on disk\n";

  EXPECT_EQ(StoredMetadataImage(), before)
      << "the stored snapshot + tail rebuild the identical MetadataState";

  // Restart: the snapshot, then the tail; the same state (but for the
  // partition leadership the restarted node reports in its new term).
  StartBroker();
  EXPECT_EQ(driver_->broker().SnapshotStats().taken, 0u);
  EXPECT_EQ(Settled(driver_->broker().MetadataImage()), Settled(before));
  kafka::OffsetFetchRequest fetch;
  fetch.group_id = "g7";
  fetch.topics =
      std::vector<kafka::OffsetFetchRequest::OffsetFetchRequestTopic>{
          {"t", {3}}};
  Send(fetch, 5);
  driver_->Settle();
  auto& sent = driver_->connection(kConn).responses;
  ASSERT_FALSE(sent.empty());
  kafka::OffsetFetchResponse offsets;
  int32_t correlation = 0;
  ASSERT_TRUE(
      kafka::DecodeResponseFrame(absl::string_view(sent.back()).substr(4), 5,
                                 &correlation, &offsets)
          .ok());
  EXPECT_EQ(offsets.topics.at(0).partitions.at(0).committed_offset,
            kCommits - 1);
}

// Without snapshots the same load leaves every entry in the log: the bound
// above is the snapshots' doing.
TEST_F(MetadataSnapshotTest, WithoutSnapshotsTheLogKeepsEveryCommit) {
  snapshots_ = false;
  StartBroker();
  const uint64_t max_bytes = CommitAll();
  std::cout << "without snapshots: " << max_bytes << " bytes on disk\n";
  EXPECT_EQ(driver_->broker().SnapshotStats().taken, 0u);
  driver_.reset();
  EXPECT_GT(StoredMetadataEntries(), static_cast<uint64_t>(kCommits));
}

}  // namespace
}  // namespace chronik::broker
