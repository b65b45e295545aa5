// Committed consumer offsets (replicated in the metadata group): OffsetCommit,
// OffsetFetch.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

void Handle(Services& s, const RequestContext& c,
            kafka::OffsetCommitRequest& r) {
  auto response = std::make_shared<kafka::OffsetCommitResponse>();
  int16_t common_error = kafka::error::kNone;
  if (!Allowed(s, c, acl::kRead, {acl::kGroup, r.group_id})) {
    common_error = kafka::error::kGroupAuthorizationFailed;
  } else if (s.groups.coordinator() == nullptr) {
    common_error = kafka::error::kNotCoordinator;
  } else {
    common_error = s.groups.coordinator()->ValidateCommit(
        r.group_id, r.member_id, r.generation_id, r.group_instance_id);
  }
  metapb::MetadataCommand command;
  metapb::CommitOffsets* commit = command.mutable_commit_offsets();
  commit->set_group(r.group_id);
  const int64_t now = s.NowMs();
  bool any_error = common_error != kafka::error::kNone;
  for (const auto& topic : r.topics) {
    kafka::OffsetCommitResponse::OffsetCommitResponseTopic out;
    out.name = topic.name;
    const metapb::TopicInfo* info = s.state().FindTopic(topic.name);
    const int16_t topic_error = common_error != kafka::error::kNone
                                    ? common_error
                                    : TopicAccess(s, c, acl::kRead, topic.name);
    for (const auto& partition : topic.partitions) {
      int16_t code = topic_error;
      // As Kafka: offsets of partitions that do not exist are not kept.
      if (code == kafka::error::kNone &&
          (info == nullptr || partition.partition_index < 0 ||
           partition.partition_index >= info->partitions_size())) {
        code = kafka::error::kUnknownTopicOrPartition;
      }
      out.partitions.push_back({partition.partition_index, code});
      any_error |= code != kafka::error::kNone;
      if (code != kafka::error::kNone) continue;
      metapb::OffsetCommitEntry* entry = commit->add_offsets();
      entry->set_topic(topic.name);
      entry->set_partition(partition.partition_index);
      entry->set_offset(partition.committed_offset);
      entry->set_leader_epoch(partition.committed_leader_epoch);
      entry->set_metadata(partition.committed_metadata.value_or(""));
      entry->set_commit_time_ms(now);
    }
    response->topics.push_back(std::move(out));
  }
  if (commit->offsets_size() == 0) {
    s.connections.Finish(c, *response, any_error);
    return;
  }
  s.metadata.Propose(
      command, [&s, c, response](const metadata::ApplyResult* result) {
        const int16_t code = result == nullptr ? kafka::error::kNotCoordinator
                                               : result->error_code;
        bool had_error = false;
        for (auto& topic : response->topics) {
          for (auto& partition : topic.partitions) {
            // Only the partitions proposed (the others keep their error).
            if (partition.error_code == kafka::error::kNone) {
              partition.error_code = code;
            }
            had_error |= partition.error_code != kafka::error::kNone;
          }
        }
        s.connections.Finish(c, *response, had_error);
      });
}

