// The broker scenario: N real broker::Broker nodes (the production broker,
// its Raft groups and storage, on simulated disks) in the simulated world,
// driven by simulated Kafka clients speaking the real codec, under faults
// derived from one seed; a Kafka history checker judges the run.
//
// What a run does:
// 1. Builds the world from the seed: network between brokers and clients,
//    per-node clocks (a NodeClock read by the broker as env::Clock in epoch
//    milliseconds), per-node SimDisks (a crash keeps a random prefix of the
//    unsynced writes), and the fault plan.
// 2. Starts the brokers (cluster mode, every node a peer, replication factor
//    N, min.insync.replicas 1) in env::FsyncMode::kAsync: after each Process()
//    the world carries out the StepOutput (peer messages over the network,
//    responses to client connections after a latency, the flush's fsyncs
//    after a simulated latency, then OnSyncDone), processes again while the
//    broker has work (as events), and ticks every tick_interval_ms of the
//    node's own clock.
// 3. Clients: an admin creates topic "t" (partitions, replication factor N)
//    through the metadata leader; idempotent producers (InitProducerId, then
//    acks=-1 Produce of one record per batch, value "p<client>-<n>") refresh
//    Metadata on leader errors, connection loss and timeouts, and retry the
//    same batch with the same sequence until acknowledged.
// 4. Faults during [0, fault_phase), one at a time (broker_world.h lists
//    them): crashes (kill -9: the Broker object is destroyed, SimDisk::Crash)
//    of a random node, the metadata leader or a partition leader, or of a node
//    while its flush is being fsynced, restarted after 0.1-3 s; a power loss
//    of every node; a clean stop (the production drain); isolation of a node,
//    a broker cut from the other brokers or from the clients; lost responses
//    on client connections (the connection breaks after the broker answered);
//    clock jumps and drift; pauses. Then everything heals.
// 5. After the heal: producers must get new writes acknowledged on every
//    partition (liveness); then they stop and a consumer reads every partition
//    from its log start (offset 0, or where DeleteRecords and retention moved
//    it) to its high watermark from the leader (Fetch). The KafkaChecker
//    names the first anomaly (LOST, DUPLICATE, INCONSISTENT OFFSET, LOG
//    START BEYOND REQUEST, ...) with its partition and offset.
//
// Deterministic: a function of the options (same options, same trace hash).
#ifndef CHRONIK_SIM_BROKER_SCENARIO_H_
#define CHRONIK_SIM_BROKER_SCENARIO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/env/injected_bugs.h"
#include "raft/raw_node.h"
#include "sim/broker_faults.h"
#include "sim/time.h"
#include "sim/trace.h"

