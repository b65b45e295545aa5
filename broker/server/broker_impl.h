// Broker::Impl, the broker's internals (see broker.h for the contract).
// Split from broker.cc so the request handlers (handlers.cc) and the
// connection/replication plumbing (broker.cc) can live in separate files.
#ifndef CHRONIK_BROKER_SERVER_BROKER_IMPL_H_
#define CHRONIK_BROKER_SERVER_BROKER_IMPL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "broker/group/group_coordinator.h"
#include "broker/kafka/messages.h"
#include "broker/kafka/protocol.h"
#include "broker/metadata/metadata_state.h"
#include "broker/replication/raft_host.h"
#include "broker/server/broker.h"
#include "broker/server/partition_replica.h"
#include "proto/metadata.pb.h"

namespace chronik::broker {

// Bounds.
inline constexpr int kMaxAutoCreatesInFlight = 256;
inline constexpr int kMaxProcessRounds = 8;
inline constexpr int kMaxParkedFetches = 10'000;
inline constexpr int64_t kMaxFetchWaitMs = 30'000;
inline constexpr int kProducerIdBlockSize = 1'000;
inline constexpr int kMaxPendingInitProducerIds = 10'000;
// A follower re-sends a forwarded metadata command after this long.
inline constexpr int64_t kForwardRetryMs = 1'000;
inline constexpr size_t kMaxForwardedCreates = 1'000;
// An InitProducerId waits this long for a producer-id block.
inline constexpr int64_t kInitProducerIdTimeoutMs = 10'000;

// Whether any part of a response carries an error (for the error metrics).
bool HasAnyError(const kafka::CreateTopicsResponse& response);
bool HasAnyError(const kafka::DeleteTopicsResponse& response);
bool HasAnyError(const kafka::CreatePartitionsResponse& response);
bool HasAnyError(const kafka::AlterConfigsResponse& response);

// The Kafka responses for the coordinator's answers.
kafka::JoinGroupResponse ToResponse(const group::JoinResult& result);
kafka::SyncGroupResponse ToResponse(const group::SyncResult& result);

class Broker::Impl : public replication::GroupApplier {
 public:
  Impl(const BrokerOptions& options, storage::LogStore* store, Clock* clock,
       ConnectionOutput* connections, PeerOutput* peers);
  ~Impl() override;

  absl::Status Start();
  void OnConnectionOpen(ConnectionId id, const std::string& peer);
  void OnConnectionInput(ConnectionId id, std::string* input);
  void OnConnectionClose(ConnectionId id);
  void OnRaftMessage(replication::GroupId group_id, raft::Message message);
  void Tick();
  void Process();
  bool IsReady() const;
  bool HasFlushInFlight() const;
  BrokerMetrics Metrics() const;

  // GroupApplier.
  void Apply(replication::GroupId group_id, const raft::Entry& entry) override;
  void OnLeaderChange(replication::GroupId group_id, raft::NodeId leader,
                      raft::Term term) override;

 private:
  // ---- connections and in-order responses ----
  struct Connection {
    std::string peer;
    uint64_t next_seq = 0;      // sequence of the next request read
    uint64_t next_to_send = 0;  // sequence of the next response to send
    // Finished responses waiting for earlier ones (nullopt: no response).
    std::map<uint64_t, std::optional<std::string>> finished;
    bool paused = false;
  };
  struct RequestContext {
    ConnectionId connection = 0;
    uint64_t seq = 0;
    kafka::RequestHeader header;
    int64_t start_ms = 0;
    std::string client_host;
  };
  void ReadFrames(ConnectionId id, Connection& connection, std::string* input);
  void HandleFrame(ConnectionId id, Connection& connection,
                   absl::string_view payload);
  void Dispatch(const RequestContext& context, kafka::AnyRequest& request);
  // Queues the response of `context` and sends every response now in order.
  void Deliver(const RequestContext& context, std::optional<std::string> frame,
               bool had_error);
  template <typename Response>
  void Finish(const RequestContext& context, const Response& response,
              bool had_error = false) {
    Deliver(context, kafka::EncodeResponseFrame(context.header, response),
            had_error);
  }
  void FinishWithoutResponse(const RequestContext& context) {
    Deliver(context, std::nullopt, false);
  }
  void CloseConnection(ConnectionId id, const std::string& why);

