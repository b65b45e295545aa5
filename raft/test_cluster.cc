#include "raft/test_cluster.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::raft {

void MemStorage::Append(const std::vector<Entry>& batch) {
  if (batch.empty()) return;
  const Index first = batch.front().index;
  CHRONIK_CHECK_GT(first, snapshot.metadata.index);
  CHRONIK_CHECK_LE(first, last_index() + 1);
  entries.resize(first - snapshot.metadata.index - 1);
  entries.insert(entries.end(), batch.begin(), batch.end());
}

TestCluster::TestCluster(int voters, std::function<void(Config&)> configure)
    : configure_(std::move(configure)) {
  std::vector<NodeId> ids;
  for (int i = 1; i <= voters; ++i) ids.push_back(i);
  for (NodeId id : ids) AddNode(id, ids, {});
}

Config TestCluster::MakeConfig(NodeId id, std::vector<NodeId> voters,
                               std::vector<NodeId> learners) {
  Config config;
  config.id = id;
  config.voters = std::move(voters);
  config.learners = std::move(learners);
  config.random_seed = 42;
  config.transition_logger = [this](std::string_view line) {
    if (!quiet_transcripts)
      absl::StrAppend(&transcript_, "INFO ", std::string(line), "\n");
  };
  if (configure_) configure_(config);
  return config;
}

void TestCluster::AddNode(NodeId id, std::vector<NodeId> voters,
                          std::vector<NodeId> learners) {
  Config config = MakeConfig(id, voters, learners);
  MemStorage& s = storage_[id];
  s.conf_state.voters = config.voters;
  s.conf_state.learners = config.learners;
  nodes_[id] = std::make_unique<RawNode>(config);
}

void TestCluster::Restart(NodeId id) {
  unsynced_.erase(id);  // a crash loses storage work that was not yet durable
  MemStorage& s = storage_.at(id);
  RecoveredState r;
  r.hard_state = s.hard_state;
  r.snapshot = s.snapshot.metadata;
  r.snapshot_data = s.snapshot.data;
  r.applied = s.applied;
  r.conf_state = s.conf_state;
  r.entries = s.entries;
  Config config = MakeConfig(id, {}, {});
  absl::StatusOr<std::unique_ptr<RawNode>> node = RawNode::Restart(config, r);
  CHRONIK_CHECK(node.ok()) << node.status();
  nodes_[id] = *std::move(node);
}

std::vector<NodeId> TestCluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, node] : nodes_) out.push_back(id);
  return out;
}

void TestCluster::SendAll(std::vector<Message>& msgs, const char* label) {
  if (msgs.empty()) return;
  const bool log = !quiet_transcripts;
  if (log) absl::StrAppend(&transcript_, "  ", label, ":\n");
  for (Message& m : msgs) {
    const bool cut = Isolated(m.from) || Isolated(m.to);
    if (log) {
      absl::StrAppend(&transcript_, "  ", DescribeMessage(m),
                      cut ? " [isolated: dropped]" : "", "\n");
    }
    if (!cut) network_.push_back(std::move(m));
  }
}

void TestCluster::ProcessReadyImpl(NodeId id) {
  RawNode& n = node(id);
  if (!n.HasReady()) return;
  Ready rd = n.GetReady();
  std::string& out = transcript_;
  const bool log = !quiet_transcripts;
  if (log) {
    absl::StrAppend(&out, "> ", id, " handling Ready\n");
    if (rd.snapshot) {
      absl::StrAppend(&out, "  Snapshot Index:", rd.snapshot->metadata.index,
                      " Term:", rd.snapshot->metadata.term, " ",
                      DescribeConfState(rd.snapshot->metadata.conf_state),
                      "\n");
    }
    if (!rd.entries.empty()) {
      absl::StrAppend(&out, "  Entries:\n");
      for (const Entry& e : rd.entries) {
        absl::StrAppend(&out, "  ", DescribeEntry(e), "\n");
      }
    }
    if (rd.hard_state) {
      absl::StrAppend(&out, "  HardState ", DescribeHardState(*rd.hard_state),
                      "\n");
    }
  }
  SendAll(rd.messages, "Messages");
  // A Ready without storage work still waits behind earlier ones: its
  // messages_after_persist may claim what they wrote.
  auto pending = unsynced_.find(id);
  const bool behind = pending != unsynced_.end() && !pending->second.empty();
  if (async_storage && (rd.HasStorageWork() || behind)) {
    if (log) absl::StrAppend(&out, "  (storage work in flight)\n");
    unsynced_[id].push_back(std::move(rd));
    return;
  }
  CompleteReady(id, std::move(rd));
}

bool TestCluster::SyncStorage(NodeId id) {
  auto it = unsynced_.find(id);
  if (it == unsynced_.end() || it->second.empty()) return false;
  Ready rd = std::move(it->second.front());
  it->second.pop_front();
  if (!quiet_transcripts)
    absl::StrAppend(&transcript_, "> ", id, " storage synced\n");
  CompleteReady(id, std::move(rd));
  return true;
}

