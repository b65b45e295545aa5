// The Raft scenario's world (internal to sim/raft_scenario): nodes, each
// running the production replication::RaftHost over a storage::LogStore on
// its SimDisk, clients, faults, checkers. raft_scenario.h says what a run
// does. The implementation is split by concern:
//   raft_world.cc         construction, trace records, the run, heal, liveness
//   raft_world_nodes.cc   node lifecycle, driving the host (Process, the
//                         flush's fsyncs after a simulated latency), network
//                         delivery, the state machine the host applies to
//   raft_world_clients.cc clients and the requests they send to nodes
//   raft_world_faults.cc  starting and ending faults
#ifndef CHRONIK_SIM_RAFT_WORLD_H_
#define CHRONIK_SIM_RAFT_WORLD_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "broker/replication/raft_host.h"
#include "broker/storage/log_store.h"
#include "sim/clock.h"
#include "sim/disk/sim_disk.h"
#include "sim/faults.h"
#include "sim/network.h"
#include "sim/ports.h"
#include "sim/process.h"
#include "sim/raft_checker.h"
#include "sim/raft_scenario.h"
#include "sim/random.h"
#include "sim/scheduler.h"
#include "sim/trace.h"

namespace chronik::sim {

// The scenario runs one Raft group; every node is a voter.
inline constexpr replication::GroupId kRaftGroup = 0;

// Node i listens on port kBasePort + i of its own host.
inline constexpr uint16_t kBasePort = 9000;
inline uint16_t PortOf(int node) {
  return static_cast<uint16_t>(kBasePort + node);
}

struct ClientRequest {
  int client = 0;
  uint64_t attempt = 0;
  bool read = false;
  OpId op = kNoOp;  // writes
};

struct ClientResponse {
  uint64_t attempt = 0;
  bool ok = false;
  raft::NodeId leader_hint = raft::kNoNode;
  uint64_t offset = 0;  // write: where the op sits; read: log length
  OpId last = kNoOp;    // read: last op of the log
};

class RaftWorld;
struct Node;

// What a node's RaftHost calls: the state machine (GroupApplier) and the
// observer, which feeds the checker (CheckingObserver) and tells the world of
// applies, role changes and storage failures.
class NodeHooks final : public replication::GroupApplier,
                        public CheckingObserver {
 public:
  NodeHooks(RaftWorld* world, Node* node, RaftChecker* checker,
            bool rule_checks);

  void Apply(replication::GroupId group_id, const raft::Entry& entry) override;
  void OnReadState(replication::GroupId group_id,
                   const raft::ReadState& read) override;
  void OnApplied(replication::GroupId group_id, raft::Index index) override;
  void OnRoleChange(replication::GroupId group_id,
                    const replication::RoleState& role) override;
  void OnFailed(replication::GroupId group_id,
                const absl::Status& status) override;

 private:
  RaftWorld* const world_;
  Node* const node_;
};

struct Node {
  int index = 0;
  raft::NodeId id = 0;
  Process process;
  NodeClock clock;
  int fsync_factor = 1;
  Nanos crash_in_fsync_restart = -1;  // armed: restart delay, else -1
  // The disk survives crashes; everything below it is the process's.
  std::unique_ptr<Rng> disk_rng;
  std::unique_ptr<SimDisk> disk;
  std::unique_ptr<NodeHooks> hooks;
  // The running process: its storage and Raft host, the flush whose fsyncs
  // are in flight, whether a storage error failed the group.
  std::unique_ptr<storage::LogStore> store;
  std::unique_ptr<replication::RaftHost> host;
  // Oldest first (they complete in order); when the last one is due.
  std::deque<replication::SyncRequest> syncing;
  Nanos last_sync_due = 0;
  std::string storage_failure;
  // The state machine: an append-only log of operations, deduplicated.
  std::vector<OpId> sm_log;
  absl::flat_hash_map<OpId, uint64_t> sm_offsets;  // lookups only
  raft::Index applied = 0;
  Nanos next_tick_local = 0;
  std::map<OpId, ClientRequest> waiting_writes;
  std::map<uint64_t, ClientRequest> reads_by_context;
  std::deque<std::pair<raft::Index, uint64_t>> ready_reads;  // (index, context)
  uint64_t next_read_context = 1;
  // Leadership as last reported by the host (for the trace).
  bool leader = false;
  raft::Term term = 0;
};

struct Client {
  int index = 0;
  int endpoint = 0;
  bool probe = false;  // the liveness phase's single write
  bool busy = false;
  bool read = false;
  OpId op = kNoOp;
  Nanos invoked = 0;
  uint64_t attempt = 0;
  uint64_t next_seq = 1;
  int target = 0;
  bool done = false;
};

class RaftWorld {
 public:
  explicit RaftWorld(const RaftScenarioOptions& options);
  RaftScenarioResult Run();

