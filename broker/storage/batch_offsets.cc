#include "broker/storage/batch_offsets.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/check.h"
#include "broker/kafka/batch_header.h"
#include "broker/storage/format.h"

namespace chronik::storage {

static_assert(format::kBatchCrcAt == kafka::batch_field::kCrc.pos);
static_assert(format::kBatchCrcCoveredFrom == kafka::kBatchCrcStart);

std::string EncodeLogStartEntry(int64_t offset) {
  CHRONIK_CHECK_GE(offset, 0);
  std::string payload(kLogStartEntryTag, kLogStartEntryTagBytes);
  format::PutU64(&payload, static_cast<uint64_t>(offset));
  CHRONIK_CHECK_EQ(payload.size(), kLogStartEntryBytes);
  return payload;
}

std::optional<int64_t> DecodeLogStartEntry(absl::string_view payload) {
  if (payload.size() != kLogStartEntryBytes ||
      payload.substr(0, kLogStartEntryTagBytes) !=
          absl::string_view(kLogStartEntryTag, kLogStartEntryTagBytes)) {
    return std::nullopt;
  }
  const uint64_t offset =
      format::GetU64(payload.data() + kLogStartEntryTagBytes);
  if (offset > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(offset);
}

absl::StatusOr<BatchOffsets::Info> KafkaV2BatchOffsets::Inspect(
    absl::string_view payload) const {
  if (DecodeLogStartEntry(payload).has_value()) return Info{};  // control
  if (payload.size() < kafka::kBatchHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record batch of ", payload.size(), " bytes is too short"));
  }
  const kafka::BatchHeader header = kafka::ReadBatchHeader(payload);
  if (header.magic != kafka::kMagicV2) {
    return absl::InvalidArgumentError(
        absl::StrCat("record batch magic ", static_cast<int>(header.magic),
                     ", want ", static_cast<int>(kafka::kMagicV2)));
  }
  const size_t length_counted = payload.size() - kafka::kBatchLogOverheadBytes;
  if (header.batch_length < 0 ||
      static_cast<size_t>(header.batch_length) != length_counted) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record batch length ", header.batch_length, " != ", length_counted));
  }
  if (header.last_offset_delta < 0) {
    return absl::InvalidArgumentError("negative last offset delta");
  }
  return Info{
      .offset_count = static_cast<uint32_t>(header.last_offset_delta) + 1,
      .max_timestamp_ms = header.max_timestamp};
}

void KafkaV2BatchOffsets::AssignBaseOffset(uint64_t base_offset, uint64_t term,
                                           absl::Span<char> batch) const {
  kafka::WriteBaseOffset(batch, static_cast<int64_t>(base_offset));
  kafka::WritePartitionLeaderEpoch(batch, LeaderEpochOfTerm(term));
}

}  // namespace chronik::storage
