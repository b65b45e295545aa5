// Kafka framing and headers, the table of APIs chronik serves, ApiVersions.
//
// Purpose: the request handlers turn bytes from a connection into a decoded
// request and a response struct back into bytes; the simulator's clients do
// the reverse. Pure functions over byte strings: no IO, no state.
//
// Frame format: int32 size N (big-endian, N >= 0, not counting itself), then N
// bytes: a header and a body.
//   Request header v0: int16 api_key, int16 api_version, int32
//     correlation_id (only ControlledShutdown v0, which chronik does not
//     serve).
//   Request header v1: int16 api_key, int16 api_version, int32 correlation_id,
//     nullable classic string client_id (int16 length, -1 = null).
//   Request header v2: v1 followed by a tagged-field section. v2 is used when
//     the request's version is flexible, v1 otherwise.
//   Response header v0: int32 correlation_id. v1: v0 plus a tagged-field
//     section, used for flexible versions, except ApiVersions, whose response
//     header is always v0 so that a client can read it before it knows which
//     versions the broker speaks.
//
// Typical handler flow (see docs/ARCHITECTURE.md, "Kafka codec"):
//   size_t n = *CompleteFrameBytes(buffered, max_frame_bytes);  // 0: wait
//   absl::StatusOr<DecodedRequest> req = DecodeRequestFrame(frame_payload);
//   ... std::get_if<ProduceRequest>(&req->body) ...
//   std::string out = EncodeResponseFrame(req->header, response);
// Thread-safety: all functions are pure; kServedApis is immutable.
#ifndef CHRONIK_BROKER_KAFKA_PROTOCOL_H_
#define CHRONIK_BROKER_KAFKA_PROTOCOL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "broker/kafka/wire.h"

namespace chronik::kafka {

// Bytes of the size prefix of every frame.
inline constexpr size_t kFrameSizeBytes = 4;
// Default cap on one frame's size (Kafka's socket.request.max.bytes).
inline constexpr int32_t kDefaultMaxFrameBytes = 100 * 1024 * 1024;

// Which keys and versions chronik serves. Min version is 0 for every key:
// kafka-python infers the broker version from the advertised ranges.
struct ServedApi {
  int16_t key;
  int16_t min_version;
  int16_t max_version;
};
absl::Span<const ServedApi> ServedApis();
// The served range for `key`, or nullptr when chronik does not serve it.
const ServedApi* FindServedApi(int16_t key);
bool IsServed(int16_t key, int16_t version);
// True when `version` of `key` uses the flexible encoding (compact types,
// tagged fields, header v2/v1). False for keys the codec does not know.
bool IsFlexible(int16_t key, int16_t version);

// Given the bytes buffered from a connection, returns the size of the first
// complete frame including its 4-byte prefix, or 0 when more bytes are needed.
// Fails when the size is negative or above `max_frame_bytes` (the connection
// must then be closed: the stream cannot be resynchronized).
absl::StatusOr<size_t> CompleteFrameBytes(absl::string_view buffered,
                                          int32_t max_frame_bytes);

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  bool operator==(const RequestHeader&) const = default;
};

// Decodes a request header from `payload` (a frame without its size prefix)
// and sets `*body` to the bytes after it. Known flexible versions read header
// v2 (tagged fields); everything else reads v1, which is also the common
// prefix, so the correlation id is available even for an unknown key or
// version (needed to answer ApiVersions with UNSUPPORTED_VERSION).
absl::StatusOr<RequestHeader> DecodeRequestHeader(absl::string_view payload,
                                                  absl::string_view* body);

struct DecodedRequest {
  RequestHeader header;
  AnyRequest body;
};

// Header + body. Unknown keys and versions not served give kUnimplemented
// naming them; malformed input gives kInvalidArgument naming the field. With
// `owner` (keeping alive the memory that holds `payload`), record batches
// are slices of it (the produce path's bytes are not copied).
absl::StatusOr<DecodedRequest> DecodeRequestFrame(
    absl::string_view payload, std::shared_ptr<const void> owner = nullptr);

// Writes a whole request frame (size prefix, header v1/v2, body); clients.
template <typename Request>
std::string EncodeRequestFrame(int16_t version, int32_t correlation_id,
                               const std::optional<std::string>& client_id,
                               const Request& request);

