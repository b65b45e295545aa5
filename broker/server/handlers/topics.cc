// Topic administration: CreateTopics, DeleteTopics, CreatePartitions.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "broker/kafka/errors.h"
#include "broker/metadata/topic_config.h"
#include "broker/server/handlers/gathered.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {
namespace {

bool IsZero(const kafka::Uuid& uuid) {
  return std::all_of(uuid.begin(), uuid.end(),
                     [](uint8_t b) { return b == 0; });
}

// A manual assignment's replica lists in Raft ids, in partition order
// (`lists`), or the error (as Kafka words it) in `out`. Whether the brokers
// exist is the metadata state's to judge, at commit.
bool ManualAssignment(
    const std::vector<std::vector<int32_t>>& kafka_lists,
    google::protobuf::RepeatedPtrField<metapb::ReplicaList>* lists,
    int16_t* error_code, std::optional<std::string>* error_message) {
  for (const std::vector<int32_t>& kafka_ids : kafka_lists) {
    metapb::ReplicaList* list = lists->Add();
    for (int32_t id : kafka_ids) {
      if (id < 0) {
        *error_code = kafka::error::kInvalidReplicaAssignment;
        *error_message = absl::StrCat("broker id ", id, " is negative");
        return false;
      }
      list->add_replicas(config::RaftNodeId(static_cast<uint64_t>(id)));
    }
  }
  return true;
}

// CreateTopics' assignments: each partition 0..n-1 once, with num_partitions
// and replication_factor -1 (Kafka refuses both ways at once).
bool CreateAssignment(const kafka::CreateTopicsRequest::CreatableTopic& topic,
                      kafka::CreateTopicsResponse::CreatableTopicResult* out,
                      metapb::CreateTopic* create) {
  if (topic.num_partitions != -1 || topic.replication_factor != -1) {
    out->error_code = kafka::error::kInvalidRequest;
    out->error_message =
        "a replica assignment needs num_partitions and replication_factor -1";
    return false;
  }
  std::vector<std::vector<int32_t>> ordered(topic.assignments.size());
  std::vector<bool> seen(topic.assignments.size(), false);
  for (const auto& assignment : topic.assignments) {
    const int32_t p = assignment.partition_index;
    if (p < 0 || p >= static_cast<int32_t>(ordered.size()) || seen[p]) {
      out->error_code = kafka::error::kInvalidReplicaAssignment;
      out->error_message =
          absl::StrCat("partitions must be numbered 0..", ordered.size() - 1,
                       " once each; got ", p);
      return false;
    }
    seen[p] = true;
    ordered[p] = assignment.broker_ids;
  }
  if (!ManualAssignment(ordered, create->mutable_assignments(),
                        &out->error_code, &out->error_message)) {
    return false;
  }
  create->set_partitions(static_cast<int32_t>(ordered.size()));
  create->set_replication_factor(static_cast<int32_t>(ordered.front().size()));
  return true;
}

// Checks one topic of a CreateTopics request; on success fills the
// partitions and replication factor it will get into `out` and `create`
// (with a manual assignment, its replica lists too).
bool ValidateCreate(Services& s,
                    const kafka::CreateTopicsRequest::CreatableTopic& topic,
                    kafka::CreateTopicsResponse::CreatableTopicResult* out,
                    metapb::CreateTopic* create) {
  const int brokers = static_cast<int>(s.state().LiveBrokers().size());
  const int32_t partitions = topic.num_partitions == -1
                                 ? s.config.default_partitions
                                 : topic.num_partitions;
  const int16_t replication =
      topic.replication_factor == -1
          ? static_cast<int16_t>(
                std::min(s.config.replication_factor, std::max(brokers, 1)))
          : topic.replication_factor;
  const bool manual = !topic.assignments.empty();
  if (absl::Status valid = metadata::ValidateTopicName(topic.name);
      !valid.ok()) {
    out->error_code = kafka::error::kInvalidTopic;
    out->error_message = std::string(valid.message());
  } else if (!s.metadata.is_leader()) {
    out->error_code = kafka::error::kNotController;
  } else if (manual && !CreateAssignment(topic, out, create)) {
    return false;  // `out` says why
  } else if (s.state().FindTopic(topic.name) != nullptr) {
    out->error_code = kafka::error::kTopicAlreadyExists;
    out->error_message =
        absl::StrCat("topic '", topic.name, "' already exists");
  } else if (manual) {
    out->num_partitions = create->partitions();
    out->replication_factor =
        static_cast<int16_t>(create->replication_factor());
    return true;
  } else if (partitions < 1) {
    out->error_code = kafka::error::kInvalidPartitions;
    out->error_message = "number of partitions must be at least 1";
  } else if (replication < 1 || replication > brokers) {
    out->error_code = kafka::error::kInvalidReplicationFactor;
    out->error_message = absl::StrCat("replication factor ", replication,
                                      " with ", brokers, " brokers");
  } else {
    create->set_partitions(partitions);
    create->set_replication_factor(replication);
    out->num_partitions = partitions;
    out->replication_factor = replication;
    return true;
  }
  return false;
}

// The topic's configs (null values left out) into `create`, checked as the
// metadata state will check them (INVALID_CONFIG for an unknown name or a
// bad value, also with validate_only).
bool CreateConfigs(const kafka::CreateTopicsRequest::CreatableTopic& topic,
                   kafka::CreateTopicsResponse::CreatableTopicResult* out,
                   metapb::CreateTopic* create) {
  for (const auto& config : topic.configs) {
    if (!config.value.has_value()) continue;
    metapb::TopicConfigEntry* entry = create->add_configs();
    entry->set_name(config.name);
    entry->set_value(*config.value);
  }
  absl::Status valid = metadata::ValidateTopicConfigs(create->configs());
  if (valid.ok()) return true;
  out->error_code = kafka::error::kInvalidConfig;
  out->error_message = std::string(valid.message());
  out->num_partitions = -1;
  out->replication_factor = -1;
  return false;
}

// The command creating `topic` as ValidateCreate shaped it (`create`).
metapb::MetadataCommand CreateCommand(
    Services& s, const kafka::CreateTopicsRequest::CreatableTopic& topic,
    metapb::CreateTopic create, const std::string& topic_id) {
  metapb::MetadataCommand command;
  create.set_name(topic.name);
  create.set_topic_id(topic_id);
  create.set_created_at_ms(s.NowMs());
  *command.mutable_create_topic() = std::move(create);
  return command;
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::CreateTopicsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::CreateTopicsResponse>>();
  wait->context = c;
  for (const auto& topic : r.topics) {
    kafka::CreateTopicsResponse::CreatableTopicResult out;
    out.name = topic.name;
    wait->response.topics.push_back(std::move(out));
  }
  for (size_t i = 0; i < r.topics.size(); ++i) {
    auto* out = &wait->response.topics[i];
    metapb::CreateTopic create;
    if (!Allowed(s, c, acl::kCreate, {acl::kCluster, acl::kClusterName}) &&
        !Allowed(s, c, acl::kCreate, {acl::kTopic, r.topics[i].name})) {
      out->error_code = kafka::error::kTopicAuthorizationFailed;
      continue;
    }
    if (!ValidateCreate(s, r.topics[i], out, &create) ||
        !CreateConfigs(r.topics[i], out, &create) || r.validate_only) {
      continue;
    }
    const std::string topic_id = s.metadata.NewTopicId();
    ++wait->remaining;
    s.metadata.Propose(
        CreateCommand(s, r.topics[i], std::move(create), topic_id),
        [&s, wait, out, topic_id](const metadata::ApplyResult* result) {
          if (wait->finished) return;
          if (result == nullptr) {
            out->error_code = kafka::error::kNotController;
          } else if (result->error_code != 0) {
            out->error_code = result->error_code;
            out->error_message = result->error_message;
          } else if (s.topic_waits.size() < kMaxTopicLeaderWaits) {
            // Created: answer once its partitions have leaders (or at the
            // request's timeout, with REQUEST_TIMED_OUT).
            s.topic_waits.Add(out->name, [&s, wait, out, topic_id] {
              if (wait->finished) return;
              out->topic_id = ToUuid(topic_id);
              PartDone(s, wait);
            });
            return;
          } else {
            out->topic_id = ToUuid(topic_id);
          }
          PartDone(s, wait);
        });
  }
  if (wait->remaining == 0) {
    FinishGathered(s, wait);
    return;
  }
  s.deadlines.Add(s.NowMs() + ClampTimeout(r.timeout_ms), [&s, wait]() {
    for (auto& t : wait->response.topics) {
      if (t.error_code == 0 && IsZero(t.topic_id)) {
        t.error_code = kafka::error::kRequestTimedOut;
      }
    }
    FinishGathered(s, wait);
  });
}

void Handle(Services& s, const RequestContext& c,
            kafka::DeleteTopicsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::DeleteTopicsResponse>>();
  wait->context = c;
  std::vector<std::optional<std::string>> names;
  if (c.header.api_version >= 6) {
    for (const auto& topic : r.topics) {
      if (topic.name.has_value()) {
        names.push_back(topic.name);
      } else if (const metapb::TopicInfo* info =
                     s.state().FindTopicById(FromUuid(topic.topic_id))) {
        names.push_back(info->name());
      } else {
        names.push_back(std::nullopt);
      }
    }
  } else {
    for (const std::string& name : r.topic_names) names.push_back(name);
  }
  for (const auto& name : names) {
    kafka::DeleteTopicsResponse::DeletableTopicResult out;
    out.name = name;
    wait->response.responses.push_back(std::move(out));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto* out = &wait->response.responses[i];
    // Only the controller answers, and whether the topic exists is decided
    // where the deletion applies: this node's view may be behind the log (a
    // leader elected a moment ago has not applied it yet), and answering
    // UNKNOWN_TOPIC_OR_PARTITION from it tells a client that a topic which
    // still exists is gone.
    if (!s.metadata.is_leader()) {
      out->error_code = kafka::error::kNotController;
      continue;
    }
    if (!names[i].has_value()) {
      out->error_code = kafka::error::kUnknownTopicOrPartition;
      continue;
    }
    if (!Allowed(s, c, acl::kDelete, {acl::kTopic, *names[i]})) {
      out->error_code = kafka::error::kTopicAuthorizationFailed;
      continue;
    }
    if (const metapb::TopicInfo* info = s.state().FindTopic(*names[i])) {
      out->topic_id = ToUuid(info->topic_id());
    }
    metapb::MetadataCommand command;
    command.mutable_delete_topic()->set_name(*names[i]);
    ++wait->remaining;
    s.metadata.Propose(command,
                       [&s, wait, out](const metadata::ApplyResult* result) {
                         if (wait->finished) return;
                         if (result == nullptr) {
                           out->error_code = kafka::error::kNotController;
                         } else {
                           out->error_code = result->error_code;
                           if (result->error_code != 0)
                             out->error_message = result->error_message;
                         }
                         PartDone(s, wait);
                       });
  }
  if (wait->remaining == 0) FinishGathered(s, wait);
}

void Handle(Services& s, const RequestContext& c,
            kafka::CreatePartitionsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::CreatePartitionsResponse>>();
  wait->context = c;
  for (const auto& topic : r.topics) {
    wait->response.results.push_back(
        {topic.name, kafka::error::kNone, std::nullopt});
  }
  for (size_t i = 0; i < r.topics.size(); ++i) {
    auto* out = &wait->response.results[i];
    const auto& topic = r.topics[i];
    const metapb::TopicInfo* info = s.state().FindTopic(topic.name);
    out->error_code = TopicAccess(s, c, acl::kAlter, topic.name);
    if (out->error_code != kafka::error::kNone) continue;
    if (info == nullptr) {
      out->error_code = kafka::error::kUnknownTopicOrPartition;
      continue;
    }
    if (topic.count <= info->partitions_size()) {
      out->error_code = kafka::error::kInvalidPartitions;
      out->error_message = absl::StrCat("topic has ", info->partitions_size(),
                                        " partitions already");
      continue;
    }
    if (!s.metadata.is_leader()) {
      out->error_code = kafka::error::kNotController;
      continue;
    }
    metapb::MetadataCommand command;
    command.mutable_create_partitions()->set_name(topic.name);
    command.mutable_create_partitions()->set_total_count(topic.count);
    if (topic.assignments.has_value() && !topic.assignments->empty()) {
      std::vector<std::vector<int32_t>> lists;
      for (const auto& a : *topic.assignments) lists.push_back(a.broker_ids);
      if (!ManualAssignment(
              lists, command.mutable_create_partitions()->mutable_assignments(),
              &out->error_code, &out->error_message)) {
        continue;
      }
    }
    if (r.validate_only) continue;
    ProposePart(s, wait, out, command);
  }
  if (wait->remaining == 0) FinishGathered(s, wait);
}

void TopicLeaderWaits::Check(Services& s) {
  if (waits_.empty()) return;
  std::vector<Wait> still;
  std::vector<std::function<void()>> ready;
  for (Wait& wait : waits_) {
    const metapb::TopicInfo* topic = s.state().FindTopic(wait.topic);
    if (topic == nullptr) continue;  // deleted meanwhile: the deadline answers
    bool led = true;
    for (const metapb::PartitionInfo& partition : topic->partitions()) {
      led = led && s.partitions.PartitionLeader(partition) >= 0;
    }
    if (led) {
      ready.push_back(std::move(wait.ready));
    } else {
      still.push_back(std::move(wait));
    }
  }
  waits_.swap(still);
  for (std::function<void()>& done : ready) done();
}

}  // namespace chronik::broker
