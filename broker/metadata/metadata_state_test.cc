#include "broker/metadata/metadata_state.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::metadata {

namespace error = kafka::error;
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

metapb::MetadataCommand Register(uint64_t id) {
  metapb::MetadataCommand command;
  metapb::BrokerInfo* broker =
      command.mutable_register_broker()->mutable_broker();
  broker->set_node_id(id);
  broker->set_host("127.0.0.1");
  broker->set_kafka_port(9091 + static_cast<int>(id));
  return command;
}

metapb::MetadataCommand Create(const std::string& name, int partitions,
                               int replication_factor, char id_byte = 'a') {
  metapb::MetadataCommand command;
  metapb::CreateTopic* create = command.mutable_create_topic();
  create->set_name(name);
  create->set_partitions(partitions);
  create->set_replication_factor(replication_factor);
  create->set_topic_id(std::string(16, id_byte));
  return command;
}

class MetadataStateTest : public ::testing::Test {
 protected:
  ApplyResult Apply(const metapb::MetadataCommand& command) {
    return state_.Apply(++index_, command);
  }
  MetadataState state_;
  uint64_t index_ = 0;
};

TEST_F(MetadataStateTest, CreateTopicAssignsGroupsAndSpreadsReplicas) {
  for (uint64_t id : {3, 1, 2})
    ASSERT_EQ(Apply(Register(id)).error_code, error::kNone);
  ASSERT_EQ(Apply(Create("orders", 3, 2)).error_code, error::kNone);
  const metapb::TopicInfo* topic = state_.FindTopic("orders");
  ASSERT_NE(topic, nullptr);
  ASSERT_EQ(topic->partitions_size(), 3);
  EXPECT_EQ(topic->partitions(0).group_id(), 1u);
  EXPECT_EQ(topic->partitions(2).group_id(), 3u);
  EXPECT_THAT(topic->partitions(0).replicas(), ElementsAre(1, 2));
  EXPECT_THAT(topic->partitions(1).replicas(), ElementsAre(2, 3));
  EXPECT_THAT(topic->partitions(2).replicas(), ElementsAre(3, 1));
  auto owner = state_.PartitionOfGroup(2);
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->first, "orders");
  EXPECT_EQ(owner->second, 1);
  EXPECT_EQ(state_.FindTopicById(std::string(16, 'a')), topic);
}

TEST_F(MetadataStateTest, RejectedCommandsChangeNothing) {
  ASSERT_EQ(Apply(Register(1)).error_code, error::kNone);
  ASSERT_EQ(Apply(Create("t", 1, 1)).error_code, error::kNone);
  const std::string before = state_.ToSnapshot().topics(0).SerializeAsString();

  ApplyResult duplicate = Apply(Create("t", 4, 1, 'b'));
  EXPECT_EQ(duplicate.error_code, error::kTopicAlreadyExists);
  EXPECT_THAT(duplicate.error_message, HasSubstr("'t' already exists"));
  EXPECT_EQ(Apply(Create("bad name!", 1, 1, 'c')).error_code,
            error::kInvalidTopic);
  EXPECT_EQ(Apply(Create("..", 1, 1, 'c')).error_code, error::kInvalidTopic);
  EXPECT_EQ(Apply(Create(std::string(250, 'x'), 1, 1, 'c')).error_code,
            error::kInvalidTopic);
  EXPECT_EQ(Apply(Create("u", 0, 1, 'c')).error_code,
            error::kInvalidPartitions);
  ApplyResult rf = Apply(Create("u", 1, 3, 'c'));
  EXPECT_EQ(rf.error_code, error::kInvalidReplicationFactor);
  EXPECT_THAT(rf.error_message, HasSubstr("with 1 live brokers"));
  EXPECT_EQ(Apply(Create("u", 1, 1, 'a')).error_code, error::kInvalidRequest)
      << "topic id reuse";
  EXPECT_EQ(state_.Topics().size(), 1u);
  EXPECT_EQ(state_.ToSnapshot().topics(0).SerializeAsString(), before);
  EXPECT_EQ(state_.next_group_id(), 2u);
}

