// Raft::CheckInvariants: each family of rules passes on real states and
// catches a deliberately corrupted one (death with the rule's message); the
// role preconditions crash when a role does what only another role may do.
#include <map>
#include <utility>

#include "gtest/gtest.h"
#include "raft/raft.h"

namespace chronik::raft {

// Test-only access to Raft's state (a friend of Raft).
class RaftTestPeer {
 public:
  static RaftLog& log(Raft& r) { return r.log_; }
  static NodeId& lead(Raft& r) { return r.lead_; }
  static NodeId& vote(Raft& r) { return r.vote_; }
  static bool& self_vote_durable(Raft& r) { return r.self_vote_durable_; }
  static bool& campaign_allowed(Raft& r) { return r.campaign_allowed_; }
  static std::map<NodeId, bool>& votes(Raft& r) { return r.votes_; }
  static std::map<NodeId, Progress>& progress(Raft& r) { return r.progress_; }
  static ConfState& conf(Raft& r) { return r.conf_; }
  static std::vector<std::pair<Index, ConfState>>& conf_history(Raft& r) {
    return r.conf_history_;
  }
  static bool MaybeCommit(Raft& r) { return r.MaybeCommit(); }
  static void TallyVotes(Raft& r) { r.TallyVotes(); }
  static void SendAppendTo(Raft& r, NodeId to) {
    r.SendAppend(to, r.progress_[to], true);
  }
  static void HandleAppendResponse(Raft& r, const Message& m) {
    r.HandleAppendResponse(m);
  }
};

namespace {

using Peer = RaftTestPeer;

Config ThreeVoters() {
  Config config;
  config.id = 1;
  config.voters = {1, 2, 3};
  return config;
}

Message From(NodeId from, MessageType type, Term term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = 1;
  m.term = term;
  return m;
}

// Node 1 of {1, 2, 3} through PreVote and a vote to leadership at term 1,
// with its storage work acknowledged.
std::unique_ptr<Raft> MakeLeader() {
  auto r = std::make_unique<Raft>(ThreeVoters());
  r->Campaign();
  EXPECT_EQ(r->role(), Role::kPreCandidate);
  r->CheckInvariants();
  EXPECT_TRUE(r->Step(From(2, MessageType::kPreVoteResponse, 1)).ok());
  EXPECT_EQ(r->role(), Role::kCandidate);
  r->CheckInvariants();
  r->OnPersisted(r->GetReady().persist_ack);  // own vote durable
  r->CheckInvariants();
  EXPECT_TRUE(r->Step(From(2, MessageType::kVoteResponse, 1)).ok());
  EXPECT_EQ(r->role(), Role::kLeader);
  r->OnPersisted(r->GetReady().persist_ack);
  r->CheckInvariants();
  return r;
}

TEST(RaftInvariantsTest, RealStatesPass) {
  Raft follower(ThreeVoters());
  follower.CheckInvariants();
  std::unique_ptr<Raft> leader = MakeLeader();
  ASSERT_TRUE(leader->Propose(Bytes::Copy("x")).ok());
  leader->GetReady();
  leader->CheckInvariants();
}

TEST(RaftInvariantsDeathTest, LogCursors) {
  std::unique_ptr<Raft> r = MakeLeader();
  EXPECT_DEATH(
      {
        Peer::log(*r).commit = r->last_index() + 1;
        r->CheckInvariants();
      },
      "commit beyond the log");
  EXPECT_DEATH(
      {
        Peer::log(*r).applied = Peer::log(*r).handed + 1;
        r->CheckInvariants();
      },
      "applied beyond handed out");
  EXPECT_DEATH(
      {
        Peer::log(*r).persisted = Peer::log(*r).emitted + 1;
        r->CheckInvariants();
      },
      "persisted beyond emitted");
}

TEST(RaftInvariantsDeathTest, TermVoteAndRole) {
  Raft fresh(ThreeVoters());
  EXPECT_DEATH(
      {
        Peer::vote(fresh) = 2;
        fresh.CheckInvariants();
      },
      "vote or leader without a term");
  std::unique_ptr<Raft> leader = MakeLeader();
  EXPECT_DEATH(
      {
        Peer::lead(*leader) = 2;
        leader->CheckInvariants();
      },
      "a leader must lead itself");
  EXPECT_DEATH(
      {
        Peer::votes(*leader)[2] = true;
        leader->CheckInvariants();
      },
      "a leader counts no votes");
  Raft candidate(ThreeVoters());
  candidate.Campaign();
  ASSERT_TRUE(candidate.Step(From(2, MessageType::kPreVoteResponse, 1)).ok());
  ASSERT_EQ(candidate.role(), Role::kCandidate);
  EXPECT_DEATH(
      {
        Peer::self_vote_durable(candidate) = true;  // but not counted
        candidate.CheckInvariants();
      },
      "counts its own vote once it is durable");
}

TEST(RaftInvariantsDeathTest, NoCandidateThatMayNotCampaign) {
  Raft candidate(ThreeVoters());
  candidate.Campaign();
  ASSERT_EQ(candidate.role(), Role::kPreCandidate);
  candidate.CheckInvariants();
  EXPECT_DEATH(
      {
        Peer::campaign_allowed(candidate) = false;
        candidate.CheckInvariants();
      },
      "a node that may not campaign is no candidate");
  candidate.SetCampaignAllowed(false);  // the input steps down instead
  EXPECT_EQ(candidate.role(), Role::kFollower);
  candidate.CheckInvariants();
}

TEST(RaftInvariantsDeathTest, LeaderProgress) {
  std::unique_ptr<Raft> r = MakeLeader();
  EXPECT_DEATH(
      {
        Peer::progress(*r)[1] = Progress();
        r->CheckInvariants();
      },
      "progress for itself");
  EXPECT_DEATH(
      {
        Peer::progress(*r).erase(3);
        r->CheckInvariants();
      },
      "no progress for 3");
  EXPECT_DEATH(
      {
        Progress& pr = Peer::progress(*r)[2];
        pr.next = pr.match;
        r->CheckInvariants();
      },
      "progress of 2");
}

TEST(RaftInvariantsDeathTest, Membership) {
  Raft r(ThreeVoters());
  EXPECT_DEATH(
      {
        Peer::conf(r).learners = {2};
        r.CheckInvariants();
      },
      "both voter and learner");
  EXPECT_DEATH(
      {
        Peer::conf(r).voters.assign({3, 1, 2});
        r.CheckInvariants();
      },
      "sorted sets");
  EXPECT_DEATH(
      {
        Peer::conf_history(r).back().second.voters = {1};
        r.CheckInvariants();
      },
      "history does not end with the current config");
}

TEST(RaftInvariantsDeathTest, RolePreconditions) {
  Raft follower(ThreeVoters());
  EXPECT_DEATH(Peer::MaybeCommit(follower),
               "only a leader advances commit from match indexes");
  EXPECT_DEATH(Peer::SendAppendTo(follower, 2), "only a leader sends appends");
  Message ack = From(2, MessageType::kAppendResponse, 1);
  EXPECT_DEATH(Peer::HandleAppendResponse(follower, ack),
               "only a leader handles append responses");
  EXPECT_DEATH(Peer::TallyVotes(follower), "only candidates count votes");
  std::unique_ptr<Raft> leader = MakeLeader();
  EXPECT_DEATH(Peer::TallyVotes(*leader), "only candidates count votes");
}

}  // namespace
}  // namespace chronik::raft
