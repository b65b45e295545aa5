// The broker scenario's world (internal to sim/broker_scenario): real
// broker::Broker nodes on SimDisks, simulated Kafka clients, faults and the
// Kafka checker. broker_scenario.h says what a run does. Split by concern:
//   broker_world.cc          construction, the run, heal, liveness
//   broker_world_faults.cc   what each fault kind does, and its end
//   broker_world_nodes.cc    node lifecycle and driving the Broker (Process,
//                            StepOutput, async fsyncs, ticks, peer messages,
//                            client connections on the broker side)
//   broker_world_clients.cc  the clients (admin, producers, consumer)
//   broker_world_groups.cc   consumer-group members
//   broker_world_group_fetch.cc  their Fetch loop
//   broker_world_admin.cc    the admin's topic churn
//   broker_world_purge.cc    the purger (DeleteRecords) and resets to the
//                            log start
//   broker_world_txn.cc      the transactional producer
//   broker_world_txn_read.cc the read_committed consumer (TxnChecker)
#ifndef CHRONIK_SIM_BROKER_WORLD_H_
#define CHRONIK_SIM_BROKER_WORLD_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/input_buffer.h"
#include "broker/config/server_config.h"
#include "broker/env/env.h"
#include "broker/kafka/batch_header.h"
#include "broker/kafka/messages.h"
#include "broker/kafka/record_batch.h"
#include "broker/replication/raft_host_observer.h"
#include "broker/server/broker.h"
#include "sim/broker_faults.h"
#include "sim/broker_group_member.h"
#include "sim/broker_scenario.h"
#include "sim/broker_txn_client.h"
#include "sim/clock.h"
#include "sim/cluster_checker.h"
#include "sim/disk/sim_disk.h"
#include "sim/kafka_checker.h"
#include "sim/network.h"
#include "sim/ports.h"
#include "sim/process.h"
#include "sim/random.h"
#include "sim/replica_checker.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "sim/txn_checker.h"

namespace chronik::sim {

// Node clocks read as wall-clock milliseconds from this epoch.
inline constexpr int64_t kEpochMs = 1'700'000'000'000;
inline constexpr char kTopic[] = "t";

class BrokerWorld;

// The options of every node's SimDisk while it is healthy.
SimDiskOptions BrokerDiskOptions();

// The node's env::Clock (its NodeClock in epoch milliseconds) and
// env::LogSink (log lines become trace events).
class NodeEnv final : public env::Clock, public env::LogSink {
 public:
  NodeEnv(BrokerWorld* world, int node) : world_(world), node_(node) {}
  int64_t NowMs() override;
  bool Enabled(env::LogLevel level) const override {
    return level != env::LogLevel::kDebug;
  }
  void Log(env::LogLevel level, absl::string_view line) override;

 private:
  BrokerWorld* const world_;
  const int node_;
};

// What a node's Raft host reports, handed to the world's cluster checker.
class NodeRaftObserver final : public replication::RaftHostObserver {
 public:
  NodeRaftObserver(BrokerWorld* world, int node) : world_(world), node_(node) {}
  void OnRoleChange(replication::GroupId group_id,
                    const replication::RoleState& role) override;
  // The replica checker's inputs.
  void OnRecover(replication::GroupId group_id,
                 const replication::RecoveredGroup& recovered) override;
  void OnRecoveredEntries(replication::GroupId group_id,
                          absl::Span<const raft::Entry> entries) override;
  void OnAppend(replication::GroupId group_id,
                absl::Span<const raft::Entry> entries) override;
  void OnDurable(replication::GroupId group_id,
                 const replication::DurableState& durable) override;
  void OnSnapshotTaken(replication::GroupId group_id,
                       raft::Index index) override;
  void OnSnapshotInstalled(replication::GroupId group_id, raft::Index index,
                           raft::Term term) override;

