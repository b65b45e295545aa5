#include "broker/storage/batch_offsets.h"

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "base/check.h"
#include "broker/kafka/batch_header.h"

namespace chronik::storage {

absl::StatusOr<BatchOffsets::Info> KafkaV2BatchOffsets::Inspect(
    absl::string_view payload) const {
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

void KafkaV2BatchOffsets::AssignBaseOffset(uint64_t base_offset,
                                           absl::Span<char> batch) const {
  kafka::WriteBaseOffset(batch, static_cast<int64_t>(base_offset));
}

}  // namespace chronik::storage
