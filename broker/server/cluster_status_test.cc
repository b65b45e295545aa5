// ClusterStatus (GET /v1/cluster): the JSON rendering, byte for byte and
// with strings that need escaping, and what three in-process brokers report.
#include "broker/server/cluster_status.h"

#include <string>

#include "broker/server/in_process_cluster.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::broker {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonString("plain.topic-1_x"), "\"plain.topic-1_x\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(JsonString(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(JsonString(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(JsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // UTF-8 kept
}

TEST(ClusterStatusJsonTest, RendersEveryField) {
  ClusterStatus status;
  status.node_id = 0;
  status.brokers = {{0, "127.0.0.1", 9092, false, false},
                    {1, "h\"1", 9093, true, true}};
  ClusterStatus::Partition led;
  led.topic = "t\"\\";
  led.partition = 0;
  led.leader = 0;
  led.leader_term = 3;
  led.replicas = {0, 1};
  led.isr = {0};
  led.lag = std::map<int32_t, uint64_t>{{0, 0}, {1, 7}};
  ClusterStatus::Partition other;
  other.topic = "u";
  other.partition = 1;
  other.replicas = {1};
  status.partitions = {led, other};
  status.metadata = {0, 5, 42, {0, 1}, {2}, "file \"x\""};
  EXPECT_EQ(RenderClusterStatusJson(status),
            "{\"node_id\":0,\"shutting_down\":false,\"removed\":false,"
            "\"brokers\":["
            "{\"id\":0,\"host\":\"127.0.0.1\",\"port\":9092,\"status\":"
            "\"live\",\"decommissioning\":false},"
            "{\"id\":1,\"host\":\"h\\\"1\",\"port\":9093,\"status\":"
            "\"fenced\",\"decommissioning\":true}],"
            "\"partitions\":["
            "{\"topic\":\"t\\\"\\\\\",\"partition\":0,\"leader\":0,"
            "\"leader_term\":3,\"replicas\":[0,1],\"isr\":[0],"
            "\"lag\":{\"0\":0,\"1\":7}},"
            "{\"topic\":\"u\",\"partition\":1,\"leader\":-1,"
            "\"leader_term\":0,\"replicas\":[1],\"isr\":[],\"lag\":null}],"
            "\"metadata\":{\"leader\":0,\"term\":5,\"commit_index\":42,"
            "\"voters\":[0,1],\"learners\":[2],"
            "\"config_mismatch\":\"file \\\"x\\\"\"}}\n");
}

TEST(ClusterStatusTest, ThreeBrokersReportTheClusterTheyShare) {
  testing::InProcessCluster cluster(3, /*seed=*/5);
  for (int i = 0; i < 400 && !cluster.AllReady(); ++i) cluster.Step();
  ASSERT_TRUE(cluster.AllReady());
  const auto controller =
      static_cast<raft::NodeId>(cluster.Metadata(1).controller_id);
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"s", 1, 3, {}, {}});
  ASSERT_TRUE(cluster.Call<kafka::CreateTopicsResponse>(controller, create, 4)
                  .has_value());
  for (int i = 0; i < 100; ++i) cluster.Step();  // ISR reports settle

  const ClusterStatus status = cluster.broker(2).Status();
  EXPECT_EQ(status.node_id, 2);
  ASSERT_EQ(status.brokers.size(), 3u);
  for (const ClusterStatus::Broker& broker : status.brokers) {
    EXPECT_FALSE(broker.fenced) << broker.id;
    EXPECT_EQ(broker.port, 9090 + broker.id);
  }
  EXPECT_EQ(status.metadata.leader, static_cast<int32_t>(controller));
  EXPECT_THAT(status.metadata.voters, ElementsAre(1, 2, 3));
  EXPECT_GT(status.metadata.term, 0u);
  EXPECT_GT(status.metadata.commit_index, 0u);
  ASSERT_EQ(status.partitions.size(), 1u);
  const ClusterStatus::Partition& partition = status.partitions[0];
  EXPECT_EQ(partition.topic, "s");
  EXPECT_THAT(partition.replicas, ::testing::UnorderedElementsAre(1, 2, 3));
  EXPECT_THAT(partition.isr, ::testing::UnorderedElementsAre(1, 2, 3));
  ASSERT_GT(partition.leader, 0);
  // Only the leader knows how far each replica is behind.
  const ClusterStatus leader_view =
      cluster.broker(static_cast<raft::NodeId>(partition.leader)).Status();
  ASSERT_TRUE(leader_view.partitions[0].lag.has_value());
  EXPECT_THAT(*leader_view.partitions[0].lag,
              ElementsAre(Pair(1, 0u), Pair(2, 0u), Pair(3, 0u)));
  const raft::NodeId follower = partition.leader == 1 ? 2 : 1;
  EXPECT_FALSE(cluster.broker(follower).Status().partitions[0].lag.has_value());
}

}  // namespace
}  // namespace chronik::broker