 private:
  BrokerWorld* const world_;
  const int node_;
};

struct BrokerNode {
  struct Connection {
    int client = 0;
    InputBuffer input;  // delivered, not yet consumed by the broker
    bool paused = false;
  };
  int index = 0;
  Process process;
  NodeClock clock;  // the broker's env::Clock: drifts and jumps
  // What paces ticks (the driver's monotonic timer): drifts, never jumps.
  NodeClock tick_clock;
  std::unique_ptr<Rng> disk_rng;
  std::unique_ptr<SimDisk> disk;  // survives crashes
  std::unique_ptr<NodeEnv> env;
  std::unique_ptr<NodeRaftObserver> observer;
  // Parsed by the production config code from the node's command line.
  config::ServerConfig config;
  int host = 0;             // port table host of its bind address
  std::string start_error;  // why the last start failed ("" if it did not)
  bool restart_scheduled = false;  // the supervisor retries a failed start
  std::unique_ptr<broker::Broker> broker;
  bool broker_started = false;  // its Start() succeeded
  // The flushes whose fsyncs are in flight, oldest first (they complete in
  // order), and when the last one is due.
  std::deque<env::SyncRequest> syncing;
  Nanos last_sync_due = 0;
  std::map<env::ConnectionId, Connection> connections;
  bool process_scheduled = false;
  Nanos busy_since = -1;  // Process rescheduled at one instant since
  int busy_steps = 0;
  Nanos next_tick_local = 0;
  Nanos crash_in_fsync_restart = -1;  // armed: the restart delay, else -1
  Nanos slow_fsync_max = 0;           // kSlowFsync: fsync latency bound
  bool disk_faulty = false;           // kDiskErrors or kDiskFull is on its disk
  // A disk fault was on at some point since this process started: an error
  // it caused may surface after the fault ended.
  bool disk_fault_this_run = false;
  // A clean stop is under way: the broker hands over its leadership
  // (Broker::BeginShutdown) until ShutdownComplete(), then stops.
  bool stopping = false;
  bool restart_after_stop = false;  // a start was asked for meanwhile
  // Decommissioned and stopped by the operator: never started again.
  bool gone = false;
};

// The seed's cluster changes (BrokerScenarioOptions::membership; stream
// "membership", broker_world_members.cc).
struct MembershipPlan {
  bool on = false;
  Nanos join_at = 0;          // when the extra node starts with --join
  Nanos decommission_at = 0;  // when the operator asks to decommission
  int leaving = -1;           // the founder's node index
};
MembershipPlan DrawMembershipPlan(const BrokerScenarioOptions& options);

enum class ClientKind {
  kAdmin,
  kProducer,
  kConsumer,
  kGroupMember,
  kMonitor,
  kPurger,
  kTxnProducer,  // broker_world_txn.cc
  kTxnConsumer,  // read_committed, broker_world_txn_read.cc
};

// The seed's partition log starts (stream "retention";
// BrokerScenarioOptions::small_segments, delete_records).
struct LogStartPlan {
  uint64_t segment_bytes = 0;    // partition log segments; 0: the default
  int64_t retention_bytes = -1;  // the topic's retention.bytes; -1: none
  bool delete_records = false;   // the purger runs
};
LogStartPlan DrawLogStartPlan(const BrokerScenarioOptions& options);

// The seed's log compaction (stream "compaction";
// BrokerScenarioOptions::compaction; broker_world_compaction.cc).
struct CompactionPlan {
  bool on = false;  // drawn; the topic compacts when the admin creates it
  int keys = 0;     // distinct keys the producers use
  int64_t segment_bytes = 0;
  int64_t segment_ms = 0;
  int dirty_ratio_percent = 0;  // min.cleanable.dirty.ratio * 100
  // delete.retention.ms: how long a transaction marker stays once its
  // transaction's records are gone (the scenario writes no tombstones).
  int64_t delete_retention_ms = 0;
};
CompactionPlan DrawCompactionPlan(const BrokerScenarioOptions& options);

// A partition of "t" the admin may be moving, as the cluster checker's ISR
// rule needs it: its replicas being added and removed (0-based), once a
// ListPartitionReassignments answer named them.
struct SeenMove {
  bool known = false;
  std::vector<int> adding;
  std::vector<int> removing;
};

// What the admin does next (broker_world_admin.cc).
enum class AdminStage {
  kMainTopic,     // create topic "t"
  kCreate,        // create the churn topic
  kAwaitLeaders,  // until Metadata names a leader of each of its partitions
  kDelete,        // delete it
  kAwaitGone,     // until Metadata no longer knows it
  // Reassignment seeds (broker_world_moves.cc):
  kReassign,      // move a partition of "t" to other replicas
  kAwaitMoved,    // until ListPartitionReassignments shows it done
  kConfirmMoved,  // until Metadata names the target replicas
};

struct PendingRequest {
  int32_t correlation = 0;
  uint64_t attempt = 0;
  std::function<void(absl::string_view payload)> on_response;
};

struct ProducerBatch {
  int partition = 0;
  int32_t sequence = -1;
  std::string value;
  std::string bytes;  // the record batch, identical on every retry
  bool sent_after_heal = false;
};

struct SimClient {
  int index = 0;
  int endpoint = 0;
  ClientKind kind = ClientKind::kProducer;
  env::ConnectionId connection = 0;
  int connection_node = -1;
  std::optional<PendingRequest> pending;
  uint64_t attempt = 0;
  int32_t next_correlation = 1;
  int bootstrap = 0;  // next broker to ask when no leader is known
  Nanos backoff = 0;
  bool active = false;
  bool done = false;
  // What Metadata last said.
  bool need_metadata = true;
  int controller = -1;       // node id
  std::vector<int> leaders;  // node id per partition, -1 unknown
  // Producer: idempotent (acks=all), or plain with acks 0, 1 or all.
  bool idempotent = true;
  int16_t acks = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::vector<int32_t> next_sequence;
  std::optional<ProducerBatch> batch;
  uint64_t next_value = 1;
  // Consumer.
  int partition = 0;
  int64_t offset = 0;
  // The leader epoch of the last batch read in `partition` (-1: none), and
  // whether the position must be validated against the leader's epochs
  // before the next Fetch (after a retriable Fetch error, as KIP-320's
  // consumer does after a leader change).
  int32_t read_epoch = -1;
  bool validate_position = false;
  bool end_validated = false;  // validated at the partition's end too
  // Consumer, after reading: the leader audit asks every broker (node id
  // audit_node, 1..N) for Metadata; all must name the same leader (>= 0) of
  // every partition, else the audit starts over (bounded by the run).
  bool auditing = false;
  int audit_node = 1;
  std::vector<int> audit_leaders;    // as node 1 named them
  std::vector<int> audit_preferred;  // first replicas, as node 1 named them
  GroupMemberState group;            // kGroupMember
  TxnClientState txn;                // kTxnProducer, kTxnConsumer
  // Purger: the partition of the round in hand (-1: none), its high
  // watermark once listed (-1: not yet), the log start last seen per
  // partition.
  int purge_partition = -1;
  int64_t purge_high = -1;
  std::vector<int64_t> purge_starts;
  // Admin.
  AdminStage admin_stage = AdminStage::kMainTopic;
  uint64_t churn_round = 0;  // the churn topic is "x<churn_round>"
  int churn_partitions = 0;
  int churn_replication = 0;
  int move_partition = -1;             // the partition of "t" being moved
  std::vector<int32_t> move_target;    // its target replicas (broker ids)
  bool move_alter_unanswered = false;  // an Alter sent, no answer yet
  // The move may have started although no Alter of it was answered (an
  // answer was lost, or the partition was marked moving before).
  bool move_in_doubt = false;
};

class BrokerWorld {
 public:
  explicit BrokerWorld(const BrokerScenarioOptions& options);
  BrokerScenarioResult Run();

