#include "broker/storage/group_log.h"

#include <random>

#include "base/crc32c.h"
#include "broker/storage/batch_offsets.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

using testing::MakeEntries;
using testing::PayloadFor;

class GroupLogTest : public ::testing::Test {
 protected:
  GroupLogTest() : rng_(42), disk_(sim::SimDiskOptions{}, rng_) {}

  std::unique_ptr<GroupLog> OpenLog(RecoveryReport* report = nullptr) {
    RecoveryReport local;
    absl::StatusOr<std::unique_ptr<GroupLog>> log =
        GroupLog::Open(&disk_, "g", options_, report ? report : &local);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  void Append(GroupLog& log, uint64_t first, uint64_t count, uint64_t term,
              size_t size = 0) {
    std::vector<Entry> entries = MakeEntries(first, count, term, size);
    ASSERT_TRUE(log.Append(absl::MakeSpan(entries)).ok());
  }

  // Reads [lo, hi) and checks every entry against its expected term.
  void ExpectEntries(GroupLog& log, uint64_t lo, uint64_t hi,
                     const std::function<uint64_t(uint64_t)>& term_of) {
    std::vector<Entry> got;
    absl::Status s = log.Read(lo, hi, ~uint64_t{0}, &got);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(got.size(), hi - lo);
    for (uint64_t i = lo; i < hi; ++i) {
      const Entry& e = got[i - lo];
      EXPECT_EQ(e.index, i);
      EXPECT_EQ(e.term, term_of(i));
      EXPECT_EQ(e.data.view().substr(0, PayloadFor(i, term_of(i)).size()),
                PayloadFor(i, term_of(i)));
      absl::StatusOr<uint64_t> term = log.Term(i);
      ASSERT_TRUE(term.ok());
      EXPECT_EQ(*term, term_of(i));
    }
  }

  std::vector<std::string> Files() { return *disk_.List("g"); }

  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  LogOptions options_{.segment_max_bytes = 4096,
                      .index_interval_bytes = 512,
                      .write_buffer_bytes = 1024,
                      .read_chunk_bytes = 700};
};

TEST_F(GroupLogTest, EmptyLogStartsAtOne) {
  std::unique_ptr<GroupLog> log = OpenLog();
  EXPECT_EQ(log->first_index(), 1u);
  EXPECT_EQ(log->last_index(), 0u);
  EXPECT_EQ(*log->Term(0), 0u);
  EXPECT_FALSE(log->Term(1).ok());
}

TEST_F(GroupLogTest, AppendReadAndRollSegments) {
  std::unique_ptr<GroupLog> log = OpenLog();
  Append(*log, 1, 100, 1, 100);
  Append(*log, 101, 100, 3, 100);
  EXPECT_EQ(log->last_index(), 200u);
  EXPECT_GT(log->segment_count(), 5u);  // 4 KiB segments, ~150 B records
  ExpectEntries(*log, 1, 201, [](uint64_t i) { return i <= 100 ? 1 : 3; });
  // Partial reads honour max_bytes but return at least one entry.
  std::vector<Entry> some;
  ASSERT_TRUE(log->Read(50, 150, 1, &some).ok());
  ASSERT_EQ(some.size(), 1u);
  EXPECT_EQ(some[0].index, 50u);
  some.clear();
  ASSERT_TRUE(log->Read(50, 150, 1000, &some).ok());
  EXPECT_GE(some.size(), 8u);
  EXPECT_LT(some.size(), 100u);
  EXPECT_FALSE(log->Read(0, 5, 100, &some).ok());
  EXPECT_FALSE(log->Read(150, 202, 100, &some).ok());
}

TEST_F(GroupLogTest, ReopenRecoversEverythingSynced) {
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    Append(*log, 1, 120, 2, 80);
    ASSERT_TRUE(log->Sync().ok());
    EXPECT_FALSE(log->needs_sync());
  }
  disk_.Crash();
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  EXPECT_EQ(log->last_index(), 120u);
  EXPECT_TRUE(report.damage.empty());
  EXPECT_EQ(report.torn_bytes_cut, 0u);
  EXPECT_EQ(report.segments_scanned,
            1u);  // sealed segments use their index files
  ExpectEntries(*log, 1, 121, [](uint64_t) { return 2; });
  Append(*log, 121, 5, 2);
  ExpectEntries(*log, 118, 126, [](uint64_t) { return 2; });
}

