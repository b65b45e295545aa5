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

// A v2 batch's bytes: 17 the broker may rewrite, the CRC (4), the header
// compaction keeps (36: attributes to base sequence), the record count (4),
// the records.
std::string V2Batch(char header, char crc, const std::string& kept, char count,
                    const std::string& records) {
  std::string kept36 = kept;
  kept36.resize(36, '.');
  return std::string(17, header) + std::string(4, crc) + kept36 +
         std::string(3, '\0') + count + records;
}

TEST(ReplicaCheckerTest, ACompactedCopyAtTheSameIndexCounts) {
  ReplicaChecker checker;
  const std::string produced =
      V2Batch('\0', 'a', "pid 1000 seq 6", 1, "k6=p1-19");
  // Node 2 caught up from the leader's log after compaction had removed the
  // record (a later one has its key): the same batch, thinned.
  const std::string compacted = V2Batch('x', 'b', "pid 1000 seq 6", 0, "");
  // Another batch (another sequence) at another node's same index is not it.
  const std::string other = V2Batch('x', 'c', "pid 1000 seq 7", 0, "");
  checker.OnAppend(0, 3, {EntryOf(19, produced)});
  checker.OnAppend(1, 3, {EntryOf(19, produced)});
  checker.OnAppend(2, 3, {EntryOf(19, compacted)});
  checker.OnAppend(3, 3, {EntryOf(19, other)});
  for (int node : {0, 1, 2, 3}) checker.OnDurable(node, 3, 19);
  EXPECT_EQ(checker.DurableCopies(produced), 3);
  checker.OnAllAck(kSecond, 2, 17, "p1-19", produced, 3, 0);
  EXPECT_FALSE(checker.violation().has_value()) << *checker.violation();
  checker.OnAllAck(kSecond, 2, 17, "p1-19", produced, 4, 0);
  EXPECT_TRUE(checker.violation().has_value());
}

}  // namespace
}  // namespace chronik::sim