  Nanos now() const { return scheduler_.now(); }
  void Record(int node, std::string_view kind,
              std::initializer_list<uint64_t> args,
              const std::function<std::string()>& detail = nullptr);
  const BrokerNode& node(int index) const { return nodes_[index]; }
  // The cluster checker's inputs from the nodes.
  void OnLeader(int node, uint64_t group, raft::Term term);
  void OnSnapshot(int node, uint64_t group, raft::Index index, bool installed);
  ReplicaChecker& replicas() { return replicas_; }

 private:
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  void Fail(std::string failure);

  // Nodes (broker_world_nodes.cc).
  // The node's command line (as an operator would write it for this seed's
  // layout: one host, or a host per node), parsed by config::ParseServerConfig.
  config::ServerConfig MakeConfig(int index) const;
  broker::BrokerOptions MakeBrokerOptions(const BrokerNode& node) const;
  // Binds the node's listeners in the port table (all or none).
  absl::Status BindListeners(BrokerNode& node);
  void ReleaseListeners(BrokerNode& node);
  void StartNode(BrokerNode& node);
  // A failed start is retried every second (a supervisor restarting it).
  void RetryStartLater(BrokerNode& node);
  void CrashNode(BrokerNode& node, std::string_view why);
  // SIGTERM: the production drain (steps until no flush is in flight and no
  // work is left, fsyncs completed at once), then the process exits.
  // A clean stop (SIGTERM): the broker's controlled shutdown runs as it does
  // in production, then StopNode drains and stops the process.
  void BeginStop(BrokerNode& node);
  void StopNode(BrokerNode& node);
  // The node's connections are gone: their clients see them close.
  void DropConnections(BrokerNode& node);
  void CompleteSyncNow(BrokerNode& node);
  // True (after scheduling `retry` at the pause's end) when `node` is
  // paused: the work waits for the process to run again.
  bool Deferred(BrokerNode& node, std::function<void()> retry);
  void ScheduleTick(BrokerNode& node);
  void OnTick(BrokerNode& node, uint64_t incarnation);
  void ScheduleProcess(BrokerNode& node);
  void Step(BrokerNode& node, uint64_t incarnation);
  void CarryOut(BrokerNode& node, env::StepOutput out);
  void ConnectionAction(BrokerNode& node, env::ConnectionAction& action,
                        std::vector<env::ConnectionId>* resumed);
  void StartSync(BrokerNode& node, env::SyncRequest request);
  void FinishSync(BrokerNode& node, uint64_t incarnation);
  void SendPeer(BrokerNode& from, env::PeerMessage message);
  // Metadata commands a follower forwards (the cluster checker counts
  // creation requests).
  void ObserveForward(const BrokerNode& from, const raft::Message& message);
  void DeliverPeer(int to, const std::shared_ptr<env::PeerMessage>& message);
  // Client bytes reach a broker (opening the connection first if `open`).
  void ArriveAtBroker(int node, int client, env::ConnectionId connection,
                      bool open, const std::string& bytes);
  void CloseAtBroker(int node, env::ConnectionId connection);
  void SendToClient(BrokerNode& node, int client, env::ConnectionId connection,
                    std::string bytes, bool close);

