// TailWal: the node-wide write-ahead log of the groups' log tails, so that one
// flush makes the appends of many groups durable with one fsync.
//
// What it is for: without it a flush fsyncs every segment file it appended to
// (100 groups: 100 small scattered writes and a journal commit per file). With
// it, LogStore writes each flush's appended records (exactly as the segments
// store them) into one frame of this preallocated file and fsyncs only it;
// the segment files are written but synced later, all at once, at a
// checkpoint: when the next frame does not fit, a flush syncs every segment
// the log covers and the log restarts at its beginning (a new generation).
//
// File format (LogStore's root, format.h kTailWalFile), all integers little
// endian:
// clang-format off
//   header block, bytes [0, kTailWalHeaderBytes): two slots of half its
//   size; generation g's header is in slot g % 2 (a torn header write leaves
//   the other), the valid slot with the larger generation counts:
//     0  magic "CHRNKWAL" (8 bytes)
//     8  u32 format version (kTailWalVersion)
//    12  u32 CRC-32C of bytes 16..31
//    16  u64 generation (the frames that count carry it)
//    24  u64 zero
//   frames, back to back from kTailWalHeaderBytes:
//     0  u32 CRC-32C of bytes 4..(kFrameHeaderBytes + body length - 1)
//     4  u32 body length
//     8  u64 generation
//    16  u64 sequence: 1 for the first frame of a generation, then +1
//    24  body: blocks, back to back:
//          0  u64 group id
//          8  u32 kind: kBlockRecords (stored records follow) or
//             kBlockBarrier (the group's earlier blocks no longer count)
//         12  u32 length of the records that follow
//         16  u64 term of the entry before the first record
//         24  records (format.h Record), consecutive indexes
// clang-format on
// Recovery reads frames from the start while each has the header's
// generation, the next sequence and a matching CRC; the first that does not
// ends the log (a torn last frame, or an older generation's leftovers). The
// file is preallocated (written with zeros once) so that frame writes are
// overwrites and an fdatasync commits no file-system metadata.
//
// Barriers: a group's records may be replayed only onto the log they
// extended. Before a group's log is changed in any other way than appended to
// (a conflicting suffix replaced, a snapshot installed, the group deleted)
// while the log holds its blocks, LogStore syncs the group's segments and
// writes a barrier, synced, so that recovery never replays the older blocks
// over the changed log.
//
// Errors: environment errors come back as Status; after a failed write or
// sync the log's state is unknown and every later call fails (LogStore fails
// the groups; a restart recovers). Ownership: borrows the disk, owns the
// file. Thread-safety: none (LogStore's thread); only file() is synced from
// another thread, between BeginFlush and FinishFlush.
#ifndef CHRONIK_BROKER_STORAGE_TAIL_WAL_H_
#define CHRONIK_BROKER_STORAGE_TAIL_WAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/env/disk.h"

namespace chronik::storage {

inline constexpr uint64_t kTailWalHeaderBytes = 4096;
inline constexpr uint64_t kTailWalFrameHeaderBytes = 24;
inline constexpr uint64_t kTailWalBlockHeaderBytes = 24;
inline constexpr uint32_t kTailWalVersion = 1;
inline constexpr uint32_t kBlockRecords = 1;
inline constexpr uint32_t kBlockBarrier = 2;
// The smallest useful log: a header and a few frames.
inline constexpr uint64_t kTailWalMinBytes = 8 << 10;

// One block as recovered.
struct TailWalBlock {
  uint64_t group_id = 0;
  uint32_t kind = kBlockRecords;
  uint64_t prev_term = 0;
  std::string records = {};
};

class TailWal {
 public:
  // Opens the log at `path`, creating and preallocating it (`capacity_bytes`,
  // at least kTailWalMinBytes) when missing; an existing file keeps its size.
  // The blocks of the frames that count are appended to `recovered` in order;
  // new frames follow them until Restart.
  static absl::StatusOr<std::unique_ptr<TailWal>> Open(
      env::Disk* disk, std::string path, uint64_t capacity_bytes,
      std::vector<TailWalBlock>* recovered);

  // The frame being built (in memory until WriteFrame). BeginRecords starts
  // a records block and returns the string the records are appended to
  // (GroupLog's wal tap; nothing else may be appended until EndRecords);
  // EndRecords closes it (an empty block is dropped).
  std::string* BeginRecords(uint64_t group_id, uint64_t prev_term);
  void EndRecords();
  bool frame_empty() const { return frame_.size() == kTailWalFrameHeaderBytes; }
  // Whether the frame fits the room left; whether a frame whose blocks take
  // `body_bytes` would.
  bool FrameFits() const;
  bool Fits(uint64_t body_bytes) const;
  void DiscardFrame();
  // Writes the frame (not synced: sync file() next). The frame is cleared.
  absl::Status WriteFrame();
  // A barrier frame for `group_id`, written and synced now.
  absl::Status WriteBarrier(uint64_t group_id);
  // Whether a barrier frame still fits.
  bool BarrierFits() const;
  // Starts a new generation at the beginning, its header written and synced
  // now: every earlier frame stops counting. Only after every segment the
  // log covered is durable.
  absl::Status Restart();

  env::File* file() { return file_.get(); }
  uint64_t capacity_bytes() const { return capacity_bytes_; }
  uint64_t used_bytes() const { return position_; }
  uint64_t generation() const { return generation_; }
  bool failed() const { return !failed_.ok(); }
  const absl::Status& status() const { return failed_; }
  // The driver's fsync of file() failed: what reached the disk is unknown
  // (a later fsync may succeed with earlier frames lost), so the log fails.
  void SyncFailed(absl::Status status) {
    Fail(std::move(status)).IgnoreError();
  }

 private:
  TailWal(env::Disk* disk, std::string path);
  absl::Status Create(uint64_t capacity_bytes);
  absl::Status Recover(std::vector<TailWalBlock>* recovered);
  absl::Status WriteHeader();
  absl::Status WriteAndAdvance(std::string& frame);
  void ResetFrame();
  absl::Status Fail(absl::Status status);

  env::Disk* const disk_;
  const std::string path_;
  std::unique_ptr<env::File> file_;
  uint64_t capacity_bytes_ = 0;
  uint64_t generation_ = 0;
  uint64_t next_sequence_ = 1;
  uint64_t position_ = kTailWalHeaderBytes;  // where the next frame goes
  std::string frame_;                        // header placeholder + blocks
  size_t block_start_ = 0;                   // of the open records block
  bool block_open_ = false;
  absl::Status failed_;
};

}  // namespace chronik::storage

#endif  // CHRONIK_BROKER_STORAGE_TAIL_WAL_H_