  // A response assembled from parts that complete later (metadata proposals
  // to commit): sent once, when the last part is done or at its deadline.
  template <typename Response>
  struct Gathered {
    RequestContext context;
    Response response;
    int remaining = 0;  // parts not done yet
    bool finished = false;
  };
  template <typename Response>
  void FinishGathered(const std::shared_ptr<Gathered<Response>>& gathered) {
    if (gathered->finished) return;
    gathered->finished = true;
    Finish(gathered->context, gathered->response,
           HasAnyError(gathered->response));
  }
  template <typename Response>
  void PartDone(const std::shared_ptr<Gathered<Response>>& gathered) {
    if (!gathered->finished && --gathered->remaining == 0) {
      FinishGathered(gathered);
    }
  }

  // ---- handlers (handlers.cc) ----
  void HandleMetadata(const RequestContext& c, const kafka::MetadataRequest& r);
  void HandleProduce(const RequestContext& c, kafka::ProduceRequest& r);
  void HandleFetch(const RequestContext& c, const kafka::FetchRequest& r);
  void HandleListOffsets(const RequestContext& c,
                         const kafka::ListOffsetsRequest& r);
  void HandleFindCoordinator(const RequestContext& c,
                             const kafka::FindCoordinatorRequest& r);
  void HandleJoinGroup(const RequestContext& c,
                       const kafka::JoinGroupRequest& r);
  void HandleSyncGroup(const RequestContext& c,
                       const kafka::SyncGroupRequest& r);
  void HandleHeartbeat(const RequestContext& c,
                       const kafka::HeartbeatRequest& r);
  void HandleLeaveGroup(const RequestContext& c,
                        const kafka::LeaveGroupRequest& r);
  void HandleOffsetCommit(const RequestContext& c,
                          const kafka::OffsetCommitRequest& r);
  void HandleOffsetFetch(const RequestContext& c,
                         const kafka::OffsetFetchRequest& r);
  void HandleDescribeGroups(const RequestContext& c,
                            const kafka::DescribeGroupsRequest& r);
  void HandleListGroups(const RequestContext& c,
                        const kafka::ListGroupsRequest& r);
  void HandleCreateTopics(const RequestContext& c,
                          const kafka::CreateTopicsRequest& r);
  void HandleDeleteTopics(const RequestContext& c,
                          const kafka::DeleteTopicsRequest& r);
  void HandleCreatePartitions(const RequestContext& c,
                              const kafka::CreatePartitionsRequest& r);
  void HandleDeleteRecords(const RequestContext& c,
                           const kafka::DeleteRecordsRequest& r);
  void HandleInitProducerId(const RequestContext& c,
                            const kafka::InitProducerIdRequest& r);
  void HandleDescribeConfigs(const RequestContext& c,
                             const kafka::DescribeConfigsRequest& r);
  void HandleAlterConfigs(const RequestContext& c,
                          const kafka::AlterConfigsRequest& r);
  void HandleDescribeCluster(const RequestContext& c,
                             const kafka::DescribeClusterRequest& r);

  // ---- fetch ----
  struct ParkedFetch {
    RequestContext context;
    kafka::FetchRequest request;
    int64_t deadline_ms = 0;
  };
  // Builds the response; returns the record bytes it holds.
  size_t BuildFetchResponse(const kafka::FetchRequest& request,
                            kafka::FetchResponse* response);
  void RetryParkedFetches(bool expire);
  // Appends the stored batches from Kafka `offset` up to Raft index
  // `last_index` to `out`, about `max_bytes` (at least one batch).
  absl::Status ReadRecords(storage::GroupStorage& storage, int64_t offset,
                           raft::Index last_index, size_t max_bytes,
                           std::string* out);
  int64_t LogStartOffset(PartitionReplica& replica);
  // (offset, timestamp) of the first record at or after `timestamp_ms`, or
  // (-1, -1).
  std::pair<int64_t, int64_t> OffsetForTimestamp(
      const PartitionReplica& replica, int64_t timestamp_ms);