  // Clients (broker_world_clients.cc).
  void Act(SimClient& client);
  void ActLater(SimClient& client, Nanos delay);
  template <typename Response, typename Request>
  void Call(SimClient& client, int node_id, int16_t version,
            const Request& request,
            std::function<void(SimClient&, const Response&)> done,
            Nanos timeout = 3 * kSecond);
  void SendFrame(SimClient& client, int node_id, std::string frame);
  void OnClientBytes(int client, env::ConnectionId connection,
                     const std::string& bytes);
  void OnClientClosed(int client, env::ConnectionId connection);
  void ClientFailed(SimClient& client, std::string_view why);
  void CloseClientConnection(SimClient& client);
  int AnyBroker(SimClient& client);
  void RequestMetadata(SimClient& client);
  void CreateTopic(SimClient& client);
  // Auto-creation seeds: the admin is an application touching new topics
  // ("a1", "a2", ...) one after another during the faults, each created by
  // asking Metadata for it until every partition has a leader.
  void AskForTopic(SimClient& client);
  void InitProducer(SimClient& client);

  // Log compaction (broker_world_compaction.cc).
  bool Compacts() const { return compaction_.on && !auto_create_; }
  // The compaction configs of topic "t" (none when it does not compact).
  void AddCompactionConfigs(kafka::CreateTopicsRequest& request) const;
  // The key of a producer's `n`-th record `value` (none when the topic does
  // not compact), told to the checker.
  std::optional<std::string> ProducerKey(uint64_t n, const std::string& value);
  // The key of a transactional producer's record `value` (none unless the
  // topic compacts).
  std::optional<std::string> TransactionalKey(const std::string& value);
  // The brokers' compaction counters into the result, at the end.
  void AddCompactionTotals();
  // Adds the node's storage flush counts to the result (before its broker
  // goes: a crash, a stop, the end of the run).
  void AddFlushCounts(const BrokerNode& node);
  // The final consumer's records of one (non-control) batch it fetched:
  // reads from its position below `high_watermark`, and the position moves
  // past the batch (a compacted batch may hold no records).
  void ConsumeRecords(SimClient& consumer, const kafka::BatchHeader& batch,
                      const std::vector<kafka::Record>& records,
                      int64_t high_watermark);

