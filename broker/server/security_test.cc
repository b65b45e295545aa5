// SASL (PLAIN, SCRAM), the SCRAM credential and ACL APIs and authorization,
// on one in-process broker whose connections must authenticate.
#include "broker/server/security.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/kafka/errors.h"
#include "broker/server/scram.h"
#include "broker/server/testing/broker_fixture.h"

namespace chronik::broker {
namespace {

namespace error = kafka::error;
using env::SecurityProtocol;

// RFC 7677 section 3: the SCRAM-SHA-256 example exchange.
TEST(ScramTest, Rfc7677Vector) {
  const std::string salt = *scram::Unbase64("W22ZaJ0SNY7soEsUEjb6gQ==");
  const std::string salted = scram::SaltedPassword(1, "pencil", salt, 4096);
  scram::ServerExchange server(1, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  absl::StatusOr<std::string> user =
      server.ClientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_TRUE(user.ok()) << user.status();
  EXPECT_EQ(*user, "user");
  EXPECT_EQ(
      server.ServerFirst(scram::MakeCredential("user", 1, salt, 4096, salted)),
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  absl::StatusOr<std::string> final_message = server.ClientFinal(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  ASSERT_TRUE(final_message.ok()) << final_message.status();
  EXPECT_EQ(*final_message, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  scram::ServerExchange wrong(1, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  ASSERT_TRUE(wrong.ClientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO").ok());
  wrong.ServerFirst(scram::MakeCredential(
      "user", 1, salt, 4096, scram::SaltedPassword(1, "pencil2", salt, 4096)));
  EXPECT_FALSE(wrong
                   .ClientFinal("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAf"
                                "uxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjf"
                                "MHgsqmmiz7AndVQ=")
                   .ok());
}

class SecurityTest : public testing::BrokerTest {
 protected:
  SecurityTest() {
    configure_ = [](BrokerOptions& o) {
      o.config.kafka_security_protocol = SecurityProtocol::kSaslPlaintext;
      o.config.sasl_plain_users = {{"admin", "admin-secret"},
                                   {"alice", "alice-secret"}};
      o.config.super_users = {"User:admin"};
      o.config.failed_authentication_delay_ms = 0;  // FailedAuthDelayTest
    };
    protocol_ = SecurityProtocol::kSaslPlaintext;
    Restart(false);
  }

  void OpenSasl(ConnectionId id) {
    driver_->Open(id, absl::StrCat("10.0.0.", id, ":4000"),
                  SecurityProtocol::kSaslPlaintext);
  }
  bool Closed(ConnectionId id) { return driver_->connection(id).closed; }

  template <typename Response, typename Request>
  Response On(ConnectionId id, const Request& request, int16_t version) {
    Write(id, kafka::EncodeRequestFrame(version, ++correlation_id_,
                                        std::string("test"), request));
    auto& queue = Sent(id);
    CHRONIK_CHECK(!queue.empty()) << "no response";
    std::string frame = std::move(queue.front());
    queue.pop_front();
    Response response;
    int32_t correlation_id = 0;
    CHRONIK_CHECK(kafka::DecodeResponseFrame(absl::string_view(frame).substr(4),
                                             version, &correlation_id,
                                             &response)
                      .ok());
    return response;
  }

  kafka::SaslAuthenticateResponse Authenticate(ConnectionId id,
                                               std::string bytes) {
    kafka::SaslAuthenticateRequest request;
    request.auth_bytes = std::move(bytes);
    return On<kafka::SaslAuthenticateResponse>(id, request, 2);
  }
  int16_t Handshake(ConnectionId id, const std::string& mechanism) {
    kafka::SaslHandshakeRequest request;
    request.mechanism = mechanism;
    return On<kafka::SaslHandshakeResponse>(id, request, 1).error_code;
  }
  int16_t LoginPlain(ConnectionId id, const std::string& user,
                     const std::string& password) {
    EXPECT_EQ(Handshake(id, "PLAIN"), error::kNone);
    return Authenticate(id, std::string("\0", 1) + user + '\0' + password)
        .error_code;
  }
  // A SCRAM client after RFC 5802 section 3.
  int16_t LoginScram(ConnectionId id, int mechanism, const std::string& user,
                     const std::string& password) {
    EXPECT_EQ(Handshake(id, mechanism == 1 ? "SCRAM-SHA-256" : "SCRAM-SHA-512"),
              error::kNone);
    const std::string bare = "n=" + user + ",r=fyko+d2lbbFgONRv9qkxdawL";
    auto first = Authenticate(id, "n,," + bare);
    if (first.error_code != error::kNone) return first.error_code;
    const std::string server_first = first.auth_bytes;
    std::vector<std::string> f = absl::StrSplit(server_first, ',');
    const std::string nonce = f[0].substr(2);
    const std::string salted = scram::SaltedPassword(
        mechanism, password, *scram::Unbase64(f[1].substr(2)),
        std::stoi(f[2].substr(2)));
    const std::string client_key = scram::Hmac(mechanism, salted, "Client Key");
    const std::string without_proof = "c=biws,r=" + nonce;
    const std::string auth = bare + "," + server_first + "," + without_proof;
    std::string proof =
        scram::Hmac(mechanism, scram::Hash(mechanism, client_key), auth);
    for (size_t i = 0; i < proof.size(); ++i) proof[i] ^= client_key[i];
    auto final_answer =
        Authenticate(id, without_proof + ",p=" + scram::Base64(proof));
    if (final_answer.error_code == error::kNone) {
      EXPECT_EQ(
          final_answer.auth_bytes,
          "v=" + scram::Base64(scram::Hmac(
                     mechanism, scram::Hmac(mechanism, salted, "Server Key"),
                     auth)));
    }
    return final_answer.error_code;
  }
  void AddScramUser(ConnectionId admin, int mechanism, const std::string& user,
                    const std::string& password, int iterations = 4096) {
    kafka::AlterUserScramCredentialsRequest request;
    request.upsertions.push_back(
        {user, static_cast<int8_t>(mechanism), iterations, "salty",
         scram::SaltedPassword(mechanism, password, "salty", iterations)});
    auto response =
        On<kafka::AlterUserScramCredentialsResponse>(admin, request, 0);
    ASSERT_EQ(response.results.size(), 1u);
    ASSERT_EQ(response.results[0].error_code, error::kNone);
  }
  kafka::CreateAclsRequest::AclCreation Acl(int8_t type, std::string name,
                                            int8_t pattern, std::string who,
                                            int8_t op, int8_t permission) {
    return {type, std::move(name), pattern, std::move(who), "*",
            op,   permission};
  }
  void CreateAcls(ConnectionId admin,
                  std::vector<kafka::CreateAclsRequest::AclCreation> acls) {
    kafka::CreateAclsRequest request;
    request.creations = std::move(acls);
    for (const auto& result :
         On<kafka::CreateAclsResponse>(admin, request, 1).results) {
      ASSERT_EQ(result.error_code, error::kNone) << *result.error_message;
    }
  }
  int16_t ProduceCode(ConnectionId id, const std::string& topic) {
    kafka::ProduceRequest request;
    request.acks = 1;
    request.timeout_ms = 1000;
    kafka::ProduceRequest::TopicProduceData data;
    data.name = topic;
    data.partitions.push_back({0, Batch(1)});
    request.topics.push_back(data);
    auto response = On<kafka::ProduceResponse>(id, request, 7);
    return response.responses[0].partitions[0].error_code;
  }

  int16_t CreateOn(ConnectionId id, const std::string& name) {
    kafka::CreateTopicsRequest request;
    request.topics.push_back({name, 1, 1, {}, {}});
    request.timeout_ms = 5000;
    auto response = On<kafka::CreateTopicsResponse>(id, request, 4);
    return response.topics[0].error_code;
  }

  static constexpr ConnectionId kAdmin = 2;
  static constexpr ConnectionId kAlice = 3;
};

TEST_F(SecurityTest, PlainAuthenticatesAndRequestsBeforeItCloseTheConnection) {
  kafka::MetadataRequest metadata = AllTopics();
  Write(kConn, kafka::EncodeRequestFrame(9, 1, std::string("c"), metadata));
  EXPECT_TRUE(Closed(kConn));  // Metadata before authenticating
  OpenSasl(kAlice);
  EXPECT_EQ(LoginPlain(kAlice, "alice", "alice-secret"), error::kNone);
  On<kafka::MetadataResponse>(kAlice, AllTopics(), 9);
  EXPECT_FALSE(Closed(kAlice));
}

TEST_F(SecurityTest, WrongPasswordFailsClosesAndLogsNoSecret) {
  OpenSasl(kAlice);
  EXPECT_EQ(Handshake(kAlice, "PLAIN"), error::kNone);
  auto response = Authenticate(kAlice, std::string("\0alice\0wrong", 12));
  EXPECT_EQ(response.error_code, error::kSaslAuthenticationFailed);
  EXPECT_TRUE(response.error_message.has_value());
  EXPECT_TRUE(Closed(kAlice));
  bool logged = false;
  for (const std::string& line : driver_->log().lines) {
    EXPECT_EQ(line.find("wrong"), std::string::npos) << line;
    logged |=
        line.find("authentication of 'alice' failed") != std::string::npos;
  }
  EXPECT_TRUE(logged);
  OpenSasl(4);
  EXPECT_EQ(Handshake(4, "GSSAPI"), error::kUnsupportedSaslMechanism);
}

TEST_F(SecurityTest, HandshakesWithoutAuthenticatingAreBounded) {
  OpenSasl(kAlice);
  for (int i = 0; i < broker::kMaxSaslHandshakes; ++i) {
    EXPECT_EQ(Handshake(kAlice, "PLAIN"), error::kNone);
  }
  kafka::SaslHandshakeRequest request;
  request.mechanism = "PLAIN";
  Write(kAlice, kafka::EncodeRequestFrame(1, 99, std::string("c"), request));
  EXPECT_TRUE(Closed(kAlice));
}

TEST_F(SecurityTest, ScramCredentialsAuthenticateAndSurviveARestart) {
  OpenSasl(kAdmin);
  ASSERT_EQ(LoginPlain(kAdmin, "admin", "admin-secret"), error::kNone);
  AddScramUser(kAdmin, 1, "bob", "bob-secret");
  AddScramUser(kAdmin, 2, "bob", "bob-secret");
  kafka::AlterUserScramCredentialsRequest bad;
  bad.upsertions.push_back({"carol", 1, 100, "s", std::string(32, 'x')});
  bad.upsertions.push_back({"dave", 9, 4096, "s", std::string(32, 'x')});
  bad.deletions.push_back({"erin", 1});
  auto answer = On<kafka::AlterUserScramCredentialsResponse>(kAdmin, bad, 0);
  ASSERT_EQ(answer.results.size(), 3u);  // sorted by user
  EXPECT_EQ(answer.results[0].error_code, error::kUnacceptableCredential);
  EXPECT_EQ(answer.results[1].error_code, error::kUnsupportedSaslMechanism);
  EXPECT_EQ(answer.results[2].error_code, error::kResourceNotFound);
  kafka::DescribeUserScramCredentialsRequest describe;
  describe.users =
      std::vector<kafka::DescribeUserScramCredentialsRequest::UserName>{
          {"bob"}, {"zed"}};
  auto described =
      On<kafka::DescribeUserScramCredentialsResponse>(kAdmin, describe, 0);
  ASSERT_EQ(described.results.size(), 2u);
  ASSERT_EQ(described.results[0].credential_infos.size(), 2u);
  EXPECT_EQ(described.results[0].credential_infos[0].iterations, 4096);
  EXPECT_EQ(described.results[1].error_code, error::kResourceNotFound);

  OpenSasl(kAlice);
  EXPECT_EQ(LoginScram(kAlice, 1, "bob", "bob-secret"), error::kNone);
  OpenSasl(4);
  EXPECT_EQ(LoginScram(4, 2, "bob", "bob-secret"), error::kNone);
  OpenSasl(5);
  EXPECT_EQ(LoginScram(5, 1, "bob", "wrong"), error::kSaslAuthenticationFailed);
  EXPECT_TRUE(Closed(5));
  Restart(false);
  OpenSasl(6);
  EXPECT_EQ(LoginScram(6, 1, "bob", "bob-secret"), error::kNone);
}

TEST_F(SecurityTest, AclsAuthorizeEachRequestAndSurviveARestart) {
  OpenSasl(kAdmin);
  ASSERT_EQ(LoginPlain(kAdmin, "admin", "admin-secret"), error::kNone);
  ASSERT_EQ(CreateOn(kAdmin, "orders"), error::kNone);
  ASSERT_EQ(CreateOn(kAdmin, "secret"), error::kNone);
  OpenSasl(kAlice);
  ASSERT_EQ(LoginPlain(kAlice, "alice", "alice-secret"), error::kNone);
  // No ACLs, authentication on: nothing allowed but to super users.
  EXPECT_EQ(ProduceCode(kAlice, "orders"), error::kTopicAuthorizationFailed);
  EXPECT_EQ(ProduceCode(kAdmin, "orders"), error::kNone);
  EXPECT_TRUE(
      On<kafka::MetadataResponse>(kAlice, AllTopics(), 9).topics.empty());
  kafka::DescribeAclsRequest all{
      1, std::nullopt, 1, std::nullopt, std::nullopt, 1, 1};
  EXPECT_EQ(On<kafka::DescribeAclsResponse>(kAlice, all, 1).error_code,
            error::kClusterAuthorizationFailed);
  kafka::JoinGroupRequest join;
  join.group_id = "g";
  join.protocol_type = "consumer";
  join.session_timeout_ms = 10000;
  join.rebalance_timeout_ms = 10000;
  EXPECT_EQ(On<kafka::JoinGroupResponse>(kAlice, join, 5).error_code,
            error::kGroupAuthorizationFailed);
  kafka::InitProducerIdRequest init;
  init.transactional_id = "tx";
  init.transaction_timeout_ms = 10000;
  EXPECT_EQ(On<kafka::InitProducerIdResponse>(kAlice, init, 1).error_code,
            error::kTransactionalIdAuthorizationFailed);
  kafka::DeleteTopicsRequest del;
  del.topic_names = {"orders"};
  del.timeout_ms = 1000;
  EXPECT_EQ(
      On<kafka::DeleteTopicsResponse>(kAlice, del, 1).responses[0].error_code,
      error::kTopicAuthorizationFailed);

  // Prefixed allow on "ord", a literal deny of WRITE on "orders-x".
  CreateAcls(kAdmin, {Acl(2, "ord", 4, "User:alice", 2, 3),
                      Acl(2, "orders-x", 3, "User:alice", 4, 2)});
  ASSERT_EQ(CreateOn(kAdmin, "orders-x"), error::kNone);
  EXPECT_EQ(ProduceCode(kAlice, "orders"), error::kNone);
  EXPECT_EQ(ProduceCode(kAlice, "orders-x"), error::kTopicAuthorizationFailed);
  auto topics = On<kafka::MetadataResponse>(kAlice, AllTopics(), 9).topics;
  ASSERT_EQ(topics.size(), 2u);  // "secret" is hidden
  EXPECT_EQ(*topics[0].name, "orders");
  auto described = On<kafka::DescribeAclsResponse>(kAdmin, all, 1);
  EXPECT_EQ(described.resources.size(), 2u);

  Restart(false);
  OpenSasl(kAdmin);
  ASSERT_EQ(LoginPlain(kAdmin, "admin", "admin-secret"), error::kNone);
  OpenSasl(kAlice);
  ASSERT_EQ(LoginPlain(kAlice, "alice", "alice-secret"), error::kNone);
  EXPECT_EQ(ProduceCode(kAlice, "orders"), error::kNone);
  kafka::DeleteAclsRequest remove;
  remove.filters.push_back({2, "orders", 2, std::nullopt, std::nullopt, 1, 1});
  auto removed = On<kafka::DeleteAclsResponse>(kAdmin, remove, 1);
  ASSERT_EQ(removed.filter_results.size(), 1u);
  EXPECT_EQ(removed.filter_results[0].matching_acls.size(), 1u);  // MATCH
  EXPECT_EQ(ProduceCode(kAlice, "orders"), error::kTopicAuthorizationFailed);
}

// The per-resource checks of the group, offset, config, transaction and
// cluster APIs: Kafka's operation and *_AUTHORIZATION_FAILED code each.
TEST_F(SecurityTest, EachApiChecksKafkasOperationOnItsResources) {
  OpenSasl(kAdmin);
  ASSERT_EQ(LoginPlain(kAdmin, "admin", "admin-secret"), error::kNone);
  ASSERT_EQ(CreateOn(kAdmin, "orders"), error::kNone);
  OpenSasl(kAlice);
  ASSERT_EQ(LoginPlain(kAlice, "alice", "alice-secret"), error::kNone);
  kafka::HeartbeatRequest heartbeat;
  heartbeat.group_id = "g";
  EXPECT_EQ(On<kafka::HeartbeatResponse>(kAlice, heartbeat, 4).error_code,
            error::kGroupAuthorizationFailed);
  kafka::DescribeGroupsRequest describe_groups;
  describe_groups.groups = {"g"};
  auto groups_of = [&](ConnectionId id) {
    return On<kafka::DescribeGroupsResponse>(id, describe_groups, 5)
        .groups[0]
        .error_code;
  };
  EXPECT_EQ(groups_of(kAlice), error::kGroupAuthorizationFailed);
  kafka::DeleteGroupsRequest delete_groups;
  delete_groups.groups_names = {"g"};
  EXPECT_EQ(On<kafka::DeleteGroupsResponse>(kAlice, delete_groups, 2)
                .results[0]
                .error_code,
            error::kGroupAuthorizationFailed);
  kafka::OffsetFetchRequest offset_fetch;
  offset_fetch.group_id = "g";
  EXPECT_EQ(On<kafka::OffsetFetchResponse>(kAlice, offset_fetch, 7).error_code,
            error::kGroupAuthorizationFailed);
  kafka::FindCoordinatorRequest find;
  find.key = "g";
  auto coordinator_of = [&](int8_t key_type) {
    find.key_type = key_type;
    return On<kafka::FindCoordinatorResponse>(kAlice, find, 3).error_code;
  };
  EXPECT_EQ(coordinator_of(0), error::kGroupAuthorizationFailed);
  EXPECT_EQ(coordinator_of(1), error::kTransactionalIdAuthorizationFailed);
  kafka::ListOffsetsRequest list_offsets;
  list_offsets.topics.push_back({"orders", {{0, -1, -1, 1}}});
  auto list_offsets_of = [&](ConnectionId id) {
    return On<kafka::ListOffsetsResponse>(id, list_offsets, 5)
        .topics[0]
        .partitions[0]
        .error_code;
  };
  EXPECT_EQ(list_offsets_of(kAlice), error::kTopicAuthorizationFailed);
  kafka::DeleteRecordsRequest delete_records;
  delete_records.topics.push_back({"orders", {{0, 0}}});
  delete_records.timeout_ms = 1000;
  EXPECT_EQ(On<kafka::DeleteRecordsResponse>(kAlice, delete_records, 1)
                .topics[0]
                .partitions[0]
                .error_code,
            error::kTopicAuthorizationFailed);
  kafka::DescribeConfigsRequest configs;
  configs.resources.push_back({2, "orders", std::nullopt});
  configs.resources.push_back({4, "1", std::nullopt});
  auto described = On<kafka::DescribeConfigsResponse>(kAlice, configs, 3);
  EXPECT_EQ(described.results[0].error_code, error::kTopicAuthorizationFailed);
  EXPECT_EQ(described.results[1].error_code,
            error::kClusterAuthorizationFailed);
  kafka::CreatePartitionsRequest partitions;
  partitions.topics.push_back({"orders", 2, std::nullopt});
  partitions.timeout_ms = 1000;
  EXPECT_EQ(On<kafka::CreatePartitionsResponse>(kAlice, partitions, 1)
                .results[0]
                .error_code,
            error::kTopicAuthorizationFailed);
  kafka::EndTxnRequest end;
  end.transactional_id = "tx";
  EXPECT_EQ(On<kafka::EndTxnResponse>(kAlice, end, 2).error_code,
            error::kTransactionalIdAuthorizationFailed);
  kafka::DescribeLogDirsRequest log_dirs;
  EXPECT_EQ(On<kafka::DescribeLogDirsResponse>(kAlice, log_dirs, 3).error_code,
            error::kClusterAuthorizationFailed);
  EXPECT_EQ(On<kafka::DescribeLogDirsResponse>(kAdmin, log_dirs, 3).error_code,
            error::kNone);

  // DESCRIBE on group "g" and topic "orders" (WRITE implies DESCRIBE).
  CreateAcls(kAdmin, {Acl(3, "g", 3, "User:alice", 8, 3),
                      Acl(2, "orders", 3, "User:alice", 4, 3)});
  EXPECT_EQ(groups_of(kAlice), error::kNone);
  EXPECT_EQ(coordinator_of(0), error::kNone);
  EXPECT_EQ(list_offsets_of(kAlice), error::kNone);
}

// Listing hides what the principal may not DESCRIBE: ListGroups (without
// DESCRIBE on the cluster) lists only its groups; OffsetFetch of all topics
// leaves out the topics it may not DESCRIBE and answers
// TOPIC_AUTHORIZATION_FAILED for one asked by name.
TEST_F(SecurityTest, ListingsHideWhatThePrincipalMayNotDescribe) {
  OpenSasl(kAdmin);
  ASSERT_EQ(LoginPlain(kAdmin, "admin", "admin-secret"), error::kNone);
  ASSERT_EQ(CreateOn(kAdmin, "orders"), error::kNone);
  ASSERT_EQ(CreateOn(kAdmin, "secret"), error::kNone);
  for (const std::string group : {"g", "other"}) {
    kafka::OffsetCommitRequest commit;
    commit.group_id = group;
    commit.generation_id = -1;
    for (const std::string topic : {"orders", "secret"}) {
      kafka::OffsetCommitRequest::OffsetCommitRequestTopic t;
      t.name = topic;
      kafka::OffsetCommitRequest::OffsetCommitRequestPartition p;
      p.partition_index = 0;
      p.committed_offset = 7;
      t.partitions.push_back(p);
      commit.topics.push_back(t);
    }
    auto committed = On<kafka::OffsetCommitResponse>(kAdmin, commit, 7);
    ASSERT_EQ(committed.topics.size(), 2u);
    ASSERT_EQ(committed.topics[1].partitions[0].error_code, error::kNone);
  }
  OpenSasl(kAlice);
  ASSERT_EQ(LoginPlain(kAlice, "alice", "alice-secret"), error::kNone);
  CreateAcls(kAdmin, {Acl(3, "g", 3, "User:alice", 8, 3),
                      Acl(2, "orders", 3, "User:alice", 8, 3)});
  auto listed = [&](ConnectionId id) {
    std::vector<std::string> ids;
    for (const auto& group :
         On<kafka::ListGroupsResponse>(id, kafka::ListGroupsRequest{}, 4)
             .groups) {
      ids.push_back(group.group_id);
    }
    return ids;
  };
  EXPECT_EQ(listed(kAdmin), (std::vector<std::string>{"g", "other"}));
  EXPECT_EQ(listed(kAlice), (std::vector<std::string>{"g"}));
  kafka::OffsetFetchRequest all;
  all.group_id = "g";
  all.topics = std::nullopt;
  auto fetched = On<kafka::OffsetFetchResponse>(kAlice, all, 7);
  ASSERT_EQ(fetched.topics.size(), 1u);
  EXPECT_EQ(fetched.topics[0].name, "orders");
  EXPECT_EQ(fetched.topics[0].partitions[0].committed_offset, 7);
  kafka::OffsetFetchRequest named;
  named.group_id = "g";
  named.topics =
      std::vector<kafka::OffsetFetchRequest::OffsetFetchRequestTopic>{
          {"secret", {0}}};
  auto refused = On<kafka::OffsetFetchResponse>(kAlice, named, 7);
  EXPECT_EQ(refused.topics[0].partitions[0].error_code,
            error::kTopicAuthorizationFailed);
  EXPECT_EQ(refused.topics[0].partitions[0].committed_offset, -1);
  EXPECT_EQ(On<kafka::OffsetFetchResponse>(kAdmin, all, 7).topics.size(), 2u);
}

// OffsetDelete needs DELETE on the group and READ on each topic: a topic the
// principal may not read answers TOPIC_AUTHORIZATION_FAILED per partition
// (before UNKNOWN_TOPIC_OR_PARTITION, as Kafka) and keeps its offsets.
TEST_F(SecurityTest, OffsetDeleteChecksReadOnEachTopic) {
  OpenSasl(kAdmin);
  ASSERT_EQ(LoginPlain(kAdmin, "admin", "admin-secret"), error::kNone);
  ASSERT_EQ(CreateOn(kAdmin, "orders"), error::kNone);
  ASSERT_EQ(CreateOn(kAdmin, "secret"), error::kNone);
  kafka::OffsetCommitRequest commit;
  commit.group_id = "g";
  commit.generation_id = -1;
  for (const std::string topic : {"orders", "secret"}) {
    kafka::OffsetCommitRequest::OffsetCommitRequestTopic t;
    t.name = topic;
    kafka::OffsetCommitRequest::OffsetCommitRequestPartition p;
    p.partition_index = 0;
    p.committed_offset = 7;
    t.partitions.push_back(p);
    commit.topics.push_back(t);
  }
  ASSERT_EQ(On<kafka::OffsetCommitResponse>(kAdmin, commit, 7).topics.size(),
            2u);
  OpenSasl(kAlice);
  ASSERT_EQ(LoginPlain(kAlice, "alice", "alice-secret"), error::kNone);
  kafka::OffsetDeleteRequest remove;
  remove.group_id = "g";
  remove.topics = {{"orders", {{0}}}, {"secret", {{0}}}, {"nope", {{0}}}};
  EXPECT_EQ(On<kafka::OffsetDeleteResponse>(kAlice, remove, 0).error_code,
            error::kGroupAuthorizationFailed);
  // DELETE on group "g", READ on topic "orders".
  CreateAcls(kAdmin, {Acl(3, "g", 3, "User:alice", 6, 3),
                      Acl(2, "orders", 3, "User:alice", 3, 3)});
  auto deleted = On<kafka::OffsetDeleteResponse>(kAlice, remove, 0);
  ASSERT_EQ(deleted.error_code, error::kNone);
  ASSERT_EQ(deleted.topics.size(), 3u);
  EXPECT_EQ(deleted.topics[0].partitions[0].error_code, error::kNone);
  EXPECT_EQ(deleted.topics[1].partitions[0].error_code,
            error::kTopicAuthorizationFailed);
  EXPECT_EQ(deleted.topics[2].partitions[0].error_code,
            error::kTopicAuthorizationFailed);
  kafka::OffsetFetchRequest all;
  all.group_id = "g";
  all.topics = std::nullopt;
  auto fetched = On<kafka::OffsetFetchResponse>(kAdmin, all, 7);
  ASSERT_EQ(fetched.topics.size(), 1u);  // "orders" went
  EXPECT_EQ(fetched.topics[0].name, "secret");
  EXPECT_EQ(fetched.topics[0].partitions[0].committed_offset, 7);
}

// Kafka's connection.failed.authentication.delay.ms (default 100): a failed
// authentication is answered and its connection closed only after the delay,
// and the connection handles nothing meanwhile.
class FailedAuthDelayTest : public SecurityTest {
 protected:
  FailedAuthDelayTest() {
    configure_ = [](BrokerOptions& o) {
      o.config.kafka_security_protocol = SecurityProtocol::kSaslPlaintext;
      o.config.sasl_plain_users = {{"alice", "alice-secret"}};
      EXPECT_EQ(o.config.failed_authentication_delay_ms, 100);  // default
    };
    Restart(false);
  }
};

TEST_F(FailedAuthDelayTest, TheFailureIsAnsweredAndClosedAfterTheDelay) {
  OpenSasl(kAlice);
  EXPECT_EQ(Handshake(kAlice, "PLAIN"), error::kNone);
  kafka::SaslAuthenticateRequest wrong;
  wrong.auth_bytes = std::string("\0alice\0wrong", 12);
  Write(kAlice, kafka::EncodeRequestFrame(2, 7, std::string("c"), wrong));
  ASSERT_FALSE(Closed(kAlice));
  EXPECT_TRUE(Sent(kAlice).empty());
  // A request behind it is not handled.
  Write(kAlice, kafka::EncodeRequestFrame(9, 8, std::string("c"), AllTopics()));
  EXPECT_FALSE(Closed(kAlice));
  EXPECT_TRUE(Sent(kAlice).empty());
  Tick();  // 50 ms
  EXPECT_FALSE(Closed(kAlice));
  EXPECT_TRUE(Sent(kAlice).empty());
  Tick();  // 100 ms
  EXPECT_TRUE(Closed(kAlice));
  ASSERT_EQ(Sent(kAlice).size(), 1u);  // the failure only, then the close
  kafka::SaslAuthenticateResponse response;
  int32_t correlation_id = 0;
  ASSERT_TRUE(kafka::DecodeResponseFrame(
                  absl::string_view(Sent(kAlice).front()).substr(4), 2,
                  &correlation_id, &response)
                  .ok());
  EXPECT_EQ(correlation_id, 7);
  EXPECT_EQ(response.error_code, error::kSaslAuthenticationFailed);
  // Right credentials are not delayed.
  OpenSasl(kAdmin);
  EXPECT_EQ(LoginPlain(kAdmin, "alice", "alice-secret"), error::kNone);
}

// KIP-368 with connections.max.reauth.ms = 1000: the session lifetime is
// told to the client; a request after it expired closes the connection, a
// re-authentication before keeps it; re-authenticating as someone else is
// refused.
class ReauthTest : public SecurityTest {
 protected:
  ReauthTest() {
    configure_ = [](BrokerOptions& o) {
      o.config.kafka_security_protocol = SecurityProtocol::kSaslPlaintext;
      o.config.sasl_plain_users = {{"admin", "admin-secret"},
                                   {"alice", "alice-secret"}};
      o.config.super_users = {"User:admin"};
      o.config.connections_max_reauth_ms = 1000;
      o.config.failed_authentication_delay_ms = 0;
    };
    Restart(false);
  }
  void Wait(int ms) {
    for (int i = 0; i < ms / 50; ++i) Tick();
  }
  int64_t PlainLifetime(ConnectionId id, const std::string& user,
                        const std::string& password) {
    EXPECT_EQ(Handshake(id, "PLAIN"), error::kNone);
    auto response =
        Authenticate(id, std::string("\0", 1) + user + '\0' + password);
    EXPECT_EQ(response.error_code, error::kNone);
    return response.session_lifetime_ms;
  }
};

TEST_F(ReauthTest, ExpiryClosesOnTheNextRequestUnlessReauthenticated) {
  OpenSasl(kAlice);
  EXPECT_EQ(PlainLifetime(kAlice, "alice", "alice-secret"), 1000);
  Wait(700);
  EXPECT_EQ(PlainLifetime(kAlice, "alice", "alice-secret"), 1000);
  Wait(700);  // 1400 ms after the first login, 700 after the second
  On<kafka::MetadataResponse>(kAlice, AllTopics(), 9);
  EXPECT_FALSE(Closed(kAlice));
  OpenSasl(kAdmin);
  EXPECT_EQ(PlainLifetime(kAdmin, "admin", "admin-secret"), 1000);
  Wait(1050);
  EXPECT_FALSE(Closed(kAdmin));  // idle: closed only on its next request
  kafka::MetadataRequest metadata = AllTopics();
  Write(kAdmin, kafka::EncodeRequestFrame(9, 77, std::string("c"), metadata));
  EXPECT_TRUE(Closed(kAdmin));
  EXPECT_TRUE(Sent(kAdmin).empty());
}

TEST_F(ReauthTest, ReauthenticationMayNotChangeThePrincipal) {
  OpenSasl(kAlice);
  EXPECT_EQ(PlainLifetime(kAlice, "alice", "alice-secret"), 1000);
  EXPECT_EQ(Handshake(kAlice, "PLAIN"), error::kNone);
  auto response =
      Authenticate(kAlice, std::string("\0admin\0admin-secret", 19));
  EXPECT_EQ(response.error_code, error::kSaslAuthenticationFailed);
  EXPECT_TRUE(Closed(kAlice));
}

// librdkafka 2.0 sends its client nonce again before the server-first nonce
// in the client-final message; Kafka accepts it (the nonce must end with the
// server's), so does chronik.
TEST(ScramTest, ClientFinalNonceMayRepeatTheClientNonce) {
  const std::string salt = *scram::Unbase64("W22ZaJ0SNY7soEsUEjb6gQ==");
  const std::string salted = scram::SaltedPassword(1, "pencil", salt, 4096);
  scram::ServerExchange server(1, "snonce");
  ASSERT_TRUE(server.ClientFirst("n,,n=user,r=cnonce").ok());
  const std::string server_first =
      server.ServerFirst(scram::MakeCredential("user", 1, salt, 4096, salted));
  const std::string without_proof = "c=biws,r=cnoncecnoncesnonce";
  const std::string auth =
      "n=user,r=cnonce," + server_first + "," + without_proof;
  const std::string client_key = scram::Hmac(1, salted, "Client Key");
  std::string proof = scram::Hmac(1, scram::Hash(1, client_key), auth);
  for (size_t i = 0; i < proof.size(); ++i) proof[i] ^= client_key[i];
  EXPECT_TRUE(
      server.ClientFinal(without_proof + ",p=" + scram::Base64(proof)).ok());
  scram::ServerExchange other(1, "snonce");
  ASSERT_TRUE(other.ClientFirst("n,,n=user,r=cnonce").ok());
  other.ServerFirst(scram::MakeCredential("user", 1, salt, 4096, salted));
  EXPECT_FALSE(other.ClientFinal("c=biws,r=cnoncesnonceX,p=AAAA").ok());
}

}  // namespace
}  // namespace chronik::broker
