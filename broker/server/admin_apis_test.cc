// The admin and group APIs Kafka's admin clients call, in process (real
// request frames through the shared fixture): DeleteGroups, OffsetDelete,
// IncrementalAlterConfigs, DescribeConfigs' synonyms, AlterConfigs of broker
// resources, CreateTopics' config and name checks, DescribeLogDirs.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/wire.h"
#include "broker/server/in_process_cluster.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

namespace error = kafka::error;
using testing::BrokerTest;

constexpr int8_t kTopic = 2;
constexpr int8_t kBroker = 4;

// ConsumerProtocolSubscription v0 of `topics`, as consumers join with.
std::string Subscription(const std::vector<std::string>& topics) {
  kafka::Writer writer;
  writer.WriteInt16(0);
  writer.WriteArrayLength(static_cast<int64_t>(topics.size()), false);
  for (const std::string& topic : topics) writer.WriteString(topic, false);
  writer.WriteNullableBytes(std::nullopt, false);
  return writer.Release();
}

class AdminApisTest : public BrokerTest {
 protected:
  // One member joins `group` (and syncs); returns its member id.
  std::string JoinMember(const std::string& group,
                         const std::string& protocol_type,
                         const std::string& metadata) {
    kafka::JoinGroupRequest join;
    join.group_id = group;
    join.session_timeout_ms = 10000;
    join.rebalance_timeout_ms = 10000;
    join.protocol_type = protocol_type;
    join.protocols.push_back({"range", metadata});
    auto joined = Call<kafka::JoinGroupResponse>(join, 3);
    CHRONIK_CHECK_EQ(joined.error_code, 0);
    kafka::SyncGroupRequest sync;
    sync.group_id = group;
    sync.generation_id = joined.generation_id;
    sync.member_id = joined.member_id;
    sync.assignments.push_back({joined.member_id, ""});
    CHRONIK_CHECK_EQ(Call<kafka::SyncGroupResponse>(sync, 3).error_code, 0);
    return joined.member_id;
  }

  void Leave(const std::string& group, const std::string& member) {
    kafka::LeaveGroupRequest leave;
    leave.group_id = group;
    leave.member_id = member;
    ASSERT_EQ(Call<kafka::LeaveGroupResponse>(leave, 1).error_code, 0);
  }

  // Commits offset 7 for each (topic, partition) outside the group protocol.
  void Commit(const std::string& group,
              const std::vector<std::pair<std::string, int32_t>>& partitions) {
    kafka::OffsetCommitRequest commit;
    commit.group_id = group;
    commit.generation_id = -1;
    for (const auto& [name, partition] : partitions) {
      kafka::OffsetCommitRequest::OffsetCommitRequestTopic topic;
      topic.name = name;
      kafka::OffsetCommitRequest::OffsetCommitRequestPartition p;
      p.partition_index = partition;
      p.committed_offset = 7;
      topic.partitions.push_back(p);
      commit.topics.push_back(topic);
    }
    auto committed = Call<kafka::OffsetCommitResponse>(commit, 7);
    for (const auto& topic : committed.topics) {
      for (const auto& p : topic.partitions) ASSERT_EQ(p.error_code, 0);
    }
  }

  int64_t Committed(const std::string& group, const std::string& topic,
                    int32_t partition) {
    kafka::OffsetFetchRequest fetch;
    fetch.group_id = group;
    fetch.topics =
        std::vector<kafka::OffsetFetchRequest::OffsetFetchRequestTopic>{
            {topic, {partition}}};
    return Call<kafka::OffsetFetchResponse>(fetch, 5)
        .topics.at(0)
        .partitions.at(0)
        .committed_offset;
  }

  std::vector<int16_t> DeleteGroups(const std::vector<std::string>& groups,
                                    int16_t version = 2) {
    kafka::DeleteGroupsRequest request;
    request.groups_names = groups;
    std::vector<int16_t> codes;
    auto response = Call<kafka::DeleteGroupsResponse>(request, version);
    for (size_t i = 0; i < response.results.size(); ++i) {
      EXPECT_EQ(response.results[i].group_id, groups[i]);
      codes.push_back(response.results[i].error_code);
    }
    return codes;
  }

