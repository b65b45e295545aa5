// The Kafka request handlers, one file per API family:
//   metadata.cc  Metadata, DescribeCluster, ApiVersions
//   sasl.cc      SaslHandshake, SaslAuthenticate
//   acls.cc      CreateAcls, DescribeAcls, DeleteAcls,
//                DescribeUserScramCredentials, AlterUserScramCredentials
//   produce.cc   Produce
//   fetch.cc     Fetch (and parked long-poll fetches)
//   offsets.cc   ListOffsets, DeleteRecords
//   groups.cc    FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
//                LeaveGroup, DescribeGroups, ListGroups
//   group_offsets.cc  OffsetCommit, OffsetFetch
//   topics.cc    CreateTopics, DeleteTopics, CreatePartitions
//   configs.cc   DescribeConfigs, AlterConfigs, IncrementalAlterConfigs
//   producers.cc InitProducerId, DescribeProducers
//   transactions.cc AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
//                TxnOffsetCommit, DescribeTransactions, ListTransactions
//   leaders.cc   ElectLeaders
//   group_admin.cc  DeleteGroups, OffsetDelete
//   log_dirs.cc  DescribeLogDirs
//   leader_epochs.cc  OffsetForLeaderEpoch
// Each handler is a plain function of the node's services and one request; it
// answers through `s.connections` now or later (after a commit, a deadline, a
// rebalance). Dispatch (dispatch.cc) is a std::visit over kafka::AnyRequest:
// a request type without a `Handle` overload does not compile, so adding an
// API to the codec's schema means adding one overload in one family file.
#ifndef CHRONIK_BROKER_SERVER_HANDLERS_HANDLERS_H_
#define CHRONIK_BROKER_SERVER_HANDLERS_HANDLERS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "broker/config/server_config.h"
#include "broker/env/env.h"
#include "broker/env/injected_bugs.h"
#include "broker/replication/raft_host.h"
#include "broker/server/connections.h"
#include "broker/server/group_service.h"
#include "broker/server/metadata_client.h"
#include "broker/server/partition_manager.h"
#include "broker/server/producer_ids.h"
#include "broker/server/security.h"

namespace chronik::broker {

inline constexpr char kClusterId[] = "chronik-cluster";
inline constexpr int64_t kMaxRequestTimeoutMs = 5 * 60 * 1000;
inline constexpr size_t kMaxParkedFetches = 10'000;
inline constexpr int64_t kMaxFetchWaitMs = 30'000;
inline constexpr size_t kMaxTopicLeaderWaits = 10'000;

// Actions due at a time (request timeouts), run in deadline order.
class Deadlines {
 public:
  void Add(int64_t at_ms, std::function<void()> expire) {
    deadlines_.emplace(at_ms, std::move(expire));
  }
  void Expire(int64_t now_ms);

 private:
  std::multimap<int64_t, std::function<void()>> deadlines_;
};

struct Services;

// CreateTopics answers once every partition of a new topic has a leader this
// broker's Metadata names (clients ask Metadata right after and fail on -1).
class TopicLeaderWaits {
 public:
  size_t size() const { return waits_.size(); }
  void Add(std::string topic, std::function<void()> ready) {
    waits_.push_back({std::move(topic), std::move(ready)});
  }
  // Runs (and drops) the waits whose topic now has every leader; drops those
  // whose topic is gone.
  void Check(Services& s);

 private:
  struct Wait {
    std::string topic;
    std::function<void()> ready;
  };
  std::vector<Wait> waits_;
};

// Fetches waiting for min_bytes or max_wait_ms (long poll).
class FetchWaiters {
 public:
  struct Parked {
    RequestContext context;
    kafka::FetchRequest request;
    int64_t deadline_ms = 0;
  };
  size_t size() const { return parked_.size(); }
  void Park(Parked parked) { parked_.push_back(std::move(parked)); }
  // Answers the parked fetches that now have enough data, whose connection
  // closed, or (with `expire`) whose wait is over.
  void Retry(Services& s, bool expire);