void TestCluster::CompleteReady(NodeId id, Ready rd) {
  RawNode& n = node(id);
  MemStorage& s = storage_.at(id);
  std::string& out = transcript_;
  const bool log = !quiet_transcripts;
  if (rd.snapshot) {
    s.snapshot = *rd.snapshot;
    s.entries.clear();
  }
  s.Append(rd.entries);
  if (rd.hard_state) s.hard_state = *rd.hard_state;
  // The storage work above is durable now.
  SendAll(rd.messages_after_persist, "Messages after persist");
  n.OnPersisted(rd.persist_ack);
  if (!rd.committed_entries.empty()) {
    if (log) absl::StrAppend(&out, "  CommittedEntries:\n");
    for (const Entry& e : rd.committed_entries) {
      if (log) absl::StrAppend(&out, "  ", DescribeEntry(e), "\n");
      s.applied_entries.push_back(e);
    }
  }
  for (const ReadState& r : rd.read_states) {
    if (log) {
      absl::StrAppend(&out, "  ReadState Index:", r.index,
                      " Context:", std::string(r.context.view()), "\n");
    }
  }
  if (rd.conf_state && log) {
    absl::StrAppend(&out, "  ConfState ", DescribeConfState(*rd.conf_state),
                    "\n");
  }
  if (rd.snapshot) {
    s.applied = rd.snapshot->metadata.index;
    n.OnApplied(s.applied);
  }
  if (!rd.committed_entries.empty()) {
    s.applied = rd.committed_entries.back().index;
    n.OnApplied(s.applied);
  }
  // Membership takes effect in the core at OnApplied (and is reported in the
  // next Ready); storage records it with the applied index right away.
  s.conf_state = n.Status().conf_state;
  for (const LogRead& read : rd.log_reads) {
    std::vector<Entry> found;
    uint64_t bytes = 0;
    for (Index i = read.lo; i <= read.hi; ++i) {
      if (i <= s.snapshot.metadata.index || i > s.last_index()) break;
      const Entry& e = s.entries[i - s.snapshot.metadata.index - 1];
      if (found.size() >= 2 && bytes + e.data.size() > read.max_bytes) break;
      bytes += e.data.size();
      found.push_back(e);
    }
    if (log) {
      absl::StrAppend(&out, "  LogRead for ", read.to, " [", read.lo, ",",
                      read.hi, "]: ", found.size(), " entries\n");
    }
    n.OnLogRead(read, std::move(found));
  }
}

void TestCluster::DeliverImpl(NodeId id) {
  std::string& out = transcript_;
  std::deque<Message> keep;
  std::vector<Message> now;
  for (Message& m : network_) {
    if (id == 0 || m.to == id) {
      now.push_back(std::move(m));
    } else {
      keep.push_back(std::move(m));
    }
  }
  network_ = std::move(keep);
  for (Message& m : now) {
    auto it = nodes_.find(m.to);
    if (it == nodes_.end() || Isolated(m.to) || Isolated(m.from)) continue;
    if (!quiet_transcripts)
      absl::StrAppend(&out, "  ", DescribeMessage(m), "\n");
    absl::Status status = it->second->Step(std::move(m));
    CHRONIK_CHECK(status.ok()) << status;
  }
}

void TestCluster::DeliverOne(size_t i) {
  CHRONIK_CHECK_LT(i, network_.size());
  Message m = std::move(network_[i]);
  network_.erase(network_.begin() + i);
  auto it = nodes_.find(m.to);
  if (it == nodes_.end() || Isolated(m.to) || Isolated(m.from)) return;
  absl::Status status = it->second->Step(std::move(m));
  CHRONIK_CHECK(status.ok()) << status;
}

void TestCluster::Drop(const std::function<bool(const Message&)>& filter) {
  std::deque<Message> keep;
  for (Message& m : network_) {
    if (!filter(m)) keep.push_back(std::move(m));
  }
  network_ = std::move(keep);
}

void TestCluster::StabilizeImpl() {
  std::string& out = transcript_;
  // Bounded: a correct cluster goes quiet long before this.
  constexpr int kMaxStabilizeRounds = 10000;
  for (int round = 0; round < kMaxStabilizeRounds; ++round) {
    bool any = false;
    for (auto& [id, n] : nodes_) {
      if (n->HasReady()) {
        any = true;
        ProcessReadyImpl(id);
      }
      while (SyncStorage(id)) any = true;
    }
    for (auto& [id, n] : nodes_) {
      bool has = false;
      for (const Message& m : network_) has |= m.to == id;
      if (!has) continue;
      any = true;
      if (!quiet_transcripts)
        absl::StrAppend(&out, "> ", id, " receiving messages\n");
      DeliverImpl(id);
    }
    if (!any) return;
  }
  constexpr size_t kShownBytes = 4000;
  CHRONIK_CHECK(false) << "cluster did not stabilize; transcript tail:\n"
                       << transcript_.substr(transcript_.size() > kShownBytes
                                                 ? transcript_.size() -
                                                       kShownBytes
                                                 : 0);
}

void TestCluster::TickAll(int ticks) {
  for (int i = 0; i < ticks; ++i) {
    for (auto& [id, n] : nodes_) n->Tick();
  }
}

bool TestCluster::Compact(NodeId id) {
  MemStorage& s = storage_.at(id);
  const Index index = s.applied;
  absl::Status status =
      node(id).OnSnapshotTaken(index, Bytes::Own(absl::StrCat("snap@", index)));
  // Refused when the core already holds a newer snapshot (one received from the
  // leader but not yet handed to storage): then there is nothing to compact.
  if (!status.ok()) return false;
  const Index old = s.snapshot.metadata.index;
  CHRONIK_CHECK_GT(index, old);
  Term term = s.entries[index - old - 1].term;
  s.entries.erase(s.entries.begin(), s.entries.begin() + (index - old));
  s.snapshot.metadata.index = index;
  s.snapshot.metadata.term = term;
  s.snapshot.metadata.conf_state = s.conf_state;
  s.snapshot.data = Bytes::Own(absl::StrCat("snap@", index));
  return true;
}

void TestCluster::Elect(NodeId id) {
  node(id).Campaign();
  Stabilize();
  CHRONIK_CHECK(node(id).is_leader()) << id << " did not win the election";
}

}  // namespace chronik::raft
