// Configs: DescribeConfigs, AlterConfigs.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/metadata/topic_config.h"
#include "broker/server/handlers/gathered.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {
namespace {

constexpr int8_t kConfigSourceTopic = 1;
constexpr int8_t kConfigSourceBroker = 4;
constexpr int8_t kConfigSourceDefault = 5;
constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::DescribeConfigsRequest& r) {
  kafka::DescribeConfigsResponse response;
  bool had_error = false;
  for (const auto& resource : r.resources) {
    kafka::DescribeConfigsResponse::DescribeConfigsResult out;
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    out.error_message = std::nullopt;  // as Kafka: null unless an error
    std::vector<std::tuple<std::string, std::string, int8_t>> configs;
    if (resource.resource_type == kResourceTopic) {
      const metapb::TopicInfo* topic =
          s.state().FindTopic(resource.resource_name);
      if (topic == nullptr) {
        out.error_code = kafka::error::kUnknownTopicOrPartition;
        out.error_message =
            absl::StrCat("topic '", resource.resource_name, "' does not exist");
      } else {
        std::map<std::string, std::pair<std::string, int8_t>> merged;
        for (const auto& [name, value] : metadata::DefaultTopicConfigs()) {
          merged[name] = {value, kConfigSourceDefault};
        }
        merged["min.insync.replicas"] = {
            std::to_string(s.config.min_insync_replicas), kConfigSourceDefault};
        for (const auto& entry : topic->configs()) {
          merged[entry.name()] = {entry.value(), kConfigSourceTopic};
        }
        for (const auto& [name, value] : merged) {
          configs.emplace_back(name, value.first, value.second);
        }
      }
    } else if (resource.resource_type == kResourceBroker) {
      configs = {
          {"auto.create.topics.enable",
           s.config.auto_create_topics ? "true" : "false", kConfigSourceBroker},
          {"num.partitions", std::to_string(s.config.default_partitions),
           kConfigSourceBroker},
          {"default.replication.factor",
           std::to_string(s.config.replication_factor), kConfigSourceBroker},
          {"min.insync.replicas", std::to_string(s.config.min_insync_replicas),
           kConfigSourceBroker},
          {"message.max.bytes", "1048588", kConfigSourceDefault},
      };
    } else {
      out.error_code = kafka::error::kInvalidRequest;
      out.error_message = "unsupported resource type";
    }
    for (const auto& [name, value, source] : configs) {
      if (resource.configuration_keys.has_value() &&
          !resource.configuration_keys->empty() &&
          std::find(resource.configuration_keys->begin(),
                    resource.configuration_keys->end(),
                    name) == resource.configuration_keys->end()) {
        continue;
      }
      kafka::DescribeConfigsResponse::DescribeConfigsResourceResult entry;
      entry.name = name;
      entry.value = value;
      entry.is_default = source == kConfigSourceDefault;
      entry.config_source = source;
      out.configs.push_back(std::move(entry));
    }
    had_error |= out.error_code != 0;
    response.results.push_back(std::move(out));
  }
  s.connections.Finish(c, response, had_error);
}

void Handle(Services& s, const RequestContext& c,
            kafka::AlterConfigsRequest& r) {
  auto wait = std::make_shared<Gathered<kafka::AlterConfigsResponse>>();
  wait->context = c;
  for (const auto& resource : r.resources) {
    kafka::AlterConfigsResponse::AlterConfigsResourceResponse out;
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    out.error_message = std::nullopt;  // as Kafka: null unless an error
    wait->response.responses.push_back(std::move(out));
  }
  for (size_t i = 0; i < r.resources.size(); ++i) {
    const auto& resource = r.resources[i];
    auto* out = &wait->response.responses[i];
    if (resource.resource_type != kResourceTopic) {
      out->error_code = kafka::error::kInvalidRequest;
      out->error_message = "only topic configs can be altered";
      continue;
    }
    const metapb::TopicInfo* topic =
        s.state().FindTopic(resource.resource_name);
    if (topic == nullptr) {
      out->error_code = kafka::error::kUnknownTopicOrPartition;
      out->error_message =
          absl::StrCat("topic '", resource.resource_name, "' does not exist");
      continue;
    }
    if (r.validate_only) continue;
    // AlterConfigs replaces the whole set of a topic's overrides.
    metapb::MetadataCommand command;
    metapb::AlterTopicConfigs* alter = command.mutable_alter_topic_configs();
    alter->set_name(resource.resource_name);
    for (const auto& existing : topic->configs())
      alter->add_remove(existing.name());
    for (const auto& config : resource.configs) {
      if (!config.value.has_value()) continue;
      metapb::TopicConfigEntry* entry = alter->add_set();
      entry->set_name(config.name);
      entry->set_value(*config.value);
    }
    ProposePart(s, wait, out, command);
  }
  if (wait->remaining == 0) FinishGathered(s, wait);
}

}  // namespace chronik::broker
