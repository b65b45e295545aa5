#include "raft/conf_state.h"

#include "gtest/gtest.h"

namespace chronik::raft {
namespace {

ConfChange Change(std::vector<ConfChangeSingle> changes, bool joint = false) {
  ConfChange change;
  change.changes = std::move(changes);
  change.joint = joint;
  return change;
}

TEST(ConfStateTest, SimpleChangesMoveNodesBetweenLists) {
  ConfState conf{.voters = {1, 2, 3}};
  conf = NextConfState(conf, Change({{ConfChangeType::kAddLearner, 4}}));
  EXPECT_EQ(conf.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(conf.learners, (std::vector<NodeId>{4}));
  EXPECT_TRUE(conf.voters_outgoing.empty());
  conf = NextConfState(conf, Change({{ConfChangeType::kAddVoter, 4}}));
  EXPECT_EQ(conf.voters, (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_TRUE(conf.learners.empty());
  conf = NextConfState(conf, Change({{ConfChangeType::kRemoveNode, 2}}));
  EXPECT_EQ(conf.voters, (std::vector<NodeId>{1, 3, 4}));
}

TEST(ConfStateTest, JointChangeKeepsOldVotersUntilLeft) {
  const ConfState old{.voters = {1, 2, 3}, .learners = {4}};
  const ConfState joint =
      NextConfState(old, Change({{ConfChangeType::kAddVoter, 4},
                                 {ConfChangeType::kRemoveNode, 1}}));
  EXPECT_EQ(joint.voters, (std::vector<NodeId>{2, 3, 4}));
  EXPECT_EQ(joint.voters_outgoing, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_TRUE(joint.learners.empty());
  EXPECT_TRUE(joint.auto_leave);
  EXPECT_EQ(MembersOf(joint), (std::vector<NodeId>{1, 2, 3, 4}));
  const ConfState left = NextConfState(joint, ConfChange{});
  EXPECT_EQ(left.voters, (std::vector<NodeId>{2, 3, 4}));
  EXPECT_TRUE(left.voters_outgoing.empty());
  EXPECT_FALSE(left.auto_leave);
  // Leaving twice changes nothing.
  EXPECT_EQ(NextConfState(left, ConfChange{}), left);
}

TEST(ConfStateTest, DemotedVoterIsALearnerOnlyAfterTheJointConfig) {
  const ConfState joint =
      NextConfState(ConfState{.voters = {1, 2, 3}},
                    Change({{ConfChangeType::kAddLearner, 3}}, /*joint=*/true));
  EXPECT_EQ(joint.voters, (std::vector<NodeId>{1, 2}));
  EXPECT_EQ(joint.learners_next, (std::vector<NodeId>{3}));
  const ConfState left = NextConfState(joint, ConfChange{});
  EXPECT_EQ(left.learners, (std::vector<NodeId>{3}));
  EXPECT_TRUE(left.learners_next.empty());
}

TEST(ConfStateTest, EncodingRoundTripsAndRejectsDamage) {
  const ConfState conf{.voters = {2, 3, 4},
                       .learners = {9},
                       .voters_outgoing = {1, 2, 3},
                       .learners_next = {},
                       .auto_leave = true};
  const std::string bytes = EncodeConfState(conf);
  absl::StatusOr<ConfState> back = DecodeConfState(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, conf);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeConfState(bytes.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeConfState(bytes + "x").ok());
  std::string unsorted = EncodeConfState(ConfState{.voters = {1, 2}});
  std::swap(unsorted[6], unsorted[14]);  // first bytes of the two ids
  EXPECT_FALSE(DecodeConfState(unsorted).ok());
  EXPECT_FALSE(DecodeConfState(EncodeConfState(ConfState{})).ok());
}

}  // namespace
}  // namespace chronik::raft
