// Consumer-group membership: FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, DescribeGroups, ListGroups.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/kafka/errors.h"
#include "broker/metadata/broker_address.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

void Handle(Services& s, const RequestContext& c,
            kafka::FindCoordinatorRequest& r) {
  kafka::FindCoordinatorResponse response;
  const metapb::BrokerInfo* coordinator = s.metadata.LeaderBroker();
  // Its address on the listener the client came in on.
  std::optional<metadata::BrokerAddress> address;
  if (coordinator != nullptr) {
    address = metadata::AdvertisedAddress(*coordinator, c.listener);
  }
  auto fill = [&](int8_t key_type, const std::string& key, int16_t* error_code,
                  int32_t* node_id, std::string* host, int32_t* port,
                  std::optional<std::string>* message) {
    // Group (0) and transaction (1) coordinator: the metadata leader.
    if (key_type != 0 && key_type != 1) {
      *error_code = kafka::error::kInvalidRequest;
      *message = "key type must be 0 (group) or 1 (transaction)";
    } else if (int16_t denied = key_type == 0
                                    ? GroupAccess(s, c, acl::kDescribe, key)
                                    : TxnAccess(s, c, acl::kDescribe, key)) {
      *error_code = denied;  // DESCRIBE on the group or transactional id
      *node_id = -1;
      *port = -1;
    } else if (!address.has_value()) {
      // None, or one without the client's listener (as Kafka).
      *error_code = kafka::error::kCoordinatorNotAvailable;
      *node_id = -1;
      *port = -1;
      *message = std::nullopt;
    } else {
      *node_id = config::KafkaNodeId(coordinator->node_id());
      *host = address->host;
      *port = address->port;
      *message = std::nullopt;
    }
  };
  bool had_error = false;
  if (c.header.api_version >= 4) {
    for (const std::string& key : r.coordinator_keys) {
      kafka::FindCoordinatorResponse::Coordinator out;
      out.key = key;
      fill(r.key_type, key, &out.error_code, &out.node_id, &out.host, &out.port,
           &out.error_message);
      had_error |= out.error_code != 0;
      response.coordinators.push_back(std::move(out));
    }
  } else {
    fill(r.key_type, r.key, &response.error_code, &response.node_id,
         &response.host, &response.port, &response.error_message);
    had_error = response.error_code != 0;
  }
  s.connections.Finish(c, response, had_error);
}

void Handle(Services& s, const RequestContext& c, kafka::JoinGroupRequest& r) {
  const bool allowed = Allowed(s, c, acl::kRead, {acl::kGroup, r.group_id});
  if (!allowed || s.groups.coordinator() == nullptr) {
    kafka::JoinGroupResponse response;
    response.error_code = allowed ? kafka::error::kNotCoordinator
                                  : kafka::error::kGroupAuthorizationFailed;
    s.connections.Finish(c, response, true);
    return;
  }
  group::JoinRequest join;
  join.group_id = r.group_id;
  join.member_id = r.member_id;
  join.group_instance_id = r.group_instance_id;
  join.client_id = c.header.client_id.value_or("");
  join.client_host = c.client_host;
  join.protocol_type = r.protocol_type;
  for (const auto& protocol : r.protocols) {
    join.protocols.push_back({protocol.name, protocol.metadata});
  }
  join.session_timeout_ms = r.session_timeout_ms;
  join.rebalance_timeout_ms = r.rebalance_timeout_ms < 0
                                  ? r.session_timeout_ms
                                  : r.rebalance_timeout_ms;
  join.require_known_member_id = c.header.api_version >= 4;
  s.groups.Join(c, join, s.NowMs());
}

void Handle(Services& s, const RequestContext& c, kafka::SyncGroupRequest& r) {
  const bool allowed = Allowed(s, c, acl::kRead, {acl::kGroup, r.group_id});
  if (!allowed || s.groups.coordinator() == nullptr) {
    kafka::SyncGroupResponse response;
    response.error_code = allowed ? kafka::error::kNotCoordinator
                                  : kafka::error::kGroupAuthorizationFailed;
    s.connections.Finish(c, response, true);
    return;
  }
  group::SyncRequest sync;
  sync.group_id = r.group_id;
  sync.generation_id = r.generation_id;
  sync.member_id = r.member_id;
  sync.group_instance_id = r.group_instance_id;
  for (const auto& assignment : r.assignments) {
    sync.assignments[assignment.member_id] = assignment.assignment;
  }
  s.groups.Sync(c, sync, s.NowMs());
}