  // The admin's topic churn (broker_world_admin.cc).
  void StartChurn(SimClient& admin);
  void AdminAct(SimClient& admin);
  void ChurnCreate(SimClient& admin);
  void ChurnDelete(SimClient& admin);
  // Metadata about the churn topic, until it is led or gone.
  void ChurnLook(SimClient& admin);
  // Reassignments (broker_world_moves.cc).
  void StartMove(SimClient& admin);
  void MoveAlter(SimClient& admin);
  void MoveList(SimClient& admin);
  void MoveConfirm(SimClient& admin);
  // Records the move of `partition` a List answer names (if it does).
  void NoteMoveSets(int partition,
                    const kafka::ListPartitionReassignmentsResponse& response);
  std::string MoveLivenessProblem(const SimClient& admin) const;
  std::string AdminLivenessProblem() const;
  // The monitor's Metadata poll of the controller (BrokerScenarioOptions::
  // monitor), until the heal.
  void MonitorAct(SimClient& monitor);

  void Produce(SimClient& client);
  // A one-partition Produce (plain and transactional producers; in
  // broker_world_txn.cc); `answered` gets its error and base offset (an
  // empty response fails the run).
  void CallProduce(SimClient& client, int leader,
                   const kafka::ProduceRequest& request,
                   std::function<void(SimClient&, int16_t, int64_t)> answered);
  void OnProduced(SimClient& client, int16_t error, int64_t base_offset);
  void Fetch(SimClient& client);
  // One Metadata call of the leader audit (see SimClient::auditing).
  void AuditLeaders(SimClient& client);
  void OnAudit(SimClient& client, const kafka::MetadataResponse& response);
  // With leader balancing on: the agreed leaders go to the cluster checker's
  // PREFERRED LEADER rule; false when the audit must start over (too early
  // to judge) or the run failed.
  bool BalancedAudit(SimClient& client);
  // Metadata the controller itself answered (the cluster checker's FENCING).
  void ObserveControllerMetadata(const kafka::MetadataResponse& response);
  // Kafka broker ids as 0-based nodes (ids of no node left out).
  std::vector<int> BrokerIdsToNodes(const std::vector<int32_t>& ids) const;
  // "" when Metadata from `node_id` lists every broker of the cluster.
  std::string UnregisteredBrokers(
      int node_id, const kafka::MetadataResponse& response) const;
  void OnFetched(SimClient& client, int16_t error, int64_t high_watermark,
                 int64_t log_start, const std::optional<ByteChain>& records);
  // Leader epochs (broker_world_epochs.cc): a batch read must carry a leader
  // epoch no older than the one read before it (false: the run failed);
  // OffsetForLeaderEpoch validates the consumer's position (TRUNCATED when
  // the leader says the last read epoch ended below it).
  bool CheckReadEpoch(SimClient& client, const kafka::BatchHeader& batch);
  void ValidatePosition(SimClient& client);
  void StartConsumer();

  // Consumer-group members (broker_world_groups.cc).
  static int GroupMemberCount(const BrokerScenarioOptions& options);
  void PlanGroupMembers();
  void StartGroupMember(SimClient& client);
  void GroupExit(SimClient& client);
  void GroupAct(SimClient& client);
  void GroupCallFailed(SimClient& client);
  void FindCoordinator(SimClient& client);
  void JoinGroup(SimClient& client);
  void OnJoined(SimClient& client, const kafka::JoinGroupResponse& response);
  void SyncGroup(SimClient& client);
  void OnSynced(SimClient& client, const kafka::SyncGroupResponse& response);
  void FetchGroupOffsets(SimClient& client);
  void GroupStep(SimClient& client);
  void GroupHeartbeat(SimClient& client);
  void GroupCommit(SimClient& client);
  void OnGroupCommitted(SimClient& client,
                        const kafka::OffsetCommitResponse& response);
  void GroupFetch(SimClient& client);
  void OnGroupFetched(SimClient& client, int partition,
                      const kafka::FetchResponse& response);
  // The member's position on `partition` is below the log start.
  void ResetMemberToLogStart(SimClient& client, int partition);
  void LeaveGroup(SimClient& client);
  // The coordinator answered `code`: handles what every group call handles
  // alike (coordinator moved, member unknown, rebalance); false when `code`
  // is no such error.
  bool OnGroupError(SimClient& client, int16_t code, bool commit_first);
  void Revoke(SimClient& client);
  void CheckGroupAnomaly();
  std::string GroupLivenessProblem() const;