  kafka::OffsetDeleteResponse OffsetDelete(
      const std::string& group,
      const std::vector<std::pair<std::string, int32_t>>& partitions) {
    kafka::OffsetDeleteRequest request;
    request.group_id = group;
    for (const auto& [name, partition] : partitions) {
      request.topics.push_back({name, {{partition}}});
    }
    return Call<kafka::OffsetDeleteResponse>(request, 0);
  }

  static int16_t PartitionCode(const kafka::OffsetDeleteResponse& r, size_t t) {
    return r.topics.at(t).partitions.at(0).error_code;
  }

  kafka::IncrementalAlterConfigsResponse::AlterConfigsResourceResponse
  Incremental(int8_t type, const std::string& name, const std::string& config,
              int8_t op, std::optional<std::string> value,
              bool validate_only = false) {
    kafka::IncrementalAlterConfigsRequest request;
    request.validate_only = validate_only;
    kafka::IncrementalAlterConfigsRequest::AlterConfigsResource resource;
    resource.resource_type = type;
    resource.resource_name = name;
    resource.configs.push_back({config, op, std::move(value)});
    request.resources.push_back(resource);
    return Call<kafka::IncrementalAlterConfigsResponse>(request, 1)
        .responses.at(0);
  }

  kafka::DescribeConfigsResponse::DescribeConfigsResult DescribeConfigs(
      int8_t type, const std::string& name, int16_t version = 4) {
    kafka::DescribeConfigsRequest request;
    request.resources.push_back({type, name, std::nullopt});
    request.include_synonyms = true;
    return Call<kafka::DescribeConfigsResponse>(request, version).results.at(0);
  }

  static const kafka::DescribeConfigsResponse::DescribeConfigsResourceResult&
  Config(const kafka::DescribeConfigsResponse::DescribeConfigsResult& result,
         const std::string& name) {
    for (const auto& config : result.configs) {
      if (config.name == name) return config;
    }
    CHRONIK_CHECK(false) << "no config " << name;
    return result.configs.front();
  }

  std::string TopicValue(const std::string& topic, const std::string& name) {
    return Config(DescribeConfigs(kTopic, topic), name).value.value_or("null");
  }

  int16_t CreateWith(const std::string& name, const std::string& config,
                     const std::string& value, bool validate_only = false) {
    kafka::CreateTopicsRequest request;
    kafka::CreateTopicsRequest::CreatableTopic topic;
    topic.name = name;
    topic.num_partitions = 1;
    topic.replication_factor = 1;
    if (!config.empty()) topic.configs.push_back({config, value});
    request.topics.push_back(topic);
    request.validate_only = validate_only;
    return Call<kafka::CreateTopicsResponse>(request, 4)
        .topics.at(0)
        .error_code;
  }
};

TEST_F(AdminApisTest, DeleteGroupsRemovesEmptyGroupsAndTheirOffsets) {
  ASSERT_EQ(CreateTopic("t", 2).topics.at(0).error_code, 0);
  Commit("offsets-only", {{"t", 0}, {"t", 1}});
  Commit("busy", {{"t", 0}});
  const std::string member =
      JoinMember("busy", "consumer", Subscription({"t"}));

  EXPECT_EQ(DeleteGroups({"offsets-only", "busy", "nobody"}),
            (std::vector<int16_t>{error::kNone, error::kNonEmptyGroup,
                                  error::kGroupIdNotFound}));
  EXPECT_EQ(Committed("offsets-only", "t", 0), -1);
  EXPECT_EQ(Committed("offsets-only", "t", 1), -1);
  EXPECT_EQ(Committed("busy", "t", 0), 7);  // members keep it
  EXPECT_EQ(DeleteGroups({"offsets-only"}, 0),
            (std::vector<int16_t>{error::kGroupIdNotFound}));

  Leave("busy", member);
  EXPECT_EQ(DeleteGroups({"busy"}, 1), (std::vector<int16_t>{error::kNone}));
  EXPECT_EQ(Committed("busy", "t", 0), -1);
  // An empty group without offsets is known to the coordinator only.
  Leave("busy", JoinMember("busy", "consumer", Subscription({"t"})));
  EXPECT_EQ(DeleteGroups({"busy"}), (std::vector<int16_t>{error::kNone}));
  EXPECT_EQ(DeleteGroups({"busy"}),
            (std::vector<int16_t>{error::kGroupIdNotFound}));
  // The deletion is replicated state: it survives a restart.
  Restart(/*crash=*/true);
  EXPECT_EQ(Committed("offsets-only", "t", 0), -1);
}

