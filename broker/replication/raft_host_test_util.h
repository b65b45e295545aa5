// Test-only helpers for RaftHost tests: an applier and an observer that
// record what they hear, a node (simulated disk, LogStore, RaftHost) that can
// crash and restart, and an in-memory message pump.
#ifndef CHRONIK_BROKER_REPLICATION_RAFT_HOST_TEST_UTIL_H_
#define CHRONIK_BROKER_REPLICATION_RAFT_HOST_TEST_UTIL_H_

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "base/check.h"
#include "broker/replication/raft_host.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::replication::testing {

// Records what was applied, per group.
class RecordingApplier : public GroupApplier {
 public:
  void Apply(GroupId group_id, const raft::Entry& entry) override {
    if (entry.type == raft::EntryType::kNormal && !entry.data.empty()) {
      applied[group_id].push_back(std::string(entry.data.view()));
    }
    last_index[group_id] = entry.index;
  }
  void OnLeaderChange(GroupId group_id, raft::NodeId leader,
                      raft::Term) override {
    leaders[group_id] = leader;
  }
  void OnReadState(GroupId group_id, const raft::ReadState& read) override {
    reads[group_id].emplace_back(read.index, std::string(read.context.view()));
  }
  std::map<GroupId, std::vector<std::string>> applied;
  std::map<GroupId, raft::Index> last_index;
  std::map<GroupId, raft::NodeId> leaders;
  std::map<GroupId, std::vector<std::pair<raft::Index, std::string>>> reads;
};

// Records what the host reports, one line per call.
class RecordingObserver : public RaftHostObserver {
 public:
  void OnRecover(GroupId g, const RecoveredGroup& r) override {
    Add(g, "recover", r.hard_state.term, r.hard_state.commit, r.last_index);
  }
  void OnRecoveredEntries(GroupId g,
                          absl::Span<const raft::Entry> entries) override {
    for (const raft::Entry& e : entries) recovered[g].push_back(e.index);
  }
  void OnAppend(GroupId g, absl::Span<const raft::Entry> entries) override {
    Add(g, "append", entries.front().index, entries.back().index);
  }
  void OnCommit(GroupId g, raft::Term term, raft::Index commit) override {
    Add(g, "commit", term, commit);
  }
  void OnApplied(GroupId g, raft::Index index) override {
    Add(g, "applied", index);
  }
  void OnRoleChange(GroupId g, const RoleState& role) override {
    Add(g, "role", role.is_leader, role.term, role.leader);
  }
  void OnDurable(GroupId g, const DurableState& d) override {
    Add(g, "durable", d.hard_state.term, d.hard_state.vote, d.log_index);
  }
  void OnFailed(GroupId g, const absl::Status& status) override {
    Add(g, "failed");
    failure = status;
  }
  // The events of `kind`, without the group and kind.
  std::vector<std::string> Of(const std::string& kind) const {
    std::vector<std::string> out;
    for (const std::string& e : events) {
      const std::string prefix = kind + " ";
      if (e.rfind(prefix, 0) == 0) out.push_back(e.substr(prefix.size()));
    }
    return out;
  }
  // Position of the first event starting with `line` (events.size() if none).
  size_t Find(const std::string& line) const {
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].rfind(line, 0) == 0) return i;
    }
    return events.size();
  }
  std::vector<std::string> events;
  std::map<GroupId, std::vector<raft::Index>> recovered;
  absl::Status failure;

 private:
  template <typename... Args>
  void Add(GroupId g, const char* kind, Args... args) {
    std::string line = std::string(kind) + " g" + std::to_string(g);
    ((line += " " + std::to_string(args)), ...);
    events.push_back(line);
  }
};

// One node: a simulated disk, a LogStore on it, a RaftHost.
struct TestNode {
  TestNode(raft::NodeId id, uint64_t seed, SyncFiles sync_files = nullptr,
           bool async_flush = false, uint64_t segment_max_bytes = 0,
           uint64_t max_log_tail_bytes = 0)
      : rng(seed),
        disk(sim::SimDiskOptions{}, rng),
        sync(std::move(sync_files)),
        async(async_flush),
        segment_bytes(segment_max_bytes),
        tail_bytes(max_log_tail_bytes) {
    Open(id);
  }
  void Open(raft::NodeId id) {
    auto opened = storage::LogStore::Open(&disk, "data", store_options);
    CHRONIK_CHECK(opened.ok()) << opened.status();
    store = std::move(*opened);
    HostOptions options;
    options.self = id;
    options.seed = 42;
    options.sync_files = sync;
    options.async_flush = async;
    options.observer = &observer;
    if (segment_bytes > 0)
      options.log_options.segment_max_bytes = segment_bytes;
    if (tail_bytes > 0) options.max_log_tail_bytes = tail_bytes;
    options.quiesce = quiesce;
    options.incarnation = incarnation;
    options.checkpoints = checkpoints;
    host = std::make_unique<RaftHost>(options, store.get());
  }
  void Restart(raft::NodeId id, bool crash) {
    host.reset();
    store.reset();
    if (crash) disk.Crash();
    applier = RecordingApplier();
    observer = RecordingObserver();
    Open(id);
  }
  std::mt19937_64 rng;
  sim::SimDisk disk;
  SyncFiles sync;
  bool async = false;
  uint64_t segment_bytes = 0;
  uint64_t tail_bytes = 0;  // 0: the host default
  bool quiesce = false;     // HostOptions::quiesce (set, then Restart)
  uint64_t incarnation = 0;
  CheckpointPolicy checkpoints;         // HostOptions::checkpoints
  storage::StoreOptions store_options;  // (set, then Restart)
  std::unique_ptr<storage::LogStore> store;
  std::unique_ptr<RaftHost> host;
  RecordingApplier applier;
  RecordingObserver observer;
};

// Delivers messages among nodes until quiet (bounded). Messages to nodes not
// in `nodes` are lost when `drop_others`.
inline void Settle(std::map<raft::NodeId, TestNode*>& nodes,
                   bool drop_others = false) {
  for (int round = 0; round < 100; ++round) {
    std::vector<OutgoingMessage> outbox;
    bool more_work = false;
    for (auto& [id, node] : nodes) {
      node->host->Process(&outbox);
      more_work = more_work || node->host->HasWork();
    }
    if (outbox.empty() && !more_work) return;
    for (OutgoingMessage& out : outbox) {
      auto to = nodes.find(out.message.to);
      if (drop_others && to == nodes.end()) continue;
      ASSERT_NE(to, nodes.end());
      absl::Status s =
          to->second->host->Step(out.group_id, std::move(out.message));
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  FAIL() << "cluster did not settle";
}

}  // namespace chronik::replication::testing

#endif  // CHRONIK_BROKER_REPLICATION_RAFT_HOST_TEST_UTIL_H_
