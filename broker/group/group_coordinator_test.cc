#include "broker/group/group_coordinator.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::group {

namespace error = kafka::error;
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::SizeIs;

JoinRequest Request(const std::string& member_id,
                    const std::string& protocol = "range") {
  JoinRequest request;
  request.group_id = "g";
  request.member_id = member_id;
  request.client_id = "c";
  request.protocol_type = "consumer";
  request.protocols = {{protocol, "meta-" + protocol}};
  request.session_timeout_ms = 10'000;
  request.rebalance_timeout_ms = 30'000;
  return request;
}

class GroupCoordinatorTest : public ::testing::Test {
 protected:
  // New member: MEMBER_ID_REQUIRED first, then the join with the issued id.
  std::string IssueId() {
    std::optional<JoinResult> first =
        coordinator_.Join(++ticket_, Request(""), now_);
    EXPECT_TRUE(first.has_value());
    EXPECT_EQ(first->error_code, error::kMemberIdRequired);
    EXPECT_FALSE(first->member_id.empty());
    return first->member_id;
  }
  SyncRequest Sync(const std::string& member, int32_t generation) {
    SyncRequest request;
    request.group_id = "g";
    request.member_id = member;
    request.generation_id = generation;
    return request;
  }
  // Brings up a stable group of one member; returns its id.
  std::string StableSingle() {
    const std::string a = IssueId();
    std::optional<JoinResult> joined =
        coordinator_.Join(++ticket_, Request(a), now_);
    EXPECT_TRUE(joined.has_value());
    EXPECT_EQ(joined->error_code, error::kNone);
    SyncRequest sync = Sync(a, joined->generation_id);
    sync.assignments[a] = "all";
    EXPECT_TRUE(coordinator_.Sync(++ticket_, sync, now_).has_value());
    return a;
  }

  GroupCoordinator coordinator_{7};
  Ticket ticket_ = 0;
  int64_t now_ = 1'000'000;
};

TEST_F(GroupCoordinatorTest, SingleMemberJoinsSyncsAndIsStable) {
  const std::string a = IssueId();
  EXPECT_EQ(a, "c-7-1");
  std::optional<JoinResult> joined =
      coordinator_.Join(++ticket_, Request(a), now_);
  ASSERT_TRUE(joined.has_value());
  EXPECT_EQ(joined->error_code, error::kNone);
  EXPECT_EQ(joined->generation_id, 1);
  EXPECT_EQ(joined->leader, a);
  EXPECT_EQ(joined->protocol_name, "range");
  ASSERT_THAT(joined->members, SizeIs(1));
  EXPECT_EQ(joined->members[0].metadata, "meta-range");
  SyncRequest sync = Sync(a, 1);
  sync.assignments[a] = "p0,p1";
  std::optional<SyncResult> synced = coordinator_.Sync(++ticket_, sync, now_);
  ASSERT_TRUE(synced.has_value());
  EXPECT_EQ(synced->assignment, "p0,p1");
  EXPECT_EQ(coordinator_.Describe("g")->state, "Stable");
  EXPECT_EQ(coordinator_.Heartbeat("g", a, 1, now_), error::kNone);
}

TEST_F(GroupCoordinatorTest,
       SecondMemberTriggersRebalanceAndBothGetAssignments) {
  const std::string a = StableSingle();
  const std::string b = IssueId();
  const Ticket b_join = ++ticket_;
  EXPECT_FALSE(coordinator_.Join(b_join, Request(b), now_).has_value())
      << "parked until A rejoins";
  EXPECT_EQ(coordinator_.Heartbeat("g", a, 1, now_),
            error::kRebalanceInProgress);
  std::optional<JoinResult> a_joined =
      coordinator_.Join(++ticket_, Request(a), now_);
  ASSERT_TRUE(a_joined.has_value()) << "A's rejoin completes the round";
  EXPECT_EQ(a_joined->generation_id, 2);
  EXPECT_EQ(a_joined->leader, a);
  EXPECT_THAT(a_joined->members, SizeIs(2));
  std::vector<Completion> parked = coordinator_.TakeCompletions();
  ASSERT_THAT(parked, SizeIs(1));
  EXPECT_EQ(parked[0].ticket, b_join);
  ASSERT_TRUE(parked[0].join.has_value());
  EXPECT_EQ(parked[0].join->generation_id, 2);
  EXPECT_THAT(parked[0].join->members, IsEmpty())
      << "only the leader gets them";

  const Ticket b_sync = ++ticket_;
  EXPECT_FALSE(coordinator_.Sync(b_sync, Sync(b, 2), now_).has_value());
  SyncRequest leader_sync = Sync(a, 2);
  leader_sync.assignments = {{a, "p0"}, {b, "p1"}};
  EXPECT_EQ(coordinator_.Sync(++ticket_, leader_sync, now_)->assignment, "p0");
  parked = coordinator_.TakeCompletions();
  ASSERT_THAT(parked, SizeIs(1));
  EXPECT_EQ(parked[0].ticket, b_sync);
  EXPECT_EQ(parked[0].sync->assignment, "p1");
  EXPECT_EQ(coordinator_.Heartbeat("g", b, 2, now_), error::kNone);
  EXPECT_EQ(coordinator_.Heartbeat("g", b, 1, now_), error::kIllegalGeneration);
}