TEST_F(AdminApisTest, GroupsKnownOnlyByTheirOffsetsAreEmptyUntilDeleted) {
  ASSERT_EQ(CreateTopic("t", 1).topics.at(0).error_code, 0);
  Commit("stored", {{"t", 0}});
  JoinMember("live", "consumer", Subscription({"t"}));
  auto listed = Call<kafka::ListGroupsResponse>(kafka::ListGroupsRequest{}, 4);
  ASSERT_EQ(listed.groups.size(), 2u);
  EXPECT_EQ(listed.groups[0].group_id, "live");
  EXPECT_EQ(listed.groups[0].group_state, "Stable");
  EXPECT_EQ(listed.groups[1].group_id, "stored");
  EXPECT_EQ(listed.groups[1].group_state, "Empty");
  kafka::DescribeGroupsRequest describe;
  describe.groups = {"stored", "never"};
  auto described = Call<kafka::DescribeGroupsResponse>(describe, 5);
  EXPECT_EQ(described.groups.at(0).group_state, "Empty");
  EXPECT_EQ(described.groups.at(1).group_state, "Dead");

  ASSERT_EQ(DeleteGroups({"stored"}), (std::vector<int16_t>{error::kNone}));
  listed = Call<kafka::ListGroupsResponse>(kafka::ListGroupsRequest{}, 4);
  ASSERT_EQ(listed.groups.size(), 1u);
  EXPECT_EQ(listed.groups[0].group_id, "live");
  EXPECT_EQ(
      Call<kafka::DescribeGroupsResponse>(describe, 5).groups.at(0).group_state,
      "Dead");
}

TEST_F(AdminApisTest, OffsetDeleteKeepsSubscribedTopicsOfActiveMembers) {
  ASSERT_EQ(CreateTopic("read", 1).topics.at(0).error_code, 0);
  ASSERT_EQ(CreateTopic("old", 1).topics.at(0).error_code, 0);
  Commit("g", {{"read", 0}, {"old", 0}});
  const std::string member =
      JoinMember("g", "consumer", Subscription({"read"}));

  auto deleted =
      OffsetDelete("g", {{"read", 0}, {"old", 0}, {"missing", 0}, {"old", 5}});
  EXPECT_EQ(deleted.error_code, error::kNone);
  EXPECT_EQ(PartitionCode(deleted, 0), error::kGroupSubscribedToTopic);
  EXPECT_EQ(PartitionCode(deleted, 1), error::kNone);
  EXPECT_EQ(PartitionCode(deleted, 2), error::kUnknownTopicOrPartition);
  EXPECT_EQ(PartitionCode(deleted, 3), error::kUnknownTopicOrPartition);
  EXPECT_EQ(Committed("g", "read", 0), 7);
  EXPECT_EQ(Committed("g", "old", 0), -1);

  Leave("g", member);  // an empty group's offsets may all go
  EXPECT_EQ(PartitionCode(OffsetDelete("g", {{"read", 0}}), 0), error::kNone);
  EXPECT_EQ(Committed("g", "read", 0), -1);

  EXPECT_EQ(OffsetDelete("", {{"read", 0}}).error_code, error::kInvalidGroupId);
  auto unknown = OffsetDelete("never", {{"read", 0}});
  EXPECT_EQ(unknown.error_code, error::kGroupIdNotFound);
  EXPECT_TRUE(unknown.topics.empty());
  // Members of a protocol other than "consumer": the group is not empty.
  JoinMember("connect", "connect", "opaque");
  EXPECT_EQ(OffsetDelete("connect", {{"read", 0}}).error_code,
            error::kNonEmptyGroup);
}

