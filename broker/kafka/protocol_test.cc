#include "broker/kafka/protocol.h"

#include <string>

#include "gtest/gtest.h"

namespace chronik::kafka {
namespace {

absl::string_view Payload(const std::string& frame) {
  return absl::string_view(frame).substr(kFrameSizeBytes);
}

TEST(ProtocolTest, CompleteFrameBytes) {
  EXPECT_EQ(*CompleteFrameBytes("", 100), 0u);
  EXPECT_EQ(*CompleteFrameBytes(std::string("\x00\x00\x00", 3), 100), 0u);
  const std::string frame("\x00\x00\x00\x02hiextra", 11);
  EXPECT_EQ(*CompleteFrameBytes(frame, 100), 6u);
  EXPECT_EQ(*CompleteFrameBytes(frame.substr(0, 5), 100), 0u);
  absl::StatusOr<size_t> big =
      CompleteFrameBytes(std::string("\x00\x01\x00\x00", 4), 65535);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(big.status().message().find("65536"), std::string::npos);
  EXPECT_FALSE(
      CompleteFrameBytes(std::string("\xff\x00\x00\x00", 4), 100).ok());
}

TEST(ProtocolTest, RequestHeaderV1AndV2) {
  MetadataRequest request;  // null topics: all
  request.topics.reset();
  // v8: header v1 (no tagged fields).
  std::string v8 = EncodeRequestFrame(8, 7, std::string("cli"), request);
  const std::string want_header_v1(
      "\x00\x03\x00\x08\x00\x00\x00\x07\x00\x03"
      "cli",
      13);
  EXPECT_EQ(Payload(v8).substr(0, 13), want_header_v1);
  // v9: header v2 = v1 + empty tagged section; the client id stays classic.
  std::string v9 = EncodeRequestFrame(9, 7, std::string("cli"), request);
  EXPECT_EQ(Payload(v9).substr(0, 4), std::string("\x00\x03\x00\x09", 4));
  EXPECT_EQ(Payload(v9).substr(4, 9), want_header_v1.substr(4, 9));
  EXPECT_EQ(Payload(v9)[13], '\0');

  for (const std::string* frame : {&v8, &v9}) {
    absl::StatusOr<DecodedRequest> decoded =
        DecodeRequestFrame(Payload(*frame));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->header.api_key, 3);
    EXPECT_EQ(decoded->header.correlation_id, 7);
    EXPECT_EQ(decoded->header.client_id, "cli");
    const MetadataRequest* got = std::get_if<MetadataRequest>(&decoded->body);
    ASSERT_NE(got, nullptr);
    EXPECT_FALSE(got->topics.has_value());
  }
}

TEST(ProtocolTest, UnknownKeysVersionsAndBadHeaders) {
  std::string unknown_key("\x03\xe7\x00\x00\x00\x00\x00\x01\xff\xff", 10);
  absl::Status status = DecodeRequestFrame(unknown_key).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("999"), std::string::npos) << status;

  MetadataRequest request;
  std::string too_new = EncodeRequestFrame(12, 1, std::nullopt, request);
  too_new[kFrameSizeBytes + 3] = 13;  // claim v13
  status = DecodeRequestFrame(Payload(too_new)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("version 13"), std::string::npos) << status;

  status = DecodeRequestFrame(std::string("\x00\x03\x00", 3)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("request header"), std::string::npos);

  // Body truncated by one byte.
  std::string frame = EncodeRequestFrame(1, 1, std::nullopt, request);
  status =
      DecodeRequestFrame(Payload(frame).substr(0, Payload(frame).size() - 1))
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST(ProtocolTest, RequestHeaderV0ForControlledShutdownV0) {
  // key 7 v0, correlation 9, then body bytes (no client id in header v0).
  const std::string frame("\x00\x07\x00\x00\x00\x00\x00\x09\x00\x00\x00\x01",
                          12);
  absl::string_view body;
  absl::StatusOr<RequestHeader> header = DecodeRequestHeader(frame, &body);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->correlation_id, 9);
  EXPECT_EQ(header->client_id, std::nullopt);
  EXPECT_EQ(body.size(), 4u);
  EXPECT_EQ(DecodeRequestFrame(frame).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(ProtocolTest, ResponseHeaderV0V1AndApiVersionsException) {
  RequestHeader flexible_fetch{FetchRequest::kApiKey, 12, 99, "c"};
  FetchResponse fetch;
  std::string frame = EncodeResponseFrame(flexible_fetch, fetch);
  // correlation id then an empty tagged section (header v1).
  EXPECT_EQ(Payload(frame).substr(0, 5),
            std::string("\x00\x00\x00\x63\x00", 5));
  int32_t correlation_id = 0;
  FetchResponse decoded;
  ASSERT_TRUE(
      DecodeResponseFrame(Payload(frame), 12, &correlation_id, &decoded).ok());
  EXPECT_EQ(correlation_id, 99);

  RequestHeader api_versions{ApiVersionsRequest::kApiKey, 3, 5, "c"};
  std::string av = EncodeApiVersionsResponseFrame(api_versions);
  // Header v0 even at v3: the body starts right after the correlation id
  // with error code 0 and then a compact array.
  EXPECT_EQ(Payload(av).substr(0, 6),
            std::string("\x00\x00\x00\x05\x00\x00", 6));
  ApiVersionsResponse response;
  ASSERT_TRUE(
      DecodeResponseFrame(Payload(av), 3, &correlation_id, &response).ok());
  EXPECT_EQ(response.error_code, 0);
  EXPECT_EQ(response.api_keys.size(), ServedApis().size());
  for (const auto& key : response.api_keys) {
    EXPECT_EQ(key.min_version, 0);
  }
}

TEST(ProtocolTest, UnsupportedApiVersionsVersionGetsErrorInV0Body) {
  // A v4 request from a newer client: header v2 with tagged fields, a body we
  // do not parse. The header still yields the correlation id.
  std::string request(
      "\x00\x12\x00\x04\x00\x00\x00\x2a\x00\x01x\x00"
      "\x02y\x02z\x00",
      17);
  absl::string_view body;
  absl::StatusOr<RequestHeader> header = DecodeRequestHeader(request, &body);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->api_version, 4);
  EXPECT_EQ(header->correlation_id, 42);
  EXPECT_EQ(DecodeRequestFrame(request).status().code(),
            absl::StatusCode::kUnimplemented);

  std::string frame = EncodeApiVersionsResponseFrame(*header);
  const std::string want(
      "\x00\x00\x00\x10"           // size 16
      "\x00\x00\x00\x2a"           // correlation id
      "\x00\x23"                   // error 35
      "\x00\x00\x00\x01"           // one entry (classic v0 array)
      "\x00\x12\x00\x00\x00\x03",  // key 18, 0-3
      20);
  EXPECT_EQ(frame, want);
}

TEST(ProtocolTest, ServedTableIsSortedAndKnown) {
  int16_t previous = -1;
  for (const ServedApi& api : ServedApis()) {
    EXPECT_GT(api.key, previous);
    previous = api.key;
    const ApiInfo* info = FindApi(api.key);
    ASSERT_NE(info, nullptr);
    EXPECT_LE(api.max_version, info->max_version);
    EXPECT_EQ(api.min_version, 0);
  }
  EXPECT_TRUE(IsServed(18, 3));
  EXPECT_FALSE(IsServed(18, 4));
  EXPECT_FALSE(IsServed(4, 0));  // LeaderAndIsr: not a client API
}

}  // namespace
}  // namespace chronik::kafka