TEST_F(GroupLogTest, MissingOrStaleIndexFilesAreRebuilt) {
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    Append(*log, 1, 120, 2, 80);
    ASSERT_TRUE(log->Sync().ok());
  }
  std::vector<std::string> idx;
  for (const std::string& name : Files()) {
    if (name.ends_with(".idx")) idx.push_back(name);
  }
  ASSERT_GE(idx.size(), 2u);
  ASSERT_TRUE(disk_.Remove("g/" + idx[0]).ok());
  ASSERT_TRUE(disk_.CorruptByte("g/" + idx[1], 20, 0x40).ok());
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  EXPECT_EQ(report.indexes_rebuilt, 2u);
  ExpectEntries(*log, 1, 121, [](uint64_t) { return 2; });
  // The rebuilt index files are trusted next time.
  log.reset();
  RecoveryReport again;
  log = OpenLog(&again);
  EXPECT_EQ(again.indexes_rebuilt, 0u);
  EXPECT_EQ(again.segments_scanned, 1u);
}

TEST_F(GroupLogTest, TruncateSuffixAcrossSegmentsThenAppendNewTerm) {
  std::unique_ptr<GroupLog> log = OpenLog();
  Append(*log, 1, 150, 1, 100);
  const size_t segments = log->segment_count();
  ASSERT_TRUE(log->TruncateSuffix(40).ok());
  EXPECT_EQ(log->last_index(), 40u);
  EXPECT_LT(log->segment_count(), segments);
  Append(*log, 41, 20, 5, 100);
  ASSERT_TRUE(log->Sync().ok());
  ExpectEntries(*log, 1, 61, [](uint64_t i) { return i <= 40 ? 1 : 5; });
  // Appending at an index inside the log replaces the suffix from there.
  Append(*log, 51, 3, 6);
  EXPECT_EQ(log->last_index(), 53u);
  ExpectEntries(*log, 45, 54, [](uint64_t i) { return i <= 50 ? 5 : 6; });
  log.reset();
  disk_.Crash();
  log = OpenLog();
  EXPECT_GE(log->last_index(), 40u);  // 51..53 were never synced
  EXPECT_LE(log->last_index(), 60u);
}

TEST_F(GroupLogTest, TruncateEverythingKeepsPrevTerm) {
  std::unique_ptr<GroupLog> log = OpenLog();
  Append(*log, 1, 10, 4);
  ASSERT_TRUE(log->TruncateSuffix(0).ok());
  EXPECT_EQ(log->last_index(), 0u);
  Append(*log, 1, 2, 7);
  ExpectEntries(*log, 1, 3, [](uint64_t) { return 7; });
}

