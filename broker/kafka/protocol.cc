#include "broker/kafka/protocol.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::kafka {
namespace {

// The one API whose version 0 uses request header v0 (no client id). chronik
// does not serve it; the header is still read correctly.
constexpr int16_t kControlledShutdownApiKey = 7;

// What chronik serves, derived from the codec's generated table (kApis):
// every API the codec speaks, from version 0 (kafka-python infers the broker
// version from the advertised ranges) to the codec's maximum. Serving all of
// them is checked at compile time: the broker's dispatch is a std::visit
// over AnyRequest with one handler overload per request type. Sorted by key.
const std::array<ServedApi, kApiCount>& ServedTable() {
  static const std::array<ServedApi, kApiCount> table = [] {
    std::array<ServedApi, kApiCount> served{};
    for (int i = 0; i < kApiCount; ++i) {
      served[i] = ServedApi{kApis[i].key, 0, kApis[i].max_version};
    }
    std::sort(
        served.begin(), served.end(),
        [](const ServedApi& a, const ServedApi& b) { return a.key < b.key; });
    return served;
  }();
  return table;
}

}  // namespace

absl::Span<const ServedApi> ServedApis() { return ServedTable(); }

const ServedApi* FindServedApi(int16_t key) {
  for (const ServedApi& api : ServedTable()) {
    if (api.key == key) return &api;
  }
  return nullptr;
}

bool IsServed(int16_t key, int16_t version) {
  const ServedApi* api = FindServedApi(key);
  return api != nullptr && version >= api->min_version &&
         version <= api->max_version;
}

bool IsFlexible(int16_t key, int16_t version) {
  const ApiInfo* api = FindApi(key);
  return api != nullptr && version >= api->first_flexible_version &&
         version <= api->max_version;
}

absl::StatusOr<size_t> CompleteFrameBytes(absl::string_view buffered,
                                          int32_t max_frame_bytes) {
  CHRONIK_CHECK_GE(max_frame_bytes, 0);
  if (buffered.size() < kFrameSizeBytes) return 0;
  const int32_t size = static_cast<int32_t>(LoadBigEndian32(buffered.data()));
  if (size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame size ", size, " is negative"));
  }
  if (size > max_frame_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "frame size ", size, " exceeds the maximum of ", max_frame_bytes));
  }
  const size_t total = kFrameSizeBytes + static_cast<size_t>(size);
  return buffered.size() >= total ? total : 0;
}

absl::StatusOr<RequestHeader> DecodeRequestHeader(absl::string_view payload,
                                                  absl::string_view* body) {
  Reader r(payload);
  RequestHeader header;
  r.Field("ApiKey");
  header.api_key = r.ReadInt16();
  r.Field("ApiVersion");
  header.api_version = r.ReadInt16();
  r.Field("CorrelationId");
  header.correlation_id = r.ReadInt32();
  // Header v0 (no client id) belongs only to ControlledShutdown v0.
  if (header.api_key != kControlledShutdownApiKey || header.api_version != 0) {
    r.Field("ClientId");
    header.client_id = r.ReadNullableString(/*compact=*/false);
  }
  if (r.ok() && IsFlexible(header.api_key, header.api_version)) {
    r.Field("HeaderTaggedFields");
    r.SkipTaggedFields();
  }
  if (!r.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request header: ", r.status().message()));
  }
  *body = payload.substr(r.position());
  return header;
}

absl::StatusOr<DecodedRequest> DecodeRequestFrame(
    absl::string_view payload, std::shared_ptr<const void> owner) {
  absl::string_view body;
  absl::StatusOr<RequestHeader> header = DecodeRequestHeader(payload, &body);
  if (!header.ok()) return header.status();
  const ServedApi* served = FindServedApi(header->api_key);
  if (served == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("unknown API key ", header->api_key));
  }
  if (!IsServed(header->api_key, header->api_version)) {
    return absl::UnimplementedError(
        absl::StrCat("API key ", header->api_key, " version ",
                     header->api_version, " is not served (",
                     served->min_version, "-", served->max_version, ")"));
  }
  absl::StatusOr<AnyRequest> request = DecodeAnyRequest(
      header->api_key, header->api_version, body, std::move(owner));
  if (!request.ok()) return request.status();
  return DecodedRequest{*std::move(header), *std::move(request)};
}

ApiVersionsResponse BuildApiVersionsResponse(int16_t requested_version) {
  ApiVersionsResponse response;
  if (requested_version < 0 ||
      requested_version > ApiVersionsRequest::kMaxVersion) {
    response.error_code = error::kUnsupportedVersion;
    const ServedApi* self = FindServedApi(ApiVersionsRequest::kApiKey);
    CHRONIK_CHECK(self != nullptr);
    response.api_keys.push_back(
        {self->key, self->min_version, self->max_version});
    return response;
  }
  for (const ServedApi& api : ServedTable()) {
    response.api_keys.push_back({api.key, api.min_version, api.max_version});
  }
  return response;
}

std::string EncodeApiVersionsResponseFrame(
    const RequestHeader& request_header) {
  CHRONIK_CHECK_EQ(request_header.api_key, ApiVersionsRequest::kApiKey);
  ApiVersionsResponse response =
      BuildApiVersionsResponse(request_header.api_version);
  RequestHeader answer_as = request_header;
  if (response.error_code == error::kUnsupportedVersion) {
    answer_as.api_version = 0;  // a body every client can parse
  }
  return EncodeResponseFrame(answer_as, response);
}

namespace internal {

void WriteRequestHeader(Writer& w, int16_t key, int16_t version,
                        int32_t correlation_id,
                        const std::optional<std::string>& client_id) {
  w.WriteInt16(key);
  w.WriteInt16(version);
  w.WriteInt32(correlation_id);
  w.WriteNullableString(client_id, /*compact=*/false);
  if (IsFlexible(key, version)) w.WriteUnsignedVarint(0);
}

void StartFrame(Writer& w) {
  CHRONIK_CHECK_EQ(w.size(), 0u);
  w.WriteInt32(0);
}

void PatchFrameSize(Writer& w) {
  const size_t payload = w.size() - kFrameSizeBytes;
  CHRONIK_CHECK_LE(payload, 0x7fffffffu) << "frame too large";
  w.PatchInt32(0, static_cast<int32_t>(payload));
}

std::string FinishFrame(Writer& w) {
  PatchFrameSize(w);
  return w.Release();
}

bool ResponseHeaderIsFlexible(int16_t key, int16_t version) {
  if (key == ApiVersionsRequest::kApiKey) return false;
  return IsFlexible(key, version);
}

absl::Status ReadResponseHeader(Reader& r, int16_t key, int16_t version,
                                int32_t* correlation_id) {
  r.Field("CorrelationId");
  *correlation_id = r.ReadInt32();
  if (ResponseHeaderIsFlexible(key, version)) {
    r.Field("HeaderTaggedFields");
    r.SkipTaggedFields();
  }
  if (!r.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("response header: ", r.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace chronik::kafka