TEST_F(AdminApisTest, IncrementalAlterConfigsSetsDeletesAppendsSubtracts) {
  ASSERT_EQ(CreateTopic("c", 1).topics.at(0).error_code, 0);
  constexpr int8_t kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3;
  EXPECT_EQ(Incremental(kTopic, "c", "retention.ms", kSet, "1000").error_code,
            error::kNone);
  EXPECT_EQ(TopicValue("c", "retention.ms"), "1000");
  EXPECT_EQ(
      Incremental(kTopic, "c", "cleanup.policy", kAppend, "compact").error_code,
      error::kNone);
  EXPECT_EQ(TopicValue("c", "cleanup.policy"), "delete,compact");
  EXPECT_EQ(TopicValue("c", "retention.ms"), "1000");  // others stay
  EXPECT_EQ(Incremental(kTopic, "c", "cleanup.policy", kSubtract, "delete")
                .error_code,
            error::kNone);
  EXPECT_EQ(TopicValue("c", "cleanup.policy"), "compact");
  EXPECT_EQ(Incremental(kTopic, "c", "retention.ms", kDelete, std::nullopt)
                .error_code,
            error::kNone);
  EXPECT_EQ(TopicValue("c", "retention.ms"), "604800000");
  EXPECT_EQ(
      Incremental(kTopic, "c", "retention.ms", kSet, "5", true).error_code,
      error::kNone);
  EXPECT_EQ(TopicValue("c", "retention.ms"), "604800000");  // validate only

  auto unknown = Incremental(kTopic, "c", "no.such.config", kSet, "1");
  EXPECT_EQ(unknown.error_code, error::kInvalidConfig);
  EXPECT_TRUE(unknown.error_message.has_value());
  EXPECT_EQ(Incremental(kTopic, "c", "retention.ms", kSet, "soon").error_code,
            error::kInvalidConfig);
  EXPECT_EQ(
      Incremental(kTopic, "c", "retention.ms", kSet, "x", true).error_code,
      error::kInvalidConfig);
  EXPECT_EQ(Incremental(kTopic, "c", "retention.ms", kAppend, "1").error_code,
            error::kInvalidConfig);
  EXPECT_EQ(
      Incremental(kTopic, "c", "retention.ms", kSet, std::nullopt).error_code,
      error::kInvalidRequest);
  EXPECT_EQ(Incremental(kTopic, "c", "retention.ms", 9, "1").error_code,
            error::kInvalidRequest);
  EXPECT_EQ(Incremental(kTopic, "gone", "retention.ms", kSet, "1").error_code,
            error::kUnknownTopicOrPartition);
  // Broker configs are static here: Kafka's answer for read-only ones.
  EXPECT_EQ(Incremental(kBroker, "1", "num.partitions", kSet, "3").error_code,
            error::kInvalidRequest);
  EXPECT_EQ(Incremental(kBroker, "", "log.retention.ms", kSet, "3").error_code,
            error::kInvalidRequest);
  EXPECT_EQ(Incremental(kBroker, "7", "num.partitions", kSet, "3").error_code,
            error::kInvalidRequest);
  EXPECT_EQ(Incremental(kBroker, "1", "no.such.config", kSet, "3").error_code,
            error::kInvalidConfig);
}

TEST_F(AdminApisTest, DescribeConfigsListsSynonymsInPrecedenceOrder) {
  ASSERT_EQ(CreateWith("s", "retention.ms", "1000"), error::kNone);
  auto topic = DescribeConfigs(kTopic, "s");
  const auto& retention = Config(topic, "retention.ms");
  EXPECT_EQ(retention.value, "1000");
  EXPECT_EQ(retention.config_source, 1);  // TOPIC_CONFIG
  ASSERT_EQ(retention.synonyms.size(), 2u);
  EXPECT_EQ(retention.synonyms[0].name, "retention.ms");
  EXPECT_EQ(retention.synonyms[0].source, 1);
  EXPECT_EQ(retention.synonyms[1].name, "log.retention.ms");
  EXPECT_EQ(retention.synonyms[1].value, "604800000");
  EXPECT_EQ(retention.synonyms[1].source, 5);  // DEFAULT_CONFIG
  const auto& max_bytes = Config(topic, "max.message.bytes");
  EXPECT_EQ(max_bytes.config_source, 5);
  ASSERT_EQ(max_bytes.synonyms.size(), 1u);
  EXPECT_EQ(max_bytes.synonyms[0].name, "message.max.bytes");

  // The broker's own settings: STATIC_BROKER_CONFIG, then the default.
  auto broker = DescribeConfigs(kBroker, "1");
  const auto& partitions = Config(broker, "num.partitions");
  EXPECT_EQ(partitions.value, "2");  // the fixture's default_partitions
  EXPECT_TRUE(partitions.read_only);
  EXPECT_EQ(partitions.config_source, 4);
  ASSERT_EQ(partitions.synonyms.size(), 2u);
  EXPECT_EQ(partitions.synonyms[1].value, "1");
  EXPECT_EQ(partitions.synonyms[1].source, 5);

  // Version 0: is_default instead of a source; no synonyms.
  auto v0 = DescribeConfigs(kTopic, "s", 0);
  EXPECT_FALSE(Config(v0, "retention.ms").is_default);
  EXPECT_TRUE(Config(v0, "segment.bytes").is_default);
  // Without include_synonyms there are none.
  kafka::DescribeConfigsRequest plain;
  plain.resources.push_back(
      {kTopic, "s", std::vector<std::string>{"retention.ms"}});
  auto without = Call<kafka::DescribeConfigsResponse>(plain, 4);
  ASSERT_EQ(without.results.at(0).configs.size(), 1u);
  EXPECT_TRUE(without.results[0].configs[0].synonyms.empty());
}