TEST_F(GroupLogTest, AppendOutsideTheLogIsRejected) {
  std::unique_ptr<GroupLog> log = OpenLog();
  Append(*log, 1, 5, 1);
  std::vector<Entry> gap = MakeEntries(7, 1, 1);
  EXPECT_EQ(log->Append(absl::MakeSpan(gap)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GroupLogTest, RemovePrefixDropsWholeSegments) {
  std::unique_ptr<GroupLog> log = OpenLog();
  Append(*log, 1, 200, 3, 100);
  ASSERT_TRUE(log->RemovePrefix(100).ok());
  EXPECT_GT(log->first_index(), 50u);
  EXPECT_LE(log->first_index(), 101u);
  EXPECT_EQ(*log->Term(log->first_index() - 1), 3u);
  ExpectEntries(*log, log->first_index(), 201, [](uint64_t) { return 3; });
  ASSERT_TRUE(log->Sync().ok());
  const uint64_t first = log->first_index();
  log.reset();
  disk_.Crash();
  log = OpenLog();
  EXPECT_EQ(log->first_index(), first);
  EXPECT_EQ(log->last_index(), 200u);
}

TEST_F(GroupLogTest, ResetStartsAfterTheSnapshot) {
  std::unique_ptr<GroupLog> log = OpenLog();
  Append(*log, 1, 100, 2, 100);
  ASSERT_TRUE(log->Reset(500, 9, 0).ok());
  EXPECT_EQ(log->first_index(), 501u);
  EXPECT_EQ(log->last_index(), 500u);
  EXPECT_EQ(*log->Term(500), 9u);
  log.reset();
  disk_.Crash();  // Reset is durable on its own
  log = OpenLog();
  EXPECT_EQ(log->first_index(), 501u);
  EXPECT_EQ(*log->Term(500), 9u);
  Append(*log, 501, 3, 9);
  ExpectEntries(*log, 501, 504, [](uint64_t) { return 9; });
}

TEST_F(GroupLogTest, FailedResetKeepsTheResetBoundsReadable) {
  std::unique_ptr<GroupLog> log = OpenLog();
  Append(*log, 1, 100, 2, 100);
  ASSERT_TRUE(log->Sync().ok());
  sim::SimDiskOptions failing = disk_.options();
  failing.write_error_probability = 1.0;  // the new segment's header fails
  disk_.set_options(failing);
  absl::Status reset = log->Reset(500, 9, 700);
  EXPECT_EQ(reset.code(), absl::StatusCode::kUnavailable) << reset;
  EXPECT_EQ(log->first_index(), 501u);
  EXPECT_EQ(log->last_index(), 500u);
  EXPECT_EQ(log->next_offset(), 700u);
  EXPECT_EQ(log->Term(500).status().code(), absl::StatusCode::kUnavailable);
  std::vector<Entry> entries = MakeEntries(501, 1, 9);
  EXPECT_FALSE(log->Append(absl::MakeSpan(entries)).ok());
}

TEST_F(GroupLogTest, TornTailIsCut) {
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    Append(*log, 1, 10, 1);
    ASSERT_TRUE(log->Sync().ok());
  }
  // Simulate a torn record: a half-written record after the synced ones.
  std::unique_ptr<env::File> seg = *disk_.Open("g/" + format::SegmentName(1));
  std::string partial;
  format::AppendRecord(format::RecordHeader{.index = 11, .term = 1},
                       PayloadFor(11, 1, 200), &partial);
  ASSERT_TRUE(seg->Append(partial.substr(0, 100)).ok());
  ASSERT_TRUE(seg->Sync().ok());
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  EXPECT_EQ(report.torn_bytes_cut, 100u);
  EXPECT_TRUE(report.damage.empty());
  EXPECT_EQ(log->last_index(), 10u);
  Append(*log, 11, 1, 1);
  ExpectEntries(*log, 1, 12, [](uint64_t) { return 1; });
}

TEST_F(GroupLogTest, MidLogCorruptionIsReportedAndNeverServed) {
  uint64_t position = 0;
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    Append(*log, 1, 30, 1, 40);
    ASSERT_TRUE(log->Sync().ok());
  }
  // Flip a payload byte of entry 10 in the (only, active) segment.
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    ASSERT_EQ(log->segment_count(), 1u);
  }
  const uint64_t record_bytes =
      format::kRecordHeaderBytes + PayloadFor(1, 1, 40).size();
  position = format::kSegmentHeaderBytes + 9 * record_bytes +
             format::kRecordHeaderBytes + 5;
  const std::string file = "g/" + format::SegmentName(1);
  ASSERT_TRUE(disk_.CorruptByte(file, position, 0x10).ok());
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  ASSERT_EQ(report.damage.size(), 1u);
  EXPECT_EQ(report.damage[0].file, file);
  EXPECT_EQ(report.damage[0].position,
            position - format::kRecordHeaderBytes - 5);
  EXPECT_EQ(report.damage[0].first_index, 10u);
  EXPECT_EQ(report.damage[0].last_index, 10u);
  EXPECT_EQ(log->last_index(), 30u);  // the valid entries after it are kept
  std::vector<Entry> got;
  absl::Status s = log->Read(10, 12, 1000, &got);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(file), std::string::npos) << s;
  EXPECT_EQ(log->Term(10).status().code(), absl::StatusCode::kDataLoss);
  // A read before the damage stops short of it.
  ASSERT_TRUE(log->Read(5, 20, ~uint64_t{0}, &got).ok());
  EXPECT_EQ(got.size(), 5u);
  got.clear();
  ExpectEntries(*log, 11, 31, [](uint64_t) { return 1; });
  // The driver drops the damaged suffix and re-fetches it.
  ASSERT_TRUE(log->TruncateSuffix(9).ok());
  EXPECT_TRUE(log->damage().empty());
  Append(*log, 10, 21, 1, 40);
  ExpectEntries(*log, 1, 31, [](uint64_t) { return 1; });
}