TEST_F(MetadataStateTest, TopicConfigsAreValidatedOnCreateAndAlter) {
  ASSERT_EQ(Apply(Register(1)).error_code, error::kNone);
  metapb::MetadataCommand create = Create("c", 1, 1);
  auto add = [](auto* configs, const std::string& name,
                const std::string& value) {
    metapb::TopicConfigEntry* entry = configs->Add();
    entry->set_name(name);
    entry->set_value(value);
  };
  add(create.mutable_create_topic()->mutable_configs(), "retention.ms", "x");
  ApplyResult bad = Apply(create);
  EXPECT_EQ(bad.error_code, error::kInvalidConfig);
  EXPECT_THAT(bad.error_message, HasSubstr("retention.ms"));
  EXPECT_EQ(state_.FindTopic("c"), nullptr);

  create.mutable_create_topic()->mutable_configs(0)->set_value("1000");
  add(create.mutable_create_topic()->mutable_configs(), "retention.bytes",
      "8192");
  ASSERT_EQ(Apply(create).error_code, error::kNone);
  const metapb::TopicInfo* topic = state_.FindTopic("c");
  ASSERT_NE(topic, nullptr);
  ASSERT_EQ(topic->configs_size(), 2);
  EXPECT_EQ(topic->configs(0).name(), "retention.bytes");  // sorted

  metapb::MetadataCommand alter;
  alter.mutable_alter_topic_configs()->set_name("c");
  add(alter.mutable_alter_topic_configs()->mutable_set(), "cleanup.policy",
      "shred");
  EXPECT_EQ(Apply(alter).error_code, error::kInvalidConfig);
  alter.mutable_alter_topic_configs()->mutable_set(0)->set_name(
      "segment.bytes");
  alter.mutable_alter_topic_configs()->mutable_set(0)->set_value("1048576");
  ASSERT_EQ(Apply(alter).error_code, error::kNone);
  EXPECT_EQ(state_.FindTopic("c")->configs_size(), 3);
}

TEST_F(MetadataStateTest, DeleteAndGrowTopics) {
  ASSERT_EQ(Apply(Register(1)).error_code, error::kNone);
  ASSERT_EQ(Apply(Create("t", 2, 1)).error_code, error::kNone);
  metapb::MetadataCommand grow;
  grow.mutable_create_partitions()->set_name("t");
  grow.mutable_create_partitions()->set_total_count(5);
  ASSERT_EQ(Apply(grow).error_code, error::kNone);
  EXPECT_EQ(state_.FindTopic("t")->partitions_size(), 5);
  EXPECT_EQ(state_.FindTopic("t")->partitions(4).group_id(), 5u);
  EXPECT_EQ(Apply(grow).error_code, error::kInvalidPartitions) << "not larger";

  metapb::MetadataCommand remove;
  remove.mutable_delete_topic()->set_name("t");
  ASSERT_EQ(Apply(remove).error_code, error::kNone);
  EXPECT_EQ(state_.FindTopic("t"), nullptr);
  EXPECT_FALSE(state_.PartitionOfGroup(1).has_value());
  EXPECT_EQ(Apply(remove).error_code, error::kUnknownTopicOrPartition);
  // A re-created topic gets new groups: old replicas' logs are never reused.
  ASSERT_EQ(Apply(Create("t", 1, 1, 'z')).error_code, error::kNone);
  EXPECT_EQ(state_.FindTopic("t")->partitions(0).group_id(), 6u);
}

TEST_F(MetadataStateTest, OffsetsAndProducerIds) {
  metapb::MetadataCommand commit;
  commit.mutable_commit_offsets()->set_group("g");
  auto* entry = commit.mutable_commit_offsets()->add_offsets();
  entry->set_topic("t");
  entry->set_partition(0);
  entry->set_offset(42);
  entry->set_metadata("m");
  ASSERT_EQ(Apply(commit).error_code, error::kNone);
  entry->set_offset(43);
  ASSERT_EQ(Apply(commit).error_code, error::kNone);
  auto offset = state_.FindOffset("g", "t", 0);
  ASSERT_TRUE(offset.has_value());
  EXPECT_EQ(offset->offset, 43);
  EXPECT_EQ(offset->metadata, "m");
  EXPECT_FALSE(state_.FindOffset("g", "t", 1).has_value());

  metapb::MetadataCommand allocate;
  allocate.mutable_allocate_producer_ids()->set_count(10);
  const int64_t first = Apply(allocate).first_producer_id;
  EXPECT_EQ(Apply(allocate).first_producer_id, first + 10);
}

