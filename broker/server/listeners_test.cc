// Named listeners: Metadata, DescribeCluster and FindCoordinator answer each
// client with the brokers' addresses on the listener it came in on, and the
// broker registration carries every listener's advertised address.
#include <string>

#include "broker/config/server_config.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/server/in_process_cluster.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

using testing::BrokerTest;
using testing::InProcessCluster;

class ListenersTest : public BrokerTest {
 protected:
  ListenersTest() {
    driver_.reset();
    BrokerOptions options;
    options.config.node_id = 1;
    options.config.listeners = {
        {.name = "PLAINTEXT",
         .protocol = env::SecurityProtocol::kPlaintext,
         .host = "127.0.0.1",
         .port = 9092,
         .advertised_host = "plain.example",
         .advertised_port = 19092},
        {.name = "SSL",
         .protocol = env::SecurityProtocol::kSsl,
         .host = "127.0.0.1",
         .port = 9093,
         .advertised_host = "ssl.example",
         .advertised_port = 19093},
    };
    // The first listener is the default one (as ResolveListeners sets it).
    options.config.kafka_port = 9092;
    options.config.advertised_host = "plain.example";
    options.config.advertised_port = 19092;
    driver_ =
        std::make_unique<testing::TestDriver>(options, &disk_, &clock_, 5);
    CHRONIK_CHECK(driver_->Start().ok());
    broker_ = &driver_->broker();
  }

  void Connect(const std::string& listener, env::SecurityProtocol protocol) {
    driver_->Open(kConn, env::ConnectionInfo{.peer = "127.0.0.1:5555",
                                             .listener = listener,
                                             .protocol = protocol});
  }
};

TEST_F(ListenersTest, MetadataAdvertisesTheListenerTheClientCameInOn) {
  Connect("SSL", env::SecurityProtocol::kSsl);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_EQ(metadata.brokers.size(), 1u);
  EXPECT_EQ(metadata.brokers[0].host, "ssl.example");
  EXPECT_EQ(metadata.brokers[0].port, 19093);
  auto cluster =
      Call<kafka::DescribeClusterResponse>(kafka::DescribeClusterRequest{}, 0);
  ASSERT_EQ(cluster.brokers.size(), 1u);
  EXPECT_EQ(cluster.brokers[0].port, 19093);
  kafka::FindCoordinatorRequest find;
  find.key = "group";
  auto coordinator = Call<kafka::FindCoordinatorResponse>(find, 2);
  EXPECT_EQ(coordinator.error_code, kafka::error::kNone);
  EXPECT_EQ(coordinator.host, "ssl.example");
  EXPECT_EQ(coordinator.port, 19093);

  broker_->OnConnectionClose(kConn);
  Connect("PLAINTEXT", env::SecurityProtocol::kPlaintext);
  metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_EQ(metadata.brokers.size(), 1u);
  EXPECT_EQ(metadata.brokers[0].host, "plain.example");
  EXPECT_EQ(metadata.brokers[0].port, 19092);
}

// A broker without the client's listener is left out of Metadata and
// DescribeCluster; its partitions answer LISTENER_NOT_FOUND (v6+,
// LEADER_NOT_AVAILABLE before) and FindCoordinator COORDINATOR_NOT_AVAILABLE
// when it is the coordinator (as Kafka).
TEST_F(ListenersTest, ABrokerWithoutTheClientsListenerIsNotAdvertised) {
  Connect("PLAINTEXT", env::SecurityProtocol::kPlaintext);
  ASSERT_EQ(CreateTopic("t", 1).topics.at(0).error_code, 0);
  Tick();
  broker_->OnConnectionClose(kConn);
  Connect("OTHER", env::SecurityProtocol::kPlaintext);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  EXPECT_TRUE(metadata.brokers.empty());
  ASSERT_EQ(metadata.topics.size(), 1u);
  ASSERT_EQ(metadata.topics[0].partitions.size(), 1u);
  EXPECT_EQ(metadata.topics[0].partitions[0].error_code,
            kafka::error::kListenerNotFound);
  EXPECT_EQ(metadata.topics[0].partitions[0].leader_id, -1);
  metadata = Call<kafka::MetadataResponse>(AllTopics(), 5);
  EXPECT_EQ(metadata.topics.at(0).partitions.at(0).error_code,
            kafka::error::kLeaderNotAvailable);
  auto cluster =
      Call<kafka::DescribeClusterResponse>(kafka::DescribeClusterRequest{}, 0);
  EXPECT_TRUE(cluster.brokers.empty());
  kafka::FindCoordinatorRequest find;
  find.key = "group";
  auto coordinator = Call<kafka::FindCoordinatorResponse>(find, 2);
  EXPECT_EQ(coordinator.error_code, kafka::error::kCoordinatorNotAvailable);
  EXPECT_EQ(coordinator.node_id, -1);
}

