#include "broker/metadata/topic_config.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/check.h"

namespace chronik::metadata {
namespace {

using Type = TopicConfigType;
constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();

// Names, defaults and ranges are Kafka's (TopicConfig / LogConfig), narrowed
// to what chronik implements. Sorted by name (checked in FindTopicConfig's
// test).
constexpr TopicConfigSpec kSpecs[] = {
    {.name = "cleanup.policy",
     .default_value = "delete",
     .type = Type::kString,
     .allowed = "delete|compact|compact,delete|delete,compact",
     .doc = "delete: old segments are deleted by retention; compact: the "
            "log keeps the latest record of each key (log compaction); "
            "compact,delete: both",
     .broker_name = "log.cleanup.policy",
     .list = true},
    {.name = "compression.type",
     .default_value = "producer",
     .type = Type::kString,
     .allowed = "producer|uncompressed|gzip|snappy|lz4|zstd",
     .doc = "batches are stored as the producer compressed them (other "
            "values are accepted; recompression is not performed yet)",
     .broker_name = "compression.type"},
    {.name = "delete.retention.ms",
     .default_value = "86400000",
     .type = Type::kLong,
     .min = 0,
     .max = kLongMax,
     .doc = "how long log compaction keeps a delete tombstone (a null "
            "value), from its timestamp",
     .broker_name = "log.cleaner.delete.retention.ms"},
    {.name = "file.delete.delay.ms",
     .default_value = "60000",
     .type = Type::kLong,
     .min = 0,
     .max = kLongMax,
     .doc = "accepted and stored; chronik does not act on it (segments are "
            "removed at once)",
     .broker_name = "log.segment.delete.delay.ms"},
    {.name = "flush.messages",
     .default_value = "9223372036854775807",
     .type = Type::kLong,
     .min = 1,
     .max = kLongMax,
     .doc = "accepted and stored; chronik does not act on it (writes are "
            "fsynced before they are acknowledged)",
     .broker_name = "log.flush.interval.messages"},
    {.name = "flush.ms",
     .default_value = "9223372036854775807",
     .type = Type::kLong,
     .min = 0,
     .max = kLongMax,
     .doc = "accepted and stored; chronik does not act on it (writes are "
            "fsynced before they are acknowledged)",
     .broker_name = "log.flush.interval.ms"},
    {.name = "index.interval.bytes",
     .default_value = "4096",
     .type = Type::kInt,
     .min = 0,
     .max = kIntMax,
     .doc = "accepted and stored; chronik does not act on it (the sparse index "
            "has its own spacing)",
     .broker_name = "log.index.interval.bytes"},
    {.name = "max.compaction.lag.ms",
     .default_value = "9223372036854775807",
     .type = Type::kLong,
     .min = 1,
     .max = kLongMax,
     .doc = "accepted and stored; chronik does not act on it (log compaction "
            "is not performed yet)",
     .broker_name = "log.cleaner.max.compaction.lag.ms"},
    {.name = "max.message.bytes",
     .default_value = "1048588",
     .type = Type::kInt,
     .min = 0,
     .max = kIntMax,
     .doc = "largest record batch accepted",
     .broker_name = "message.max.bytes"},
    {.name = "message.downconversion.enable",
     .default_value = "true",
     .type = Type::kBoolean,
     .allowed = "false|true",
     .doc = "accepted and stored; chronik does not act on it (chronik serves "
            "record batch v2 only)",
     .broker_name = "log.message.downconversion.enable"},
    {.name = "message.timestamp.difference.max.ms",
     .default_value = "9223372036854775807",
     .type = Type::kLong,
     .min = 0,
     .max = kLongMax,
     .doc = "accepted and stored; chronik does not act on it (timestamps are "
            "not bounded)",
     .broker_name = "log.message.timestamp.difference.max.ms"},
    {.name = "message.timestamp.type",
     .default_value = "CreateTime",
     .type = Type::kString,
     .allowed = "CreateTime|LogAppendTime",
     .doc = "CreateTime keeps the producer's timestamps; LogAppendTime "
            "stamps each batch with the leader's clock when it is appended",
     .broker_name = "log.message.timestamp.type"},
    {.name = "min.cleanable.dirty.ratio",
     .default_value = "0.5",
     .type = Type::kDouble,
     .min = 0,
     .max = 1,
     .doc = "log compaction runs when the dirty part of the cleanable log "
            "is at least this share of it",
     .broker_name = "log.cleaner.min.cleanable.ratio"},
    {.name = "min.compaction.lag.ms",
     .default_value = "0",
     .type = Type::kLong,
     .min = 0,
     .max = kLongMax,
     .doc = "accepted and stored; chronik does not act on it (log compaction "
            "is not performed yet)",
     .broker_name = "log.cleaner.min.compaction.lag.ms"},
    {.name = "min.insync.replicas",
     .default_value = "1",
     .type = Type::kInt,
     .min = 1,
     .max = kIntMax,
     .doc = "replicas that must hold a write for acks=all",
     .broker_name = "min.insync.replicas"},
    {.name = "preallocate",
     .default_value = "false",
     .type = Type::kBoolean,
     .allowed = "false|true",
     .doc = "accepted and stored; chronik does not act on it (segments are "
            "never preallocated)",
     .broker_name = "log.preallocate"},
    {.name = "retention.bytes",
     .default_value = "-1",
     .type = Type::kLong,
     .min = -1,
     .max = kLongMax,
     .doc = "a partition's log is cut to this size (-1: no limit)",
     .broker_name = "log.retention.bytes"},
    {.name = "retention.ms",
     .default_value = "604800000",
     .type = Type::kLong,
     .min = -1,
     .max = kLongMax,
     .doc = "segments older than this are deleted (-1: no limit)",
     .broker_name = "log.retention.ms"},
    {.name = "segment.bytes",
     .default_value = "67108864",
     .type = Type::kInt,
     .min = 14,
     .max = kIntMax,
     .doc = "size at which a log segment rolls",
     .broker_name = "log.segment.bytes"},
    {.name = "segment.index.bytes",
     .default_value = "10485760",
     .type = Type::kInt,
     .min = 4,
     .max = kIntMax,
     .doc = "accepted and stored; chronik does not act on it (the sparse index "
            "has its own size)",
     .broker_name = "log.index.size.max.bytes"},
    {.name = "segment.jitter.ms",
     .default_value = "0",
     .type = Type::kLong,
     .min = 0,
     .max = kLongMax,
     .doc = "accepted and stored; chronik does not act on it (segments roll by "
            "size)",
     .broker_name = "log.roll.jitter.ms"},
    {.name = "segment.ms",
     .default_value = "604800000",
     .type = Type::kLong,
     .min = 1,
     .max = kLongMax,
     .doc = "the active segment rolls once its first batch is this old "
            "(applied to compacted topics and to topics that set it), so "
            "compaction can reach it",
     .broker_name = "log.roll.ms"},
    {.name = "unclean.leader.election.enable",
     .default_value = "false",
     .type = Type::kBoolean,
     .allowed = "false|true",
     .doc = "Raft never elects a leader that lacks committed data, whatever "
            "the value",
     .broker_name = "unclean.leader.election.enable"},
};

absl::Status Invalid(const TopicConfigSpec& spec, absl::string_view value,
                     absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(
      "topic config ", spec.name, "='", value, "' is invalid: ", rule));
}

absl::Status CheckAllowed(const TopicConfigSpec& spec,
                          absl::string_view value) {
  if (*spec.allowed == '\0') return absl::OkStatus();
  for (absl::string_view allowed : absl::StrSplit(spec.allowed, '|')) {
    if (value == allowed) return absl::OkStatus();
  }
  return Invalid(
      spec, value,
      absl::StrCat("accepted values are ", spec.allowed, " (", spec.doc, ")"));
}

int64_t EffectiveInt(const metapb::TopicInfo& topic, absl::string_view name) {
  const std::string value = TopicConfigValue(topic, name);
  int64_t parsed = 0;
  CHRONIK_CHECK(absl::SimpleAtoi(value, &parsed))
      << "stored topic config " << name << "='" << value
      << "' was not validated";
  return parsed;
}

}  // namespace

