// Google Benchmark micro-benchmarks of the Raft core's hot paths:
//   BM_FollowerStepAppend/N   a follower's Step of one append carrying N
//   entries BM_LeaderStepAppendResp   the leader's Step of an append response
//   that commits BM_LeaderReadyBatch/N     GetReady on a leader holding N new
//   proposals BM_LeaderRound/N          a whole round: N proposals, Ready,
//   acks, commit, apply
// Untimed bookkeeping (building inputs, draining Readies) runs under
// PauseTiming, in chunks where the timed operation is short.
//   bazel run -c opt //raft:raft_microbench
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "raft/raw_node.h"

namespace chronik::raft {
namespace {

constexpr size_t kPayloadBytes = 256;

Config MakeConfig(NodeId id) {
  Config config;
  config.id = id;
  config.voters = {1, 2, 3};
  config.random_seed = 1;
  config.max_inflight_msgs = 1 << 20;
  config.max_inflight_bytes = 0;
  config.max_log_tail_entries = 256;
  return config;
}

// Drains a node's Ready as a driver with instant storage would.
void Drain(RawNode& node, std::vector<Message>* out = nullptr) {
  while (node.HasReady()) {
    Ready rd = node.GetReady();
    node.OnPersisted(rd.persist_ack);
    if (out != nullptr) {
      for (Message& m : rd.messages) out->push_back(std::move(m));
      for (Message& m : rd.messages_after_persist) out->push_back(std::move(m));
    }
    if (!rd.committed_entries.empty())
      node.OnApplied(rd.committed_entries.back().index);
  }
}

// A leader (node 1) elected with the help of two scripted followers.
std::unique_ptr<RawNode> MakeLeader() {
  Config config = MakeConfig(1);
  config.pre_vote = false;
  auto leader = std::make_unique<RawNode>(config);
  leader->Campaign();
  Drain(*leader);
  for (NodeId from : {2, 3}) {
    Message vote;
    vote.type = MessageType::kVoteResponse;
    vote.from = from;
    vote.to = 1;
    vote.term = 1;
    (void)leader->Step(std::move(vote));
  }
  Drain(*leader);
  return leader;
}

Message Ack(NodeId from, Index index) {
  Message m;
  m.type = MessageType::kAppendResponse;
  m.from = from;
  m.to = 1;
  m.term = 1;
  m.index = index;
  return m;
}

// Untimed setup is done in chunks of this many iterations, so PauseTiming's
// own cost does not swamp operations that take well under a microsecond.
constexpr int kChunk = 256;

void BM_FollowerStepAppend(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  RawNode follower(MakeConfig(2));
  Bytes payload = Bytes::Own(std::string(kPayloadBytes, 'x'));
  Index last = 0;
  std::vector<Message> chunk;
  size_t next = 0;
  for (auto _ : state) {
    if (next == chunk.size()) {
      state.PauseTiming();
      Drain(follower);
      chunk.clear();
      next = 0;
      for (int c = 0; c < kChunk; ++c) {
        Message m;
        m.type = MessageType::kAppend;
        m.from = 1;
        m.to = 2;
        m.term = 1;
        m.index = last;
        m.log_term = last == 0 ? 0 : 1;
        m.commit = last;
        for (size_t i = 0; i < batch; ++i) {
          m.entries.push_back(
              Entry{1, last + 1 + i, EntryType::kNormal, payload});
        }
        last += batch;
        chunk.push_back(std::move(m));
      }
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(follower.Step(std::move(chunk[next++])));
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_FollowerStepAppend)->Arg(1)->Arg(64);

void BM_LeaderStepAppendResp(benchmark::State& state) {
  std::unique_ptr<RawNode> leader = MakeLeader();
  Bytes payload = Bytes::Own(std::string(kPayloadBytes, 'x'));
  Index acked = leader->Status().last_index;
  Index proposed = acked;
  for (auto _ : state) {
    if (acked == proposed) {
      state.PauseTiming();
      (void)leader->Step(Ack(3, acked));
      Drain(*leader);
      for (int c = 0; c < kChunk; ++c) (void)leader->Propose(payload);
      Drain(*leader);
      proposed = leader->Status().last_index;
      state.ResumeTiming();
    }
    // Each ack moves the match of node 2 and commits one more entry.
    benchmark::DoNotOptimize(leader->Step(Ack(2, ++acked)));
  }
}
BENCHMARK(BM_LeaderStepAppendResp);

void BM_LeaderReadyBatch(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  std::unique_ptr<RawNode> leader = MakeLeader();
  Bytes payload = Bytes::Own(std::string(kPayloadBytes, 'x'));
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t i = 0; i < batch; ++i) (void)leader->Propose(payload);
    state.ResumeTiming();
    Ready rd = leader->GetReady();
    benchmark::DoNotOptimize(rd.messages.data());
    state.PauseTiming();
    leader->OnPersisted(rd.persist_ack);
    const Index last = rd.entries.back().index;
    (void)leader->Step(Ack(2, last));
    (void)leader->Step(Ack(3, last));
    Drain(*leader);
    rd = Ready();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_LeaderReadyBatch)->Arg(1)->Arg(64);

void BM_LeaderRound(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  std::unique_ptr<RawNode> leader = MakeLeader();
  Bytes payload = Bytes::Own(std::string(kPayloadBytes, 'x'));
  std::vector<Message> sent;
  for (auto _ : state) {
    for (size_t i = 0; i < batch; ++i) (void)leader->Propose(payload);
    sent.clear();
    Drain(*leader, &sent);
    const Index last = leader->Status().last_index;
    (void)leader->Step(Ack(2, last));
    (void)leader->Step(Ack(3, last));
    Drain(*leader, &sent);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_LeaderRound)->Arg(1)->Arg(64);

}  // namespace
}  // namespace chronik::raft

BENCHMARK_MAIN();