TEST_F(AdminApisTest, AlterConfigsJudgesBrokerResourcesAndValidatesTopics) {
  ASSERT_EQ(CreateTopic("a", 1).topics.at(0).error_code, 0);
  auto alter = [&](int8_t type, const std::string& name,
                   std::vector<std::pair<std::string, std::string>> configs,
                   bool validate_only) {
    kafka::AlterConfigsRequest request;
    request.validate_only = validate_only;
    kafka::AlterConfigsRequest::AlterConfigsResource resource;
    resource.resource_type = type;
    resource.resource_name = name;
    for (auto& [config, value] : configs)
      resource.configs.push_back({config, value});
    request.resources.push_back(resource);
    return Call<kafka::AlterConfigsResponse>(request, 1).responses.at(0);
  };
  EXPECT_EQ(alter(kBroker, "1", {}, false).error_code, error::kNone);
  auto read_only = alter(kBroker, "1", {{"num.partitions", "4"}}, false);
  EXPECT_EQ(read_only.error_code, error::kInvalidRequest);
  EXPECT_NE(read_only.error_message->find("num.partitions"), std::string::npos);
  EXPECT_EQ(alter(kBroker, "1", {{"bogus", "4"}}, true).error_code,
            error::kInvalidConfig);
  EXPECT_EQ(alter(kTopic, "a", {{"retention.ms", "x"}}, true).error_code,
            error::kInvalidConfig);
  EXPECT_EQ(alter(kTopic, "a", {{"bogus", "1"}}, true).error_code,
            error::kInvalidConfig);
  EXPECT_EQ(alter(kTopic, "a", {{"retention.ms", "9"}}, true).error_code,
            error::kNone);
  EXPECT_EQ(TopicValue("a", "retention.ms"), "604800000");
  EXPECT_EQ(alter(kTopic, "a", {{"retention.ms", "9"}}, false).error_code,
            error::kNone);
  EXPECT_EQ(TopicValue("a", "retention.ms"), "9");
}

TEST_F(AdminApisTest, CreateTopicsChecksConfigsAndKafkasNameRule) {
  EXPECT_EQ(CreateWith("x", "no.such.config", "1"), error::kInvalidConfig);
  EXPECT_EQ(CreateWith("x", "no.such.config", "1", true),
            error::kInvalidConfig);
  EXPECT_EQ(CreateWith("x", "retention.ms", "soon", true),
            error::kInvalidConfig);
  EXPECT_EQ(CreateWith("x", "retention.ms", "10", true), error::kNone);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  EXPECT_TRUE(metadata.topics.empty());  // validate_only created nothing

  const std::string longest(249, 'n');
  ASSERT_EQ(CreateWith(longest, "", ""), error::kNone);
  ASSERT_EQ(
      Produce(longest, 0, Batch(2)).responses.at(0).partitions.at(0).error_code,
      0);
  EXPECT_EQ(FetchedOffsets(Fetch(longest, 0, 0)).size(), 2u);
  EXPECT_EQ(CreateWith(std::string(250, 'n'), "", ""), error::kInvalidTopic);
  for (const char* bad : {".", "..", "a/b", "sp ace", ""}) {
    EXPECT_EQ(CreateWith(bad, "", ""), error::kInvalidTopic) << bad;
  }
  EXPECT_EQ(CreateWith("ok.name_with-chars.09", "", ""), error::kNone);
}