// In a cluster whose node 3 has no EXTERNAL listener: a client on EXTERNAL
// sees nodes 1 and 2 only, and LISTENER_NOT_FOUND for the partitions node 3
// leads; on PLAINTEXT it sees all three and every leader.
TEST(ListenersClusterTest, PartitionsLedByABrokerWithoutTheListener) {
  InProcessCluster cluster(3, /*seed=*/1, 1, [](BrokerOptions& options) {
    const auto id = static_cast<int>(options.config.node_id);
    options.config.listeners = {{.name = "PLAINTEXT",
                                 .protocol = env::SecurityProtocol::kPlaintext,
                                 .host = "127.0.0.1",
                                 .port = 9090 + id,
                                 .advertised_host = "127.0.0.1",
                                 .advertised_port = 9090 + id}};
    if (id != 3) {
      options.config.listeners.push_back(
          {.name = "EXTERNAL",
           .protocol = env::SecurityProtocol::kPlaintext,
           .host = "127.0.0.1",
           .port = 9290 + id,
           .advertised_host = "external.example",
           .advertised_port = 9290 + id});
    }
  });
  ASSERT_TRUE(cluster.StepUntil([&] { return cluster.AllReady(); }));
  const auto controller =
      static_cast<raft::NodeId>(cluster.Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"t", 6, 1, {}, {}});
  auto created =
      cluster.Call<kafka::CreateTopicsResponse>(controller, create, 4);
  ASSERT_TRUE(created.has_value());
  ASSERT_EQ(created->topics.at(0).error_code, 0);
  auto all_led = [&] {
    for (const auto& t : cluster.Metadata(1).topics) {
      for (const auto& p : t.partitions) {
        if (p.leader_id < 0) return false;
      }
    }
    return true;
  };
  cluster.Reconnect(1, {.peer = "c:1", .listener = "PLAINTEXT"});
  ASSERT_TRUE(cluster.StepUntil(all_led));
  kafka::MetadataResponse plain = cluster.Metadata(1);
  EXPECT_EQ(plain.brokers.size(), 3u);

  cluster.Reconnect(1, {.peer = "c:1", .listener = "EXTERNAL"});
  kafka::MetadataResponse external = cluster.Metadata(1);
  ASSERT_EQ(external.brokers.size(), 2u);
  for (const auto& broker : external.brokers) {
    EXPECT_NE(broker.node_id, 3);
    EXPECT_EQ(broker.host, "external.example");
  }
  int on_node3 = 0;
  ASSERT_EQ(external.topics.size(), 1u);
  for (size_t i = 0; i < plain.topics.at(0).partitions.size(); ++i) {
    const auto& p = plain.topics[0].partitions[i];
    const auto& e = external.topics[0].partitions.at(i);
    if (p.leader_id == 3) {
      ++on_node3;
      EXPECT_EQ(e.error_code, kafka::error::kListenerNotFound);
      EXPECT_EQ(e.leader_id, -1);
    } else {
      EXPECT_EQ(e.error_code, kafka::error::kNone);
      EXPECT_EQ(e.leader_id, p.leader_id);
    }
  }
  EXPECT_GT(on_node3, 0);  // the test shows something
}

}  // namespace
}  // namespace chronik::broker
