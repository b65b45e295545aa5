#include "raft/types.h"

#include "gtest/gtest.h"
#include "raft/raw_node.h"

namespace chronik::raft {
namespace {

TEST(BytesTest, CopiesShareOneBuffer) {
  Bytes payload = Bytes::Copy("hello");
  Entry entry{1, 1, EntryType::kNormal, payload};
  Message message;
  message.entries.push_back(entry);
  Message copy = message;
  EXPECT_TRUE(copy.entries[0].data.SharesBufferWith(payload));
  EXPECT_EQ(copy.entries[0].data.view(), "hello");
  EXPECT_FALSE(Bytes().SharesBufferWith(Bytes()));
}

TEST(ConfChangeTest, EncodeDecodeRoundTrip) {
  ConfChange change;
  change.changes = {{ConfChangeType::kAddVoter, 4},
                    {ConfChangeType::kRemoveNode, 1},
                    {ConfChangeType::kAddLearner, 7}};
  change.joint = true;
  change.context = Bytes::Copy("ctx");
  absl::StatusOr<ConfChange> decoded =
      DecodeConfChange(EncodeConfChange(change).view());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->changes, change.changes);
  EXPECT_TRUE(decoded->joint);
  EXPECT_EQ(decoded->context.view(), "ctx");
}

TEST(ConfChangeTest, DecodeRejectsGarbage) {
  EXPECT_FALSE(DecodeConfChange("").ok());
  EXPECT_FALSE(DecodeConfChange(std::string_view("\x02\0\0\0\0\0", 6)).ok());
  EXPECT_FALSE(DecodeConfChange(std::string_view("\x01\0\x05\0\0\0", 6)).ok());
}

TEST(DescribeTest, MessageAndEntries) {
  Message m;
  m.type = MessageType::kAppend;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.log_term = 2;
  m.index = 5;
  m.commit = 4;
  m.entries.push_back({3, 6, EntryType::kNormal, Bytes::Copy("x")});
  EXPECT_EQ(DescribeMessage(m),
            "1->2 App Term:3 Log:2/5 Commit:4 Entries:[3/6 EntryNormal \"x\"]");
}

TEST(ReadyTest, StorageWork) {
  Ready ready;
  EXPECT_FALSE(ready.HasStorageWork());
  ready.hard_state = HardState{1, 1, 0};
  EXPECT_TRUE(ready.HasStorageWork());
}

}  // namespace
}  // namespace chronik::raft
