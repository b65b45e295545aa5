#include "sim/replica_checker.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

// A batch-like payload: 17 bytes the broker may rewrite, then the rest.
std::string Batch(char header, const std::string& body) {
  return std::string(17, header) + body;
}

raft::Entry EntryOf(raft::Index index, const std::string& data) {
  raft::Entry entry;
  entry.index = index;
  entry.term = 1;
  entry.data = raft::Bytes::Copy(data);
  return entry;
}

TEST(ReplicaCheckerTest, CountsNodesHoldingTheBatchDurably) {
  ReplicaChecker checker;
  const std::string produced = Batch('\0', "crc+records p1-1");
  // The stored copies have another base offset: still the same batch.
  const std::vector<raft::Entry> stored = {
      EntryOf(5, Batch('x', "crc+records p1-1"))};
  checker.OnAppend(0, 3, stored);
  checker.OnAppend(1, 3, stored);
  EXPECT_EQ(checker.DurableCopies(produced), 0) << "appended, not durable";
  checker.OnDurable(0, 3, 5);
  EXPECT_EQ(checker.DurableCopies(produced), 1);
  checker.OnDurable(1, 3, 5);
  EXPECT_EQ(checker.DurableCopies(produced), 2);
  checker.OnAllAck(kSecond, 0, 4, "p1-1", produced, 2, 0);
  EXPECT_FALSE(checker.violation().has_value());
  // Node 1's log is truncated at 5 and replaced: not durable, not the batch.
  checker.OnAppend(1, 3,
                   std::vector<raft::Entry>{EntryOf(5, Batch('y', "other"))});
  checker.OnDurable(1, 3, 5);
  EXPECT_EQ(checker.DurableCopies(produced), 1);
  // Below a log start a broker reported (deleted records): not judged.
  checker.OnAllAck(2 * kSecond, 0, 4, "p1-1", produced, 2, 5);
  EXPECT_FALSE(checker.violation().has_value());
  checker.OnAllAck(2 * kSecond, 0, 4, "p1-1", produced, 2, 4);
  ASSERT_TRUE(checker.violation().has_value());
  EXPECT_NE(checker.violation()->find("UNDER-REPLICATED ACK at 2.000000s: "
                                      "partition 0 offset 4 value p1-1"),
            std::string::npos)
      << *checker.violation();
}

// Retention cut the record away before the acknowledgement (on any node):
// no copies needed. A cut in another group or below the record changes
// nothing.
TEST(ReplicaCheckerTest, ARecordRetentionCutAwayNeedsNoCopies) {
  const std::string produced = Batch('\0', "records p1-337");
  const std::vector<raft::Entry> stored = {EntryOf(318, produced)};
  for (const raft::Index cut : {raft::Index{317}, raft::Index{324}}) {
    ReplicaChecker checker;
    checker.OnAppend(1, 3, stored);
    checker.OnAppend(2, 3, stored);
    checker.OnDurable(1, 3, 318);
    checker.OnDurable(2, 3, 318);
    checker.OnLogCut(4, 500);  // another partition's group
    checker.OnLogCut(3, cut);
    checker.OnAllAck(kSecond, 2, 311, "p1-337", produced, 3, 0);
    EXPECT_EQ(checker.violation().has_value(), cut < 318) << cut;
  }
  // A copy an old leader stored below the cut (later truncated) does not
  // make the record stored again above it deleted.
  ReplicaChecker checker;
  checker.OnAppend(0, 3, std::vector<raft::Entry>{EntryOf(319, produced)});
  const std::vector<raft::Entry> again = {EntryOf(330, produced)};
  checker.OnAppend(1, 3, again);
  checker.OnDurable(1, 3, 330);
  checker.OnLogCut(3, 324);
  checker.OnAllAck(kSecond, 2, 320, "p1-337", produced, 3, 0);
  EXPECT_TRUE(checker.violation().has_value());
}

TEST(ReplicaCheckerTest, ARestartReportsWhatIsStored) {
  ReplicaChecker checker;
  const std::string produced = Batch('\0', "records p2-9");
  checker.OnAppend(2, 4, std::vector<raft::Entry>{EntryOf(1, produced)});
  checker.OnRecover(2, 4, 0);  // a crash lost the unsynced append
  EXPECT_EQ(checker.DurableCopies(produced), 0);
  checker.OnRecover(2, 4, 1);
  checker.OnRecoveredEntries(2, 4,
                             std::vector<raft::Entry>{EntryOf(1, produced)});
  EXPECT_EQ(checker.DurableCopies(produced), 1);
  // The metadata group (0) is not a partition.
  checker.OnAppend(1, 0, std::vector<raft::Entry>{EntryOf(1, produced)});
  checker.OnDurable(1, 0, 1);
  EXPECT_EQ(checker.DurableCopies(produced), 1);
}

// A v2-shaped batch: 17 bytes the broker rewrites, CRC and attributes
// (`crc`), the kept header (`header`, 34 bytes), the record count, records.
std::string Shaped(char crc, char header, int records,
                   const std::string& body) {
  std::string out =
      std::string(17, 'o') + std::string(6, crc) + std::string(34, header);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((records >> shift) & 0xff));
  }
  return out + body;
}

TEST(ReplicaCheckerTest, ACompactedCopyIsACopyAReplacementIsNot) {
  ReplicaChecker checker;
  const std::string produced = Shaped('c', 'h', 2, "two records");
  checker.OnAppend(0, 3, std::vector<raft::Entry>{EntryOf(5, produced)});
  checker.OnDurable(0, 3, 5);
  // Node 1 holds it compacted: other CRC, one record fewer, same header.
  checker.OnRecover(1, 3, 5);
  checker.OnRecoveredEntries(
      1, 3, std::vector<raft::Entry>{EntryOf(5, Shaped('d', 'h', 1, "one"))});
  EXPECT_EQ(checker.DurableCopies(produced), 2);
  // Node 2 holds another batch there with the same header fields but its
  // own records (not fewer): not a copy.
  checker.OnRecover(2, 3, 5);
  checker.OnRecoveredEntries(
      2, 3,
      std::vector<raft::Entry>{EntryOf(5, Shaped('e', 'h', 2, "others"))});
  EXPECT_EQ(checker.DurableCopies(produced), 2);
  // Nor is a compacted batch of another header.
  checker.OnRecover(2, 3, 5);
  checker.OnRecoveredEntries(
      2, 3, std::vector<raft::Entry>{EntryOf(5, Shaped('d', 'g', 1, "one"))});
  EXPECT_EQ(checker.DurableCopies(produced), 2);
}

}  // namespace
}  // namespace chronik::sim