TEST_F(GroupLogTest, CorruptionInASealedSegmentIsFoundByTheRead) {
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    Append(*log, 1, 100, 1, 100);
    ASSERT_TRUE(log->Sync().ok());
  }
  const std::string file = "g/" + format::SegmentName(1);
  const uint64_t record_bytes =
      format::kRecordHeaderBytes + PayloadFor(1, 1, 100).size();
  ASSERT_TRUE(disk_
                  .CorruptByte(file,
                               format::kSegmentHeaderBytes + record_bytes + 60,
                               0x01)
                  .ok());
  std::unique_ptr<GroupLog> log = OpenLog();  // trusts the index, no scan
  std::vector<Entry> got;
  absl::Status s = log->Read(1, 10, ~uint64_t{0}, &got);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(got.size(), 1u);  // stops before the damaged entry 2
  s = log->Read(2, 10, ~uint64_t{0}, &got);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find(file), std::string::npos);
  ASSERT_EQ(log->damage().size(), 1u);
  EXPECT_EQ(log->damage()[0].first_index, 2u);
  // Removing the index forces a scan at open, which reports the damage up
  // front.
  log.reset();
  ASSERT_TRUE(disk_.Remove("g/" + format::IndexName(1)).ok());
  RecoveryReport report;
  log = OpenLog(&report);
  ASSERT_EQ(report.damage.size(), 1u);
  EXPECT_EQ(report.damage[0].file, file);
  EXPECT_EQ(report.damage[0].first_index, 2u);
  EXPECT_EQ(report.damage[0].last_index, 2u);
}

// A bounded read (a Fetch's) stops before the entry that would cross
// max_bytes without reading or checking it; an entry it serves is always
// checked, so a damaged one is still never served.
TEST_F(GroupLogTest, BoundedReadsLeaveTheCrossingEntryUnreadAndUnchecked) {
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    Append(*log, 1, 60, 1, 100);  // segment 1 sealed: not scanned at open
    ASSERT_TRUE(log->Sync().ok());
  }
  const uint64_t payload = PayloadFor(1, 1, 100).size();
  const uint64_t record_bytes = format::kRecordHeaderBytes + payload;
  // A payload byte of entry 4.
  ASSERT_TRUE(disk_
                  .CorruptByte("g/" + format::SegmentName(1),
                               format::kSegmentHeaderBytes + 3 * record_bytes +
                                   format::kRecordHeaderBytes + 7,
                               0x04)
                  .ok());
  std::unique_ptr<GroupLog> log = OpenLog();  // trusts the index, no scan
  using Limit = GroupLog::ReadLimit;
  for (Limit limit : {Limit::kWithinMax, Limit::kFirstMayCross}) {
    std::vector<Entry> got;
    ASSERT_TRUE(log->Read(1, 10, 3 * payload + 1, &got,
                          GroupLog::ReadMode::kShare, limit)
                    .ok());
    EXPECT_EQ(got.size(), 3u);
    EXPECT_TRUE(log->damage().empty()) << "entry 4 was checked";
  }
  std::vector<Entry> got;
  // Nothing fits: none (kWithinMax), or the first entry, checked.
  ASSERT_TRUE(
      log->Read(4, 10, 1, &got, GroupLog::ReadMode::kShare, Limit::kWithinMax)
          .ok());
  EXPECT_TRUE(got.empty());
  EXPECT_TRUE(log->damage().empty());
  EXPECT_EQ(log->Read(4, 10, 1, &got, GroupLog::ReadMode::kShare,
                      Limit::kFirstMayCross)
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_TRUE(got.empty());
  ASSERT_EQ(log->damage().size(), 1u);
  EXPECT_EQ(log->damage()[0].first_index, 4u);
  // The unbounded kind reads (and checks) the entry that crosses.
  log = OpenLog();
  ASSERT_TRUE(log->Read(1, 10, 3 * payload + 1, &got).ok());
  EXPECT_EQ(got.size(), 3u);
  ASSERT_EQ(log->damage().size(), 1u);
}