namespace chronik::sim {

struct BrokerScenarioOptions {
  uint64_t seed = 1;
  int nodes = 3;
  int partitions = 3;
  // Replication factor of the topic; 0: drawn per seed from 1..nodes (a
  // factor below the cluster size leaves brokers without a replica, which
  // must still name every partition's leader).
  int replication_factor = 0;
  int producers = 2;
  // Consumer-group members (one group "g" over the topic); -1: drawn per
  // seed from 2..3 (stream "groups"), 0: none.
  int group_members = -1;
  // Broker liveness (--broker-session-timeout-ms) and ISR lag
  // (--replica-lag-time-max-ms); 0: drawn per seed (stream "liveness"): the
  // production defaults (9 s, 30 s) on half the seeds, short ones (0.3-3 s)
  // that fence brokers and shrink ISRs during the faults on the others.
  int64_t session_timeout_ms = 0;
  // min.insync.replicas; 0: drawn per seed (stream "insync") from 1 to a
  // majority of the topic's replicas, and on a quarter of the seeds whose
  // replication factor allows it and whose admin creates the topic (stream
  // "insync_high") above a majority, up to every replica (acks=all then
  // waits for more copies than a commit).
  int min_insync = 0;
  // Leader balancing check interval (--leader-imbalance-check-interval-ms,
  // with no imbalance tolerated); 0: drawn per seed (stream "balance"):
  // 0.5-3 s on half the seeds (the final audit then wants every partition
  // led by its preferred replica: PREFERRED LEADER), the production default
  // (300 s: never within a run) on the others; -1: the default.
  int64_t balance_interval_ms = 0;
  // Raft quiescence of idle partition groups (--raft-quiesce): -1 the
  // server's default, 0 off, 1 on.
  int raft_quiesce = -1;
  int64_t replica_lag_ms = 0;
  // group.initial.rebalance.delay.ms; -1: drawn per seed (stream
  // "groupdelay"): the production default (3 s) on half the seeds, 0-3 s on
  // the others.
  int64_t group_initial_delay_ms = -1;
  // The metadata group's snapshot threshold (BrokerOptions::
  // metadata_snapshot_entries); 0: drawn per seed (stream "snapshots"): on
  // half the seeds every 4-64 entries, with 512-byte metadata segments and
  // in-memory Raft tails, so that the metadata log is compacted and a
  // follower that was down installs the leader's snapshot; the production
  // default on the others.
  uint64_t metadata_snapshot_entries = 0;
  // Partition log starts (stream "retention"); each -1: drawn per seed, 0:
  // off, 1: on. `small_segments`: partition log segments of 1-8 KiB and
  // 512-byte in-memory Raft tails (on half the seeds), and on half of those
  // the topic gets retention.bytes of 2-16 KiB, so retention cuts the
  // partition logs and a follower behind installs the leader's snapshot;
  // `delete_records`: a client (the purger) deletes records with
  // DeleteRecords now and then until the producers stop (on half the seeds).
  // Pinned regression seeds found before they existed run without them.
  int small_segments = -1;
  // The nodes' tail log (storage/tail_wal.h) in bytes; -1: drawn per seed
  // (stream "taillog": off, 8 KiB or 1 MiB, used by flushes of at least 1, 2
  // or 8 appending groups, its appends written to the segments every flush,
  // once 2 KiB wait or only when needed, with one or two flushes in flight).
  int64_t tail_wal_bytes = -1;
  // Storage flushes in flight at once (LogStore max_flushes_in_flight);
  // -1: drawn per seed (stream "taillog": 2 on three seeds in four, else 1).
  int max_flushes_in_flight = -1;
  // An idle broker checkpoints its tail log (BrokerOptions::
  // idle_tail_log_checkpoint_ticks at its default); false: never.
  bool idle_tail_log_checkpoints = true;
  int delete_records = -1;
  // A monitoring client asks the controller for the topic's Metadata every
  // half second during the faults (as an operator's dashboard polls
  // under-replicated partitions), feeding the FENCING and ISR rules. Pinned
  // regression seeds found before it existed run without it.
  bool monitor = true;
  // On half the seeds where the admin creates topic "t" (stream
  // "reassign"), it also moves its partitions to drawn replica sets with
  // AlterPartitionReassignments during the faults, waiting for each move to
  // complete (ListPartitionReassignments, then Metadata); one in hand at the
  // heal must complete. Pinned regression seeds found before it existed run
  // without it.
  bool reassign = true;
  // On a quarter of the seeds with at least two nodes (stream "membership"),
  // the cluster changes under the faults as an operator changes it: one more
  // node starts with --join (its cluster file lists every node, the others'
  // only the founders) and becomes a voter; later the operator decommissions
  // a drawn founder (Broker::Decommission, what POST
  // /v1/brokers/{id}/decommission calls), watches it leave and stops it for
  // good. Both must finish after the heal (MEMBERSHIP). Pinned regression
  // seeds found before it existed run without it.
  bool membership = true;
  // On a third of the seeds (stream "transactions"), a transactional producer
  // (FindCoordinator, InitProducerId, AddPartitionsToTxn, transactional
  // Produce, AddOffsetsToTxn + TxnOffsetCommit, EndTxn commit or abort) and a
  // read_committed consumer tailing the topic run beside the others; the
  // TxnChecker judges what it was delivered (ABORTED READ, TORN TXN,
  // sim/txn_checker.h). Pinned regression seeds found before it existed run
  // without it.
  bool transactions = true;
  // Log compaction (stream "compaction"); -1: drawn per seed, 0: off, 1: on.
  // On 40% of the seeds where the admin creates topic "t", it is created
  // with cleanup.policy=compact (compact,delete with retention or
  // DeleteRecords), 1-4 KiB
  // segments, segment.ms 0.3-3 s and min.cleanable.dirty.ratio 0.01-0.5, so
  // the brokers' compactors run during the run; the producers then write
  // keyed records (2-6 times as many keys as partitions) and the Kafka
  // checker's compaction rules apply (sim/compaction_checker.h).
  int compaction = -1;
  Nanos fault_phase = 20 * kSecond;
  // Replaces the seed's fault plan when set (--schedule, --shrink).
  std::optional<std::vector<BrokerFault>> fault_plan;
  Nanos run_length = 40 * kSecond;
  bool faults = true;
  int64_t tick_interval_ms = 50;  // BrokerOptions default
  // TEST-ONLY client bug: producers send without a producer id (no
  // idempotence) while still retrying, so a retried batch whose first attempt
  // was stored appears twice; the checker must report DUPLICATE.
  bool bug_no_idempotence = false;
  // TEST-ONLY: bugs switched on in every broker's Raft core (production code;
  // the scenario must notice what they break).
  raft::InjectedBugs raft_bugs;
  // TEST-ONLY: bugs switched on in every broker (broker/env/injected_bugs.h).
  env::BrokerBugs broker_bugs;
  // Readable trace (does not change the hash).
  Trace::Printer printer;
  // Every trace event as data, e.g. for sim/timeline.h (does not change the
  // hash).
  Trace::Listener listener;
};

struct BrokerScenarioResult {
  bool passed = false;
  std::string failure;  // the first anomaly or liveness failure
  uint64_t trace_hash = 0;
  uint64_t trace_events = 0;
  uint64_t scheduler_events = 0;
  Nanos simulated = 0;
  std::vector<std::string> fault_plan;  // readable, one line per fault
  uint64_t sends = 0;
  uint64_t acked = 0;
  uint64_t retries = 0;
  uint64_t producer_resets = 0;
  uint64_t records_read = 0;
  uint64_t crashes = 0;
  uint64_t lost_responses = 0;
  uint64_t group_reads = 0;    // records delivered to group members
  uint64_t group_commits = 0;  // acknowledged OffsetCommits
  uint64_t group_joins = 0;    // successful JoinGroups (rebalances joined)
  Nanos live_after_heal = -1;  // every partition acknowledged a new write
  // Metadata group snapshots: by every node, every incarnation; installed:
  // sent by a leader and installed.
  uint64_t snapshots_taken = 0;
  uint64_t snapshots_installed = 0;
  // The same of partition groups (retention and DeleteRecords cuts).
  uint64_t partition_snapshots_taken = 0;
  uint64_t partition_snapshots_installed = 0;
  uint64_t records_deleted = 0;  // DeleteRecords acknowledged (successes)
  uint64_t moves = 0;       // partition reassignments completed (and confirmed)
  bool joined = false;      // a node joined with --join and became a voter
  bool left = false;        // a decommissioned broker left and was stopped
  uint64_t txns_ended = 0;  // transactions whose EndTxn was answered
  uint64_t txns_committed = 0;  // ... with commit
  uint64_t txn_delivered = 0;   // records delivered to read_committed
  // Offsets the final consumer found in batches without their record
  // (removed by log compaction).
  uint64_t compacted_away = 0;
  // Transaction markers log compaction removed (summed over the brokers
  // running at the end; a restart resets a broker's count).
  uint64_t markers_removed = 0;
  // Storage flushes of every broker, every incarnation, and those that began
  // while the one before synced (LogStore pipelining).
  uint64_t flushes = 0;
  uint64_t flushes_overlapped = 0;
  // Tail-log checkpoints an idle broker began (RaftHost's idle rule).
  uint64_t idle_tail_log_checkpoints = 0;
  // Payload bytes storage wrote uncopied (GroupLog's splice of large batches).
  uint64_t spliced_bytes = 0;
};

// The number of consumer-group members a run with `options` has
// (options.group_members, or the seed's draw when it is -1).
int BrokerGroupMembers(const BrokerScenarioOptions& options);

// The readable fault plan of a run with `options` (printed before it runs).
std::vector<std::string> PlanBrokerFaults(const BrokerScenarioOptions& options);

BrokerScenarioResult RunBrokerScenario(const BrokerScenarioOptions& options);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_BROKER_SCENARIO_H_
