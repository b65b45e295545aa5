// Broker: everything one chronik node does, above its environment.
//
// It is a step function in the shape of raft::RawNode. Inputs go in (Kafka
// connection bytes, Raft messages from peers, ticks, fsync completions); the
// driver then calls Process(), which runs the Raft groups, makes the storage
// work of the whole batch durable with one flush (group commit), completes
// waiting requests and returns every output of the step (env::StepOutput:
// bytes to send, connections to close/pause/resume, peer messages, files to
// fsync in async mode). The broker never calls itself and never calls the
// driver except through env (clock, log sink), so a driver needs no re-entry
// guards: it carries out the outputs after the call returns.
//
// Driving (one thread):
//   Start()                        once: open the LogStore on env.disk,
//                                  recover groups, join the metadata group
//   OnConnectionOpen/Input/Close   Kafka client traffic (raw bytes; framing,
//                                  bounds and per-connection response order
//                                  are handled here)
//   OnPeerMessage                  a Raft message from a peer node
//   OnSyncDone                     async fsyncs of StepOutput::sync finished
//   Tick()                         every options.tick_interval_ms
//   BeginShutdown()                the node is going away (SIGTERM, the
//                                  simulator's clean stop): it hands over
//                                  the leadership of every Raft group it
//                                  leads (controlled_shutdown.h) while the
//                                  driver keeps ticking and processing until
//                                  ShutdownComplete() (bounded by
//                                  kControlledShutdownTimeoutMs), then stops
//   Process()                      after a batch of the above; call it again
//                                  while HasWork() (work queued behind the
//                                  flush of this step)
//
// Inside, the broker is a set of components (see docs/ARCHITECTURE.md):
// ConnectionTable (framing, ordering, backpressure, request metrics),
// MetadataClient (metadata group: proposals, forwarding, registration,
// auto-creation), PartitionManager (replicas and their logs), GroupService
// (consumer-group coordinator), ProducerIdAllocator, and the handlers
// (handlers/, one file per Kafka API family). This class only wires them and
// holds the control flow of a step.
//
// Deterministic: no clock but env.clock, no threads, no files but env.disk,
// randomness from env.seed. The production driver (broker/runtime/) and the
// simulator (sim/) both run this class. Standalone is a cluster of one: the
// metadata group's voters are the configured peers, never inferred.
#ifndef CHRONIK_BROKER_SERVER_BROKER_H_
#define CHRONIK_BROKER_SERVER_BROKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/input_buffer.h"
#include "broker/config/server_config.h"
#include "broker/env/env.h"
#include "broker/env/injected_bugs.h"
#include "broker/replication/raft_host.h"
#include "broker/replication/raft_host_observer.h"
#include "broker/server/cluster_status.h"
#include "broker/server/metrics.h"
#include "broker/storage/log_store.h"
#include "raft/raw_node.h"
#include "raft/types.h"

namespace chronik::broker {

using env::ConnectionId;
struct CompactionTotals;  // log_compactor.h

// The metadata group is snapshotted, and its log compacted, once it has
// applied this many entries or this many payload bytes since its last
// snapshot; its log segments roll at kMetadataSegmentBytes, so compaction
// (whole segments) leaves at most about one segment plus what was applied
// since the snapshot: 20,000 offset commits keep the log (and a restart's
// replay) within these bounds.
inline constexpr uint64_t kMetadataSnapshotEntries = 4'096;
inline constexpr uint64_t kMetadataSnapshotBytes = 4ull << 20;   // 4 MiB
inline constexpr uint64_t kMetadataSegmentBytes = 256ull << 10;  // 256 KiB

struct BrokerOptions {
  config::ServerConfig config;
  int64_t tick_interval_ms = 50;  // how often the driver calls Tick()
  int election_timeout_ticks = 10;
  int heartbeat_timeout_ticks = 2;
  raft::InjectedBugs injected_bugs;  // TEST-ONLY (simulator)
  env::BrokerBugs broker_bugs;       // TEST-ONLY (simulator)
  // Borrowed, may be null: hears what the node's Raft groups do (the
  // simulator's checkers). See replication/raft_host_observer.h.
  replication::RaftHostObserver* raft_observer = nullptr;
  // Partition log segments roll at this size; retention removes whole
  // segments (topic configs retention.ms and retention.bytes), checked every
  // retention_check_ticks.
  uint64_t segment_max_bytes = 64ull << 20;
  // The node's storage (log_store.h): with a 64 MiB tail log a flush fsyncs
  // one file however many partitions it appended to.
  storage::StoreOptions store{.tail_wal_bytes = 64ull << 20};
  int retention_check_ticks = 100;
  // Async fsyncs: an idle node checkpoints its tail log after this many
  // ticks without a flush (replication::HostOptions; 0: never).
  uint64_t idle_tail_log_checkpoint_ticks = 20;
  // Log compaction (cleanup.policy=compact) and segment.ms rolls, checked
  // every compaction_check_ticks (partition_manager.h, log_compactor.h).
  int compaction_check_ticks = 20;
  // The bound of a compaction pass's key map, in keys (log_compactor.h).
  size_t compaction_max_keys_per_pass = 1 << 20;
  // Metadata snapshots (see kMetadataSnapshotEntries). The simulator lowers
  // them so that snapshots and installs happen within a run.
  uint64_t metadata_snapshot_entries = kMetadataSnapshotEntries;
  uint64_t metadata_snapshot_bytes = kMetadataSnapshotBytes;
  uint64_t metadata_segment_max_bytes = kMetadataSegmentBytes;
  // Per Raft group: payload bytes of applied entries kept in memory for
  // followers that lag a little; one further behind is served from storage,
  // or, behind a compacted log, sent the snapshot.
  uint64_t max_log_tail_bytes = 8ull << 20;
  // Replay checkpoints of partition groups (replication/raft_host.h): every
  // 4 MiB applied or 5 s (at 50 ms ticks), at most 32 groups a tick.
  replication::CheckpointPolicy checkpoints = {
      .bytes = 4ull << 20, .interval_ticks = 100, .max_per_tick = 32};
};

class Broker {
 public:
  Broker(const BrokerOptions& options, const env::Environment& env);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  absl::Status Start();