TEST_F(MetadataStateTest, DeleteGroupOffsetsRemovesPartitionsThenTheGroup) {
  metapb::MetadataCommand commit;
  commit.mutable_commit_offsets()->set_group("g");
  for (int p : {0, 1}) {
    auto* entry = commit.mutable_commit_offsets()->add_offsets();
    entry->set_topic("t");
    entry->set_partition(p);
    entry->set_offset(5);
  }
  ASSERT_EQ(Apply(commit).error_code, error::kNone);
  commit.mutable_commit_offsets()->set_group("h");
  ASSERT_EQ(Apply(commit).error_code, error::kNone);

  metapb::MetadataCommand some;
  some.mutable_delete_group_offsets()->set_group("g");
  auto* partition = some.mutable_delete_group_offsets()->add_partitions();
  partition->set_topic("t");
  partition->set_partition(0);
  ASSERT_EQ(Apply(some).error_code, error::kNone);
  EXPECT_FALSE(state_.FindOffset("g", "t", 0).has_value());
  EXPECT_TRUE(state_.FindOffset("g", "t", 1).has_value());
  partition->set_partition(1);
  ASSERT_EQ(Apply(some).error_code, error::kNone);
  EXPECT_FALSE(state_.HasOffsets("g"));  // its last offset went
  EXPECT_EQ(Apply(some).error_code, error::kGroupIdNotFound);

  metapb::MetadataCommand all;
  all.mutable_delete_group_offsets()->set_group("h");
  all.mutable_delete_group_offsets()->set_all(true);
  ASSERT_EQ(Apply(all).error_code, error::kNone);
  EXPECT_THAT(state_.OffsetGroups(), ::testing::IsEmpty());
  EXPECT_EQ(Apply(all).error_code, error::kGroupIdNotFound);
}

TEST_F(MetadataStateTest, SnapshotRoundTripIsExactAndDeterministic) {
  MetadataState other;
  uint64_t other_index = 0;
  std::vector<metapb::MetadataCommand> commands = {
      Register(2), Register(1), Create("b", 2, 2), Create("a", 1, 1, 'q')};
  for (const auto& command : commands) {
    Apply(command);
    other.Apply(++other_index, command);
  }
  const std::string bytes = state_.ToSnapshot().SerializeAsString();
  EXPECT_EQ(other.ToSnapshot().SerializeAsString(), bytes);
  absl::StatusOr<MetadataState> restored =
      MetadataState::FromSnapshot(state_.ToSnapshot());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->ToSnapshot().SerializeAsString(), bytes);
  // The restored state continues exactly like the original.
  EXPECT_EQ(restored->Apply(index_ + 1, Create("c", 1, 2, 'r')).error_code,
            error::kNone);
  Apply(Create("c", 1, 2, 'r'));
  EXPECT_EQ(restored->ToSnapshot().SerializeAsString(),
            state_.ToSnapshot().SerializeAsString());
}

TEST_F(MetadataStateTest, CorruptSnapshotIsRejected) {
  Apply(Register(1));
  Apply(Create("t", 1, 1));
  metapb::MetadataSnapshot snapshot = state_.ToSnapshot();
  *snapshot.add_topics() = snapshot.topics(0);
  EXPECT_THAT(MetadataState::FromSnapshot(snapshot).status().message(),
              HasSubstr("lists topic 't' twice"));
  snapshot = state_.ToSnapshot();
  snapshot.set_next_group_id(1);
  EXPECT_FALSE(MetadataState::FromSnapshot(snapshot).ok());
}

TEST(MetadataStateDeathTest, OutOfOrderApplyCrashes) {
  MetadataState state;
  state.Apply(5, Register(1));
  EXPECT_DEATH(state.Apply(5, Register(2)), "applied out of order");
}

TEST_F(MetadataStateTest, PartitionLeaderReportsKeepTheNewestTerm) {
  for (uint64_t id = 1; id <= 3; ++id) {
    ASSERT_EQ(Apply(Register(id)).error_code, error::kNone);
  }
  ASSERT_EQ(Apply(Create("led", 1, 2)).error_code, error::kNone);
  const metapb::PartitionInfo& before = state_.FindTopic("led")->partitions(0);
  EXPECT_EQ(before.leader(), 0u) << "no report yet";
  const uint64_t group = before.group_id();
  const uint64_t first = before.replicas(0);
  const uint64_t second = before.replicas(1);
  auto report = [&](uint64_t leader, uint64_t term) {
    metapb::MetadataCommand command;
    command.mutable_report_partition_leader()->set_group_id(group);
    command.mutable_report_partition_leader()->set_leader(leader);
    command.mutable_report_partition_leader()->set_term(term);
    return Apply(command);
  };
  ASSERT_EQ(report(second, 5).error_code, error::kNone);
  ASSERT_EQ(report(first, 4).error_code, error::kNone);  // late, older
  const metapb::PartitionInfo& after = state_.FindTopic("led")->partitions(0);
  EXPECT_EQ(after.leader(), second);
  EXPECT_EQ(after.leader_term(), 5u);
  uint64_t outsider = 1;
  while (outsider == first || outsider == second) ++outsider;
  EXPECT_EQ(report(outsider, 9).error_code, error::kInvalidRequest)
      << "only a replica can lead";
  EXPECT_EQ(state_.FindTopic("led")->partitions(0).leader(), second);
}

