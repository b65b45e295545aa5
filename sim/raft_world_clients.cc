// The Raft scenario's clients (writes to the leader they know, following
// redirects and retrying with the same operation id; ReadIndex reads), the
// requests they send to nodes, and the state machine a node's RaftHost
// applies committed entries to.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "sim/raft_world.h"

namespace chronik::sim {
namespace {

constexpr Nanos kClientTimeout = 400 * kMillisecond;
constexpr size_t kMaxPendingReadsPerNode = 4096;

// Operation ids: client index + 1 in the high half, a per-client sequence
// below.
OpId MakeOpId(int client, uint64_t seq) {
  return (static_cast<uint64_t>(client + 1) << 32) | seq;
}

}  // namespace

// ---------------------------------------------------------------- clients

void RaftWorld::NextOp(Client& client) {
  if (client.done || client.busy) return;
  if (client.probe) {
    if (probe_op_ != kNoOp) return;
  } else {
    if (options_.max_ops >= 0 && ops_started_ >= options_.max_ops) return;
    ++ops_started_;
  }
  client.busy = true;
  client.read = !client.probe && workload_rng_.Chance(0.3);
  client.op = client.read ? kNoOp : MakeOpId(client.index, client.next_seq++);
  client.invoked = scheduler_.now();
  if (client.probe) probe_op_ = client.op;
  if (!client.read) checker_.OnInvoke(client.op, client.invoked);
  ++result_.ops_invoked;
  Record(Trace::kWorld, client.read ? "client_read" : "client_write",
         {static_cast<uint64_t>(client.index), client.op});
  SendRequest(client);
}

void RaftWorld::SendRequest(Client& client) {
  ++client.attempt;
  ClientRequest request{client.index, client.attempt, client.read, client.op};
  const int target = client.target;
  for (Nanos delay :
       network_.Route(client.endpoint, target, scheduler_.now())) {
    scheduler_.After(
        delay, [this, target, request] { OnClientRequest(target, request); });
  }
  const uint64_t attempt = client.attempt;
  const int index = client.index;
  // No cancel on a response: the timeout sees a newer attempt and does nothing.
  scheduler_.After(kClientTimeout,
                   [this, index, attempt] { OnClientTimeout(index, attempt); });
}

void RaftWorld::OnClientResponse(int client_index,
                                 const ClientResponse& response) {
  Client& client = clients_[client_index];
  if (!client.busy || response.attempt != client.attempt) return;  // stale
  if (!response.ok) {
    client.target = response.leader_hint != raft::kNoNode
                        ? static_cast<int>(response.leader_hint) - 1
                        : static_cast<int>(workload_rng_.Below(num_nodes()));
    const int index = client.index;
    scheduler_.After(workload_rng_.Between(kMillisecond, 20 * kMillisecond),
                     [this, index] { SendRequest(clients_[index]); });
    return;
  }
  client.busy = false;
  if (client.read) {
    checker_.OnRead(client.invoked, scheduler_.now(), response.offset,
                    response.last);
    Record(Trace::kWorld, "read_ok",
           {static_cast<uint64_t>(client.index), response.offset});
  } else {
    checker_.OnAck(client.op, response.offset, scheduler_.now());
    ++result_.ops_acked;
    Record(Trace::kWorld, "write_ok",
           {static_cast<uint64_t>(client.index), client.op, response.offset});
    if (client.probe) {
      probe_acked_ = true;
      probe_offset_ = response.offset;
      client.done = true;
      return;
    }
  }
  const int index = client.index;
  scheduler_.After(workload_rng_.Between(0, options_.client_think_max),
                   [this, index] { NextOp(clients_[index]); });
}

void RaftWorld::OnClientTimeout(int client_index, uint64_t attempt) {
  Client& client = clients_[client_index];
  if (!client.busy || attempt != client.attempt) return;
  // Try another node: the target may be down, partitioned or no longer leader.
  client.target = static_cast<int>(workload_rng_.Below(num_nodes()));
  SendRequest(client);
}

// ---------------------------------------------------------------- nodes

void RaftWorld::OnClientRequest(int node_index, const ClientRequest& request) {
  Node& node = nodes_[node_index];
  if (!node.process.running()) return;  // connection refused: client times out
  if (node.process.Paused(scheduler_.now())) {
    scheduler_.At(
        node.process.DeferUntil(scheduler_.now()),
        [this, node_index, request] { OnClientRequest(node_index, request); });
    return;
  }
  replication::RaftHost& host = *node.host;
  ClientResponse refused;
  refused.attempt = request.attempt;
  refused.leader_hint = host.leader(kRaftGroup);
  if (!host.is_leader(kRaftGroup)) {
    Respond(node, request, refused);
    return;
  }
  if (request.read) {
    CHRONIK_CHECK_LT(node.reads_by_context.size(), kMaxPendingReadsPerNode);
    const uint64_t context = node.next_read_context++;
    if (!host.ReadIndex(kRaftGroup, EncodeOp(context)).ok()) {
      Respond(node, request, refused);
      return;
    }
    node.reads_by_context[context] = request;
  } else {
    auto applied = node.sm_offsets.find(request.op);
    if (applied != node.sm_offsets.end()) {
      ClientResponse response;  // a retry of an op already in the log
      response.attempt = request.attempt;
      response.ok = true;
      response.offset = applied->second;
      Respond(node, request, response);
      return;
    }
    if (!host.Propose(kRaftGroup, EncodeOp(request.op)).ok()) {
      Respond(node, request, refused);
      return;
    }
    node.waiting_writes[request.op] = request;
  }
  Drive(node);
}

void RaftWorld::Respond(Node& node, const ClientRequest& request,
                        const ClientResponse& response) {
  const int client_index = request.client;
  const int endpoint = clients_[client_index].endpoint;
  for (Nanos delay : network_.Route(node.index, endpoint, scheduler_.now())) {
    scheduler_.After(delay, [this, client_index, response] {
      OnClientResponse(client_index, response);
    });
  }
}

// ---------------------------------------------------------------- state
// machine

void RaftWorld::Apply(Node& node, const raft::Entry& entry) {
  // Without rule checks only what applying did is judged, not when.
  checker_.OnApply(node.index, entry,
                   options_.rule_checks ? node.hooks->commit() : entry.index);
  if (entry.type != raft::EntryType::kNormal || entry.data.empty()) return;
  const OpId op = DecodeOp(entry.data);
  auto [it, inserted] = node.sm_offsets.emplace(op, node.sm_log.size());
  if (inserted) {
    node.sm_log.push_back(op);
    checker_.OnStateMachineAppend(node.index, it->second, op);
  }
  auto waiting = node.waiting_writes.find(op);
  if (waiting != node.waiting_writes.end()) {
    ClientResponse response;
    response.attempt = waiting->second.attempt;
    response.ok = true;
    response.offset = it->second;
    Respond(node, waiting->second, response);
    node.waiting_writes.erase(waiting);
  }
}

void RaftWorld::OnApplied(Node& node, raft::Index index) {
  node.applied = index;
  Record(node.index, "apply", {index, node.sm_log.size()}, [&] {
    return absl::StrCat("through index ", index, ", state machine length ",
                        node.sm_log.size());
  });
  ServeReads(node);
}

void RaftWorld::OnReadState(Node& node, const raft::ReadState& read) {
  CHRONIK_CHECK_EQ(read.context.size(), 8u);
  node.ready_reads.emplace_back(read.index, DecodeOp(read.context));
  ServeReads(node);
}

void RaftWorld::ServeReads(Node& node) {
  while (!node.ready_reads.empty() &&
         node.ready_reads.front().first <= node.applied) {
    const uint64_t context = node.ready_reads.front().second;
    node.ready_reads.pop_front();
    auto it = node.reads_by_context.find(context);
    if (it == node.reads_by_context.end()) continue;
    ClientResponse response;
    response.attempt = it->second.attempt;
    response.ok = true;
    response.offset = node.sm_log.size();
    response.last = node.sm_log.empty() ? kNoOp : node.sm_log.back();
    Respond(node, it->second, response);
    node.reads_by_context.erase(it);
  }
}

}  // namespace chronik::sim
