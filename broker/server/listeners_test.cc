// Named listeners: Metadata, DescribeCluster and FindCoordinator answer each
// client with the brokers' addresses on the listener it came in on, and the
// broker registration carries every listener's advertised address.
#include <string>

#include "broker/config/server_config.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "broker/server/testing/broker_fixture.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

using testing::BrokerTest;

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

TEST_F(ListenersTest, AnUnknownListenerNameGetsTheDefaultAddress) {
  Connect("OTHER", env::SecurityProtocol::kPlaintext);
  auto metadata = Call<kafka::MetadataResponse>(AllTopics(), 12);
  ASSERT_EQ(metadata.brokers.size(), 1u);
  EXPECT_EQ(metadata.brokers[0].host, "plain.example");
  EXPECT_EQ(metadata.brokers[0].port, 19092);
}

}  // namespace
}  // namespace chronik::broker
