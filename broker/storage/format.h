// The on-disk format of chronik's storage, as constants and codecs.
//
// docs/storage-format.md describes the same format in prose; keep the two in
// step (the doc names these constants). All integers are little-endian and
// fixed width. Every structure carries a CRC-32C (base/crc32c.h) so a torn or
// rotten byte is detected.
//
// Files of one store (paths relative to the store root):
// clang-format off
//   hardstate                  all groups' hard states (atomic replace)
//   hardstate.tmp              being written; removed at open
//   group-<id>/log-<N>.seg     a log segment; N = its first Raft index,
//                              20 decimal digits
//   group-<id>/log-<N>.idx     sparse index of a sealed segment (rebuildable)
//   group-<id>/snapshot        the group's latest snapshot (atomic replace)
//   group-<id>/snapshot.tmp    being written; removed at open
// clang-format on
//
// Pure functions, no state; thread-safe.
#ifndef CHRONIK_BROKER_STORAGE_FORMAT_H_
#define CHRONIK_BROKER_STORAGE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace chronik::storage::format {

// ---- Segment file: a header, then records back to back.
// clang-format off
// Segment header (kSegmentHeaderBytes = 48):
//   0  magic "CHRNKSEG" (8 bytes)
//   8  u32 format version (kFormatVersion)
//  12  u32 flags: kSegmentFlagBase = first segment of a log, or of a log
//      reset by a snapshot install; segments before a base one are stale
//  16  u64 first Raft index of the segment
//  24  u64 term of the entry before the first index (0 if none)
//  32  u64 Kafka offset of the first batch in the segment (0 if none)
//  40  u32 CRC-32C of bytes 0..39
//  44  u32 zero
// clang-format on
inline constexpr char kSegmentMagic[8] = {'C', 'H', 'R', 'N',
                                          'K', 'S', 'E', 'G'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kSegmentFlagBase = 1;
inline constexpr size_t kSegmentHeaderBytes = 48;

struct SegmentHeader {
  uint32_t flags = 0;
  uint64_t first_index = 0;
  uint64_t prev_term = 0;
  uint64_t first_offset = 0;
};

std::string EncodeSegmentHeader(const SegmentHeader& header);
// nullopt when the bytes are short, the magic or version differ, or the CRC
// fails.
std::optional<SegmentHeader> DecodeSegmentHeader(absl::string_view bytes);

// ---- Record: one Raft entry: a header, then the payload.
// clang-format off
// Record header (kRecordHeaderBytes = 48):
//   0  u32 CRC-32C of bytes 4..(47 + payload length): the rest of the
//      header and the payload; with kRecordFlagBatchCrc, of bytes 4..47 and
//      the payload's first kBatchCrcCoveredFrom bytes only
//   4  u32 payload length (<= kMaxPayloadBytes)
//   8  u64 Raft index
//  16  u64 Raft term
//  24  u64 Kafka base offset of the batch in the payload
//      (kNoOffset when the offset count is 0)
//  32  u32 number of Kafka offsets the batch covers (0: not a batch)
//  36  u8  entry type (opaque to storage: the Raft core's EntryType)
//  37  u8  flags (kRecordFlagBatchCrc), then 2 zero bytes
//  40  i64 max timestamp (ms) of the batch, for retention (-1: unknown)
//  48  payload
// clang-format on
inline constexpr size_t kRecordHeaderBytes = 48;
// The payload is a Kafka v2 record batch whose own CRC-32C (big-endian at
// payload bytes kBatchCrcAt..+3) covers payload bytes kBatchCrcCoveredFrom
// to the end, and was checked when the batch arrived: the record's CRC then
// covers the header and the bytes before kBatchCrcCoveredFrom (base offset,
// length, leader epoch, magic and the batch CRC itself), so an append takes
// no second CRC over the data. Checking such a record checks both CRCs.
inline constexpr uint8_t kRecordFlagBatchCrc = 1;
inline constexpr size_t kBatchCrcAt = 17;
inline constexpr size_t kBatchCrcCoveredFrom = 21;
inline constexpr uint32_t kMaxPayloadBytes = 64u << 20;
inline constexpr uint64_t kNoOffset = ~uint64_t{0};

struct RecordHeader {
  uint32_t crc = 0;
  uint32_t payload_bytes = 0;
  uint64_t index = 0;
  uint64_t term = 0;
  uint64_t offset_base = kNoOffset;
  uint32_t offset_count = 0;
  uint8_t type = 0;
  uint8_t flags = 0;  // kRecordFlagBatchCrc or 0
  int64_t max_timestamp_ms = -1;
};

// Appends header + payload to `out`, computing the CRC (the header's crc is
// ignored).
void AppendRecord(const RecordHeader& header, absl::string_view payload,
                  std::string* out);
// AppendRecord in two steps, for a caller that rewrites the copied payload in
// place first (a partition log assigning a batch's base offset): BeginRecord
// appends header and payload with the CRC left zero and returns where the
// record starts in `out`; SealRecord computes and stores the CRC of the record
// starting there (it must be the last one in `out`), over what the header's
// flags say (a kRecordFlagBatchCrc payload must be at least
// kBatchCrcCoveredFrom bytes and carry a valid batch CRC).
// A record may leave the end of its payload out of `out` (storage's
// WriteBuffer splices it in after, uncopied): BeginRecord then counts
// `payload_tail_bytes` more in the payload length, and SealRecord is given
// that tail to cover.
size_t BeginRecord(const RecordHeader& header, absl::string_view payload,
                   std::string* out, size_t payload_tail_bytes = 0);
void SealRecord(size_t record_start, std::string* out,
                absl::string_view payload_tail = {});
// Parses the fixed header fields (no CRC check); nullopt when `bytes` is short
// or the reserved bytes or unknown flags are not zero or the length exceeds
// kMaxPayloadBytes.
std::optional<RecordHeader> DecodeRecordHeader(absl::string_view bytes);
// True when `header.crc` matches the header bytes and `payload` (with
// kRecordFlagBatchCrc: the covered prefix, and the batch's own CRC the rest).
bool RecordChecksumOk(absl::string_view header_bytes,
                      absl::string_view payload);
// True when `batch` holds a Kafka v2 batch header and its CRC-32C (at
// kBatchCrcAt, big-endian) matches bytes kBatchCrcCoveredFrom to the end;
// `batch_tail`, when given, is the batch's end held elsewhere.
bool BatchCrcOk(absl::string_view batch, absl::string_view batch_tail = {});

// ---- Sparse index file of a sealed segment (.idx):
// clang-format off
//   0  magic "CHRNKIDX" (8 bytes)
//   8  u32 index format version (kIndexFormatVersion)
//  12  u32 point count N
//  16  N points of kIndexPointBytes = 40: u64 Raft index, u64 term,
//      u64 next Kafka offset before the record, u64 file position,
//      i64 largest batch timestamp (ms) of the segment's records before
//      this one, -1 if none (the time index)
//  16 + 32N  trailer (kIndexTrailerBytes = 40): u64 segment file size,
//      u64 last Raft index, u64 next Kafka offset, i64 max timestamp ms,
//      u32 CRC-32C of every byte before it, u32 zero
// clang-format on
// An index is used only when its version, CRC and segment size (equal to the
// segment file's) are right; otherwise the segment is scanned and the index
// rebuilt (so version 1 indexes, without timestamps, are rebuilt once).
inline constexpr char kIndexMagic[8] = {'C', 'H', 'R', 'N', 'K', 'I', 'D', 'X'};
inline constexpr uint32_t kIndexFormatVersion = 2;
inline constexpr size_t kIndexPointBytes = 40;
inline constexpr size_t kIndexHeaderBytes = 16;
inline constexpr size_t kIndexTrailerBytes = 40;

// ---- Active segment index (.aidx): the sparse index of the segment appends
// go to, written by GroupLog::WriteActiveIndex (a replay checkpoint, at a
// clean stop and periodically) so that opening the log does not scan and
// CRC every record of the active segment. Same layout as the .idx file
// above (magic, version, points, trailer, CRC); its "segment file size" is
// the segment's synced end when it was written (it is written only when
// the segment has nothing unsynced), and the file may have grown since.
// Written in place, never fsynced: it is a hint. Recovery trusts it only
// when its CRC is right, its size is at most the segment file's, and the
// records from its last index point to that size are valid (CRC), chain
// (index, term, Kafka offsets) and end exactly at its last index: the
// records before that point are then the ones it indexed (an entry with
// the same index and term is the same entry, and so is everything before
// it), and were fsynced before the file was written. Then only the records
// after its size are scanned; otherwise the whole segment is scanned as
// before. Removed with its segment; a leftover for a sealed segment is
// removed at open.
inline constexpr char kActiveIndexSuffix[] = ".aidx";

// ---- Replay checkpoint file (kReplayCheckpointFile in a group's
// directory): the group applier's state after an applied entry, so that a
// restart restores it and replays only the entries after it
// (LogStore::WriteCheckpoint, replication::RaftHost).
// clang-format off
//   0  magic "CHRNKRCP" (8 bytes)
//   8  u32 format version (kReplayCheckpointVersion)
//  12  u32 flags: bit 0 (kReplayCheckpointLearned) the node knew the
//      group's membership (a joining member had learned it)
//  16  u64 Raft index of the last applied entry it covers
//  24  u64 that entry's term
//  32  u64 index of the entry (or snapshot) that made the membership
//  40  u32 conf state length C, u32 image length D
//  48  C bytes conf state (raft::EncodeConfState of the applied membership),
//      then D bytes of the applier's image (a partition's:
//      broker/server/partition_replica.h, CheckpointImage)
//  48 + C + D  u32 CRC-32C of every byte before it
// clang-format on
// Written in place (truncate, write), never fsynced: a hint like the
// active index. Used only when its CRC is right, its index is after the
// group's snapshot and at or before the last stored entry, and the stored
// entry there has its term (so the stored log up to there is the one that
// was applied); otherwise the group is replayed from its snapshot as before.
inline constexpr char kReplayCheckpointMagic[8] = {'C', 'H', 'R', 'N',
                                                   'K', 'R', 'C', 'P'};
inline constexpr uint32_t kReplayCheckpointVersion = 1;
inline constexpr uint32_t kReplayCheckpointLearned = 1;
inline constexpr size_t kReplayCheckpointHeaderBytes = 48;

// ---- Clean-stop marker (kCleanStopFile in the store's root): written last
// by LogStore::MarkCleanStop at a clean stop (nothing queued, nothing
// unsynced, no failed group), fsynced with its directory; it holds the
// 8 bytes "CHRNKCLN". LogStore::Open removes it (durably, before anything
// else is written). Without it the previous process may have left data in
// the page cache that is not durable yet, so Open makes the whole store
// durable first (Disk::SyncAll: one syncfs) instead of each group syncing
// its directory; with it that is skipped.
inline constexpr char kCleanStopFile[] = "clean-stop";
// The node-wide tail log in the store's root (tail_wal.h has its format).
inline constexpr char kTailWalFile[] = "tail.wal";
inline constexpr char kCleanStopMagic[8] = {'C', 'H', 'R', 'N',
                                            'K', 'C', 'L', 'N'};

// ---- Snapshot file:
// clang-format off
//   0  magic "CHRNKSNP" (8 bytes)
//   8  u32 format version
//  12  u32 conf state length C
//  16  u64 snapshot Raft index
//  24  u64 snapshot Raft term
//  32  u64 next Kafka offset after the snapshot
//  40  u64 data length D
//  48  C bytes conf state (opaque: the driver's serialized membership),
//      then D bytes of data
//  48 + C + D  u32 CRC-32C of every byte before it
// clang-format on
// Broker groups have a fixed membership, so C is 0; the data is the group
// applier's image (the metadata group: a metapb::MetadataSnapshot; a
// partition: its producer image, broker/server/partition_replica.h) and the
// next Kafka offset is a partition's log start after a retention cut.
// docs/storage-format.md has both.
inline constexpr char kSnapshotMagic[8] = {'C', 'H', 'R', 'N',
                                           'K', 'S', 'N', 'P'};
inline constexpr size_t kSnapshotHeaderBytes = 48;

// ---- Hard state file: a header, then one entry per group.
// clang-format off
//   0  magic "CHRNKHST" (8 bytes)
//   8  u32 format version
//  12  u32 group count N
//  16  N entries of kHardStateEntryBytes = 40: u64 group id, u64 term,
//      u64 vote, u64 commit, u64 zero
//  16 + 40N  u32 CRC-32C of every byte before it
// clang-format on
inline constexpr char kHardStateMagic[8] = {'C', 'H', 'R', 'N',
                                            'K', 'H', 'S', 'T'};
inline constexpr size_t kHardStateEntryBytes = 40;

// File names.
inline constexpr char kHardStateFile[] = "hardstate";
inline constexpr char kTmpSuffix[] = ".tmp";
inline constexpr char kSnapshotFile[] = "snapshot";
std::string GroupDir(uint64_t group_id);
std::string SegmentName(uint64_t first_index);
std::string IndexName(uint64_t first_index);
std::string ActiveIndexName(uint64_t first_index);
inline constexpr char kReplayCheckpointFile[] = "replay-checkpoint";
// Parses "log-<20 digits>.seg"; nullopt for any other name.
std::optional<uint64_t> ParseSegmentName(absl::string_view name);

// Little-endian helpers.
void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
uint32_t GetU32(const char* p);
uint64_t GetU64(const char* p);

}  // namespace chronik::storage::format

#endif  // CHRONIK_BROKER_STORAGE_FORMAT_H_