// One CRC over the data: a partition log's record CRC covers its header and
// the batch bytes outside the batch's own CRC, not the batch's data again
// (format::kRecordFlagBatchCrc); an opaque entry's covers everything.
TEST_F(GroupLogTest, PartitionRecordCrcLeavesTheBatchDataToTheBatchCrc) {
  KafkaV2BatchOffsets kafka;
  options_.batch_offsets = &kafka;
  const std::string batch = testing::MakeKafkaBatch(3, 1000, 500);
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    std::vector<Entry> entries{
        Entry{.index = 1, .term = 2, .data = raft::Bytes::Own(batch)},
        Entry{.index = 2,
              .term = 2,
              .data = raft::Bytes::Own(
                  std::string(storage::EncodeLogStartEntry(3)))}};
    ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
    ASSERT_TRUE(log->Sync().ok());
  }
  std::unique_ptr<env::File> seg = *disk_.Open("g/" + format::SegmentName(1));
  std::string bytes(seg->Size(), '\0');
  ASSERT_TRUE(seg->ReadAt(0, bytes.size(), bytes.data()).ok());
  const absl::string_view record =
      absl::string_view(bytes).substr(format::kSegmentHeaderBytes);
  std::optional<format::RecordHeader> header =
      format::DecodeRecordHeader(record);
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->flags, format::kRecordFlagBatchCrc);
  const absl::string_view head =
      record.substr(4, format::kRecordHeaderBytes - 4);
  const absl::string_view payload =
      record.substr(format::kRecordHeaderBytes, batch.size());
  EXPECT_EQ(header->crc, crc32c::Extend(crc32c::Value(head), payload.data(),
                                        format::kBatchCrcCoveredFrom));
  EXPECT_TRUE(format::RecordChecksumOk(
      record.substr(0, format::kRecordHeaderBytes), payload));
  // The control entry after it is not a batch: its CRC covers it all.
  const absl::string_view control =
      record.substr(format::kRecordHeaderBytes + batch.size());
  std::optional<format::RecordHeader> control_header =
      format::DecodeRecordHeader(control);
  ASSERT_TRUE(control_header.has_value());
  EXPECT_EQ(control_header->flags, 0);
  EXPECT_EQ(control_header->crc, crc32c::Value(control.substr(
                                     4, format::kRecordHeaderBytes - 4 +
                                            control_header->payload_bytes)));
}

// A large batch reaches the segment uncopied: only its header is copied
// (where it gets its base offset), the rest is spliced in from the entry's
// shared buffer and written with File::AppendV. Small batches and the tail
// log's appends are copied. Either way the stored records are the same.
TEST_F(GroupLogTest, LargeBatchesAreSplicedFromTheEntryUncopied) {
  KafkaV2BatchOffsets kafka;
  options_.batch_offsets = &kafka;
  options_.segment_max_bytes = 1 << 20;
  const std::string big = testing::MakeKafkaBatch(5, 1000, 20000);
  const std::string small = testing::MakeKafkaBatch(2, 1000, 500);
  const std::vector<std::string> batches = {big, small, big};
  const uint64_t big_spliced = big.size() - GroupLog::kSplicedBatchHeadBytes;
  {
    std::unique_ptr<GroupLog> log = OpenLog();
    std::vector<Entry> entries;
    for (uint64_t i = 0; i < batches.size(); ++i) {
      entries.push_back(Entry{
          .index = i + 1, .term = 2, .data = raft::Bytes::Own(batches[i])});
    }
    ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
    EXPECT_EQ(log->spliced_payload_bytes(), 2 * big_spliced);
    // The shared payloads keep their bytes: base offset 0 in each.
    for (uint64_t i = 0; i < batches.size(); ++i) {
      EXPECT_EQ(testing::View(entries[i].data), batches[i]);
    }
    // The tail log copies each record whole: nothing is spliced.
    std::string tap;
    log->set_wal_tap(&tap);
    std::vector<Entry> more{
        Entry{.index = 4, .term = 2, .data = raft::Bytes::Own(big)}};
    ASSERT_TRUE(log->Append(absl::MakeSpan(more)).ok());
    log->set_wal_tap(nullptr);
    EXPECT_EQ(log->spliced_payload_bytes(), 2 * big_spliced);
    EXPECT_EQ(tap.size(), format::kRecordHeaderBytes + big.size());
    ASSERT_TRUE(log->Sync().ok());
  }
  RecoveryReport report;
  std::unique_ptr<GroupLog> log = OpenLog(&report);
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(report.damage.empty());
  std::vector<Entry> got;
  ASSERT_TRUE(log->Read(1, 5, ~uint64_t{0}, &got).ok());
  ASSERT_EQ(got.size(), 4u);
  const std::vector<uint64_t> base_offsets = {0, 5, 7, 12};
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string& sent = i < 3 ? batches[i] : big;
    EXPECT_EQ(testing::BatchBaseOffset(got[i].data), base_offsets[i]) << i;
    EXPECT_TRUE(testing::KafkaBatchCrcOk(got[i].data)) << i;
    EXPECT_EQ(testing::View(got[i].data).substr(kafka::kBatchHeaderBytes),
              absl::string_view(sent).substr(kafka::kBatchHeaderBytes))
        << i;
  }
}

