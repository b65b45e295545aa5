// Static group membership (KIP-345) through real request frames: a restarted
// static member gets its assignment back without a rebalance, its replaced
// member id is fenced (FENCED_INSTANCE_ID) in Heartbeat, SyncGroup,
// OffsetCommit and LeaveGroup, and LeaveGroup v3 removes a member by
// group.instance.id.
#include <optional>
#include <string>

#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

namespace error = kafka::error;
using testing::BrokerTest;

class StaticMembersTest : public BrokerTest {
 protected:
  kafka::JoinGroupResponse Join(const std::string& member_id) {
    kafka::JoinGroupRequest join;
    join.group_id = "g";
    join.session_timeout_ms = 10000;
    join.rebalance_timeout_ms = 10000;
    join.member_id = member_id;
    join.group_instance_id = "instance-1";
    join.protocol_type = "consumer";
    join.protocols.push_back({"range", "meta"});
    return Call<kafka::JoinGroupResponse>(join, 5);
  }
  kafka::SyncGroupResponse Sync(const std::string& member_id,
                                int32_t generation, bool assign) {
    kafka::SyncGroupRequest sync;
    sync.group_id = "g";
    sync.generation_id = generation;
    sync.member_id = member_id;
    sync.group_instance_id = "instance-1";
    if (assign) sync.assignments.push_back({member_id, "mine"});
    return Call<kafka::SyncGroupResponse>(sync, 3);
  }
  int16_t Heartbeat(const std::string& member_id, int32_t generation) {
    kafka::HeartbeatRequest heartbeat;
    heartbeat.group_id = "g";
    heartbeat.generation_id = generation;
    heartbeat.member_id = member_id;
    heartbeat.group_instance_id = "instance-1";
    return Call<kafka::HeartbeatResponse>(heartbeat, 3).error_code;
  }
  int16_t Leave(const std::string& member_id, const std::string& instance) {
    kafka::LeaveGroupRequest leave;
    leave.group_id = "g";
    leave.members.push_back({member_id, instance});
    auto response = Call<kafka::LeaveGroupResponse>(leave, 3);
    EXPECT_EQ(response.members.size(), 1u);
    return response.members.at(0).error_code;
  }
};

TEST_F(StaticMembersTest, RestartKeepsAssignmentAndFencesTheOldMemberId) {
  kafka::JoinGroupResponse first = Join("");
  ASSERT_EQ(first.error_code, error::kNone);  // no MEMBER_ID_REQUIRED
  const std::string old_id = first.member_id;
  ASSERT_EQ(Sync(old_id, first.generation_id, true).assignment, "mine");

  kafka::JoinGroupResponse again = Join("");
  ASSERT_EQ(again.error_code, error::kNone);
  EXPECT_NE(again.member_id, old_id);
  EXPECT_EQ(again.generation_id, first.generation_id);
  EXPECT_EQ(again.leader, old_id);
  EXPECT_TRUE(again.members.empty());
  EXPECT_EQ(Sync(again.member_id, again.generation_id, false).assignment,
            "mine");

  EXPECT_EQ(Heartbeat(old_id, first.generation_id), error::kFencedInstanceId);
  EXPECT_EQ(Sync(old_id, first.generation_id, false).error_code,
            error::kFencedInstanceId);
  kafka::OffsetCommitRequest commit;
  commit.group_id = "g";
  commit.generation_id = first.generation_id;
  commit.member_id = old_id;
  commit.group_instance_id = "instance-1";
  commit.topics.push_back({"t", {{}}});
  auto committed = Call<kafka::OffsetCommitResponse>(commit, 7);
  EXPECT_EQ(committed.topics.at(0).partitions.at(0).error_code,
            error::kFencedInstanceId);
  EXPECT_EQ(Leave(old_id, "instance-1"), error::kFencedInstanceId);
  EXPECT_EQ(Heartbeat(again.member_id, again.generation_id), error::kNone);

  EXPECT_EQ(Leave("", "nobody"), error::kUnknownMemberId);
  EXPECT_EQ(Leave("", "instance-1"), error::kNone);
  EXPECT_EQ(Heartbeat(again.member_id, again.generation_id),
            error::kUnknownMemberId);
}

}  // namespace
}  // namespace chronik::broker
