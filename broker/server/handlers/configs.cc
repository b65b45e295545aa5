// Configs: DescribeConfigs, AlterConfigs, IncrementalAlterConfigs.
//
// Topic configs are the overrides the metadata state stores
// (metadata/topic_config.h); every other config has its broker's value. One
// check judges a topic's new overrides, whichever API computed them
// (metadata::ValidateTopicConfigs: INVALID_CONFIG), before proposing and
// with validate_only, and the metadata state machine runs it again before
// storing them.
//
// Broker configs are chronik's static settings (flags, cluster file): all
// read-only, as Kafka's non-dynamic broker configs. Altering one answers
// Kafka's error for those, INVALID_REQUEST "cannot be updated dynamically";
// a name chronik does not know answers INVALID_CONFIG.
//
// DescribeConfigs with include_synonyms lists, per config, the sources in
// Kafka's order of precedence: the topic's override (TOPIC_CONFIG), the
// broker's setting (STATIC_BROKER_CONFIG) and the default (DEFAULT_CONFIG),
// under the broker config's name for the last two (e.g. retention.ms ->
// log.retention.ms); the config's own value and source are the first.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/metadata/topic_config.h"
#include "broker/server/handlers/gathered.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {
namespace {

// Kafka's ConfigSource.
constexpr int8_t kSourceTopic = 1;         // TOPIC_CONFIG
constexpr int8_t kSourceStaticBroker = 4;  // STATIC_BROKER_CONFIG
constexpr int8_t kSourceDefault = 5;       // DEFAULT_CONFIG
// Kafka's ConfigResource.Type.
constexpr int8_t kResourceTopic = 2;
constexpr int8_t kResourceBroker = 4;
// Kafka's AlterConfigOp.OpType.
constexpr int8_t kOpSet = 0;
constexpr int8_t kOpDelete = 1;
constexpr int8_t kOpAppend = 2;
constexpr int8_t kOpSubtract = 3;
// Kafka's ConfigEntry.ConfigType.
constexpr int8_t kTypeBoolean = 1;
constexpr int8_t kTypeString = 2;
constexpr int8_t kTypeInt = 3;
constexpr int8_t kTypeLong = 5;
constexpr int8_t kTypeDouble = 6;
constexpr int8_t kTypeList = 7;

struct Synonym {
  std::string name;
  std::string value;
  int8_t source = 0;
};

// One config as DescribeConfigs shows it; the first synonym is in effect.
struct ConfigView {
  std::string name;
  std::vector<Synonym> synonyms;
  bool read_only = false;
  int8_t type = 0;
  std::string doc;
};

// A static broker setting: STATIC_BROKER_CONFIG unless it is the default.
void AddBrokerSource(std::vector<Synonym>* out, const std::string& name,
                     const std::string& value,
                     const std::string& default_value) {
  if (value != default_value)
    out->push_back({name, value, kSourceStaticBroker});
  out->push_back({name, default_value, kSourceDefault});
}

// The broker configs chronik has (static: read-only), sorted by name.
std::vector<ConfigView> BrokerConfigs(const config::ServerConfig& config) {
  struct Row {
    const char* name;
    std::string value;
    const char* default_value;
    int8_t type;
  };
  const Row rows[] = {
      {"auto.create.topics.enable",
       config.auto_create_topics ? "true" : "false", "true", kTypeBoolean},
      {"default.replication.factor", std::to_string(config.replication_factor),
       "1", kTypeInt},
      {"message.max.bytes", "1048588", "1048588", kTypeInt},
      {"min.insync.replicas", std::to_string(config.min_insync_replicas), "1",
       kTypeInt},
      {"num.partitions", std::to_string(config.default_partitions), "1",
       kTypeInt},
  };
  std::vector<ConfigView> configs;
  for (const Row& row : rows) {
    ConfigView view{row.name, {}, /*read_only=*/true, row.type, ""};
    AddBrokerSource(&view.synonyms, row.name, row.value, row.default_value);
    configs.push_back(std::move(view));
  }
  return configs;
}

int8_t ConfigType(const metadata::TopicConfigSpec& spec) {
  if (spec.list) return kTypeList;
  switch (spec.type) {
    case metadata::TopicConfigType::kBoolean:
      return kTypeBoolean;
    case metadata::TopicConfigType::kInt:
      return kTypeInt;
    case metadata::TopicConfigType::kLong:
      return kTypeLong;
    case metadata::TopicConfigType::kDouble:
      return kTypeDouble;
    case metadata::TopicConfigType::kString:
      return kTypeString;
  }
  return kTypeString;
}

// Every topic config of `topic`: its override, then the broker's setting
// of the config's broker synonym, then the default.
std::vector<ConfigView> TopicConfigs(const config::ServerConfig& config,
                                     const metapb::TopicInfo& topic) {
  const std::vector<ConfigView> broker = BrokerConfigs(config);
  std::vector<ConfigView> configs;
  for (const metadata::TopicConfigSpec& spec : metadata::TopicConfigSpecs()) {
    ConfigView view{spec.name, {}, false, ConfigType(spec), spec.doc};
    for (const metapb::TopicConfigEntry& entry : topic.configs()) {
      if (entry.name() == spec.name) {
        view.synonyms.push_back({spec.name, entry.value(), kSourceTopic});
      }
    }
    auto setting = std::find_if(
        broker.begin(), broker.end(),
        [&](const ConfigView& b) { return b.name == spec.broker_name; });
    if (setting != broker.end()) {
      view.synonyms.insert(view.synonyms.end(), setting->synonyms.begin(),
                           setting->synonyms.end());
    } else {
      view.synonyms.push_back(
          {spec.broker_name, spec.default_value, kSourceDefault});
    }
    configs.push_back(std::move(view));
  }
  return configs;
}

bool Wanted(const kafka::DescribeConfigsRequest::DescribeConfigsResource& r,
            const std::string& name) {
  return !r.configuration_keys.has_value() || r.configuration_keys->empty() ||
         std::find(r.configuration_keys->begin(), r.configuration_keys->end(),
                   name) != r.configuration_keys->end();
}

kafka::DescribeConfigsResponse::DescribeConfigsResourceResult Describe(
    const ConfigView& view, const kafka::DescribeConfigsRequest& r) {
  CHRONIK_CHECK(!view.synonyms.empty());
  kafka::DescribeConfigsResponse::DescribeConfigsResourceResult entry;
  entry.name = view.name;
  entry.value = view.synonyms.front().value;
  entry.read_only = view.read_only;
  entry.config_source = view.synonyms.front().source;
  entry.is_default = entry.config_source == kSourceDefault;
  entry.config_type = view.type;
  entry.documentation = std::nullopt;
  if (r.include_documentation && !view.doc.empty())
    entry.documentation = view.doc;
  if (r.include_synonyms) {
    for (const Synonym& synonym : view.synonyms) {
      entry.synonyms.push_back({synonym.name, synonym.value, synonym.source});
    }
  }
  return entry;
}

// The broker resource's name: "" (the cluster default) or this broker's
// id, as Kafka's brokers require; OK or INVALID_REQUEST.
int16_t CheckBrokerName(Services& s, const std::string& name,
                        std::optional<std::string>* message) {
  int64_t id = 0;
  if (name.empty() || (absl::SimpleAtoi(name, &id) &&
                       id == static_cast<int64_t>(s.config.node_id))) {
    return kafka::error::kNone;
  }
  *message = absl::StrCat("Unexpected broker id, expected ", s.config.node_id,
                          " or empty string, but received ", name);
  return kafka::error::kInvalidRequest;
}

// Altering broker configs: every one chronik knows is static (read-only),
// any other is unknown. Returns the error for the resource (never NONE
// unless `names` is empty).
int16_t AlterBroker(Services& s, const std::string& resource_name,
                    const std::vector<std::string>& names,
                    std::optional<std::string>* message) {
  if (int16_t code = CheckBrokerName(s, resource_name, message); code != 0) {
    return code;
  }
  if (names.empty()) return kafka::error::kNone;
  std::vector<std::string> known;
  for (const ConfigView& view : BrokerConfigs(s.config))
    known.push_back(view.name);
  for (const metadata::TopicConfigSpec& spec : metadata::TopicConfigSpecs()) {
    known.push_back(spec.broker_name);
  }
  for (const std::string& name : names) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      *message = absl::StrCat("Unknown broker config name: ", name);
      return kafka::error::kInvalidConfig;
    }
  }
  *message = absl::StrCat(
      "Cannot update these configs dynamically (chronik's broker configs are "
      "static): ",
      absl::StrJoin(names, ", "));
  return kafka::error::kInvalidRequest;
}