TEST_F(GroupLogTest, PartitionLogAssignsKafkaOffsetsAndKeepsBatchCrc) {
  KafkaV2BatchOffsets kafka;
  options_.batch_offsets = &kafka;
  std::unique_ptr<GroupLog> log = OpenLog();
  std::vector<Entry> entries;
  for (uint64_t i = 1; i <= 60; ++i) {
    // Three terms: each batch is stored with its term as the leader epoch.
    entries.push_back(Entry{.index = i,
                            .term = 1 + (i - 1) / 20,
                            .data = raft::Bytes::Own(testing::MakeKafkaBatch(
                                static_cast<uint32_t>(i % 5 + 1), 1000 + i))});
  }
  ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
  std::vector<Entry> stored;
  ASSERT_TRUE(log->Read(1, 61, 1 << 20, &stored).ok());
  ASSERT_EQ(stored.size(), entries.size());
  uint64_t next = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    EXPECT_EQ(e.offset_base, next);
    // The appended (shared) payload is untouched; the stored copy carries
    // the assigned offset and a still valid batch CRC.
    EXPECT_EQ(testing::BatchBaseOffset(e.data), 0u);
    EXPECT_EQ(stored[i].offset_base, next);
    EXPECT_EQ(testing::BatchBaseOffset(stored[i].data), next);
    EXPECT_TRUE(testing::KafkaBatchCrcOk(stored[i].data));
    EXPECT_EQ(kafka::ReadBatchHeader(testing::View(stored[i].data))
                  .partition_leader_epoch,
              static_cast<int32_t>(e.term));
    EXPECT_EQ(
        kafka::ReadBatchHeader(testing::View(e.data)).partition_leader_epoch,
        -1);
    next += e.offset_count;
  }
  EXPECT_EQ(log->next_offset(), next);
  auto check_lookup = [&](GroupLog& l) {
    for (const Entry& e : entries) {
      for (uint64_t o = e.offset_base; o < e.offset_base + e.offset_count;
           ++o) {
        absl::StatusOr<uint64_t> index = l.IndexForOffset(o);
        ASSERT_TRUE(index.ok()) << o << " " << index.status();
        EXPECT_EQ(*index, e.index);
      }
    }
    EXPECT_EQ(l.IndexForOffset(next).status().code(),
              absl::StatusCode::kNotFound);
  };
  check_lookup(*log);
  std::vector<Entry> got;
  ASSERT_TRUE(log->Read(1, 61, ~uint64_t{0}, &got).ok());
  EXPECT_EQ(got, stored);
  ASSERT_TRUE(log->Sync().ok());
  log.reset();
  disk_.Crash();
  log = OpenLog();
  EXPECT_EQ(log->next_offset(), next);
  check_lookup(*log);
  // Truncation rewinds the next offset.
  ASSERT_TRUE(log->TruncateSuffix(30).ok());
  EXPECT_EQ(log->next_offset(), entries[30].offset_base);
  std::vector<Entry> bad = {
      Entry{.index = 31, .term = 3, .data = raft::Bytes::Copy("not a batch")}};
  EXPECT_EQ(log->Append(absl::MakeSpan(bad)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GroupLogTest, RetentionBySizeAndTime) {
  KafkaV2BatchOffsets kafka;
  options_.batch_offsets = &kafka;
  std::unique_ptr<GroupLog> log = OpenLog();
  std::vector<Entry> entries;
  for (uint64_t i = 1; i <= 200; ++i) {
    entries.push_back(Entry{.index = i,
                            .term = 1,
                            .data = raft::Bytes::Own(testing::MakeKafkaBatch(
                                1, 1000 + i * 10, 40))});
  }
  ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
  const size_t segments = log->segment_count();
  // Nothing may go above max_removable_index.
  absl::StatusOr<int> removed = log->ApplyRetention(RetentionLimits{
      .now_ms = 1 << 30, .retention_ms = 0, .max_removable_index = 0});
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0);
  // By time: segments whose newest batch is more than 1000 ms older than
  // now=3000.
  removed = log->ApplyRetention(RetentionLimits{
      .now_ms = 3000, .retention_ms = 1000, .max_removable_index = 200});
  ASSERT_TRUE(removed.ok());
  EXPECT_GT(*removed, 0);
  EXPECT_GT(log->first_index(), 1u);
  EXPECT_LE(log->first_index(), 101u);
  // By size: keep at most ~8 KiB.
  removed = log->ApplyRetention(
      RetentionLimits{.retention_bytes = 8192, .max_removable_index = 200});
  ASSERT_TRUE(removed.ok());
  EXPECT_LE(log->size_bytes(), 8192u + 4096u);
  EXPECT_LT(log->segment_count(), segments);
  EXPECT_EQ(log->last_index(), 200u);
  absl::StatusOr<uint64_t> term = log->Term(log->first_index());
  EXPECT_TRUE(term.ok());
}