absl::Span<const TopicConfigSpec> TopicConfigSpecs() { return kSpecs; }

const TopicConfigSpec* FindTopicConfig(absl::string_view name) {
  const auto* it =
      std::lower_bound(std::begin(kSpecs), std::end(kSpecs), name,
                       [](const TopicConfigSpec& spec, absl::string_view n) {
                         return absl::string_view(spec.name) < n;
                       });
  if (it == std::end(kSpecs) || name != it->name) return nullptr;
  return it;
}

std::vector<std::pair<std::string, std::string>> DefaultTopicConfigs() {
  std::vector<std::pair<std::string, std::string>> defaults;
  for (const TopicConfigSpec& spec : kSpecs) {
    defaults.emplace_back(spec.name, spec.default_value);
  }
  return defaults;
}

absl::Status ValidateTopicConfig(absl::string_view name,
                                 absl::string_view value) {
  const TopicConfigSpec* spec = FindTopicConfig(name);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown or unsupported topic config '", name, "'"));
  }
  switch (spec->type) {
    case Type::kBoolean: {
      const std::string lower = absl::AsciiStrToLower(value);
      if (lower != "true" && lower != "false") {
        return Invalid(*spec, value, "not a boolean (true or false)");
      }
      return CheckAllowed(*spec, lower);
    }
    case Type::kInt:
    case Type::kLong: {
      int64_t parsed = 0;
      if (!absl::SimpleAtoi(value, &parsed) ||
          (spec->type == Type::kInt &&
           (parsed < std::numeric_limits<int32_t>::min() ||
            parsed > kIntMax))) {
        return Invalid(*spec, value,
                       spec->type == Type::kInt ? "not an int" : "not a long");
      }
      if (parsed < spec->min || parsed > spec->max) {
        return Invalid(
            *spec, value,
            absl::StrCat("must be in [", spec->min, ", ", spec->max, "]"));
      }
      return absl::OkStatus();
    }
    case Type::kDouble: {
      double parsed = 0;
      if (!absl::SimpleAtod(value, &parsed)) {
        return Invalid(*spec, value, "not a double");
      }
      if (!(parsed >= static_cast<double>(spec->min) &&
            parsed <= static_cast<double>(spec->max))) {
        return Invalid(
            *spec, value,
            absl::StrCat("must be in [", spec->min, ", ", spec->max, "]"));
      }
      return absl::OkStatus();
    }
    case Type::kString:
      return CheckAllowed(*spec, value);
  }
  return absl::OkStatus();
}