void Handle(Services& s, const RequestContext& c, kafka::HeartbeatRequest& r) {
  kafka::HeartbeatResponse response;
  response.error_code = GroupAccess(s, c, acl::kRead, r.group_id);
  if (response.error_code != kafka::error::kNone) {
    s.connections.Finish(c, response, true);
    return;
  }
  response.error_code = s.groups.coordinator() == nullptr
                            ? kafka::error::kNotCoordinator
                            : s.groups.coordinator()->Heartbeat(
                                  r.group_id, r.member_id, r.generation_id,
                                  s.NowMs(), r.group_instance_id);
  s.connections.Finish(c, response, response.error_code != 0);
}

void Handle(Services& s, const RequestContext& c, kafka::LeaveGroupRequest& r) {
  kafka::LeaveGroupResponse response;
  response.error_code = GroupAccess(s, c, acl::kRead, r.group_id);
  if (response.error_code != kafka::error::kNone ||
      s.groups.coordinator() == nullptr) {
    if (response.error_code == kafka::error::kNone) {
      response.error_code = kafka::error::kNotCoordinator;
    }
    s.connections.Finish(c, response, true);
    return;
  }
  std::vector<group::LeavingMember> members;
  if (c.header.api_version >= 3) {
    for (const auto& member : r.members) {
      members.push_back({member.member_id, member.group_instance_id});
    }
  } else {
    members.push_back({r.member_id, std::nullopt});
  }
  std::vector<int16_t> errors =
      s.groups.coordinator()->LeaveMembers(r.group_id, members, s.NowMs());
  if (c.header.api_version >= 3) {
    for (size_t i = 0; i < members.size(); ++i) {
      response.members.push_back(
          {members[i].member_id, members[i].group_instance_id, errors[i]});
    }
  } else {
    response.error_code = errors[0];
  }
  s.connections.Finish(c, response, response.error_code != 0);
}

void Handle(Services& s, const RequestContext& c,
            kafka::DescribeGroupsRequest& r) {
  kafka::DescribeGroupsResponse response;
  for (const std::string& group_id : r.groups) {
    kafka::DescribeGroupsResponse::DescribedGroup out;
    out.group_id = group_id;
    out.error_code = GroupAccess(s, c, acl::kDescribe, group_id);
    if (out.error_code != kafka::error::kNone) {
      // not described
    } else if (s.groups.coordinator() == nullptr) {
      out.error_code = kafka::error::kNotCoordinator;
    } else if (std::optional<group::GroupDescription> described =
                   s.groups.coordinator()->Describe(group_id)) {
      out.group_state = described->state;
      out.protocol_type = described->protocol_type;
      out.protocol_data = described->protocol_name;
      for (const group::MemberDescription& member : described->members) {
        out.members.push_back({member.member_id, member.group_instance_id,
                               member.client_id, member.client_host,
                               member.metadata, member.assignment});
      }
    } else {
      // A group with committed offsets and no members is Kafka's Empty.
      out.group_state = s.state().HasOffsets(group_id) ? "Empty" : "Dead";
    }
    response.groups.push_back(std::move(out));
  }
  s.connections.Finish(c, response);
}

void Handle(Services& s, const RequestContext& c, kafka::ListGroupsRequest& r) {
  kafka::ListGroupsResponse response;
  if (s.groups.coordinator() == nullptr) {
    response.error_code = kafka::error::kNotCoordinator;
    s.connections.Finish(c, response, true);
    return;
  }
  // The coordinator's groups, and those known only by their committed
  // offsets (Empty, as Kafka lists them), sorted by id.
  std::vector<group::GroupDescription> groups = s.groups.coordinator()->List();
  for (const std::string& id : s.state().OffsetGroups()) {
    group::GroupDescription stored;
    stored.group_id = id;
    stored.state = "Empty";
    groups.push_back(std::move(stored));
  }
  std::stable_sort(
      groups.begin(), groups.end(),
      [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
  groups.erase(std::unique(groups.begin(), groups.end(),
                           [](const auto& a, const auto& b) {
                             return a.group_id == b.group_id;
                           }),
               groups.end());
  // Kafka's rule: DESCRIBE on the cluster lists every group; otherwise only
  // the groups the principal may DESCRIBE.
  const bool every_group =
      Allowed(s, c, acl::kDescribe, {acl::kCluster, acl::kClusterName});
  for (const group::GroupDescription& group : groups) {
    if (!every_group && GroupAccess(s, c, acl::kDescribe, group.group_id) !=
                            kafka::error::kNone) {
      continue;
    }
    if (!r.states_filter.empty() &&
        std::find(r.states_filter.begin(), r.states_filter.end(),
                  group.state) == r.states_filter.end()) {
      continue;
    }
    response.groups.push_back(
        {group.group_id, group.protocol_type, group.state});
  }
  s.connections.Finish(c, response);
}

}  // namespace chronik::broker
