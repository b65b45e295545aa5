// Topic configs: the one table of the per-topic configs chronik supports, with
// Kafka's names and defaults, their types and what values are accepted.
//
// A topic stores only its overrides (metapb::TopicInfo::configs, sorted by
// name); every other config has its default. The metadata state machine
// validates every override with ValidateTopicConfig before it is stored
// (CreateTopic, AlterTopicConfigs: INVALID_CONFIG otherwise), so the typed
// getters below never meet a value they cannot parse. DescribeConfigs lists
// DefaultTopicConfigs() merged with the overrides; the broker reads retention
// with RetentionMs/RetentionBytes.
//
// Every value Kafka accepts is accepted (clients and tools such as Kafka
// Streams set them on create), and so is every Kafka topic config but the
// replication throttles, message.format.version and tiered storage's; those
// chronik does not act on say so in their `doc` (compression.type other than
// "producer", flush.*, the compaction lags, ...). Unknown names and malformed
// values are refused (INVALID_CONFIG), as Kafka refuses them.
//
// Pure functions over a constant table; thread-safe.
#ifndef CHRONIK_BROKER_METADATA_TOPIC_CONFIG_H_
#define CHRONIK_BROKER_METADATA_TOPIC_CONFIG_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/metadata.pb.h"

namespace chronik::metadata {

enum class TopicConfigType : uint8_t {
  kBoolean,
  kInt,
  kLong,
  kDouble,
  kString
};

struct TopicConfigSpec {
  const char* name;           // Kafka's name, e.g. "retention.ms"
  const char* default_value;  // as DescribeConfigs shows it
  TopicConfigType type;
  // kInt/kLong/kDouble: the accepted range (inclusive).
  int64_t min = 0;
  int64_t max = 0;
  // Non-empty: the only accepted values, '|'-separated (kBoolean, kString).
  const char* allowed = "";
  const char* doc = "";
  // The broker config whose value a topic without an override gets (Kafka's
  // synonym, e.g. log.retention.ms), for DescribeConfigs' synonyms.
  const char* broker_name = "";
  // A comma-separated list (IncrementalAlterConfigs may APPEND/SUBTRACT).
  bool list = false;
};

// Every supported topic config, sorted by name.
absl::Span<const TopicConfigSpec> TopicConfigSpecs();
// nullptr for a name not in the table.
const TopicConfigSpec* FindTopicConfig(absl::string_view name);
// (name, default) of every supported config, sorted by name.
std::vector<std::pair<std::string, std::string>> DefaultTopicConfigs();

// OK when `name` is supported and `value` parses as its type and is accepted;
// InvalidArgument naming the config and the rule otherwise.
absl::Status ValidateTopicConfig(absl::string_view name,
                                 absl::string_view value);

// The effective value of config `name` (supported, CHECKed) of `topic`: its
// override, or the default.
std::string TopicConfigValue(const metapb::TopicInfo& topic,
                             absl::string_view name);

// Every entry is a supported config with a valid value (as above), each
// name once. The one check of a topic's overrides: CreateTopics,
// AlterConfigs and IncrementalAlterConfigs run it before proposing, and the
// metadata state machine again before it stores them.
absl::Status ValidateTopicConfigs(
    const google::protobuf::RepeatedPtrField<metapb::TopicConfigEntry>&
        configs);

// Typed getters of the configs the broker acts on.
int64_t RetentionMs(const metapb::TopicInfo& topic);     // -1: no time limit
int64_t RetentionBytes(const metapb::TopicInfo& topic);  // -1: no size limit
int32_t MaxMessageBytes(const metapb::TopicInfo& topic);
int32_t SegmentBytes(const metapb::TopicInfo& topic);
// Log compaction (broker/server/log_compactor.h): cleanup.policy names
// compact / delete (either order, or both).
bool CleanupCompact(const metapb::TopicInfo& topic);
bool CleanupDelete(const metapb::TopicInfo& topic);
int64_t DeleteRetentionMs(const metapb::TopicInfo& topic);
double MinCleanableDirtyRatio(const metapb::TopicInfo& topic);
int64_t SegmentMs(const metapb::TopicInfo& topic);
// The topic overrides config `name`.
bool HasTopicConfig(const metapb::TopicInfo& topic, absl::string_view name);
// message.timestamp.type=LogAppendTime: the leader stamps each batch with its
// clock when it appends it (the batch's max timestamp and attribute bit 3).
bool LogAppendTime(const metapb::TopicInfo& topic);
// min.insync.replicas: the topic's override, else `broker_default` (the
// broker's own setting takes the place of the table's default, as in Kafka).
int32_t MinInsyncReplicas(const metapb::TopicInfo& topic,
                          int32_t broker_default);

}  // namespace chronik::metadata

#endif  // CHRONIK_BROKER_METADATA_TOPIC_CONFIG_H_