TEST_F(MetadataStateTest, FencedBrokersLeaveTheLiveListUntilUnfenced) {
  for (uint64_t id = 1; id <= 3; ++id) {
    ASSERT_EQ(Apply(Register(id)).error_code, error::kNone);
  }
  metapb::MetadataCommand fence;
  fence.mutable_fence_broker()->set_node_id(2);
  ASSERT_EQ(Apply(fence).error_code, error::kNone);
  EXPECT_TRUE(state_.IsFenced(2));
  EXPECT_FALSE(state_.IsFenced(1));
  EXPECT_EQ(state_.Brokers().size(), 3u) << "still registered";
  std::vector<uint64_t> live;
  for (const metapb::BrokerInfo* broker : state_.LiveBrokers()) {
    live.push_back(broker->node_id());
  }
  EXPECT_THAT(live, ElementsAre(1, 3));
  // A re-registration (a restart) keeps the fencing: only the controller
  // unfences, once it hears from the broker.
  ASSERT_EQ(Apply(Register(2)).error_code, error::kNone);
  EXPECT_TRUE(state_.IsFenced(2));
  const std::string before = state_.ToSnapshot().SerializeAsString();
  auto restored = MetadataState::FromSnapshot(state_.ToSnapshot());
  ASSERT_TRUE(restored.ok());
  EXPECT_TRUE(restored->IsFenced(2)) << "fencing is in the snapshot";
  metapb::MetadataCommand unfence;
  unfence.mutable_unfence_broker()->set_node_id(2);
  ASSERT_EQ(Apply(unfence).error_code, error::kNone);
  EXPECT_FALSE(state_.IsFenced(2));
  EXPECT_EQ(state_.LiveBrokers().size(), 3u);
  EXPECT_NE(state_.ToSnapshot().SerializeAsString(), before);
  fence.mutable_fence_broker()->set_node_id(7);
  EXPECT_EQ(Apply(fence).error_code, error::kInvalidRequest)
      << "an unknown broker cannot be fenced";
}

TEST_F(MetadataStateTest, FencedBrokersGetNoNewReplicas) {
  for (uint64_t id = 1; id <= 3; ++id) {
    ASSERT_EQ(Apply(Register(id)).error_code, error::kNone);
  }
  metapb::MetadataCommand fence;
  fence.mutable_fence_broker()->set_node_id(2);
  ASSERT_EQ(Apply(fence).error_code, error::kNone);
  EXPECT_EQ(Apply(Create("wide", 1, 3)).error_code,
            error::kInvalidReplicationFactor)
      << "only two brokers are live";
  ASSERT_EQ(Apply(Create("narrow", 4, 1, 'b')).error_code, error::kNone);
  for (const metapb::PartitionInfo& p :
       state_.FindTopic("narrow")->partitions()) {
    EXPECT_NE(p.replicas(0), 2u) << "partition " << p.partition();
  }
  metapb::MetadataCommand grow;
  grow.mutable_create_partitions()->set_name("narrow");
  grow.mutable_create_partitions()->set_total_count(6);
  ASSERT_EQ(Apply(grow).error_code, error::kNone);
  EXPECT_NE(state_.FindTopic("narrow")->partitions(4).replicas(0), 2u);
  EXPECT_NE(state_.FindTopic("narrow")->partitions(5).replicas(0), 2u);
}

