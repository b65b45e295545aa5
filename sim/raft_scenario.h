// The Raft scenario: a cluster of nodes, each running the production
// replication::RaftHost (the real Raft core, raft/RawNode, and the real
// storage code, broker/storage LogStore) on a simulated disk, in the simulated
// world, with clients, faults and checkers, from one seed.
//
// What a run does:
// 1. Builds the world from the seed: network (latencies from the "network"
//    stream), per-node clocks, per-node disks (sim/disk SimDisk), a port table,
//    and the fault schedule that swarm testing chose for this seed (or the
//    schedule given in the options, for replaying a shrunk run).
// 2. Starts N nodes. Each binds its port (retrying while another process holds
//    it), opens a LogStore on its disk and a RaftHost over it (one group, every
//    node a voter; AddGroup recovers the log and hard state and replays the
//    committed entries), and drives the host: Tick every tick_interval of its
//    own clock; Process after every input, sending the messages it hands out.
//    The host runs in its async flush mode: the fsyncs of the flush it starts
//    (TakeSyncRequest) complete after a simulated latency (File::Sync, then
//    OnSyncDone), and only then does the host release the replies that claim
//    durability. Committed entries go to the node's state machine, an
//    append-only log of client operations deduplicated by operation id. A
//    crash before a flush's fsyncs loses, tears or garbles its writes on the
//    SimDisk; a failed write or fsync fails the group and the node restarts.
// 3. Clients write operations (to the leader they know, following redirects,
//    retrying on timeout with the same operation id) and read the log back
//    with ReadIndex (RaftHost::ReadIndex).
// 4. During the fault phase the schedule's faults hit; at its end everything
//    heals and the liveness phase begins: within the rest of the run there must
//    be one leader, a new write must commit and every node must catch up to it.
// The RaftChecker hears, through the host's observer interface
// (broker/replication/raft_host_observer.h), every log write, recovery,
// commit, leadership change and durable hard state, and through the state
// machine every apply; the world reports acknowledgements, reads and granted
// votes. The first violation fails the seed and ends the run.
//
// Deterministic: a function of the options (same options, same trace hash).
// One thread; the RaftScenarioOptions and the result are plain values.
#ifndef CHRONIK_SIM_RAFT_SCENARIO_H_
#define CHRONIK_SIM_RAFT_SCENARIO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "raft/raw_node.h"
#include "sim/faults.h"
#include "sim/time.h"
#include "sim/trace.h"

namespace chronik::sim {

struct RaftScenarioOptions {
  uint64_t seed = 1;
  int num_nodes = 3;
  // Faults happen in [0, fault_phase); the run ends at run_length, by which
  // time the cluster must be live again.
  Nanos fault_phase = 20 * kSecond;
  Nanos run_length = 30 * kSecond;
  // Swarm-chosen faults; false runs the same seed without any.
  bool faults = true;
  // When set, replaces the generated schedule (replay of a shrunk schedule).
  std::optional<std::vector<Fault>> schedule;
  // Raft tick period of each node's own clock; heartbeats go every tick and
  // elections time out after 10 to 20 ticks.
  Nanos tick_interval = 10 * kMillisecond;
  int num_clients = 3;
  // Cap on client operations started (-1: no cap). Shrinking lowers it.
  int64_t max_ops = -1;
  // Clients wait up to this long between operations.
  Nanos client_think_max = 30 * kMillisecond;
  raft::InjectedBugs bugs;  // TEST-ONLY: bugs to switch on in the core
  // Check the rules behind the safety properties where they are easy to see
  // (commit only an entry of the leader's term, a vote is durable before it is
  // granted, apply only committed entries). False leaves only the end-to-end
  // properties (leaders, logs, state machines, client history), to show what
  // they catch alone.
  bool rule_checks = true;

  // Tracing (does not change the hash): a printer for readable events, and
  // where to stop (first event of kind `stop_kind`, or event number
  // `stop_event`; 0 = never).
  Trace::Printer printer;
  std::string stop_kind;
  uint64_t stop_event = 0;
};

struct RaftScenarioResult {
  bool passed = false;
  bool stopped = false;  // stopped on request (--until) before the end
  std::string failure;   // first violation, or the liveness failure
  uint64_t trace_hash = 0;
  uint64_t trace_events = 0;
  uint64_t scheduler_events = 0;
  Nanos simulated = 0;  // simulated time the run covered
  std::string swarm;    // the swarm choice, readable
  std::vector<Fault> schedule;
  // Figures.
  uint64_t ops_invoked = 0;
  uint64_t ops_acked = 0;
  uint64_t reads_checked = 0;
  uint64_t committed_index = 0;
  uint64_t leaders_elected = 0;
  uint64_t crashes = 0;
  uint64_t bind_failures = 0;
  Nanos recovered_after_heal = -1;  // liveness reached this long after the heal
};

// The faults a run with `options` will inject (what the header prints before a
// run).
struct FaultPlan {
  std::string swarm;  // the swarm choice, readable
  std::vector<Fault> schedule;
};
FaultPlan PlanFaults(const RaftScenarioOptions& options);

RaftScenarioResult RunRaftScenario(const RaftScenarioOptions& options);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_RAFT_SCENARIO_H_