TEST_F(GroupLogTest, TimeIndexStartsNearTheFirstRecordReachingATimestamp) {
  KafkaV2BatchOffsets kafka;
  options_.batch_offsets = &kafka;
  std::unique_ptr<GroupLog> log = OpenLog();
  // Batch i has timestamp 1000 + 10 i, except a late one at index 150 that
  // carries 1000 + 10 * 180 (out of order, as producers' clocks allow).
  auto timestamp = [](uint64_t i) -> int64_t {
    return i == 150 ? 1000 + 10 * 180 : 1000 + static_cast<int64_t>(i) * 10;
  };
  std::vector<Entry> entries;
  for (uint64_t i = 1; i <= 300; ++i) {
    entries.push_back(Entry{.index = i,
                            .term = 1,
                            .data = raft::Bytes::Own(testing::MakeKafkaBatch(
                                1, timestamp(i), 100))});
  }
  ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
  ASSERT_GT(log->segment_count(), 5u);
  // The answer a full scan gives: the first entry whose timestamp reaches.
  auto first_reaching = [&](int64_t ts) -> uint64_t {
    for (uint64_t i = 1; i <= 300; ++i) {
      if (timestamp(i) >= ts) return i;
    }
    return 0;
  };
  auto check = [&](GroupLog& l) {
    for (int64_t ts : {0, 1500, 2000, 2500, 2795, 2805, 3000}) {
      absl::StatusOr<uint64_t> start = l.IndexForTimestamp(ts);
      ASSERT_TRUE(start.ok()) << ts << ": " << start.status();
      const uint64_t want = first_reaching(ts);
      EXPECT_LE(*start, want) << "timestamp " << ts;
      // At most one index interval (512 bytes of ~170-byte records) before.
      EXPECT_GE(*start + 512 / 150 + 1, want) << "timestamp " << ts;
    }
    EXPECT_TRUE(absl::IsNotFound(l.IndexForTimestamp(4001).status()));
  };
  check(*log);
  // The late batch at 150 reaches 2800: asked for 2795, the index must not
  // skip it for the in-order batch at index 280.
  EXPECT_LE(*log->IndexForTimestamp(2795), 150u);
  // Sealed segments' index files carry the time index across a reopen.
  ASSERT_TRUE(log->Sync().ok());
  log.reset();
  log = OpenLog();
  check(*log);
}

