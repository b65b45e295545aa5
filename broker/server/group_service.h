// GroupService: the consumer-group coordinator of this node. The metadata
// leader is the coordinator of every group (FindCoordinator names it); the
// coordinator (broker/group/) lives while this node leads the metadata group
// and is reset, answering its parked requests with NOT_COORDINATOR, when
// leadership moves. JoinGroup/SyncGroup requests the coordinator parks are
// answered here when it completes them. Deterministic; one thread.
#ifndef CHRONIK_BROKER_SERVER_GROUP_SERVICE_H_
#define CHRONIK_BROKER_SERVER_GROUP_SERVICE_H_

#include <cstdint>
#include <map>
#include <memory>

#include "broker/env/injected_bugs.h"
#include "broker/group/group_coordinator.h"
#include "broker/server/connections.h"

namespace chronik::broker {

// The Kafka responses for the coordinator's answers.
kafka::JoinGroupResponse ToResponse(const group::JoinResult& result);
kafka::SyncGroupResponse ToResponse(const group::SyncResult& result);

class GroupService {
 public:
  // `initial_rebalance_delay_ms`: group.initial.rebalance.delay.ms.
  GroupService(raft::NodeId self, ConnectionTable* connections,
               const env::BrokerBugs& bugs = {},
               int64_t initial_rebalance_delay_ms = 0);

  // nullptr unless this node coordinates groups now.
  group::GroupCoordinator* coordinator() { return coordinator_.get(); }
  void OnMetadataLeaderChange(raft::NodeId leader, raft::Term term);

  // Join/Sync: answers now or parks the request until the coordinator
  // completes it. Precondition: coordinator() != nullptr.
  void Join(const RequestContext& context, const group::JoinRequest& join,
            int64_t now_ms);
  void Sync(const RequestContext& context, const group::SyncRequest& sync,
            int64_t now_ms);
  void Tick(int64_t now_ms);
  // Answers the parked requests the coordinator completed.
  void AnswerCompletions();

 private:
  const raft::NodeId self_;
  ConnectionTable* const connections_;
  std::unique_ptr<group::GroupCoordinator> coordinator_;
  const env::BrokerBugs bugs_;  // TEST-ONLY
  const int64_t initial_rebalance_delay_ms_;
  raft::Term coordinator_term_ = 0;
  group::Ticket next_ticket_ = 1;
  std::map<group::Ticket, RequestContext> parked_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_GROUP_SERVICE_H_
