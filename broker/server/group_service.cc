#include "broker/server/group_service.h"

#include <utility>

#include "base/check.h"
#include "broker/kafka/errors.h"

namespace chronik::broker {

kafka::JoinGroupResponse ToResponse(const group::JoinResult& result) {
  kafka::JoinGroupResponse response;
  response.error_code = result.error_code;
  response.generation_id = result.generation_id;
  response.protocol_type = result.protocol_type;
  response.protocol_name = result.protocol_name;
  response.leader = result.leader;
  response.member_id = result.member_id;
  for (const group::JoinMember& member : result.members) {
    response.members.push_back(
        {member.member_id, member.group_instance_id, member.metadata});
  }
  return response;
}

kafka::SyncGroupResponse ToResponse(const group::SyncResult& result) {
  kafka::SyncGroupResponse response;
  response.error_code = result.error_code;
  response.protocol_type = result.protocol_type;
  response.protocol_name = result.protocol_name;
  response.assignment = result.assignment;
  return response;
}

GroupService::GroupService(raft::NodeId self, ConnectionTable* connections,
                           const env::BrokerBugs& bugs,
                           int64_t initial_rebalance_delay_ms)
    : self_(self),
      connections_(connections),
      bugs_(bugs),
      initial_rebalance_delay_ms_(initial_rebalance_delay_ms) {
  CHRONIK_CHECK(connections_ != nullptr);
}

void GroupService::OnMetadataLeaderChange(raft::NodeId leader,
                                          raft::Term term) {
  const bool leads = leader == self_;
  if (leads && (coordinator_ == nullptr || coordinator_term_ != term)) {
    if (coordinator_ != nullptr)
      coordinator_->Reset(kafka::error::kNotCoordinator);
    AnswerCompletions();
    coordinator_ = std::make_unique<group::GroupCoordinator>(
        term, bugs_, initial_rebalance_delay_ms_);
    coordinator_term_ = term;
  } else if (!leads && coordinator_ != nullptr) {
    coordinator_->Reset(kafka::error::kNotCoordinator);
    AnswerCompletions();  // parked joins/syncs get NOT_COORDINATOR
    coordinator_.reset();
  }
}

void GroupService::Join(const RequestContext& context,
                        const group::JoinRequest& join, int64_t now_ms) {
  CHRONIK_CHECK(coordinator_ != nullptr);
  const group::Ticket ticket = next_ticket_++;
  std::optional<group::JoinResult> result =
      coordinator_->Join(ticket, join, now_ms);
  if (!result.has_value()) {
    parked_[ticket] = context;
    return;
  }
  connections_->Finish(context, ToResponse(*result), result->error_code != 0);
}

void GroupService::Sync(const RequestContext& context,
                        const group::SyncRequest& sync, int64_t now_ms) {
  CHRONIK_CHECK(coordinator_ != nullptr);
  const group::Ticket ticket = next_ticket_++;
  std::optional<group::SyncResult> result =
      coordinator_->Sync(ticket, sync, now_ms);
  if (!result.has_value()) {
    parked_[ticket] = context;
    return;
  }
  connections_->Finish(context, ToResponse(*result), result->error_code != 0);
}

void GroupService::Tick(int64_t now_ms) {
  if (coordinator_ != nullptr) coordinator_->Tick(now_ms);
}

void GroupService::AnswerCompletions() {
  if (coordinator_ == nullptr) return;
  for (group::Completion& done : coordinator_->TakeCompletions()) {
    auto it = parked_.find(done.ticket);
    if (it == parked_.end()) continue;
    const RequestContext context = it->second;
    parked_.erase(it);
    if (done.join.has_value()) {
      connections_->Finish(context, ToResponse(*done.join),
                           done.join->error_code != 0);
    } else if (done.sync.has_value()) {
      connections_->Finish(context, ToResponse(*done.sync),
                           done.sync->error_code != 0);
    }
  }
}

}  // namespace chronik::broker