TEST_F(AdminApisTest, DescribeLogDirsListsHostedPartitionsWithTheirSizes) {
  ASSERT_EQ(CreateTopic("d", 2).topics.at(0).error_code, 0);
  ASSERT_EQ(
      Produce("d", 1, Batch(5)).responses.at(0).partitions.at(0).error_code, 0);
  for (int16_t version : {0, 1, 2, 3, 4}) {
    kafka::DescribeLogDirsRequest all;
    all.topics = std::nullopt;
    auto response = Call<kafka::DescribeLogDirsResponse>(all, version);
    EXPECT_EQ(response.error_code, 0);
    ASSERT_EQ(response.results.size(), 1u) << version;
    const auto& dir = response.results[0];
    EXPECT_EQ(dir.error_code, 0);
    EXPECT_FALSE(dir.log_dir.empty());
    ASSERT_EQ(dir.topics.size(), 1u);
    EXPECT_EQ(dir.topics[0].name, "d");
    ASSERT_EQ(dir.topics[0].partitions.size(), 2u);
    const auto& empty = dir.topics[0].partitions[0];
    const auto& written = dir.topics[0].partitions[1];
    EXPECT_EQ(written.partition_index, 1);
    EXPECT_GT(written.partition_size, empty.partition_size);
    EXPECT_EQ(written.offset_lag, 0);
    EXPECT_FALSE(written.is_future_key);
    if (version >= 4) {
      EXPECT_GT(dir.total_bytes, 0);
      EXPECT_GE(dir.usable_bytes, 0);
      EXPECT_LE(dir.usable_bytes, dir.total_bytes);
    } else {
      EXPECT_EQ(dir.total_bytes, -1);  // not on the wire before v4
    }
  }
  kafka::DescribeLogDirsRequest some;
  some.topics =
      std::vector<kafka::DescribeLogDirsRequest::DescribableLogDirTopic>{
          {"d", {1, 9}}, {"missing", {0}}};
  auto response = Call<kafka::DescribeLogDirsResponse>(some, 4);
  ASSERT_EQ(response.results.at(0).topics.size(), 1u);
  ASSERT_EQ(response.results[0].topics[0].partitions.size(), 1u);
  EXPECT_EQ(response.results[0].topics[0].partitions[0].partition_index, 1);
}

// Three nodes: only the coordinator (the metadata leader) takes the group
// admin calls; each node describes the log dir of the replicas it hosts.
TEST(AdminApisClusterTest, OnlyTheCoordinatorDeletesAndEachNodeItsLogDir) {
  testing::InProcessCluster cluster(3, /*seed=*/3);
  ASSERT_TRUE(cluster.StepUntil([&] { return cluster.AllReady(); }));
  const int32_t controller = cluster.Metadata(1).controller_id;
  ASSERT_GT(controller, 0);
  const raft::NodeId follower = controller == 1 ? 2 : 1;
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"spread", 3, 1, {}, {}});
  auto created =
      cluster.Call<kafka::CreateTopicsResponse>(controller, create, 4, 400);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);

  kafka::DeleteGroupsRequest delete_groups;
  delete_groups.groups_names = {"g"};
  EXPECT_EQ(
      cluster.Call<kafka::DeleteGroupsResponse>(follower, delete_groups, 2)
          ->results.at(0)
          .error_code,
      error::kNotCoordinator);
  EXPECT_EQ(
      cluster.Call<kafka::DeleteGroupsResponse>(controller, delete_groups, 2)
          ->results.at(0)
          .error_code,
      error::kGroupIdNotFound);
  kafka::OffsetDeleteRequest offset_delete;
  offset_delete.group_id = "g";
  offset_delete.topics.push_back({"spread", {{0}}});
  EXPECT_EQ(
      cluster.Call<kafka::OffsetDeleteResponse>(follower, offset_delete, 0)
          ->error_code,
      error::kNotCoordinator);

  // Every partition is hosted by one node, and listed by that node only.
  std::multiset<int32_t> listed;
  for (raft::NodeId id = 1; id <= 3; ++id) {
    kafka::DescribeLogDirsRequest all;
    all.topics = std::nullopt;
    auto dirs = cluster.Call<kafka::DescribeLogDirsResponse>(id, all, 4);
    ASSERT_TRUE(dirs.has_value());
    ASSERT_EQ(dirs->results.size(), 1u);
    for (const auto& topic : dirs->results[0].topics) {
      for (const auto& p : topic.partitions) listed.insert(p.partition_index);
    }
  }
  EXPECT_EQ(listed, (std::multiset<int32_t>{0, 1, 2}));
}

}  // namespace
}  // namespace chronik::broker