 private:
  std::vector<Parked> parked_;
};

// ElectLeaders requests waiting for preferred replicas to take over
// (handlers/leaders.cc): each answers once every partition it moves is led
// by its preferred replica, or at its deadline; meanwhile its wish is sent
// again every kForwardRetryMs.
class ElectionWaits {
 public:
  struct Wait;  // leaders.cc
  size_t size() const { return waits_.size(); }
  void Add(std::shared_ptr<Wait> wait) { waits_.push_back(std::move(wait)); }
  // Every step: answers the waits that are done, re-sends wishes.
  void Check(Services& s);

 private:
  std::vector<std::shared_ptr<Wait>> waits_;
};

// What a handler may use: the node's components.
struct Services {
  const config::ServerConfig& config;
  const env::BrokerBugs& bugs;  // TEST-ONLY (simulator); all false otherwise
  env::Clock& clock;
  replication::RaftHost& host;
  ConnectionTable& connections;
  MetadataClient& metadata;
  PartitionManager& partitions;
  GroupService& groups;
  ProducerIdAllocator& producer_ids;
  Deadlines& deadlines;
  FetchWaiters& fetches;
  TopicLeaderWaits& topic_waits;
  ElectionWaits& elections;
  // Whether the metadata view includes everything this node had stored when
  // it started (Broker: MetadataCaughtUp); an older view may lack topics.
  std::function<bool()> metadata_caught_up;
  // The node's data directory (DescribeLogDirs: its size and free space).
  env::Disk* disk = nullptr;
  // Authentication and authorization settings (security.h).
  Security* security = nullptr;

  int64_t NowMs() const { return clock.NowMs(); }
  const metadata::MetadataState& state() const { return metadata.state(); }
};

// Dispatches a decoded request to its handler.
void Dispatch(Services& s, const RequestContext& c, kafka::AnyRequest& request);

void Handle(Services& s, const RequestContext& c, kafka::ApiVersionsRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::MetadataRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeClusterRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::SaslHandshakeRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::SaslAuthenticateRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::ProduceRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::FetchRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::ListOffsetsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DeleteRecordsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::FindCoordinatorRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::JoinGroupRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::SyncGroupRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::HeartbeatRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::LeaveGroupRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeGroupsRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::ListGroupsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::OffsetCommitRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::OffsetFetchRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::CreateTopicsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DeleteTopicsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::CreatePartitionsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeConfigsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::AlterConfigsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::InitProducerIdRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::AddPartitionsToTxnRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::AddOffsetsToTxnRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::EndTxnRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::TxnOffsetCommitRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeTransactionsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::ListTransactionsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeProducersRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::AlterPartitionReassignmentsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::ListPartitionReassignmentsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::ElectLeadersRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DeleteGroupsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::OffsetDeleteRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::IncrementalAlterConfigsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeLogDirsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::OffsetForLeaderEpochRequest& r);

void Handle(Services& s, const RequestContext& c, kafka::CreateAclsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeAclsRequest& r);
void Handle(Services& s, const RequestContext& c, kafka::DeleteAclsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::DescribeUserScramCredentialsRequest& r);
void Handle(Services& s, const RequestContext& c,
            kafka::AlterUserScramCredentialsRequest& r);

// Authorization (authorizer.h): whether the request's principal may do
// `operation` on `resource`; whether it may do what kApiAccess names for its
// API on the cluster (true for APIs the table does not list).
bool Allowed(Services& s, const RequestContext& c, int8_t operation,
             const Resource& resource);
bool ClusterAllowed(Services& s, const RequestContext& c);
// kNone when the principal may do `operation` on the group, topic or
// transactional id, else Kafka's GROUP_, TOPIC_ or
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
int16_t GroupAccess(Services& s, const RequestContext& c, int8_t operation,
                    const std::string& group);
int16_t TopicAccess(Services& s, const RequestContext& c, int8_t operation,
                    const std::string& topic);
int16_t TxnAccess(Services& s, const RequestContext& c, int8_t operation,
                  const std::string& transactional_id);

// Shared by the handler files.
kafka::Uuid ToUuid(const std::string& bytes);
std::string FromUuid(const kafka::Uuid& uuid);
int64_t ClampTimeout(int64_t timeout_ms);
// PRODUCER_FENCED as the request's version knows it: older versions (before
// KIP-588) get INVALID_PRODUCER_EPOCH.
int16_t FencedCode(int16_t code, bool producer_fenced_known);

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_HANDLERS_HANDLERS_H_