namespace {

using Wanted =
    std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>>;
using Found = std::vector<std::pair<
    std::string, std::vector<std::pair<int32_t, metadata::CommittedOffset>>>>;

// The committed offsets of `group` for the requested topics (all when null).
Found Collect(const metadata::MetadataState& state, const std::string& group,
              const Wanted& wanted) {
  Found out;
  if (wanted.has_value()) {
    for (const auto& [topic, partitions] : *wanted) {
      std::vector<std::pair<int32_t, metadata::CommittedOffset>> found;
      for (int32_t p : partitions) {
        found.emplace_back(p, state.FindOffset(group, topic, p)
                                  .value_or(metadata::CommittedOffset{}));
      }
      out.emplace_back(topic, std::move(found));
    }
    return out;
  }
  for (const metapb::TopicInfo* topic : state.Topics()) {
    std::vector<std::pair<int32_t, metadata::CommittedOffset>> found;
    for (const auto& partition : topic->partitions()) {
      std::optional<metadata::CommittedOffset> offset =
          state.FindOffset(group, topic->name(), partition.partition());
      if (offset.has_value())
        found.emplace_back(partition.partition(), *offset);
    }
    if (!found.empty()) out.emplace_back(topic->name(), std::move(found));
  }
  return out;
}

template <typename Topics>
Wanted WantedOf(const std::optional<Topics>& topics) {
  Wanted wanted;
  if (topics.has_value()) {
    wanted.emplace();
    for (const auto& t : *topics) {
      wanted->emplace_back(t.name, t.partition_indexes);
    }
  }
  return wanted;
}

// One partition's answer. require_stable (v7+, KIP-447): an offset a
// transaction staged and has not ended yet makes the committed one
// unstable: UNSTABLE_OFFSET_COMMIT, and the client asks again.
// A topic the principal may not DESCRIBE: TOPIC_AUTHORIZATION_FAILED.
template <typename PartitionAnswer>
PartitionAnswer AnswerPartition(const metadata::MetadataState& state,
                                bool require_stable, bool described,
                                absl::string_view group,
                                absl::string_view topic, int32_t partition,
                                const metadata::CommittedOffset& offset) {
  if (!described) {
    return {partition, -1, -1, "", kafka::error::kTopicAuthorizationFailed};
  }
  if (require_stable &&
      state.transactions().HasStagedOffset(group, topic, partition)) {
    return {partition, -1, -1, "", kafka::error::kUnstableOffsetCommit};
  }
  return {partition, offset.offset, offset.leader_epoch, offset.metadata,
          kafka::error::kNone};
}

// Version 8+: several groups per request.
void FetchGroups(Services& s, const RequestContext& c,
                 const kafka::OffsetFetchRequest& r, int16_t common,
                 kafka::OffsetFetchResponse* response) {
  for (const auto& group : r.groups) {
    kafka::OffsetFetchResponse::OffsetFetchResponseGroup out_group;
    out_group.group_id = group.group_id;
    out_group.error_code = common;
    if (common == kafka::error::kNone) {
      out_group.error_code = GroupAccess(s, c, acl::kDescribe, group.group_id);
    }
    if (out_group.error_code == kafka::error::kNone) {
      for (auto& [topic, partitions] :
           Collect(s.state(), group.group_id, WantedOf(group.topics))) {
        // Asked for all topics: the ones it may not DESCRIBE are left out.
        const bool described =
            TopicAccess(s, c, acl::kDescribe, topic) == kafka::error::kNone;
        if (!described && !group.topics.has_value()) continue;
        kafka::OffsetFetchResponse::OffsetFetchResponseTopics out_topic;
        out_topic.name = topic;
        for (auto& [p, offset] : partitions) {
          out_topic.partitions.push_back(
              AnswerPartition<
                  kafka::OffsetFetchResponse::OffsetFetchResponsePartitions>(
                  s.state(), r.require_stable, described, group.group_id, topic,
                  p, offset));
        }
        out_group.topics.push_back(std::move(out_topic));
      }
    }
    response->groups.push_back(std::move(out_group));
  }
}

// Versions before 8: one group.
void FetchGroup(Services& s, const RequestContext& c,
                const kafka::OffsetFetchRequest& r, int16_t common,
                kafka::OffsetFetchResponse* response) {
  response->error_code = common;
  if (common == kafka::error::kNone) {
    for (auto& [topic, partitions] :
         Collect(s.state(), r.group_id, WantedOf(r.topics))) {
      const bool described =
          TopicAccess(s, c, acl::kDescribe, topic) == kafka::error::kNone;
      if (!described && !r.topics.has_value()) continue;
      kafka::OffsetFetchResponse::OffsetFetchResponseTopic out_topic;
      out_topic.name = topic;
      for (auto& [p, offset] : partitions) {
        out_topic.partitions.push_back(
            AnswerPartition<
                kafka::OffsetFetchResponse::OffsetFetchResponsePartition>(
                s.state(), r.require_stable, described, r.group_id, topic, p,
                offset));
      }
      response->topics.push_back(std::move(out_topic));
    }
  } else if (r.topics.has_value()) {
    // Versions before 2 have no top-level error: report per partition.
    for (const auto& t : *r.topics) {
      kafka::OffsetFetchResponse::OffsetFetchResponseTopic out_topic;
      out_topic.name = t.name;
      for (int32_t p : t.partition_indexes) {
        out_topic.partitions.push_back({p, -1, -1, "", common});
      }
      response->topics.push_back(std::move(out_topic));
    }
  }
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::OffsetFetchRequest& r) {
  kafka::OffsetFetchResponse response;
  const int16_t common = s.groups.coordinator() == nullptr
                             ? kafka::error::kNotCoordinator
                             : kafka::error::kNone;
  // DESCRIBE on each group (Kafka also leaves out the topics the principal
  // may not describe: not done here yet).
  if (c.header.api_version >= 8) {
    FetchGroups(s, c, r, common, &response);
  } else {
    const int16_t denied = GroupAccess(s, c, acl::kDescribe, r.group_id);
    FetchGroup(s, c, r, denied != kafka::error::kNone ? denied : common,
               &response);
  }
  s.connections.Finish(
      c, response, common != kafka::error::kNone || response.error_code != 0);
}

}  // namespace chronik::broker