  // The purger and resets to the log start (broker_world_purge.cc). A
  // round: ListOffsets latest of a partition, then DeleteRecords of part of
  // what lies between the log start it knows and the high watermark, or
  // now and then ListOffsets earliest alone.
  void PurgerAct(SimClient& purger);
  void PurgeList(SimClient& purger, int64_t timestamp);
  void PurgeDelete(SimClient& purger);
  void PurgeRoundDone(SimClient& purger);
  // A retriable error or an unexpected one (which fails the run).
  void PurgeFailed(SimClient& purger, std::string_view what, int16_t code);
  // A Fetch said `client`'s position on `partition` is below the log start:
  // asks the leader for the earliest offset (ListOffsets), reports it and
  // calls `done` with it (-1: no answer; the caller fetches again).
  void ResetToLogStart(SimClient& client, int partition,
                       std::function<void(SimClient&, int64_t)> done);
  void CheckLogStartAnomaly();
  // The log start a Fetch answer reported (its leader may not have applied
  // its log yet: LOG START WENT BACK does not judge it).
  void ObserveFetchLogStart(int partition, int64_t log_start);
  // The final consumer's position is below the log start.
  void ResetConsumerToLogStart(SimClient& consumer);

  // Transactions (broker_world_txn.cc, broker_world_txn_read.cc).
  static bool TxnStreamOn(const BrokerScenarioOptions& options);
  static int TxnClientCount(const BrokerScenarioOptions& options);
  void TxnAct(SimClient& client);
  // A retriable coordinator error: backoff, and FindCoordinator again when
  // the coordinator moved.
  void TxnRetry(SimClient& client, int16_t code);
  void TxnCallFailed(SimClient& client);
  // Fenced: the transaction in hand is given up (outcome unknown), a new
  // epoch next.
  void TxnGiveUp(SimClient& client, std::string_view why);
  // A coordinator step's answer: on to `next`, give up, or retry.
  void TxnStepAnswered(SimClient& client, int16_t code, TxnStage next);
  void TxnFindCoordinator(SimClient& client);
  void TxnInit(SimClient& client);
  void TxnBegin(SimClient& client);
  void TxnAddPartitions(SimClient& client);
  void TxnProduce(SimClient& client);
  void OnTxnProduced(SimClient& client, int16_t code, int64_t base_offset);
  void TxnAddOffsets(SimClient& client);
  void TxnCommitOffsets(SimClient& client);
  void TxnEnd(SimClient& client);
  void TxnReadAct(SimClient& client);
  void OnTxnFetchError(SimClient& client, int partition, int16_t code,
                       int64_t log_start);
  // False when the run failed (a corrupt batch).
  bool TxnReadBatches(SimClient& client, int partition,
                      const kafka::FetchResponse::PartitionData& p);
  // True when the final pass is complete (the checker has judged).
  bool TxnReadFinished(SimClient& client);
  std::string TxnLivenessProblem() const;

  // Faults (broker_world_faults.cc).
  void StartFault(const BrokerFault& fault);
  // A fault that takes a node down (IsBrokerRestartFault) and restarts it.
  void StartRestartFault(const BrokerFault& fault);
  // False when `fault` is not a network fault.
  bool StartNetworkFault(const BrokerFault& fault);
  // A fault on the link between fault.node and the broker `other`.
  void CutBrokerLink(const BrokerFault& fault, int other);
  void StartNodeFault(const BrokerFault& fault);
  int CrashTarget(const BrokerFault& fault) const;
  void TakePort(const BrokerFault& fault);
  void FreeSquattedPort();
  // Ends every fault's effect (network, clocks' drift, disks, ports).
  void RestoreHealth();
  void EndFault();
  // After a step: a node whose storage failed (Broker::StorageFailure) exits
  // like the production driver and is restarted by its supervisor; a failure
  // on a healthy disk fails the run. True when the node is down.
  bool StopIfStorageFailed(BrokerNode& node);

