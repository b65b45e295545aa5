// Round trip for every generated message and every version: arbitrary values
// are encoded, decoded, compared and re-encoded byte for byte; every strict
// prefix of an encoding must be rejected with a status (never a crash).
#include "broker/kafka/messages.h"

#include <string>

#include "broker/kafka/protocol.h"
#include "gtest/gtest.h"

namespace chronik::kafka {
namespace {

constexpr int kSeedsPerVersion = 6;

template <typename M>
void RoundTripAllVersions() {
  SCOPED_TRACE(M::kName);
  for (int16_t version = M::kMinVersion; version <= M::kMaxVersion; ++version) {
    for (int seed = 0; seed < kSeedsPerVersion; ++seed) {
      SCOPED_TRACE(testing::Message()
                   << "version " << version << " seed " << seed);
      TestRng rng(static_cast<uint64_t>(seed) * 7919 + version);
      M original;
      original.FillForTest(rng, version);
      const std::string bytes = original.Encode(version);
      M decoded;
      absl::Status status = decoded.Decode(bytes, version);
      ASSERT_TRUE(status.ok()) << status;
      EXPECT_TRUE(decoded == original);
      EXPECT_EQ(decoded.Encode(version), bytes);
      if (seed == 0) {
        for (size_t n = 0; n < bytes.size(); ++n) {
          M truncated;
          EXPECT_FALSE(truncated.Decode(bytes.substr(0, n), version).ok())
              << "prefix of " << n << " bytes decoded";
        }
        M trailing;
        if constexpr (M::kIsRequest) {
          // Ignored, as Kafka's broker ignores them.
          ASSERT_TRUE(trailing.Decode(bytes + "x", version).ok());
          EXPECT_TRUE(trailing == original);
        } else {
          EXPECT_FALSE(trailing.Decode(bytes + "x", version).ok());
        }
      }
    }
    M unsupported;
    EXPECT_EQ(unsupported.Decode("", M::kMaxVersion + 1).code(),
              absl::StatusCode::kUnimplemented);
  }
}

template <typename... Ms>
void RoundTripEach(std::variant<Ms...>*) {
  (RoundTripAllVersions<Ms>(), ...);
}

TEST(MessagesTest, EveryRequestRoundTripsInEveryVersion) {
  RoundTripEach(static_cast<AnyRequest*>(nullptr));
}

TEST(MessagesTest, EveryResponseRoundTripsInEveryVersion) {
  RoundTripEach(static_cast<AnyResponse*>(nullptr));
}

TEST(MessagesTest, ApiTableMatchesTheIssueRanges) {
  struct Want {
    int16_t key;
    int16_t max;
  };
  // ApiVersions 0-3, Metadata 0-12, Produce 0-9, Fetch 0-13, ListOffsets 0-8,
  // FindCoordinator 0-4, JoinGroup 0-7, SyncGroup 0-5, Heartbeat 0-4,
  // LeaveGroup 0-4, OffsetCommit 0-8, OffsetFetch 0-8, DescribeGroups 0-5,
  // ListGroups 0-4, CreateTopics 0-7, DeleteTopics 0-6, CreatePartitions 0-3,
  // DeleteRecords 0-2, InitProducerId 0-4, DescribeConfigs 0-4,
  // AlterConfigs 0-2, DescribeCluster 0-1, SaslHandshake 0-1,
  // SaslAuthenticate 0-2, ElectLeaders 0-2, AlterPartitionReassignments 0,
  // ListPartitionReassignments 0, DeleteGroups 0-2, OffsetDelete 0,
  // IncrementalAlterConfigs 0-1, DescribeLogDirs 0-4, OffsetForLeaderEpoch 0-4,
  // AddPartitionsToTxn 0-3, AddOffsetsToTxn 0-3, EndTxn 0-3,
  // TxnOffsetCommit 0-3, DescribeTransactions 0, ListTransactions 0,
  // DescribeProducers 0.
  const Want wants[] = {
      {18, 3}, {3, 12}, {0, 9},  {1, 13}, {2, 8},  {10, 4}, {11, 7}, {14, 5},
      {12, 4}, {13, 4}, {8, 8},  {9, 8},  {15, 5}, {16, 4}, {19, 7}, {20, 6},
      {37, 3}, {21, 2}, {22, 4}, {32, 4}, {33, 2}, {60, 1}, {17, 1}, {36, 2},
      {43, 2}, {45, 0}, {46, 0}, {42, 2}, {47, 0}, {44, 1}, {35, 4}, {23, 4},
      {24, 3}, {25, 3}, {26, 3}, {28, 3}, {65, 0}, {66, 0}, {61, 0}, {29, 3},
      {30, 3}, {31, 3}, {50, 0}, {51, 0}};
  EXPECT_EQ(kApiCount, 44);
  for (const Want& want : wants) {
    const ApiInfo* api = FindApi(want.key);
    ASSERT_NE(api, nullptr) << want.key;
    EXPECT_EQ(api->min_version, 0) << api->name;
    EXPECT_EQ(api->max_version, want.max) << api->name;
    const ServedApi* served = FindServedApi(want.key);
    ASSERT_NE(served, nullptr) << api->name;
    EXPECT_EQ(served->min_version, 0);
    EXPECT_EQ(served->max_version, want.max);
  }
  EXPECT_EQ(ServedApis().size(), 44u);
}

TEST(MessagesTest, FlexibleVersionsFollowTheSchemas) {
  EXPECT_FALSE(IsFlexible(MetadataRequest::kApiKey, 8));
  EXPECT_TRUE(IsFlexible(MetadataRequest::kApiKey, 9));
  EXPECT_FALSE(IsFlexible(ProduceRequest::kApiKey, 8));
  EXPECT_TRUE(IsFlexible(ProduceRequest::kApiKey, 9));
  EXPECT_TRUE(IsFlexible(DescribeClusterRequest::kApiKey, 0));
  EXPECT_FALSE(IsFlexible(SaslHandshakeRequest::kApiKey, 1));
  EXPECT_FALSE(IsFlexible(999, 0));
}

// Hand-assembled bytes of a Metadata v1 request (classic encoding) that asks
// for two topics: checks field order and encodings against the schema.
TEST(MessagesTest, MetadataV1ClassicBytes) {
  MetadataRequest request;
  request.topics = std::vector<MetadataRequest::MetadataRequestTopic>(2);
  (*request.topics)[0].name = "ab";
  (*request.topics)[1].name = "c";
  const std::string want(
      "\x00\x00\x00\x02"
      "\x00\x02"
      "ab"
      "\x00\x01"
      "c",
      11);
  EXPECT_EQ(request.Encode(1), want);
  request.topics.reset();  // null = all topics in v1+
  EXPECT_EQ(request.Encode(1), std::string("\xff\xff\xff\xff", 4));
}

// Same request at v9 (flexible): compact array/strings and tagged sections.
TEST(MessagesTest, MetadataV9CompactBytes) {
  MetadataRequest request;
  request.topics = std::vector<MetadataRequest::MetadataRequestTopic>(1);
  (*request.topics)[0].name = "ab";
  request.allow_auto_topic_creation = false;
  const std::string want(
      "\x02"  // compact array: 1 element
      "\x03"  // compact string: 2 bytes
      "ab"
      "\x00"   // topic tagged fields
      "\x00"   // allow_auto_topic_creation
      "\x00"   // include_cluster_authorized_operations
      "\x00"   // include_topic_authorized_operations
      "\x00",  // tagged fields
      9);
  EXPECT_EQ(request.Encode(9), want);
}

TEST(MessagesTest, TaggedFieldsDefaultsAreOmittedAndUnknownTagsSkipped) {
  FetchResponse::PartitionData partition;
  partition.records = "";
  Writer w;
  partition.Encode(w, 12);
  const std::string plain = w.Release();
  EXPECT_EQ(plain.back(), '\0');  // no tagged fields: defaults omitted
  partition.current_leader.leader_id = 7;
  Writer w2;
  partition.Encode(w2, 12);
  EXPECT_GT(w2.size(), plain.size());
  // Replace the empty tagged section with: unknown tag 9 carrying 3 bytes,
  // then the known tag 1 (current_leader).
  std::string with_unknown = plain.substr(0, plain.size() - 1);
  Writer tags;
  tags.WriteUnsignedVarint(2);
  tags.WriteUnsignedVarint(9);
  tags.WriteUnsignedVarint(3);
  tags.WriteRaw("xyz");
  tags.WriteUnsignedVarint(1);
  Writer leader;
  partition.current_leader.Encode(leader, 12);
  tags.WriteUnsignedVarint(static_cast<uint32_t>(leader.size()));
  tags.WriteRaw(leader.buffer());
  with_unknown += tags.buffer();
  Reader r(with_unknown);
  FetchResponse::PartitionData decoded;
  decoded.Decode(r, 12);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(decoded.current_leader.leader_id, 7);
}

TEST(MessagesTest, NullWhereForbiddenIsAnErrorNamingTheField) {
  // Metadata v0: topics array may not be null.
  absl::Status status =
      MetadataRequest().Decode(std::string("\xff\xff\xff\xff", 4), 0);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("Topics"), absl::string_view::npos) << status;
  EXPECT_NE(status.message().find("MetadataRequest v0"),
            absl::string_view::npos)
      << status;
}

TEST(MessagesTest, HugeArrayLengthIsRejectedWithoutAllocating) {
  // Claims 2^31-1 topics with 4 bytes behind the count.
  absl::Status status = MetadataRequest().Decode(
      std::string("\x7f\xff\xff\xff\x00\x01\x61\x00", 8), 1);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("exceeds"), absl::string_view::npos)
      << status;
}

TEST(MessagesTest, DecodeAnyRequestDispatchesByKey) {
  HeartbeatRequest heartbeat;
  heartbeat.group_id = "g";
  heartbeat.generation_id = 5;
  heartbeat.member_id = "m";
  absl::StatusOr<AnyRequest> any =
      DecodeAnyRequest(HeartbeatRequest::kApiKey, 2, heartbeat.Encode(2));
  ASSERT_TRUE(any.ok()) << any.status();
  const HeartbeatRequest* got = std::get_if<HeartbeatRequest>(&*any);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->generation_id, 5);
  EXPECT_EQ(DecodeAnyRequest(4242, 0, "").status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace chronik::kafka
