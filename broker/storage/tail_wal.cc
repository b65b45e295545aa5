#include "broker/storage/tail_wal.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/crc32c.h"
#include "broker/storage/format.h"

namespace chronik::storage {
namespace {

constexpr char kMagic[8] = {'C', 'H', 'R', 'N', 'K', 'W', 'A', 'L'};
// Preallocation and recovery read in chunks of this size.
constexpr uint64_t kChunkBytes = 1 << 20;

void PatchU32(std::string& out, size_t at, uint32_t v) {
  std::string bytes;
  format::PutU32(&bytes, v);
  std::memcpy(out.data() + at, bytes.data(), 4);
}

std::string EncodeHeader(uint64_t generation) {
  std::string out(kMagic, sizeof(kMagic));
  format::PutU32(&out, kTailWalVersion);
  format::PutU32(&out, 0);  // CRC, below
  format::PutU64(&out, generation);
  format::PutU64(&out, 0);
  PatchU32(out, 12, crc32c::Value(out.data() + 16, 16));
  return out;
}

// Where the header of `generation` goes: generations alternate between two
// slots, so a torn header write leaves the previous generation's intact.
uint64_t HeaderSlot(uint64_t generation) {
  return (generation % 2) * (kTailWalHeaderBytes / 2);
}

// The generation of a valid header; 0 (no frame counts) otherwise.
uint64_t DecodeHeader(absl::string_view bytes) {
  if (bytes.size() < 32 || std::memcmp(bytes.data(), kMagic, 8) != 0 ||
      format::GetU32(bytes.data() + 8) != kTailWalVersion ||
      format::GetU32(bytes.data() + 12) !=
          crc32c::Value(bytes.data() + 16, 16)) {
    return 0;
  }
  return format::GetU64(bytes.data() + 16);
}

// Appends the blocks of a frame body (its CRC checked) to `out`; false when
// they do not parse (then nothing is appended).
bool DecodeBlocks(absl::string_view body, std::vector<TailWalBlock>* out) {
  std::vector<TailWalBlock> blocks;
  while (!body.empty()) {
    if (body.size() < kTailWalBlockHeaderBytes) return false;
    TailWalBlock block;
    block.group_id = format::GetU64(body.data());
    block.kind = format::GetU32(body.data() + 8);
    const uint32_t length = format::GetU32(body.data() + 12);
    block.prev_term = format::GetU64(body.data() + 16);
    body.remove_prefix(kTailWalBlockHeaderBytes);
    if (length > body.size() ||
        (block.kind != kBlockRecords && block.kind != kBlockBarrier)) {
      return false;
    }
    block.records = std::string(body.substr(0, length));
    body.remove_prefix(length);
    blocks.push_back(std::move(block));
  }
  for (TailWalBlock& block : blocks) out->push_back(std::move(block));
  return true;
}

}  // namespace

TailWal::TailWal(env::Disk* disk, std::string path)
    : disk_(disk), path_(std::move(path)) {
  ResetFrame();
}

absl::StatusOr<std::unique_ptr<TailWal>> TailWal::Open(
    env::Disk* disk, std::string path, uint64_t capacity_bytes,
    std::vector<TailWalBlock>* recovered) {
  CHRONIK_CHECK_GE(capacity_bytes, kTailWalMinBytes);
  std::unique_ptr<TailWal> wal(new TailWal(disk, std::move(path)));
  absl::StatusOr<bool> exists = disk->Exists(wal->path_);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    if (absl::Status s = wal->Create(capacity_bytes); !s.ok()) return s;
    return wal;
  }
  absl::StatusOr<std::unique_ptr<env::File>> file = disk->Open(wal->path_);
  if (!file.ok()) return file.status();
  wal->file_ = std::move(*file);
  wal->capacity_bytes_ = wal->file_->Size();
  if (wal->capacity_bytes_ < kTailWalMinBytes) {
    return absl::DataLossError(absl::StrCat(
        wal->path_, ": ", wal->capacity_bytes_, " bytes, less than a log"));
  }
  if (absl::Status s = wal->Recover(recovered); !s.ok()) return s;
  return wal;
}

absl::Status TailWal::Create(uint64_t capacity_bytes) {
  // Written under a temporary name and renamed: a crash never leaves a log
  // too short to hold its header.
  const std::string tmp = absl::StrCat(path_, format::kTmpSuffix);
  absl::StatusOr<std::unique_ptr<env::File>> file = disk_->Create(tmp);
  if (!file.ok()) return file.status();
  const std::string zeros(kChunkBytes, '\0');
  for (uint64_t at = 0; at < capacity_bytes; at += kChunkBytes) {
    const uint64_t n = std::min<uint64_t>(kChunkBytes, capacity_bytes - at);
    if (absl::Status s = (*file)->Append(absl::string_view(zeros).substr(0, n));
        !s.ok()) {
      return s;
    }
  }
  generation_ = 1;
  if (absl::Status s =
          (*file)->WriteAt(HeaderSlot(generation_), EncodeHeader(generation_));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = (*file)->Sync(); !s.ok()) return s;
  if (absl::Status s = disk_->Rename(tmp, path_); !s.ok()) return s;
  if (absl::Status s = disk_->SyncDir(env::ParentDir(path_)); !s.ok()) {
    return s;
  }
  file_ = std::move(*file);
  capacity_bytes_ = capacity_bytes;
  return absl::OkStatus();
}