  // Cluster changes (broker_world_members.cc): the joiner and the operator.
  // Node slots: the founders, then the joiner when the plan has one.
  static int NodeSlots(const BrokerScenarioOptions& options);
  bool IsJoiner(int index) const {
    return membership_.on && index == options_.nodes;
  }
  void PlanMembership();
  void RequestDecommission();
  void WatchMembership();
  // "" when the plan's changes are done (or there is no plan).
  std::string MembershipProblem() const;

  // Phases (broker_world.cc).
  void Heal();
  void StopProducers();
  void CheckLiveness();
  std::string LivenessProblem() const;
  void Finish();

  BrokerScenarioOptions options_;
  Trace trace_;
  Scheduler scheduler_;
  KafkaChecker checker_;
  ClusterChecker cluster_;
  ReplicaChecker replicas_;
  Rng fault_rng_;
  Rng workload_rng_;
  Rng disk_rng_;
  Rng group_rng_;     // the group members' plan and jitter
  Rng reassign_rng_;  // the admin's partition moves
  LogStartPlan log_starts_;
  CompactionPlan compaction_;
  Rng purge_rng_;  // the purger's choices
  Rng txn_rng_;    // the transactional producer's choices
  TxnChecker txn_checker_;
  int txn_producer_ = -1;  // its client index (the consumer's is next)
  Network network_;
  NetworkConfig healthy_network_;  // what faults on the network go back to
  std::vector<BrokerNode> nodes_;  // sized once
  std::vector<SimClient> clients_;
  std::vector<BrokerFault> plan_;
  PortTable ports_;
  // The seed's layout and topic creation (streams "layout", "creation").
  bool one_host_ = false;
  bool auto_create_ = false;  // producers create the topic by asking for it
  int64_t session_timeout_ms_ = 0;  // as configured (options or drawn)
  int64_t replica_lag_ms_ = 0;
  int64_t group_initial_delay_ms_ = 0;
  // Metadata snapshots: every this many entries (options or drawn), and
  // whether the small segments and Raft tail that go with a low one are on.
  uint64_t snapshot_entries_ = 0;
  bool small_snapshots_ = false;
  uint64_t tail_wal_bytes_ = 0;  // drawn per seed (stream "taillog")
  size_t tail_wal_min_groups_ = 1;
  uint64_t tail_wal_buffer_bytes_ = 0;
  size_t max_flushes_in_flight_ = 2;
  int min_insync_ = 1;  // drawn per seed (BrokerScenarioOptions::min_insync)
  // Leader balancing check interval; 0: the production default (no flags).
  int64_t balance_interval_ms_ = 0;
  bool churn_ = false;  // the admin creates and deletes topics (stream "admin")
  // The admin moves partitions of "t" (stream "reassign"), alternating with
  // the churn when both are on.
  bool reassign_ = false;
  // Partitions of "t" that may be moving: marked when an Alter is sent (one
  // whose answer is lost may still move it), their sets from the List
  // answers, cleared once Metadata names the target.
  std::map<int, SeenMove> moving_;
  std::optional<std::pair<int, uint16_t>> squatted_;  // (host, port)
  env::ConnectionId next_connection_ = 1;
  double response_loss_ = 0;
  bool healed_ = false;
  bool producers_stopped_ = false;
  bool finished_ = false;
  Nanos heal_time_ = 0;
  std::vector<bool> live_partitions_;
  MembershipPlan membership_;
  Nanos decommission_requested_ = -1;  // accepted by a node, at
  int replication_factor_ = 0;         // of the topic
  std::string audit_problem_;          // the last disagreement the audit saw
  // The cluster as the clients last saw it (for leader-targeted crashes).
  int seen_controller_ = -1;
  std::vector<int> seen_leaders_;
  BrokerScenarioResult result_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_BROKER_WORLD_H_
