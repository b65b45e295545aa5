#include "broker/metadata/topic_config.h"

#include <string>

#include "gtest/gtest.h"

namespace chronik::metadata {
namespace {

metapb::TopicInfo TopicWith(
    std::vector<std::pair<std::string, std::string>> configs) {
  metapb::TopicInfo topic;
  topic.set_name("t");
  for (const auto& [name, value] : configs) {
    metapb::TopicConfigEntry* entry = topic.add_configs();
    entry->set_name(name);
    entry->set_value(value);
  }
  return topic;
}

TEST(TopicConfigTest, TableIsSortedAndDefaultsAreValid) {
  absl::string_view previous;
  for (const TopicConfigSpec& spec : TopicConfigSpecs()) {
    EXPECT_LT(previous, spec.name);
    previous = spec.name;
    EXPECT_EQ(FindTopicConfig(spec.name), &spec);
    EXPECT_TRUE(ValidateTopicConfig(spec.name, spec.default_value).ok())
        << spec.name;
  }
  EXPECT_EQ(FindTopicConfig("no.such.config"), nullptr);
  const auto defaults = DefaultTopicConfigs();
  ASSERT_EQ(defaults.size(), TopicConfigSpecs().size());
  EXPECT_EQ(defaults.front(), std::make_pair(std::string("cleanup.policy"),
                                             std::string("delete")));
}

TEST(TopicConfigTest, ValidationChecksTypeRangeAndSupport) {
  EXPECT_TRUE(ValidateTopicConfig("retention.ms", "1000").ok());
  EXPECT_TRUE(ValidateTopicConfig("retention.ms", "-1").ok());
  EXPECT_TRUE(ValidateTopicConfig("retention.bytes", "8192").ok());
  EXPECT_TRUE(
      ValidateTopicConfig("unclean.leader.election.enable", "FALSE").ok());
  // Values Kafka accepts are accepted (clients set them on create).
  EXPECT_TRUE(ValidateTopicConfig("cleanup.policy", "compact").ok());
  EXPECT_TRUE(ValidateTopicConfig("cleanup.policy", "compact,delete").ok());
  EXPECT_TRUE(ValidateTopicConfig("compression.type", "gzip").ok());
  EXPECT_TRUE(
      ValidateTopicConfig("message.timestamp.type", "LogAppendTime").ok());
  // Kafka's other topic configs are accepted and stored (Kafka Streams and
  // admin tools set them), though chronik does not act on them.
  EXPECT_TRUE(ValidateTopicConfig("segment.ms", "100").ok());
  EXPECT_TRUE(ValidateTopicConfig("delete.retention.ms", "100").ok());
  EXPECT_TRUE(ValidateTopicConfig("min.cleanable.dirty.ratio", "0.1").ok());
  EXPECT_TRUE(ValidateTopicConfig("preallocate", "true").ok());
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"retention.ms", "-2"},
           {"retention.ms", "soon"},
           {"segment.bytes", "13"},
           {"segment.bytes", "4294967296"},
           {"min.insync.replicas", "0"},
           {"unclean.leader.election.enable", "maybe"},
           {"cleanup.policy", "shred"},
           {"compression.type", "brotli"},
           {"message.timestamp.type", "WallTime"},
           {"no.such.config", "1"},
           {"min.cleanable.dirty.ratio", "1.5"},
           {"min.cleanable.dirty.ratio", "half"},
           {"segment.ms", "0"},
       }) {
    absl::Status status = ValidateTopicConfig(name, value);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << name << "=" << value;
    EXPECT_NE(status.message().find(name), std::string::npos) << status;
  }
}

TEST(TopicConfigTest, GettersReturnOverrideOrDefault) {
  const metapb::TopicInfo plain = TopicWith({});
  EXPECT_EQ(RetentionMs(plain), 604800000);
  EXPECT_EQ(RetentionBytes(plain), -1);
  EXPECT_EQ(MaxMessageBytes(plain), 1048588);
  EXPECT_EQ(SegmentBytes(plain), 67108864);
  EXPECT_EQ(MinInsyncReplicas(plain, 2), 2);
  EXPECT_EQ(TopicConfigValue(plain, "cleanup.policy"), "delete");

  const metapb::TopicInfo custom = TopicWith({{"min.insync.replicas", "3"},
                                              {"retention.bytes", "8192"},
                                              {"retention.ms", "1000"}});
  EXPECT_EQ(RetentionMs(custom), 1000);
  EXPECT_EQ(RetentionBytes(custom), 8192);
  EXPECT_EQ(MinInsyncReplicas(custom, 2), 3);
}

}  // namespace
}  // namespace chronik::metadata