 private:
  friend class NodeHooks;

  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  void Record(int node, std::string_view kind,
              std::initializer_list<uint64_t> args,
              const std::function<std::string()>& detail = nullptr);

  // Node lifecycle (raft_world_nodes.cc).
  void StartNode(Node& node);
  // Opens the node's LogStore and RaftHost and recovers the group; false
  // (after recording why) when the disk refuses.
  bool OpenStorage(Node& node);
  void ResetVolatile(Node& node);
  void CrashNode(Node& node, std::string_view why);
  void StopNode(Node& node);
  void RestartLater(Node& node, Nanos delay);
  void ScheduleTick(Node& node);
  void OnTick(Node& node, uint64_t incarnation);

  // Driving the host (raft_world_nodes.cc).
  // Process until the host has no more work (bounded), sending its messages
  // and starting the fsyncs of the flush it began.
  void Drive(Node& node);
  void StartSync(Node& node, replication::SyncRequest request);
  void FinishSync(Node& node, uint64_t incarnation);
  // Syncs the files of the flush in flight now and reports it to the host.
  void CompleteSyncNow(Node& node);
  Nanos FsyncLatency(Node& node);
  void SendRaft(Node& from, raft::Message message);
  // Messages on the wire live in a slab so that delivery events capture a slot
  // number (no allocation per message).
  uint32_t StoreInFlight(raft::Message message);
  void DeliverRaft(int to, uint32_t slot);

  // What the host calls back (through NodeHooks).
  void Apply(Node& node, const raft::Entry& entry);
  void OnApplied(Node& node, raft::Index index);
  void OnReadState(Node& node, const raft::ReadState& read);
  void ObserveRole(Node& node, const replication::RoleState& role);

  // Clients (raft_world_clients.cc).
  void NextOp(Client& client);
  void SendRequest(Client& client);
  void OnClientRequest(int node_index, const ClientRequest& request);
  void ServeReads(Node& node);
  void Respond(Node& node, const ClientRequest& request,
               const ClientResponse& response);
  void OnClientResponse(int client_index, const ClientResponse& response);
  void OnClientTimeout(int client_index, uint64_t attempt);

  // Faults (raft_world_faults.cc).
  void ScheduleFaults();
  void StartFault(const Fault& fault);
  void StartCrashFault(const Fault& fault, Node& node);
  void CrashLeader(const Fault& fault);
  void EndFault(uint64_t fault_id);
  void RecomputeNetwork();
  void RecomputeDisk(Node& node);
  void Heal();
  void CheckLiveness();
  std::string LivenessProblem() const;
  void Finish();

  RaftScenarioOptions options_;
  Trace trace_;
  Scheduler scheduler_;
  RaftChecker checker_;
  Rng disk_rng_;
  Rng workload_rng_;
  Network network_;
  NetworkConfig base_network_;
  PortTable ports_;
  std::vector<Node> nodes_;  // sized once: nodes are referred to by address
  std::vector<Client> clients_;
  std::vector<raft::Message> in_flight_;
  std::vector<uint32_t> free_in_flight_;
  std::vector<replication::OutgoingMessage> outbox_;  // reused by Drive
  std::vector<Fault> schedule_;
  std::string swarm_;
  std::map<uint64_t, Fault> active_faults_;  // by id, in start order
  uint64_t next_fault_id_ = 1;
  bool healed_ = false;
  Nanos heal_time_ = 0;
  Nanos live_at_ = -1;
  OpId probe_op_ = kNoOp;
  uint64_t probe_offset_ = 0;
  bool probe_acked_ = false;
  int64_t ops_started_ = 0;
  RaftScenarioResult result_;
};

// A healthy disk: a crash keeps a random prefix of the unsynced writes and
// tears the first one it drops half of the time; no errors, no corruption.
SimDiskOptions BaseDiskOptions();

// Entry payload of a write: the operation id, 8 bytes little-endian.
raft::Bytes EncodeOp(OpId op);
OpId DecodeOp(const raft::Bytes& data);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_RAFT_WORLD_H_
