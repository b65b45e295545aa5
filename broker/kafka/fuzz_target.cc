#include "broker/kafka/fuzz_target.h"

#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "base/check.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"

namespace chronik::kafka {
namespace {

// Small caps keep each fuzz run cheap.
constexpr int32_t kFuzzMaxFrameBytes = 1 << 20;
constexpr size_t kFuzzMaxDecompressedBytes = 1 << 20;

void FuzzRequest(absl::string_view payload) {
  absl::StatusOr<DecodedRequest> request = DecodeRequestFrame(payload);
  if (!request.ok()) return;
  const RequestHeader& h = request->header;
  const std::string frame = std::visit(
      [&h](const auto& body) {
        return EncodeRequestFrame(h.api_version, h.correlation_id, h.client_id,
                                  body);
      },
      request->body);
  absl::StatusOr<DecodedRequest> again =
      DecodeRequestFrame(absl::string_view(frame).substr(kFrameSizeBytes));
  CHRONIK_CHECK(again.ok()) << again.status();
  CHRONIK_CHECK(again->header == h);
  CHRONIK_CHECK(again->body == request->body) << "round trip changed a value";
}

void FuzzRecords(absl::string_view data) {
  absl::StatusOr<std::vector<RecordBatchView>> batches =
      ParseRecordBatches(data, /*allow_partial_tail=*/true);
  if (!batches.ok()) return;
  for (const RecordBatchView& batch : *batches) {
    absl::StatusOr<std::vector<Record>> records =
        DecodeRecords(batch, kFuzzMaxDecompressedBytes);
    if (!records.ok() || records->empty()) continue;
    RecordBatchSpec spec;
    spec.base_offset = batch.header.base_offset;
    spec.base_timestamp = batch.header.base_timestamp;
    absl::StatusOr<std::string> rebuilt = BuildRecordBatch(spec, *records);
    CHRONIK_CHECK(rebuilt.ok()) << rebuilt.status();
    absl::StatusOr<RecordBatchView> view = ParseRecordBatch(*rebuilt);
    CHRONIK_CHECK(view.ok()) << view.status();
    absl::StatusOr<std::vector<Record>> again = DecodeRecords(*view);
    CHRONIK_CHECK(again.ok()) << again.status();
    CHRONIK_CHECK(*again == *records);
  }
}

void FuzzResponse(absl::string_view data) {
  if (data.size() < 2) return;
  const ApiInfo& api = kApis[static_cast<uint8_t>(data[0]) % kApiCount];
  const int16_t version = static_cast<int16_t>(static_cast<uint8_t>(data[1]) %
                                               (api.max_version + 1));
  absl::StatusOr<AnyResponse> response =
      DecodeAnyResponse(api.key, version, data.substr(2));
  if (!response.ok()) return;
  const std::string body = std::visit(
      [version](const auto& r) { return r.Encode(version); }, *response);
  absl::StatusOr<AnyResponse> again = DecodeAnyResponse(api.key, version, body);
  CHRONIK_CHECK(again.ok()) << again.status();
  CHRONIK_CHECK(*again == *response);
}

}  // namespace

void FuzzOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<size_t> frame = CompleteFrameBytes(input, kFuzzMaxFrameBytes);
  if (frame.ok() && *frame == size && size >= kFrameSizeBytes) {
    FuzzRequest(input.substr(kFrameSizeBytes));
  } else {
    FuzzRequest(input);
  }
  FuzzRecords(input);
  FuzzResponse(input);
}

}  // namespace chronik::kafka