absl::Status TailWal::Recover(std::vector<TailWalBlock>* recovered) {
  std::string head(kTailWalHeaderBytes, '\0');
  absl::StatusOr<size_t> n = file_->ReadAt(0, head.size(), head.data());
  if (!n.ok()) return n.status();
  const absl::string_view slots(head.data(), *n);
  // A slot that does not decode was torn by Restart; the other one still
  // holds the previous generation.
  generation_ = std::max(DecodeHeader(slots.substr(0, kTailWalHeaderBytes / 2)),
                         DecodeHeader(slots.substr(kTailWalHeaderBytes / 2)));
  if (generation_ == 0) {
    return absl::DataLossError(
        absl::StrCat(path_, ": neither header slot is valid"));
  }
  while (position_ + kTailWalFrameHeaderBytes <= capacity_bytes_) {
    char fh[kTailWalFrameHeaderBytes];
    n = file_->ReadAt(position_, sizeof(fh), fh);
    if (!n.ok()) return n.status();
    if (*n < sizeof(fh)) break;
    const uint32_t length = format::GetU32(fh + 4);
    if (format::GetU64(fh + 8) != generation_ ||
        format::GetU64(fh + 16) != next_sequence_ ||
        position_ + sizeof(fh) + length > capacity_bytes_) {
      break;
    }
    std::string frame(fh, sizeof(fh));
    frame.resize(sizeof(fh) + length);
    n = file_->ReadAt(position_ + sizeof(fh), length,
                      frame.data() + sizeof(fh));
    if (!n.ok()) return n.status();
    if (*n < length ||
        format::GetU32(fh) !=
            crc32c::Value(frame.data() + 4, frame.size() - 4) ||
        !DecodeBlocks(absl::string_view(frame).substr(sizeof(fh)), recovered)) {
      break;
    }
    position_ += frame.size();
    ++next_sequence_;
  }
  return absl::OkStatus();
}

std::string* TailWal::BeginRecords(uint64_t group_id, uint64_t prev_term) {
  CHRONIK_CHECK(!block_open_) << "BeginRecords twice";
  block_open_ = true;
  block_start_ = frame_.size();
  format::PutU64(&frame_, group_id);
  format::PutU32(&frame_, kBlockRecords);
  format::PutU32(&frame_, 0);  // length, set by EndRecords
  format::PutU64(&frame_, prev_term);
  return &frame_;
}

void TailWal::EndRecords() {
  CHRONIK_CHECK(block_open_) << "EndRecords without BeginRecords";
  block_open_ = false;
  const size_t records_at = block_start_ + kTailWalBlockHeaderBytes;
  CHRONIK_CHECK_GE(frame_.size(), records_at);
  if (frame_.size() == records_at) {
    frame_.resize(block_start_);
    return;
  }
  PatchU32(frame_, block_start_ + 12,
           static_cast<uint32_t>(frame_.size() - records_at));
}

bool TailWal::FrameFits() const {
  return failed_.ok() && position_ + frame_.size() <= capacity_bytes_;
}

bool TailWal::Fits(uint64_t body_bytes) const {
  return failed_.ok() &&
         position_ + kTailWalFrameHeaderBytes + body_bytes <= capacity_bytes_;
}

bool TailWal::BarrierFits() const {
  return failed_.ok() &&
         position_ + kTailWalFrameHeaderBytes + kTailWalBlockHeaderBytes <=
             capacity_bytes_;
}

void TailWal::DiscardFrame() {
  CHRONIK_CHECK(!block_open_);
  ResetFrame();
}

void TailWal::ResetFrame() { frame_.assign(kTailWalFrameHeaderBytes, '\0'); }

absl::Status TailWal::WriteFrame() {
  CHRONIK_CHECK(!block_open_);
  CHRONIK_CHECK(FrameFits())
      << "frame of " << frame_.size() << " bytes does not fit at " << position_;
  absl::Status s = WriteAndAdvance(frame_);
  ResetFrame();
  return s;
}

absl::Status TailWal::WriteBarrier(uint64_t group_id) {
  CHRONIK_CHECK(BarrierFits());
  std::string frame(kTailWalFrameHeaderBytes, '\0');
  format::PutU64(&frame, group_id);
  format::PutU32(&frame, kBlockBarrier);
  format::PutU32(&frame, 0);
  format::PutU64(&frame, 0);
  if (absl::Status s = WriteAndAdvance(frame); !s.ok()) return s;
  if (absl::Status s = file_->Sync(); !s.ok()) return Fail(s);
  return absl::OkStatus();
}

absl::Status TailWal::WriteAndAdvance(std::string& frame) {
  if (!failed_.ok()) return failed_;
  const uint64_t length = frame.size() - kTailWalFrameHeaderBytes;
  std::string head;
  format::PutU32(&head, 0);
  format::PutU32(&head, static_cast<uint32_t>(length));
  format::PutU64(&head, generation_);
  format::PutU64(&head, next_sequence_);
  std::memcpy(frame.data(), head.data(), head.size());
  PatchU32(frame, 0, crc32c::Value(frame.data() + 4, frame.size() - 4));
  if (absl::Status s = file_->WriteAt(position_, frame); !s.ok()) {
    return Fail(s);
  }
  position_ += frame.size();
  ++next_sequence_;
  return absl::OkStatus();
}

absl::Status TailWal::Restart() {
  CHRONIK_CHECK(!block_open_);
  if (!failed_.ok()) return failed_;
  ++generation_;
  if (absl::Status s =
          file_->WriteAt(HeaderSlot(generation_), EncodeHeader(generation_));
      !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = file_->Sync(); !s.ok()) return Fail(s);
  position_ = kTailWalHeaderBytes;
  next_sequence_ = 1;
  return absl::OkStatus();
}

absl::Status TailWal::Fail(absl::Status status) {
  CHRONIK_CHECK(!status.ok());
  if (failed_.ok()) {
    failed_ = absl::Status(status.code(),
                           absl::StrCat(path_, ": ", status.message()));
  }
  return failed_;
}

}  // namespace chronik::storage
