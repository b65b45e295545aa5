#include "broker/partition/txn_state.h"

#include <string>

#include "gtest/gtest.h"

namespace chronik::partition {
namespace {

TEST(TxnStateTest, StableOffsetIsTheOldestOpenTransaction) {
  TxnState txn;
  EXPECT_EQ(txn.StableOffset(10), 10);
  txn.OnData(7, 3);
  txn.OnData(8, 5);
  txn.OnData(7, 6);  // same transaction: first offset stays 3
  EXPECT_EQ(txn.StableOffset(10), 3);
  EXPECT_TRUE(txn.OnMarker(7, /*commit=*/true, 1, 10));
  EXPECT_EQ(txn.StableOffset(11), 5);
  EXPECT_TRUE(txn.OnMarker(8, /*commit=*/false, 4, 11));
  EXPECT_EQ(txn.StableOffset(12), 12);
  ASSERT_EQ(txn.AbortedIn(0, 12).size(), 1u);
  EXPECT_EQ(txn.AbortedIn(0, 12)[0].first_offset, 5);
  EXPECT_EQ(txn.AbortedIn(0, 12)[0].last_offset, 11);
  EXPECT_TRUE(txn.AbortedIn(12, 20).empty());  // ended before
  EXPECT_TRUE(txn.AbortedIn(0, 5).empty());    // starts after
  txn.TrimBelow(12);
  EXPECT_TRUE(txn.AbortedIn(0, 20).empty());
}

TEST(TxnStateTest, ALateOrRepeatedMarkerChangesNothing) {
  TxnState txn;
  txn.OnData(7, 0);
  EXPECT_TRUE(txn.OnMarker(7, true, 2, 1));
  EXPECT_EQ(txn.LastMarkerSeq(7), 2);
  txn.OnData(7, 2);                           // the next transaction
  EXPECT_FALSE(txn.OnMarker(7, true, 2, 3));  // transaction 2's again
  EXPECT_EQ(txn.OpenFirstOffset(7), 2);
  EXPECT_FALSE(txn.OnMarker(7, false, 1, 4));
  EXPECT_EQ(txn.OpenFirstOffset(7), 2);
  EXPECT_TRUE(txn.OnMarker(7, false, 3, 5));
  EXPECT_FALSE(txn.OpenFirstOffset(7).has_value());
}

TEST(TxnStateTest, EncodeAsOfGivesTheStateAtTheCut) {
  TxnState txn;
  txn.OnData(1, 0);
  txn.OnMarker(1, false, 1, 2);  // aborted before the cut at 5
  txn.OnData(2, 3);
  txn.OnMarker(2, false, 1, 6);  // open at the cut, aborted after
  txn.OnData(3, 4);              // open
  txn.OnData(4, 7);              // after the cut
  std::string image;
  txn.EncodeAsOf(5, &image);
  absl::string_view in(image);
  TxnState restored;
  ASSERT_TRUE(TxnState::Decode(&in, &restored).ok());
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(restored.StableOffset(5), 3);
  EXPECT_EQ(restored.OpenFirstOffset(2), 3);
  EXPECT_FALSE(restored.OpenFirstOffset(4).has_value());
  EXPECT_EQ(restored.LastMarkerSeq(1), 1);
  EXPECT_EQ(restored.LastMarkerSeq(2), 0);  // its marker is after the cut
  EXPECT_EQ(restored.AbortedIn(0, 10).size(), 1u);
  // Replaying the tail gives the same state as the original.
  EXPECT_TRUE(restored.OnMarker(2, false, 1, 6));
  EXPECT_EQ(restored.AbortedIn(0, 10).size(), 2u);
  absl::string_view cut(image.data(), image.size() - 3);
  EXPECT_FALSE(TxnState::Decode(&cut, &restored).ok());
}

TEST(TxnStateTest, ARemovedMarkerEndsTheTransactionWithoutAnAbort) {
  TxnState state;
  state.OnData(/*producer_id=*/9, /*offset=*/5);
  ASSERT_EQ(state.StableOffset(100), 5);
  state.OnMarkerRemoved(9);
  EXPECT_EQ(state.StableOffset(100), 100);
  EXPECT_TRUE(state.AbortedIn(0, 100).empty());
  EXPECT_FALSE(state.OpenFirstOffset(9).has_value());
  state.OnMarkerRemoved(9);  // none open: nothing changes
  EXPECT_EQ(state.StableOffset(100), 100);
}

}  // namespace
}  // namespace chronik::partition