// Judges `configs` as the complete new overrides of topic `name` and, unless
// `validate_only`, proposes them (one part of `wait`). Errors go to `out`.
template <typename Response, typename Out>
void AlterTopic(Services& s, const std::shared_ptr<Gathered<Response>>& wait,
                Out* out, const std::string& name,
                const std::map<std::string, std::string>& configs,
                bool validate_only) {
  const metapb::TopicInfo* topic = s.state().FindTopic(name);
  if (topic == nullptr) {
    out->error_code = kafka::error::kUnknownTopicOrPartition;
    out->error_message = absl::StrCat("topic '", name, "' does not exist");
    return;
  }
  metapb::MetadataCommand command;
  metapb::AlterTopicConfigs* alter = command.mutable_alter_topic_configs();
  alter->set_name(name);
  for (const auto& [config, value] : configs) {
    metapb::TopicConfigEntry* entry = alter->add_set();
    entry->set_name(config);
    entry->set_value(value);
  }
  if (absl::Status valid = metadata::ValidateTopicConfigs(alter->set());
      !valid.ok()) {
    out->error_code = kafka::error::kInvalidConfig;
    out->error_message = std::string(valid.message());
    return;
  }
  if (validate_only) return;
  for (const metapb::TopicConfigEntry& existing : topic->configs()) {
    if (configs.count(existing.name()) == 0) alter->add_remove(existing.name());
  }
  ProposePart(s, wait, out, command);
}

