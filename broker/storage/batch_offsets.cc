#include "broker/storage/batch_offsets.h"

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::storage {
namespace {

uint64_t GetBigEndian(absl::string_view bytes, size_t pos, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    v = (v << 8) | static_cast<uint8_t>(bytes[pos + i]);
  }
  return v;
}

}  // namespace

absl::StatusOr<BatchOffsets::Info> KafkaV2BatchOffsets::Inspect(
    absl::string_view payload) const {
  if (payload.size() < kBatchHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record batch of ", payload.size(), " bytes is too short"));
  }
  if (payload[kMagicPos] != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("record batch magic ",
                     static_cast<int>(payload[kMagicPos]), ", want 2"));
  }
  const uint64_t length = GetBigEndian(payload, kBatchLengthPos, 4);
  if (length != payload.size() - 12) {
    return absl::InvalidArgumentError(absl::StrCat(
        "record batch length ", length, " != ", payload.size() - 12));
  }
  const int32_t delta =
      static_cast<int32_t>(GetBigEndian(payload, kLastOffsetDeltaPos, 4));
  if (delta < 0) {
    return absl::InvalidArgumentError("negative last offset delta");
  }
  return Info{.offset_count = static_cast<uint32_t>(delta) + 1,
              .max_timestamp_ms = static_cast<int64_t>(
                  GetBigEndian(payload, kMaxTimestampPos, 8))};
}

void KafkaV2BatchOffsets::AssignBaseOffset(uint64_t base_offset,
                                           std::string& payload) const {
  CHRONIK_CHECK_GE(payload.size(), kBatchHeaderBytes);
  for (int i = 0; i < 8; ++i) {
    payload[kBaseOffsetPos + i] =
        static_cast<char>(base_offset >> (8 * (7 - i)));
  }
}

}  // namespace chronik::storage