absl::Status ValidateTopicConfigs(
    const google::protobuf::RepeatedPtrField<metapb::TopicConfigEntry>&
        configs) {
  std::vector<absl::string_view> names;
  for (const metapb::TopicConfigEntry& entry : configs) {
    if (absl::Status s = ValidateTopicConfig(entry.name(), entry.value());
        !s.ok()) {
      return s;
    }
    names.push_back(entry.name());
  }
  std::sort(names.begin(), names.end());
  auto twice = std::adjacent_find(names.begin(), names.end());
  if (twice != names.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic config ", *twice, " is given twice"));
  }
  return absl::OkStatus();
}

std::string TopicConfigValue(const metapb::TopicInfo& topic,
                             absl::string_view name) {
  const TopicConfigSpec* spec = FindTopicConfig(name);
  CHRONIK_CHECK(spec != nullptr) << "unsupported topic config " << name;
  for (const metapb::TopicConfigEntry& entry : topic.configs()) {
    if (entry.name() == name) return entry.value();
  }
  return spec->default_value;
}

int64_t RetentionMs(const metapb::TopicInfo& topic) {
  return EffectiveInt(topic, "retention.ms");
}

int64_t RetentionBytes(const metapb::TopicInfo& topic) {
  return EffectiveInt(topic, "retention.bytes");
}

int32_t MaxMessageBytes(const metapb::TopicInfo& topic) {
  return static_cast<int32_t>(EffectiveInt(topic, "max.message.bytes"));
}

int32_t SegmentBytes(const metapb::TopicInfo& topic) {
  return static_cast<int32_t>(EffectiveInt(topic, "segment.bytes"));
}

bool CleanupCompact(const metapb::TopicInfo& topic) {
  return absl::StrContains(TopicConfigValue(topic, "cleanup.policy"),
                           "compact");
}

bool CleanupDelete(const metapb::TopicInfo& topic) {
  return absl::StrContains(TopicConfigValue(topic, "cleanup.policy"), "delete");
}

int64_t DeleteRetentionMs(const metapb::TopicInfo& topic) {
  return EffectiveInt(topic, "delete.retention.ms");
}

double MinCleanableDirtyRatio(const metapb::TopicInfo& topic) {
  const std::string value =
      TopicConfigValue(topic, "min.cleanable.dirty.ratio");
  double parsed = 0;
  CHRONIK_CHECK(absl::SimpleAtod(value, &parsed))
      << "stored min.cleanable.dirty.ratio '" << value << "' not validated";
  return parsed;
}

int64_t SegmentMs(const metapb::TopicInfo& topic) {
  return EffectiveInt(topic, "segment.ms");
}

bool HasTopicConfig(const metapb::TopicInfo& topic, absl::string_view name) {
  for (const metapb::TopicConfigEntry& entry : topic.configs()) {
    if (entry.name() == name) return true;
  }
  return false;
}

bool LogAppendTime(const metapb::TopicInfo& topic) {
  return TopicConfigValue(topic, "message.timestamp.type") == "LogAppendTime";
}

int32_t MinInsyncReplicas(const metapb::TopicInfo& topic,
                          int32_t broker_default) {
  for (const metapb::TopicConfigEntry& entry : topic.configs()) {
    if (entry.name() == "min.insync.replicas") {
      return static_cast<int32_t>(EffectiveInt(topic, entry.name()));
    }
  }
  return broker_default;
}

}  // namespace chronik::metadata
