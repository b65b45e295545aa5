// raft_bench: throughput of the Raft core alone. Three voters in one process,
// in-memory storage, instant delivery. The leader takes --batch proposals of
// --payload bytes, then every node's Ready work is processed and every message
// delivered until the cluster is quiet; repeated until --proposals were
// proposed. Every node must apply every proposal, in order (checked; exit 1
// otherwise). The last line is "raft_bench: N proposals/s".
//
//   bazel run -c opt //raft:raft_bench -- --proposals=1000000 --batch=64
//   --payload=256
#include <chrono>  // determinism-ok: benchmark wall time, never reaches Raft state
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "raft/raw_node.h"

ABSL_FLAG(uint64_t, proposals, 1000000, "proposals in total");
ABSL_FLAG(uint64_t, batch, 64, "proposals per round");
ABSL_FLAG(uint64_t, payload, 256, "payload bytes per proposal (>= 8)");

namespace chronik::raft {
namespace {

constexpr int kNodes = 3;
// Stored entries kept per node beyond the applied index (older ones are "on
// disk" as far as the core is concerned; it never asks for them here).
constexpr size_t kStoredTailEntries = 8192;

struct Node {
  std::unique_ptr<RawNode> raw;
  std::deque<Entry> stored;  // the stable log's recent tail
  HardState hard_state;
  uint64_t applied_proposals = 0;
  bool order_ok = true;
};

class Bench {
 public:
  explicit Bench(uint64_t payload) : payload_(payload) {
    for (int i = 0; i < kNodes; ++i) {
      Config config;
      config.id = i + 1;
      config.voters = {1, 2, 3};
      config.random_seed = 7;
      config.max_inflight_msgs = 1024;
      config.max_log_tail_entries = 1024;
      nodes_[i].raw = std::make_unique<RawNode>(config);
    }
  }

  bool ElectNodeOne() {
    nodes_[0].raw->Campaign();
    RunUntilQuiet();
    return nodes_[0].raw->is_leader();
  }

  bool ProposeBatch(uint64_t first_seq, uint64_t count) {
    for (uint64_t s = first_seq; s < first_seq + count; ++s) {
      std::string data(payload_, 'x');
      std::memcpy(data.data(), &s, sizeof(s));
      if (!nodes_[0].raw->Propose(Bytes::Own(std::move(data))).ok())
        return false;
    }
    return true;
  }

  void RunUntilQuiet() {
    bool any = true;
    while (any) {
      any = false;
      for (Node& n : nodes_) {
        if (n.raw->HasReady()) {
          any = true;
          Process(n);
        }
      }
      while (!network_.empty()) {
        any = true;
        Message m = std::move(network_.front());
        network_.pop_front();
        (void)nodes_[m.to - 1].raw->Step(std::move(m));
      }
    }
  }

  const Node& node(int i) const { return nodes_[i]; }

 private:
  void Process(Node& n) {
    Ready rd = n.raw->GetReady();
    if (!rd.entries.empty()) {
      const Index first = rd.entries.front().index;
      while (!n.stored.empty() && n.stored.back().index >= first)
        n.stored.pop_back();
      for (Entry& e : rd.entries) n.stored.push_back(std::move(e));
    }
    if (rd.hard_state) n.hard_state = *rd.hard_state;
    for (Message& m : rd.messages) network_.push_back(std::move(m));
    for (Message& m : rd.messages_after_persist)
      network_.push_back(std::move(m));
    n.raw->OnPersisted(rd.persist_ack);
    for (const Entry& e : rd.committed_entries) {
      if (e.type != EntryType::kNormal || e.data.empty()) continue;
      uint64_t seq = 0;
      std::memcpy(&seq, e.data.data(), sizeof(seq));
      if (seq != n.applied_proposals) n.order_ok = false;
      ++n.applied_proposals;
    }
    if (!rd.committed_entries.empty()) {
      const Index applied = rd.committed_entries.back().index;
      n.raw->OnApplied(applied);
      while (n.stored.size() > kStoredTailEntries &&
             n.stored.front().index + kStoredTailEntries < applied) {
        n.stored.pop_front();
      }
    }
  }

  uint64_t payload_;
  Node nodes_[kNodes];
  std::deque<Message> network_;
};

int Main() {
  const uint64_t total = absl::GetFlag(FLAGS_proposals);
  const uint64_t batch = absl::GetFlag(FLAGS_batch);
  const uint64_t payload = absl::GetFlag(FLAGS_payload);
  if (batch == 0 || payload < 8 || total == 0) {
    std::fprintf(stderr,
                 "raft_bench: need --batch>0, --payload>=8, --proposals>0\n");
    return 2;
  }
  Bench bench(payload);
  if (!bench.ElectNodeOne()) {
    std::fprintf(stderr, "raft_bench: node 1 was not elected\n");
    return 1;
  }
  const auto start =
      std::chrono::steady_clock::now();  // determinism-ok: timing
  uint64_t proposed = 0;
  while (proposed < total) {
    const uint64_t n = std::min(batch, total - proposed);
    if (!bench.ProposeBatch(proposed, n)) {
      std::fprintf(stderr, "raft_bench: proposal refused at %llu\n",
                   static_cast<unsigned long long>(proposed));
      return 1;
    }
    proposed += n;
    bench.RunUntilQuiet();
  }
  const auto end = std::chrono::steady_clock::now();  // determinism-ok: timing
  const double seconds = std::chrono::duration<double>(end - start).count();
  for (int i = 0; i < kNodes; ++i) {
    const Node& n = bench.node(i);
    if (n.applied_proposals != total || !n.order_ok) {
      std::fprintf(stderr,
                   "raft_bench: node %d applied %llu of %llu (in order: %d)\n",
                   i + 1, static_cast<unsigned long long>(n.applied_proposals),
                   static_cast<unsigned long long>(total), n.order_ok ? 1 : 0);
      return 1;
    }
  }
  std::printf(
      "raft_bench: 3 nodes, %llu proposals of %llu B in batches of %llu: "
      "%.3f s, all applied in order on every node\n",
      static_cast<unsigned long long>(total),
      static_cast<unsigned long long>(payload),
      static_cast<unsigned long long>(batch), seconds);
  std::printf("raft_bench: %.0f proposals/s\n",
              static_cast<double>(total) / seconds);
  return 0;
}

}  // namespace
}  // namespace chronik::raft

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return chronik::raft::Main();
}