TEST_F(GroupLogTest, LogStartEntriesTakeNoOffsetsAndCutBelowTheLogStart) {
  KafkaV2BatchOffsets kafka;
  options_.batch_offsets = &kafka;
  std::unique_ptr<GroupLog> log = OpenLog();
  // 100 batches of 2 offsets, then a log start entry at offset 101 (inside
  // the batch at index 51), then another batch.
  std::vector<Entry> entries;
  for (uint64_t i = 1; i <= 100; ++i) {
    entries.push_back(
        Entry{.index = i,
              .term = 1,
              .data = raft::Bytes::Own(testing::MakeKafkaBatch(2, 1000, 40))});
  }
  entries.push_back(Entry{.index = 101,
                          .term = 1,
                          .data = raft::Bytes::Own(EncodeLogStartEntry(101))});
  entries.push_back(
      Entry{.index = 102,
            .term = 1,
            .data = raft::Bytes::Own(testing::MakeKafkaBatch(2, 1000, 40))});
  ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
  EXPECT_EQ(entries[100].offset_count, 0u);
  EXPECT_EQ(entries[100].offset_base, format::kNoOffset);
  EXPECT_EQ(entries[101].offset_base, 200u);
  EXPECT_EQ(log->next_offset(), 202u);
  ASSERT_TRUE(log->Sync().ok());
  log.reset();
  disk_.Crash();
  log = OpenLog();
  std::vector<Entry> got;
  ASSERT_TRUE(log->Read(101, 103, ~uint64_t{0}, &got).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(DecodeLogStartEntry(testing::View(got[0].data)), 101);
  EXPECT_EQ(got[0].offset_count, 0u);
  EXPECT_EQ(got[1].offset_base, 200u);
  // The cut takes the whole segments below offset 101, never the one
  // holding it.
  const std::optional<GroupLog::RetentionCutPoint> cut = log->RetentionCut(
      RetentionLimits{.max_removable_index = 102, .log_start_offset = 101});
  ASSERT_TRUE(cut.has_value());
  EXPECT_LE(cut->next_offset, 101u);
  EXPECT_LT(cut->index, 51u);
  EXPECT_GT(cut->next_offset, 0u);
  EXPECT_FALSE(log->RetentionCut(RetentionLimits{.max_removable_index = 102})
                   .has_value());
  EXPECT_FALSE(DecodeLogStartEntry("CHRONIK_LOGSTART").has_value());
  EXPECT_FALSE(DecodeLogStartEntry(testing::MakeKafkaBatch(1, 0)).has_value());
}

TEST_F(GroupLogTest, SharedReadsSliceTheReadChunkAndSurviveRefills) {
  std::unique_ptr<GroupLog> log = OpenLog();
  Append(*log, 1, 100, 1, 100);
  // Several chunks per read (read_chunk_bytes 700, ~150 B records): the
  // slices of a chunk must keep their bytes when the next chunk is read.
  for (uint64_t max_bytes : {1ull, 500ull, 2000ull, 5000ull}) {
    std::vector<Entry> copied;
    std::vector<Entry> shared;
    ASSERT_TRUE(log->Read(1, 101, max_bytes, &copied).ok());
    ASSERT_TRUE(
        log->Read(1, 101, max_bytes, &shared, GroupLog::ReadMode::kShare).ok());
    ASSERT_EQ(shared.size(), copied.size());
    for (size_t i = 0; i < shared.size(); ++i) {
      EXPECT_EQ(shared[i], copied[i]) << "entry " << shared[i].index;
      EXPECT_EQ(shared[i].data.view().substr(0, PayloadFor(i + 1, 1).size()),
                PayloadFor(i + 1, 1));
    }
    if (shared.size() >= 2) {
      // Neighbours come from one chunk: slices, not copies.
      EXPECT_TRUE(shared[0].data.SharesBufferWith(shared[1].data));
      EXPECT_FALSE(copied[0].data.SharesBufferWith(copied[1].data));
    }
  }
}

}  // namespace
}  // namespace chronik::storage
