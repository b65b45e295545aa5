// TestCluster: TEST-ONLY in-process harness for raft/ tests, the
// interaction-test interpreter and raft_bench. N RawNodes with in-memory
// storage and an in-memory network of queued messages that the caller delivers,
// drops or lets through.
//
// Storage work is done by ProcessReady (persist, then send
// messages_after_persist, then apply), synchronously unless async_storage is
// set; either way it follows the persistence contract. Single-threaded;
// deterministic.
#ifndef CHRONIK_RAFT_TEST_CLUSTER_H_
#define CHRONIK_RAFT_TEST_CLUSTER_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raft/raw_node.h"
#include "raft/types.h"

namespace chronik::raft {

// What one node's stable storage holds.
struct MemStorage {
  HardState hard_state;
  Snapshot snapshot;
  std::vector<Entry> entries;  // contiguous, from snapshot.metadata.index + 1
  ConfState conf_state;        // membership as of `applied`
  Index applied = 0;
  std::vector<Entry>
      applied_entries;  // what the state machine applied (tests check)
  Index last_index() const {
    return entries.empty() ? snapshot.metadata.index : entries.back().index;
  }
  // Appends (truncating a conflicting suffix first).
  void Append(const std::vector<Entry>& batch);
};

class TestCluster {
 public:
  // `configure` may adjust each node's Config (ids 1..n are filled in;
  // transitions are logged into the transcript unless `configure` replaces the
  // logger).
  explicit TestCluster(int voters,
                       std::function<void(Config&)> configure = nullptr);
  TestCluster(const TestCluster&) = delete;
  TestCluster& operator=(const TestCluster&) = delete;

  RawNode& node(NodeId id) { return *nodes_.at(id); }
  MemStorage& storage(NodeId id) { return storage_.at(id); }
  std::vector<NodeId> ids() const;
  // Adds a node with an empty log (e.g. a learner or voter to be added by conf
  // change).
  void AddNode(NodeId id, std::vector<NodeId> voters,
               std::vector<NodeId> learners);
  // Restarts a node from its storage (pending network messages to it stay
  // queued).
  void Restart(NodeId id);

  // Handles one Ready of `id` (if any); returns a transcript of what happened.
  std::string ProcessReady(NodeId id) {
    ProcessReadyImpl(id);
    return TakeTranscript();
  }
  // Delivers all queued messages addressed to `id` (or every message when id ==
  // 0).
  std::string Deliver(NodeId id) {
    DeliverImpl(id);
    return TakeTranscript();
  }
  // Delivers only the queued message at position `i` (fuzz tests reorder this
  // way).
  void DeliverOne(size_t i);
  // Drops queued messages matching `filter`.
  void Drop(const std::function<bool(const Message&)>& filter);
  // Repeats ProcessReady on all nodes and delivery until nothing changes.
  std::string Stabilize() {
    StabilizeImpl();
    return TakeTranscript();
  }
  // Everything logged since the last call (including transition lines "INFO
  // ...").
  std::string TakeTranscript() {
    std::string out = std::move(transcript_);
    transcript_.clear();
    return out;
  }
  // Cut a node off (its messages in and out are dropped while isolated).
  void Isolate(NodeId id) { isolated_[id] = true; }
  void Heal() { isolated_.clear(); }
  void TickAll(int ticks);
  // The application snapshots node `id` at its applied index (data =
  // "snap@<index>") and deletes stored entries up to it.
  // Returns false when the core refused (it holds a newer snapshot already).
  bool Compact(NodeId id);
  void Elect(NodeId id);  // campaign + stabilize; checks that `id` won

  std::deque<Message>& network() { return network_; }
  // With async_storage, ProcessReady sends `messages` at once but leaves the
  // storage work in flight until SyncStorage (oldest first); Restart drops
  // whatever is still in flight, as a crash would.
  bool async_storage = false;
  bool SyncStorage(NodeId id);
  bool quiet_transcripts = false;  // skip building transcripts (bench)

 private:
  Config MakeConfig(NodeId id, std::vector<NodeId> voters,
                    std::vector<NodeId> learners);
  void ProcessReadyImpl(NodeId id);
  void CompleteReady(NodeId id, Ready rd);
  void SendAll(std::vector<Message>& msgs, const char* label);
  void DeliverImpl(NodeId id);
  void StabilizeImpl();
  bool Isolated(NodeId id) const {
    auto it = isolated_.find(id);
    return it != isolated_.end() && it->second;
  }

  std::function<void(Config&)> configure_;
  std::map<NodeId, std::unique_ptr<RawNode>> nodes_;
  std::map<NodeId, MemStorage> storage_;
  std::map<NodeId, bool> isolated_;
  std::deque<Message> network_;
  std::map<NodeId, std::deque<Ready>> unsynced_;
  std::string transcript_;
};

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_TEST_CLUSTER_H_