  // Inputs.
  void OnConnectionOpen(ConnectionId id, const env::ConnectionInfo& info);
  // Consumes the complete requests at the front of `input` (up to the
  // in-flight bound; the rest stays for after a kResumeReading).
  void OnConnectionInput(ConnectionId id, InputBuffer* input);
  void OnConnectionClose(ConnectionId id);
  void OnPeerMessage(uint64_t group_id, raft::Message message);
  void OnSyncDone(uint64_t flush_id, std::vector<absl::Status> results);
  void Tick();
  // Starts the controlled shutdown (see the file comment); idempotent.
  void BeginShutdown();
  // The driver stops the node cleanly (the last call, after the shutdown):
  // checkpoints every partition and marks the store cleanly stopped
  // (replication::RaftHost::StopCleanly), so the next start reads no log.
  // An error only makes that start slower.
  absl::Status StopCleanly();
  // An operator asks to take broker `kafka_id` out of the cluster (or, with
  // `cancel`, to keep it): see cluster_membership.h. OK once it is on its way
  // to the controller; NotFound or FailedPrecondition naming why not.
  absl::Status Decommission(int32_t kafka_id, bool cancel);

  // The step: everything the inputs since the last call lead to.
  env::StepOutput Process();
  // Process() would do more (Readies, storage work queued behind this step's
  // flush, durable work not yet reported).
  bool HasWork() const;

  // /ready: this node is registered (and not fenced) in committed metadata
  // and can serve.
  bool IsReady() const;
  // BeginShutdown() was called and the node leads no Raft group it could
  // hand over, or the bound expired: the driver may stop it now.
  bool ShutdownComplete() const;
  BrokerMetrics Metrics() const;
  // What this node knows of its cluster (GET /v1/cluster; see
  // cluster_status.h).
  ClusterStatus Status() const;
  // Storage counters (flushes, fsyncs, bytes); Start() must have succeeded.
  const storage::StoreStats& StoreStats() const;
  // Log compaction counters (log_compactor.h); Start() must have succeeded.
  const CompactionTotals& CompactionStats() const;
  // Snapshots taken (metadata by policy, partitions by retention) and
  // installed from a leader; Start() must have succeeded.
  replication::RaftHost::SnapshotStats SnapshotStats() const;
  // The metadata state this node has applied, serialized as a
  // metapb::MetadataSnapshot (tests and diagnostics: equal bytes, equal
  // state); Start() must have succeeded.
  std::string MetadataImage() const;
  // Async mode: a storage flush is waiting for its fsyncs; a driver shutting
  // down lets it finish (OnSyncDone) and processes until this is false.
  bool HasFlushInFlight() const;
  // Not OK once a storage error (EIO, ENOSPC, a failed fsync) has failed one
  // of the node's Raft groups: what it wrote can no longer be trusted, so the
  // driver must stop the node without a drain and let it restart from its
  // durable state (as Kafka halts a broker whose only log directory failed).
  // Acknowledged writes are safe: nothing is acknowledged before its fsync
  // succeeded.
  absl::Status StorageFailure() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_BROKER_H_
