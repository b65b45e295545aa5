#include "raft/wire.h"

#include "gtest/gtest.h"

namespace chronik::raft {
namespace {

TEST(WireTest, MessageRoundTrip) {
  Message m;
  m.type = MessageType::kAppend;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.log_term = 2;
  m.index = 4;
  m.commit = 4;
  m.entries.push_back({3, 5, EntryType::kNormal, Bytes::Copy("a")});
  m.entries.push_back({3, 6, EntryType::kConfChange, Bytes::Copy("b")});
  m.context = Bytes::Copy("ctx");
  raftpb::Message pb;
  ToProto(m, 9, &pb);
  absl::StatusOr<WireMessage> back = FromProto(pb);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->group_id, 9u);
  EXPECT_EQ(DescribeMessage(back->message), DescribeMessage(m));
  EXPECT_EQ(back->message.entries[1].type, EntryType::kConfChange);
}

TEST(WireTest, SnapshotRoundTrip) {
  Message m;
  m.type = MessageType::kSnapshot;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  auto s = std::make_shared<Snapshot>();
  s->metadata.index = 10;
  s->metadata.term = 2;
  s->metadata.conf_state.voters = {1, 2, 3};
  s->metadata.conf_state.learners = {4};
  s->data = Bytes::Copy("image");
  m.snapshot = s;
  raftpb::Message pb;
  ToProto(m, 0, &pb);
  absl::StatusOr<WireMessage> back = FromProto(pb);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_NE(back->message.snapshot, nullptr);
  EXPECT_EQ(back->message.snapshot->metadata.conf_state,
            s->metadata.conf_state);
  EXPECT_EQ(back->message.snapshot->data.view(), "image");
}

TEST(WireTest, RejectsMalformedInput) {
  raftpb::Message pb;
  EXPECT_FALSE(FromProto(pb).ok());  // unspecified type
  pb.set_type(raftpb::MSG_SNAPSHOT);
  EXPECT_FALSE(FromProto(pb).ok());  // no snapshot
  pb.set_type(raftpb::MSG_APPEND);
  pb.set_index(4);
  pb.add_entries()->set_index(7);
  EXPECT_FALSE(FromProto(pb).ok());  // gap
  pb.mutable_entries(0)->set_index(5);
  EXPECT_TRUE(FromProto(pb).ok());
  pb.mutable_snapshot();
  EXPECT_FALSE(FromProto(pb).ok());  // snapshot on an append
}

TEST(WireTest, HardStateAndConfState) {
  raftpb::HardState hs;
  ToProto(HardState{5, 2, 9}, &hs);
  EXPECT_EQ(FromProto(hs), (HardState{5, 2, 9}));
  ConfState cs;
  cs.voters = {1, 2};
  cs.voters_outgoing = {1, 2, 3};
  cs.learners_next = {3};
  cs.auto_leave = true;
  raftpb::ConfState pb;
  ToProto(cs, &pb);
  EXPECT_EQ(FromProto(pb), cs);
}

}  // namespace
}  // namespace chronik::raft
