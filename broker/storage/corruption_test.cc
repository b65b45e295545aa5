// Corruption tests: one flipped byte anywhere in a group's files (segments,
// index files), over a fixed set of seeds. The log must detect it and never
// serve a wrong entry: every entry reads back either exactly as written or
// fails with DataLoss naming the file and position; a flip in a segment is
// reported (at open when the segment is scanned, at the first read otherwise);
// a flip in an index file only costs a rebuild. The one case that cannot be
// told from a torn write, a flip in the very last record of the last segment,
// is cut like a torn tail (documented in docs/storage-format.md).
#include <random>

#include "absl/random/distributions.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/batch_offsets.h"
#include "broker/storage/group_log.h"
#include "broker/storage/test_util.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::storage {
namespace {

constexpr int kSeeds = 400;
constexpr uint64_t kEntries = 120;

size_t SizeFor(uint64_t index) { return (index * 37) % 200; }
uint64_t TermOf(uint64_t index) { return 1 + index / 50; }
uint32_t RecordsOf(uint64_t index) { return 1 + index % 3; }

// Opaque payloads (a metadata log: full record CRC) or Kafka batches (a
// partition log: the record CRC leaves the batch's data to the batch CRC).
struct Payloads {
  bool kafka = false;
  KafkaV2BatchOffsets offsets;

  LogOptions Options() const {
    return LogOptions{.segment_max_bytes = 4096,
                      .index_interval_bytes = 300,
                      .batch_offsets = kafka ? &offsets : nullptr};
  }
  std::string Written(uint64_t i) const {
    if (!kafka) return testing::PayloadFor(i, TermOf(i), SizeFor(i));
    return testing::MakeKafkaBatch(RecordsOf(i), static_cast<int64_t>(i),
                                   SizeFor(i));
  }
  // What a read of entry `i` returns: a batch carries its offset and epoch.
  std::string Stored(uint64_t i) const {
    std::string bytes = Written(i);
    if (kafka) {
      uint64_t offset = 0;
      for (uint64_t j = 1; j < i; ++j) offset += RecordsOf(j);
      offsets.AssignBaseOffset(offset, TermOf(i), absl::MakeSpan(bytes));
    }
    return bytes;
  }
};

struct Flips {
  int segment = 0, index = 0, refused_reads = 0, torn_like = 0,
      refused_opens = 0;
};

void WriteLog(sim::SimDisk& disk, const Payloads& payloads) {
  RecoveryReport report;
  std::unique_ptr<GroupLog> log =
      *GroupLog::Open(&disk, "g", payloads.Options(), &report);
  std::vector<Entry> entries;
  for (uint64_t i = 1; i <= kEntries; ++i) {
    entries.push_back(Entry{.index = i,
                            .term = TermOf(i),
                            .data = raft::Bytes::Own(payloads.Written(i))});
  }
  ASSERT_TRUE(log->Append(absl::MakeSpan(entries)).ok());
  ASSERT_TRUE(log->Sync().ok());
}

// Reads every entry back: exactly as stored, or DataLoss naming the file.
// Returns whether a read was refused.
bool CheckReads(GroupLog& log, const Payloads& payloads,
                const std::string& path, const std::string& where,
                Flips& flips) {
  bool refused = false;
  for (uint64_t i = log.first_index(); i <= log.last_index(); ++i) {
    std::vector<Entry> got;
    absl::Status s = log.Read(i, i + 1, ~uint64_t{0}, &got);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << where << ": " << s;
      EXPECT_NE(s.message().find(path), std::string::npos)
          << where << ": " << s;
      refused = true;
      flips.refused_reads++;
      continue;
    }
    EXPECT_EQ(got.size(), 1u) << where;
    if (got.size() != 1) continue;
    EXPECT_EQ(got[0].term, TermOf(i)) << where << " index " << i;
    EXPECT_TRUE(got[0].data.view() == payloads.Stored(i))
        << where << " index " << i << ": a wrong entry was served";
  }
  return refused;
}

// One seed: a log of kEntries, one flipped bit in one of its files, then
// open and read everything.
void FlipOneBit(uint64_t seed, const Payloads& payloads, Flips& flips) {
  std::mt19937_64 rng(seed);
  sim::SimDisk disk(sim::SimDiskOptions{}, rng);
  WriteLog(disk, payloads);
  std::vector<std::string> files = *disk.List("g");
  const std::string name = files[absl::Uniform<size_t>(rng, 0, files.size())];
  const std::string path = "g/" + name;
  std::unique_ptr<env::File> file = *disk.Open(path);
  const uint64_t offset = absl::Uniform<uint64_t>(rng, 0, file->Size());
  file.reset();
  ASSERT_TRUE(
      disk.CorruptByte(path, offset, static_cast<uint8_t>(1u << (seed % 8)))
          .ok());
  const bool is_segment = name.ends_with(".seg");
  (is_segment ? flips.segment : flips.index)++;
  const std::string where =
      absl::StrCat(payloads.kafka ? "kafka " : "", "seed ", seed, " flipped ",
                   path, "@", offset);
  RecoveryReport report;
  absl::StatusOr<std::unique_ptr<GroupLog>> opened =
      GroupLog::Open(&disk, "g", payloads.Options(), &report);
  if (!opened.ok()) {
    // Only a damaged header of the active segment stops the log from opening.
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss) << where;
    EXPECT_NE(opened.status().message().find(path), std::string::npos) << where;
    EXPECT_LT(offset, format::kSegmentHeaderBytes) << where;
    EXPECT_EQ(name, files.back()) << where;
    flips.refused_opens++;
    return;
  }
  GroupLog& log = **opened;
  for (const Damage& d : report.damage) {
    EXPECT_EQ(d.file, path) << where;
    EXPECT_LE(d.position, offset) << where;
  }
  bool detected = !report.damage.empty();
  if (report.torn_bytes_cut > 0) {
    // Only a flip in the last record of the last segment looks torn.
    EXPECT_EQ(log.last_index(), kEntries - 1) << where;
    EXPECT_EQ(name, files.back()) << where;
    detected = true;
    flips.torn_like++;
  }
  if (CheckReads(log, payloads, path, where, flips)) detected = true;
  if (is_segment) {
    EXPECT_TRUE(detected) << where << ": a flipped segment byte went unnoticed";
  } else {
    EXPECT_TRUE(report.damage.empty()) << where;
    EXPECT_EQ(log.last_index(), kEntries) << where;
  }
}

void FlipsAreDetectedAndNeverServed(bool kafka) {
  Payloads payloads;
  payloads.kafka = kafka;
  Flips flips;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    FlipOneBit(seed, payloads, flips);
  }
  EXPECT_GT(flips.segment, 100);
  EXPECT_GT(flips.index, 20);
  EXPECT_GT(flips.refused_reads, 50);
  std::printf(
      "kafka=%d segment_flips=%d index_flips=%d refused_reads=%d "
      "torn_like=%d refused_opens=%d\n",
      kafka, flips.segment, flips.index, flips.refused_reads, flips.torn_like,
      flips.refused_opens);
}

TEST(StorageCorruptionTest, FlippedByteIsDetectedAndNeverServed) {
  FlipsAreDetectedAndNeverServed(/*kafka=*/false);
}

// Partition logs store batches with format::kRecordFlagBatchCrc: a flip in a
// batch's data is caught by the batch's own CRC, anywhere else by the
// record's.
TEST(StorageCorruptionTest,
     FlippedByteInAPartitionLogIsDetectedAndNeverServed) {
  FlipsAreDetectedAndNeverServed(/*kafka=*/true);
}

}  // namespace
}  // namespace chronik::storage