// The topic's overrides after IncrementalAlterConfigs' operations, or the
// error (INVALID_REQUEST for a bad operation, INVALID_CONFIG for a config
// that cannot take it) in `out`.
template <typename Configs, typename Out>
std::optional<std::map<std::string, std::string>> ApplyOperations(
    const metapb::TopicInfo& topic, const Configs& operations, Out* out) {
  std::map<std::string, std::string> configs;
  for (const auto& entry : topic.configs())
    configs[entry.name()] = entry.value();
  auto fail = [&](int16_t code, std::string message) {
    out->error_code = code;
    out->error_message = std::move(message);
    return std::nullopt;
  };
  std::vector<std::string> seen;
  for (const auto& op : operations) {
    if (std::find(seen.begin(), seen.end(), op.name) != seen.end()) {
      return fail(
          kafka::error::kInvalidRequest,
          absl::StrCat("Error due to duplicate config keys: ", op.name));
    }
    seen.push_back(op.name);
    const metadata::TopicConfigSpec* spec = metadata::FindTopicConfig(op.name);
    if (op.config_operation < kOpSet || op.config_operation > kOpSubtract) {
      return fail(kafka::error::kInvalidRequest,
                  absl::StrCat("Unknown operation type ", op.config_operation));
    }
    if (spec == nullptr) {
      return fail(kafka::error::kInvalidConfig,
                  absl::StrCat("Unknown topic config name: ", op.name));
    }
    if (op.config_operation == kOpDelete) {
      configs.erase(op.name);
      continue;
    }
    if (!op.value.has_value()) {
      return fail(kafka::error::kInvalidRequest,
                  absl::StrCat("Null value not supported for : ", op.name));
    }
    if (op.config_operation == kOpSet) {
      configs[op.name] = *op.value;
      continue;
    }
    if (!spec->list) {
      return fail(kafka::error::kInvalidConfig,
                  absl::StrCat("Config value append/subtract is not allowed "
                               "for config key: ",
                               op.name));
    }
    auto current = configs.count(op.name) > 0
                       ? configs[op.name]
                       : std::string(spec->default_value);
    std::vector<std::string> items =
        absl::StrSplit(current, ',', absl::SkipEmpty());
    for (absl::string_view item :
         absl::StrSplit(*op.value, ',', absl::SkipEmpty())) {
      auto at = std::find(items.begin(), items.end(), item);
      if (op.config_operation == kOpAppend && at == items.end()) {
        items.emplace_back(item);
      } else if (op.config_operation == kOpSubtract && at != items.end()) {
        items.erase(at);
      }
    }
    configs[op.name] = absl::StrJoin(items, ",");
  }
  return configs;
}

