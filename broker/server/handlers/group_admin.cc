// Consumer-group administration: DeleteGroups, OffsetDelete.
//
// A group is known to the coordinator (its members, volatile) and, once it
// committed offsets, to the metadata state (the offsets, replicated); Kafka
// lists such an offsets-only group as Empty. Both APIs are answered by the
// coordinator (the metadata leader; NOT_COORDINATOR elsewhere), which judges
// the group's membership, then removes offsets with one DeleteGroupOffsets
// metadata command and answers once it is applied.
//
// DeleteGroups, per group: NON_EMPTY_GROUP while it has members;
// GROUP_ID_NOT_FOUND when neither the coordinator nor the metadata knows it
// (decided where the deletion applies, so a group whose offsets are still
// being applied is not called unknown); NONE once its offsets are gone.
//
// OffsetDelete: INVALID_GROUP_ID for an empty id, GROUP_ID_NOT_FOUND for an
// unknown group, NON_EMPTY_GROUP for a group with members whose protocol is
// not "consumer"; per partition UNKNOWN_TOPIC_OR_PARTITION, and
// GROUP_SUBSCRIBED_TO_TOPIC where a member of the group subscribes to the
// topic (when some member's subscription cannot be read, none is refused, as
// in Kafka).
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/group/consumer_subscription.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/gathered.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {
namespace {

// The topics the members of a non-empty consumer group subscribe to, or
// nullopt when one of their subscriptions cannot be read.
std::optional<std::set<std::string>> Subscribed(
    const group::GroupDescription& group) {
  std::set<std::string> topics;
  for (const group::MemberDescription& member : group.members) {
    absl::StatusOr<std::vector<std::string>> subscribed =
        group::SubscribedTopics(member.metadata);
    if (!subscribed.ok()) return std::nullopt;
    topics.insert(subscribed->begin(), subscribed->end());
  }
  return topics;
}

// OffsetDelete's group-level judgement: NONE, or the error for the whole
// request. `subscribed` gets the topics whose offsets stay.
int16_t JudgeOffsetDelete(Services& s, const std::string& group_id,
                          std::set<std::string>* subscribed) {
  if (group_id.empty()) return kafka::error::kInvalidGroupId;
  group::GroupCoordinator* coordinator = s.groups.coordinator();
  if (coordinator == nullptr) return kafka::error::kNotCoordinator;
  std::optional<group::GroupDescription> group =
      coordinator->Describe(group_id);
  if (!group.has_value() || group->state == "Empty") {
    return group.has_value() || s.state().HasOffsets(group_id)
               ? kafka::error::kNone
               : kafka::error::kGroupIdNotFound;
  }
  if (group->protocol_type != group::kConsumerProtocolType) {
    return kafka::error::kNonEmptyGroup;
  }
  *subscribed = Subscribed(*group).value_or(std::set<std::string>{});
  return kafka::error::kNone;
}

// The answer per requested partition; the partitions to delete go into
// `command`. Topics the principal may not READ: TOPIC_AUTHORIZATION_FAILED
// for each of their partitions (as Kafka, before any other check).
kafka::OffsetDeleteResponse JudgePartitions(
    Services& s, const RequestContext& c, const kafka::OffsetDeleteRequest& r,
    const std::set<std::string>& subscribed, metapb::DeleteGroupOffsets* out) {
  kafka::OffsetDeleteResponse response;
  for (const auto& topic : r.topics) {
    kafka::OffsetDeleteResponse::OffsetDeleteResponseTopic out_topic;
    out_topic.name = topic.name;
    const metapb::TopicInfo* info = s.state().FindTopic(topic.name);
    const bool readable = Allowed(s, c, acl::kRead, {acl::kTopic, topic.name});
    for (const auto& partition : topic.partitions) {
      int16_t code = kafka::error::kNone;
      if (!readable) {
        code = kafka::error::kTopicAuthorizationFailed;
      } else if (info == nullptr || partition.partition_index < 0 ||
                 partition.partition_index >= info->partitions_size()) {
        code = kafka::error::kUnknownTopicOrPartition;
      } else if (subscribed.count(topic.name) > 0) {
        code = kafka::error::kGroupSubscribedToTopic;
      } else {
        metapb::DeleteGroupOffsets::Partition* gone = out->add_partitions();
        gone->set_topic(topic.name);
        gone->set_partition(partition.partition_index);
      }
      out_topic.partitions.push_back({partition.partition_index, code});
    }
    response.topics.push_back(std::move(out_topic));
  }
  return response;
}

bool AnyPartitionError(const kafka::OffsetDeleteResponse& r) {
  for (const auto& topic : r.topics) {
    if (AnyError(topic.partitions)) return true;
  }
  return r.error_code != kafka::error::kNone;
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::DeleteGroupsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::DeleteGroupsResponse>>();
  wait->context = c;
  for (const std::string& group : r.groups_names) {
    wait->response.results.push_back({group, kafka::error::kNone});
  }
  for (auto& out : wait->response.results) {
    group::GroupCoordinator* coordinator = s.groups.coordinator();
    out.error_code = GroupAccess(s, c, acl::kDelete, out.group_id);
    if (out.error_code != kafka::error::kNone) continue;
    if (coordinator == nullptr) {
      out.error_code = kafka::error::kNotCoordinator;
      continue;
    }
    const int16_t membership = coordinator->Delete(out.group_id);
    if (membership == kafka::error::kNonEmptyGroup) {
      out.error_code = membership;
      continue;
    }
    // The stored offsets go too; whether a group the coordinator did not
    // know exists is decided where that applies.
    metapb::MetadataCommand command;
    command.mutable_delete_group_offsets()->set_group(out.group_id);
    command.mutable_delete_group_offsets()->set_all(true);
    const bool was_member_group = membership == kafka::error::kNone;
    ++wait->remaining;
    s.metadata.Propose(command, [&s, wait, out = &out, was_member_group](
                                    const metadata::ApplyResult* result) {
      if (wait->finished) return;
      if (result == nullptr) {
        out->error_code = kafka::error::kNotCoordinator;
      } else if (result->error_code == kafka::error::kGroupIdNotFound &&
                 was_member_group) {
        out->error_code = kafka::error::kNone;  // it had no offsets
      } else {
        out->error_code = result->error_code;
      }
      PartDone(s, wait);
    });
  }
  if (wait->remaining == 0) FinishGathered(s, wait);
}

void Handle(Services& s, const RequestContext& c,
            kafka::OffsetDeleteRequest& r) {
  std::set<std::string> subscribed;
  int16_t group_error = GroupAccess(s, c, acl::kDelete, r.group_id);
  if (group_error == kafka::error::kNone) {
    group_error = JudgeOffsetDelete(s, r.group_id, &subscribed);
  }
  if (group_error != kafka::error::kNone) {
    kafka::OffsetDeleteResponse response;
    response.error_code = group_error;
    s.connections.Finish(c, response, true);
    return;
  }
  metapb::MetadataCommand command;
  metapb::DeleteGroupOffsets* deletion = command.mutable_delete_group_offsets();
  deletion->set_group(r.group_id);
  auto response = std::make_shared<kafka::OffsetDeleteResponse>(
      JudgePartitions(s, c, r, subscribed, deletion));
  if (deletion->partitions().empty() || !s.state().HasOffsets(r.group_id)) {
    // Nothing stored to remove: deleting absent offsets is a no-op.
    s.connections.Finish(c, *response, AnyPartitionError(*response));
    return;
  }
  s.metadata.Propose(
      command, [&s, c, response](const metadata::ApplyResult* result) {
        // GROUP_ID_NOT_FOUND: its offsets went meanwhile, as asked.
        if (result == nullptr) {
          *response = kafka::OffsetDeleteResponse{};
          response->error_code = kafka::error::kNotCoordinator;
        } else if (result->error_code != kafka::error::kNone &&
                   result->error_code != kafka::error::kGroupIdNotFound) {
          *response = kafka::OffsetDeleteResponse{};
          response->error_code = result->error_code;
        }
        s.connections.Finish(c, *response, AnyPartitionError(*response));
      });
}

}  // namespace chronik::broker