TEST_F(MetadataStateTest, IsrReportsFollowTheirLeadersTerm) {
  for (uint64_t id = 1; id <= 3; ++id) {
    ASSERT_EQ(Apply(Register(id)).error_code, error::kNone);
  }
  ASSERT_EQ(Apply(Create("isr", 1, 3)).error_code, error::kNone);
  const uint64_t group = state_.FindTopic("isr")->partitions(0).group_id();
  auto report = [&](uint64_t leader, uint64_t term, std::vector<uint64_t> isr) {
    metapb::MetadataCommand command;
    metapb::ReportPartitionLeader* r =
        command.mutable_report_partition_leader();
    r->set_group_id(group);
    r->set_leader(leader);
    r->set_term(term);
    for (uint64_t id : isr) r->add_isr(id);
    return Apply(command);
  };
  auto isr = [&] {
    const auto& in = state_.FindTopic("isr")->partitions(0).isr();
    return std::vector<uint64_t>(in.begin(), in.end());
  };
  EXPECT_TRUE(isr().empty()) << "nothing reported yet";
  ASSERT_EQ(report(2, 3, {1, 2, 3}).error_code, error::kNone);
  EXPECT_THAT(isr(), ElementsAre(1, 2, 3));
  ASSERT_EQ(report(2, 3, {2, 3}).error_code, error::kNone);  // shrink
  EXPECT_THAT(isr(), ElementsAre(2, 3));
  ASSERT_EQ(report(1, 3, {1}).error_code, error::kNone);
  EXPECT_THAT(isr(), ElementsAre(2, 3)) << "not the recorded term's leader";
  ASSERT_EQ(report(3, 2, {3}).error_code, error::kNone);
  EXPECT_THAT(isr(), ElementsAre(2, 3)) << "an older term";
  ASSERT_EQ(report(3, 4, {1, 3}).error_code, error::kNone);
  EXPECT_THAT(isr(), ElementsAre(1, 3)) << "a new leader's ISR";
  EXPECT_EQ(report(3, 4, {1}).error_code, error::kInvalidRequest)
      << "the leader is in its own ISR";
  EXPECT_EQ(report(3, 4, {3, 1}).error_code, error::kInvalidRequest);
  EXPECT_EQ(report(3, 4, {3, 3}).error_code, error::kInvalidRequest);
  EXPECT_EQ(report(3, 4, {3, 9}).error_code, error::kInvalidRequest);
  EXPECT_THAT(isr(), ElementsAre(1, 3)) << "rejected reports change nothing";
  ASSERT_EQ(report(3, 4, {}).error_code, error::kNone);
  EXPECT_THAT(isr(), ElementsAre(1, 3)) << "a report without ISR keeps it";
}

TEST_F(MetadataStateTest, CompleteReassignmentKeepsTheIsrOfReplicasThatStay) {
  for (uint64_t id = 1; id <= 4; ++id) {
    ASSERT_EQ(Apply(Register(id)).error_code, error::kNone);
  }
  ASSERT_EQ(Apply(Create("m", 1, 3)).error_code, error::kNone);
  const metapb::PartitionInfo& partition = state_.FindTopic("m")->partitions(0);
  ASSERT_THAT(partition.replicas(), ElementsAre(1, 2, 3));
  metapb::MetadataCommand report;
  report.mutable_report_partition_leader()->set_group_id(partition.group_id());
  report.mutable_report_partition_leader()->set_leader(1);
  report.mutable_report_partition_leader()->set_term(1);
  for (uint64_t id : {1, 2, 3}) {
    report.mutable_report_partition_leader()->add_isr(id);
  }
  ASSERT_EQ(Apply(report).error_code, error::kNone);
  metapb::MetadataCommand move;
  move.mutable_alter_reassignment()->set_topic("m");
  for (uint64_t id : {4, 1, 2}) {
    move.mutable_alter_reassignment()->add_target_replicas(id);
  }
  ASSERT_EQ(Apply(move).error_code, error::kNone);
  metapb::MetadataCommand complete;
  complete.mutable_complete_reassignment()->set_group_id(partition.group_id());
  for (uint64_t id : {4, 1, 2}) {
    complete.mutable_complete_reassignment()->add_replicas(id);
  }
  ASSERT_EQ(Apply(complete).error_code, error::kNone);
  EXPECT_THAT(partition.replicas(), ElementsAre(4, 1, 2));
  EXPECT_TRUE(partition.target_replicas().empty());
  // Not empty: an empty ISR would make the leader count every new replica,
  // a down one too, as in sync (the simulator's seed 246 with 5 nodes).
  EXPECT_THAT(partition.isr(), ElementsAre(1, 2))
      << "the joining replica enters once its leader reports it caught up";
}

}  // namespace
}  // namespace chronik::metadata