  // ---- metadata group ----
  using MetadataDone = std::function<void(const metadata::ApplyResult*)>;
  // Proposes a command to the metadata group; `done` gets the apply result,
  // or nullptr when it did not commit (not leader, lost leadership).
  void ProposeMetadata(const metapb::MetadataCommand& command,
                       MetadataDone done);
  void ApplyMetadata(const raft::Entry& entry);
  void MaybeRegister();
  // Sends `command` to the metadata leader to propose; false when there is no
  // other leader to send it to.
  bool ForwardMetadata(const metapb::MetadataCommand& command);
  void ReconcilePartitions();
  void MaybeAutoCreate(const std::string& topic);
  std::string NewTopicId();

  // ---- partitions ----
  PartitionReplica* FindPartition(const std::string& topic, int32_t partition);
  // The replica of a partition this node leads (and, with `require_ready`,
  // may take requests for), or the Kafka error to answer with.
  int16_t LeaderReplica(const std::string& topic, int32_t partition,
                        bool require_ready, PartitionReplica** replica);
  // Leader (node id) of the partition as far as this node knows, -1 unknown.
  int32_t PartitionLeader(const metapb::PartitionInfo& partition) const;
  const metapb::BrokerInfo* Coordinator() const;
  void ExpireDeadlines();
  // Drops whole old segments of partition logs (topic retention configs).
  void ApplyRetention();
  void AnswerGroupCompletions();

  // ---- producer ids ----
  void ServeProducerIdRequests();

  // ---- members ----
  const BrokerOptions options_;
  const config::ServerConfig& config_;
  storage::LogStore* const store_;
  Clock* const clock_;
  ConnectionOutput* const connections_out_;
  PeerOutput* const peers_out_;
  std::mt19937_64 rng_;
  std::unique_ptr<replication::RaftHost> host_;
  metadata::MetadataState metadata_;
  std::map<raft::Index, std::pair<raft::Term, MetadataDone>> metadata_pending_;
  bool registration_in_flight_ = false;
  std::set<std::string> auto_creates_in_flight_;
  int64_t next_registration_forward_ms_ = 0;
  // Auto-creations a follower forwarded: topic -> when it may forward again.
  std::map<std::string, int64_t> forwarded_creates_;
  std::map<uint64_t, std::unique_ptr<PartitionReplica>>
      partitions_;  // by group
  bool partitions_dirty_ = true;
  std::set<uint64_t> changed_groups_;  // partitions applied since last check

  std::unique_ptr<group::GroupCoordinator> coordinator_;
  raft::Term coordinator_term_ = 0;
  group::Ticket next_ticket_ = 1;
  std::map<group::Ticket, RequestContext> parked_group_requests_;

  std::map<ConnectionId, Connection> connections_;
  std::set<ConnectionId> reading_;  // connections inside ReadFrames
  bool processing_ = false;
  bool process_again_ = false;
  std::vector<ParkedFetch> parked_fetches_;
  // Deadlines of waiting requests: deadline ms -> cancel action.
  std::multimap<int64_t, std::function<void()>> deadlines_;

  int64_t next_producer_id_ = -1;  // next id of the current block
  int64_t producer_id_block_end_ = -1;
  int64_t producer_block_retry_ms_ = 0;  // no new block request before this
  // InitProducerId requests waiting for a block, with their deadlines.
  std::vector<std::pair<RequestContext, int64_t>> waiting_for_producer_ids_;

  BrokerMetrics metrics_;
  uint64_t ticks_ = 0;
  std::vector<replication::OutgoingMessage> outbox_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_BROKER_IMPL_H_