// Writes a whole response frame for the request with `request_header`:
// size prefix, response header v0/v1 (v0 always for ApiVersions), body
// encoded at the request's version.
template <typename Response>
std::string EncodeResponseFrame(const RequestHeader& request_header,
                                const Response& response);
// The same frame as parts: records parts of at least
// Writer::kMinSplicedBytes (a Fetch response's stored batches) are shared,
// not copied (Writer::Splicing).
template <typename Response>
ByteChain EncodeResponseChain(const RequestHeader& request_header,
                              const Response& response);

// Decodes a response frame payload for a request of `key` at `version`
// (clients): checks nothing about the correlation id, returns it.
template <typename Response>
absl::Status DecodeResponseFrame(absl::string_view payload, int16_t version,
                                 int32_t* correlation_id, Response* response);

// The ApiVersions response for a request at `requested_version`: all served
// APIs, error 0. For a version above the supported maximum: error
// UNSUPPORTED_VERSION (35) and the ApiVersions entry alone, to be encoded as
// v0 (see EncodeApiVersionsResponseFrame).
ApiVersionsResponse BuildApiVersionsResponse(int16_t requested_version);
// Builds and encodes the whole ApiVersions answer to `request_header`,
// choosing the v0 body for unsupported versions.
std::string EncodeApiVersionsResponseFrame(const RequestHeader& request_header);

// ---- implementation of the templates ----

namespace internal {
void WriteRequestHeader(Writer& w, int16_t key, int16_t version,
                        int32_t correlation_id,
                        const std::optional<std::string>& client_id);
// Writes the size prefix placeholder; FinishFrame patches it.
void StartFrame(Writer& w);
// Patches the size prefix.
void PatchFrameSize(Writer& w);
std::string FinishFrame(Writer& w);
bool ResponseHeaderIsFlexible(int16_t key, int16_t version);
absl::Status ReadResponseHeader(Reader& r, int16_t key, int16_t version,
                                int32_t* correlation_id);
}  // namespace internal

template <typename Request>
std::string EncodeRequestFrame(int16_t version, int32_t correlation_id,
                               const std::optional<std::string>& client_id,
                               const Request& request) {
  static_assert(Request::kIsRequest);
  CHRONIK_CHECK(version >= Request::kMinVersion &&
                version <= Request::kMaxVersion)
      << Request::kName << " v" << version;
  Writer w;
  internal::StartFrame(w);
  internal::WriteRequestHeader(w, Request::kApiKey, version, correlation_id,
                               client_id);
  request.Encode(w, version);
  return internal::FinishFrame(w);
}

namespace internal {
template <typename Response>
void WriteResponseFrame(Writer& w, const RequestHeader& request_header,
                        const Response& response) {
  static_assert(!Response::kIsRequest);
  CHRONIK_CHECK_EQ(request_header.api_key, Response::kApiKey);
  CHRONIK_CHECK(request_header.api_version >= Response::kMinVersion &&
                request_header.api_version <= Response::kMaxVersion)
      << Response::kName << " v" << request_header.api_version
      << ": answer unsupported versions with an error, not this frame";
  StartFrame(w);
  w.WriteInt32(request_header.correlation_id);
  if (ResponseHeaderIsFlexible(Response::kApiKey, request_header.api_version)) {
    w.WriteUnsignedVarint(0);  // no tagged fields in the header
  }
  response.Encode(w, request_header.api_version);
  PatchFrameSize(w);
}
}  // namespace internal

template <typename Response>
std::string EncodeResponseFrame(const RequestHeader& request_header,
                                const Response& response) {
  Writer w;
  internal::WriteResponseFrame(w, request_header, response);
  return w.Release();
}

template <typename Response>
ByteChain EncodeResponseChain(const RequestHeader& request_header,
                              const Response& response) {
  Writer w = Writer::Splicing();
  internal::WriteResponseFrame(w, request_header, response);
  return w.ReleaseChain();
}

template <typename Response>
absl::Status DecodeResponseFrame(absl::string_view payload, int16_t version,
                                 int32_t* correlation_id, Response* response) {
  static_assert(!Response::kIsRequest);
  Reader r(payload);
  absl::Status status = internal::ReadResponseHeader(r, Response::kApiKey,
                                                     version, correlation_id);
  if (!status.ok()) return status;
  return response->Decode(payload.substr(r.position()), version);
}

}  // namespace chronik::kafka

#endif  // CHRONIK_BROKER_KAFKA_PROTOCOL_H_