// As Kafka: DESCRIBE_CONFIGS or ALTER_CONFIGS on the topic, or on the
// cluster for a broker; kNone or the *_AUTHORIZATION_FAILED code.
int16_t ConfigAccess(Services& s, const RequestContext& c, int8_t operation,
                     int8_t resource_type, const std::string& name) {
  if (resource_type == kResourceTopic) {
    return TopicAccess(s, c, operation, name);
  }
  if (resource_type == kResourceBroker &&
      !Allowed(s, c, operation, {acl::kCluster, acl::kClusterName})) {
    return kafka::error::kClusterAuthorizationFailed;
  }
  return kafka::error::kNone;
}

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
    std::vector<ConfigView> configs;
    out.error_code =
        ConfigAccess(s, c, acl::kDescribeConfigs, resource.resource_type,
                     resource.resource_name);
    if (out.error_code != kafka::error::kNone) {
      // not described
    } else if (resource.resource_type == kResourceTopic) {
      const metapb::TopicInfo* topic =
          s.state().FindTopic(resource.resource_name);
      if (topic == nullptr) {
        out.error_code = kafka::error::kUnknownTopicOrPartition;
        out.error_message =
            absl::StrCat("topic '", resource.resource_name, "' does not exist");
      } else {
        configs = TopicConfigs(s.config, *topic);
      }
    } else if (resource.resource_type == kResourceBroker) {
      configs = BrokerConfigs(s.config);
    } else {
      out.error_code = kafka::error::kInvalidRequest;
      out.error_message = "unsupported resource type";
    }
    for (const ConfigView& view : configs) {
      if (Wanted(resource, view.name)) out.configs.push_back(Describe(view, r));
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
    wait->response.responses.push_back({kafka::error::kNone, std::nullopt,
                                        resource.resource_type,
                                        resource.resource_name});
  }
  for (size_t i = 0; i < r.resources.size(); ++i) {
    const auto& resource = r.resources[i];
    auto* out = &wait->response.responses[i];
    // AlterConfigs replaces the whole set of a resource's configs (null
    // values are left out).
    std::map<std::string, std::string> configs;
    std::vector<std::string> names;
    for (const auto& config : resource.configs) {
      names.push_back(config.name);
      if (config.value.has_value()) configs[config.name] = *config.value;
    }
    out->error_code =
        ConfigAccess(s, c, acl::kAlterConfigs, resource.resource_type,
                     resource.resource_name);
    if (out->error_code != kafka::error::kNone) continue;
    if (resource.resource_type == kResourceTopic) {
      AlterTopic(s, wait, out, resource.resource_name, configs,
                 r.validate_only);
    } else if (resource.resource_type == kResourceBroker) {
      out->error_code =
          AlterBroker(s, resource.resource_name, names, &out->error_message);
    } else {
      out->error_code = kafka::error::kInvalidRequest;
      out->error_message =
          "AlterConfigs is only supported for topics and brokers";
    }
  }
  if (wait->remaining == 0) FinishGathered(s, wait);
}

void Handle(Services& s, const RequestContext& c,
            kafka::IncrementalAlterConfigsRequest& r) {
  auto wait =
      std::make_shared<Gathered<kafka::IncrementalAlterConfigsResponse>>();
  wait->context = c;
  for (const auto& resource : r.resources) {
    wait->response.responses.push_back({kafka::error::kNone, std::nullopt,
                                        resource.resource_type,
                                        resource.resource_name});
  }
  for (size_t i = 0; i < r.resources.size(); ++i) {
    const auto& resource = r.resources[i];
    auto* out = &wait->response.responses[i];
    out->error_code =
        ConfigAccess(s, c, acl::kAlterConfigs, resource.resource_type,
                     resource.resource_name);
    if (out->error_code != kafka::error::kNone) continue;
    if (resource.resource_type == kResourceBroker) {
      std::vector<std::string> names;
      for (const auto& config : resource.configs) names.push_back(config.name);
      out->error_code =
          AlterBroker(s, resource.resource_name, names, &out->error_message);
      continue;
    }
    if (resource.resource_type != kResourceTopic) {
      out->error_code = kafka::error::kInvalidRequest;
      out->error_message =
          "IncrementalAlterConfigs is only supported for topics and brokers";
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
    std::optional<std::map<std::string, std::string>> configs =
        ApplyOperations(*topic, resource.configs, out);
    if (!configs.has_value()) continue;
    AlterTopic(s, wait, out, resource.resource_name, *configs, r.validate_only);
  }
  if (wait->remaining == 0) FinishGathered(s, wait);
}

}  // namespace chronik::broker