TEST_F(GroupCoordinatorTest,
       MemberThatDoesNotRejoinIsDroppedAtRebalanceTimeout) {
  const std::string a = StableSingle();
  const std::string b = IssueId();
  const Ticket b_join = ++ticket_;
  ASSERT_FALSE(coordinator_.Join(b_join, Request(b), now_).has_value());
  // A stays alive (heartbeats within its 10 s session) but never rejoins.
  for (int64_t t = 9'000; t < 30'000; t += 9'000) {
    EXPECT_EQ(coordinator_.Heartbeat("g", a, 1, now_ + t),
              error::kRebalanceInProgress);
    coordinator_.Tick(now_ + t);
  }
  coordinator_.Tick(now_ + 29'999);
  EXPECT_THAT(coordinator_.TakeCompletions(), IsEmpty());
  coordinator_.Tick(now_ + 30'000);
  std::vector<Completion> done = coordinator_.TakeCompletions();
  ASSERT_THAT(done, SizeIs(1));
  EXPECT_EQ(done[0].join->leader, b) << "A was dropped, B leads";
  EXPECT_THAT(done[0].join->members, SizeIs(1));
  EXPECT_EQ(coordinator_.Heartbeat("g", a, 1, now_ + 30'000),
            error::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, SilentMemberExpiresAndGroupRebalances) {
  const std::string a = StableSingle();
  EXPECT_EQ(coordinator_.Heartbeat("g", a, 1, now_ + 9'000), error::kNone);
  coordinator_.Tick(now_ + 18'999);
  EXPECT_EQ(coordinator_.Describe("g")->members.size(), 1u);
  coordinator_.Tick(now_ + 19'000);
  EXPECT_EQ(coordinator_.Describe("g")->state, "Empty");
  EXPECT_THAT(coordinator_.Describe("g")->members, IsEmpty());
}

TEST_F(GroupCoordinatorTest, LeaveRemovesMemberAndUnknownMembersAreReported) {
  const std::string a = StableSingle();
  EXPECT_THAT(coordinator_.Leave("g", {a, "nobody"}, now_),
              ElementsAre(error::kNone, error::kUnknownMemberId));
  EXPECT_EQ(coordinator_.Describe("g")->state, "Empty");
  EXPECT_EQ(coordinator_.Heartbeat("g", a, 1, now_), error::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, RequestErrors) {
  JoinRequest bad = Request("");
  bad.session_timeout_ms = 10;
  EXPECT_EQ(coordinator_.Join(++ticket_, bad, now_)->error_code,
            error::kInvalidSessionTimeout);
  bad = Request("");
  bad.group_id = "";
  EXPECT_EQ(coordinator_.Join(++ticket_, bad, now_)->error_code,
            error::kInvalidGroupId);
  EXPECT_EQ(coordinator_.Join(++ticket_, Request("made-up"), now_)->error_code,
            error::kUnknownMemberId);
  const std::string a = StableSingle();
  JoinRequest other_type = Request("");
  other_type.protocol_type = "connect";
  EXPECT_EQ(coordinator_.Join(++ticket_, other_type, now_)->error_code,
            error::kInconsistentGroupProtocol);
  EXPECT_EQ(
      coordinator_.Join(++ticket_, Request("", "sticky"), now_)->error_code,
      error::kInconsistentGroupProtocol)
      << "no protocol shared with the members";
  EXPECT_EQ(coordinator_.Sync(++ticket_, Sync(a, 5), now_)->error_code,
            error::kIllegalGeneration);
  EXPECT_EQ(coordinator_.Sync(++ticket_, Sync("x", 1), now_)->error_code,
            error::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, CommitValidation) {
  EXPECT_EQ(coordinator_.ValidateCommit("free", "", -1), error::kNone);
  EXPECT_EQ(coordinator_.ValidateCommit("free", "m", 3),
            error::kIllegalGeneration);
  const std::string a = StableSingle();
  EXPECT_EQ(coordinator_.ValidateCommit("g", a, 1), error::kNone);
  EXPECT_EQ(coordinator_.ValidateCommit("g", a, 2), error::kIllegalGeneration);
  EXPECT_EQ(coordinator_.ValidateCommit("g", "x", 1), error::kUnknownMemberId);
  EXPECT_EQ(coordinator_.ValidateCommit("g", "", -1), error::kUnknownMemberId)
      << "a live group's offsets are its members' to commit";
}

// Kafka accepts OffsetCommit from a member of the current generation while a
// rebalance is being prepared (the member commits before giving up its
// partitions, here when B joins a group of one); it answers
// REBALANCE_IN_PROGRESS only between the joins and the leader's SyncGroup.
TEST_F(GroupCoordinatorTest, CommitOfTheCurrentGenerationWhilePreparing) {
  const std::string a = StableSingle();
  const std::string b = IssueId();
  const Ticket b_join = ++ticket_;
  ASSERT_FALSE(coordinator_.Join(b_join, Request(b), now_).has_value());
  ASSERT_EQ(coordinator_.Describe("g")->state, "PreparingRebalance");
  EXPECT_EQ(coordinator_.ValidateCommit("g", a, 1), error::kNone)
      << "A's commit before it rejoins";
  EXPECT_EQ(coordinator_.ValidateCommit("g", a, 0), error::kIllegalGeneration);
  EXPECT_EQ(coordinator_.ValidateCommit("g", b, 1), error::kNone)
      << "B is a member now (Kafka checks the member and the generation)";
  std::optional<JoinResult> a_joined =
      coordinator_.Join(++ticket_, Request(a), now_);
  ASSERT_TRUE(a_joined.has_value());
  ASSERT_EQ(coordinator_.Describe("g")->state, "CompletingRebalance");
  EXPECT_EQ(coordinator_.ValidateCommit("g", a, 2),
            error::kRebalanceInProgress);
  EXPECT_EQ(coordinator_.ValidateCommit("g", a, 1), error::kIllegalGeneration);
}

// Kafka expires sessions in every state: a member that dies without leaving
// while a rebalance is being prepared is removed at its session timeout, and
// the round completes without it (not only at the rebalance timeout).
TEST_F(GroupCoordinatorTest, SilentMemberExpiresWhileARebalanceIsPrepared) {
  const std::string a = StableSingle();  // then A dies silently
  const std::string b = IssueId();
  const Ticket b_join = ++ticket_;
  ASSERT_FALSE(coordinator_.Join(b_join, Request(b), now_ + 1'000).has_value());
  coordinator_.Tick(now_ + 9'999);
  EXPECT_THAT(coordinator_.TakeCompletions(), IsEmpty());
  coordinator_.Tick(now_ + 10'000);  // A's session (10 s) is over
  std::vector<Completion> done = coordinator_.TakeCompletions();
  ASSERT_THAT(done, SizeIs(1));
  EXPECT_EQ(done[0].ticket, b_join);
  ASSERT_TRUE(done[0].join.has_value());
  EXPECT_EQ(done[0].join->leader, b);
  EXPECT_THAT(done[0].join->members, SizeIs(1));
  EXPECT_EQ(coordinator_.Heartbeat("g", a, 1, now_ + 10'000),
            error::kUnknownMemberId);
  // B waits on its parked join past its own session: it is not expired.
  coordinator_.Tick(now_ + 12'000);
  EXPECT_EQ(coordinator_.Describe("g")->members.size(), 1u);
}

TEST_F(GroupCoordinatorTest, ResetAnswersParkedRequests) {
  StableSingle();
  const std::string b = IssueId();
  const Ticket parked = ++ticket_;
  coordinator_.Join(parked, Request(b), now_);
  coordinator_.Reset(/*NOT_COORDINATOR=*/16);
  std::vector<Completion> done = coordinator_.TakeCompletions();
  ASSERT_THAT(done, SizeIs(1));
  EXPECT_EQ(done[0].ticket, parked);
  EXPECT_EQ(done[0].join->error_code, error::kNotCoordinator);
  EXPECT_FALSE(coordinator_.Describe("g").has_value());
}

TEST_F(GroupCoordinatorTest, DeleteRemovesOnlyEmptyGroups) {
  const std::string a = StableSingle();
  EXPECT_EQ(coordinator_.Delete("g"), error::kNonEmptyGroup);
  EXPECT_EQ(coordinator_.Describe("g")->state, "Stable");
  EXPECT_EQ(coordinator_.Delete("unknown"), error::kGroupIdNotFound);
  ASSERT_THAT(coordinator_.Leave("g", {a}, now_), ElementsAre(error::kNone));
  EXPECT_EQ(coordinator_.Delete("g"), error::kNone);
  EXPECT_FALSE(coordinator_.Describe("g").has_value());
  EXPECT_EQ(coordinator_.Delete("g"), error::kGroupIdNotFound);
}

TEST_F(GroupCoordinatorTest, ListShowsGroupsSorted) {
  StableSingle();
  JoinRequest other = Request("");
  other.group_id = "a-group";
  other.require_known_member_id = false;
  coordinator_.Join(++ticket_, other, now_);
  EXPECT_THAT(coordinator_.List(),
              ElementsAre(Field(&GroupDescription::group_id, "a-group"),
                          Field(&GroupDescription::group_id, "g")));
}

}  // namespace
}  // namespace chronik::group

namespace chronik::group {
namespace {

// group.initial.rebalance.delay.ms: an empty group's first round waits for
// more members (each newcomer extends the wait, never past the rebalance
// timeout), so members arriving together make one generation, not several.
TEST(GroupCoordinatorInitialDelayTest, FirstRoundWaitsForMoreMembers) {
  constexpr int64_t kDelayMs = 3'000;
  GroupCoordinator coordinator(7, {}, kDelayMs);
  int64_t now = 1'000'000;
  JoinRequest a = Request("");
  a.require_known_member_id = false;
  EXPECT_FALSE(coordinator.Join(1, a, now).has_value()) << "waits the delay";
  coordinator.Tick(now + kDelayMs - 1'000);
  EXPECT_THAT(coordinator.TakeCompletions(), IsEmpty());
  JoinRequest b = a;
  EXPECT_FALSE(coordinator.Join(2, b, now + 2'000).has_value());
  coordinator.Tick(now + kDelayMs + 1'000);  // past a's delay, not b's
  EXPECT_THAT(coordinator.TakeCompletions(), IsEmpty());
  coordinator.Tick(now + 2'000 + kDelayMs);
  std::vector<Completion> done = coordinator.TakeCompletions();
  ASSERT_THAT(done, SizeIs(2));
  for (const Completion& completion : done) {
    ASSERT_TRUE(completion.join.has_value());
    EXPECT_EQ(completion.join->error_code, error::kNone);
    EXPECT_EQ(completion.join->generation_id, 1) << "one generation for both";
  }
}

TEST(GroupCoordinatorInitialDelayTest, NewcomersNeverPushPastTheTimeout) {
  GroupCoordinator coordinator(7, {}, /*initial_rebalance_delay_ms=*/3'000);
  int64_t now = 1'000'000;
  JoinRequest first = Request("");
  first.require_known_member_id = false;
  first.rebalance_timeout_ms = 4'000;
  EXPECT_FALSE(coordinator.Join(1, first, now).has_value());
  EXPECT_FALSE(coordinator.Join(2, first, now + 2'500).has_value());
  coordinator.Tick(now + 4'000);  // the limit, not 2.5 s + 3 s
  std::vector<Completion> done = coordinator.TakeCompletions();
  ASSERT_THAT(done, SizeIs(2));
  EXPECT_EQ(done[0].join->error_code, error::kNone);
  // Without a delay a lone member's first join completes at once.
  GroupCoordinator no_delay(7, {}, 0);
  EXPECT_TRUE(no_delay.Join(1, first, now).has_value());
}

}  // namespace
}  // namespace chronik::group
