// Static membership (KIP-345) in the GroupCoordinator: restarts without a
// rebalance, fencing of the replaced member id, LeaveGroup by instance id.
#include <cstdint>
#include <string>

#include "broker/group/group_coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::group {

namespace error = kafka::error;
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A ConsumerProtocolSubscription v1: topics, null user data, then the owned
// partitions (`owned` stands for them: it only has to differ).
std::string Subscription(const std::string& topic, const std::string& owned) {
  std::string out("\x00\x01\x00\x00\x00\x01", 6);
  out += std::string("\x00", 1) + static_cast<char>(topic.size()) + topic;
  out += std::string("\xff\xff\xff\xff", 4) + owned;
  return out;
}

JoinRequest Static(const std::string& member_id, const std::string& instance,
                   const std::string& metadata) {
  JoinRequest request;
  request.group_id = "g";
  request.member_id = member_id;
  request.group_instance_id = instance;
  request.client_id = "c";
  request.protocol_type = "consumer";
  request.protocols = {{"range", metadata}};
  return request;
}

class StaticMembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::optional<JoinResult> a =
        coordinator_.Join(1, Static("", "ia", T1()), now_);
    ASSERT_TRUE(a.has_value());
    ASSERT_EQ(a->error_code, error::kNone);  // no MEMBER_ID_REQUIRED round
    a_ = a->member_id;
    EXPECT_FALSE(coordinator_.Join(2, Static("", "ib", T1()), now_));
    b_ = coordinator_.Describe("g")->members[1].member_id;
    std::optional<JoinResult> again =
        coordinator_.Join(3, Static(a_, "ia", T1()), now_);
    ASSERT_TRUE(again.has_value());
    ASSERT_EQ(again->generation_id, 2);
    SyncRequest sync{"g", 2, a_, "ia", {{a_, "A"}, {b_, "B"}}};
    ASSERT_EQ(coordinator_.Sync(4, sync, now_)->assignment, "A");
    coordinator_.TakeCompletions();
    ASSERT_EQ(coordinator_.Describe("g")->state, "Stable");
  }
  static std::string T1(const std::string& owned = "") {
    return Subscription("t1", owned);
  }

  GroupCoordinator coordinator_{7};
  int64_t now_ = 1'000'000;
  std::string a_, b_;
};

TEST_F(StaticMembershipTest, RestartTakesOverAssignmentWithoutRebalance) {
  std::optional<JoinResult> back =
      coordinator_.Join(10, Static("", "ia", T1("owned-nothing")), now_);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->error_code, error::kNone);
  EXPECT_NE(back->member_id, a_);
  EXPECT_EQ(back->generation_id, 2);
  EXPECT_EQ(back->leader, a_);  // the old leader id: it must not assign
  EXPECT_THAT(back->members, IsEmpty());
  const std::string a2 = back->member_id;
  SyncRequest sync{"g", 2, a2, "ia", {}};
  EXPECT_EQ(coordinator_.Sync(11, sync, now_)->assignment, "A");
  EXPECT_EQ(coordinator_.Heartbeat("g", b_, 2, now_, "ib"), error::kNone);
  EXPECT_EQ(coordinator_.Heartbeat("g", a2, 2, now_, "ia"), error::kNone);
  EXPECT_EQ(coordinator_.Describe("g")->state, "Stable");
  EXPECT_EQ(coordinator_.Describe("g")->generation_id, 2);
}

TEST_F(StaticMembershipTest, ReplacedMemberIdIsFenced) {
  ASSERT_TRUE(coordinator_.Join(10, Static("", "ia", T1()), now_));
  EXPECT_EQ(coordinator_.Heartbeat("g", a_, 2, now_, "ia"),
            error::kFencedInstanceId);
  EXPECT_EQ(coordinator_.Heartbeat("g", a_, 2, now_), error::kUnknownMemberId);
  SyncRequest sync{"g", 2, a_, "ia", {}};
  EXPECT_EQ(coordinator_.Sync(11, sync, now_)->error_code,
            error::kFencedInstanceId);
  EXPECT_EQ(coordinator_.ValidateCommit("g", a_, 2, "ia"),
            error::kFencedInstanceId);
  EXPECT_EQ(coordinator_.Join(12, Static(a_, "ia", T1()), now_)->error_code,
            error::kFencedInstanceId);
  EXPECT_THAT(coordinator_.LeaveMembers("g", {{a_, "ia"}}, now_),
              ElementsAre(error::kFencedInstanceId));
  EXPECT_EQ(coordinator_.Describe("g")->state, "Stable");
}

TEST_F(StaticMembershipTest, RestartWithChangedSubscriptionRebalances) {
  JoinRequest changed = Static("", "ia", Subscription("t2", ""));
  EXPECT_FALSE(coordinator_.Join(10, changed, now_).has_value());
  EXPECT_EQ(coordinator_.Heartbeat("g", b_, 2, now_, "ib"),
            error::kRebalanceInProgress);
}

TEST_F(StaticMembershipTest, RestartWhilePreparingFencesTheParkedJoin) {
  EXPECT_FALSE(coordinator_.Join(10, Static(a_, "ia", T1()), now_));
  EXPECT_FALSE(coordinator_.Join(11, Static("", "ia", T1()), now_));
  std::vector<Completion> done = coordinator_.TakeCompletions();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].ticket, 10u);
  EXPECT_EQ(done[0].join->error_code, error::kFencedInstanceId);
}

TEST_F(StaticMembershipTest, LeaveByInstanceIdRemovesTheStaticMember) {
  EXPECT_THAT(coordinator_.LeaveMembers("g", {{"", "nobody"}}, now_),
              ElementsAre(error::kUnknownMemberId));
  EXPECT_THAT(coordinator_.LeaveMembers("g", {{"", "ia"}}, now_),
              ElementsAre(error::kNone));
  EXPECT_EQ(coordinator_.Heartbeat("g", a_, 2, now_, "ia"),
            error::kUnknownMemberId);
  EXPECT_EQ(coordinator_.Heartbeat("g", b_, 2, now_, "ib"),
            error::kRebalanceInProgress);
}

TEST_F(StaticMembershipTest, SessionExpiryRemovesAStaticMember) {
  EXPECT_EQ(coordinator_.Heartbeat("g", b_, 2, now_ + 9'000, "ib"),
            error::kNone);
  coordinator_.Tick(now_ + 10'001);  // a is silent past its session
  EXPECT_EQ(coordinator_.Heartbeat("g", b_, 2, now_ + 10'001, "ib"),
            error::kRebalanceInProgress);
  EXPECT_EQ(coordinator_.Describe("g")->members.size(), 1u);
}

}  // namespace
}  // namespace chronik::group
