#include "broker/config/server_config.h"

#include <map>
#include <string>
#include <vector>

#include "broker/config/node_ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::config {
namespace {

using ::testing::HasSubstr;
using Env = std::map<std::string, std::string>;

// Serves files from a map, as the runtime serves them from disk.
FileReader Files(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> absl::StatusOr<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return absl::NotFoundError("no such file");
    return it->second;
  };
}

absl::StatusOr<ServerConfig> Parse(
    std::vector<std::string> args, Env env = {},
    std::map<std::string, std::string> files = {}) {
  return ParseServerConfig(args, env, Files(files));
}

constexpr char kSeedClusterFile[] = R"(enabled = true
node_id = 2
replication_factor = 3
min_insync_replicas = 2

[[peers]]
id = 1
addr = "localhost:9092"
raft_port = 9192

[[peers]]
id = 2
addr = "localhost:9093"
raft_port = 9193
http_port = 9645

[[peers]]
id = 3
addr = "localhost:9094"
raft_port = 9194

[gossip]
bind_addr = "0.0.0.0:7946"
bootstrap_expect = 3
)";

TEST(ServerConfigTest, StandaloneDefaults) {
  absl::StatusOr<ServerConfig> config = Parse({"standalone"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->mode, ServerConfig::Mode::kStandalone);
  EXPECT_EQ(config->kafka_port, 9092);
  EXPECT_EQ(config->bind_host, "127.0.0.1");
  EXPECT_EQ(config->advertised_host, "127.0.0.1");
  EXPECT_EQ(config->data_dir, "./data");
  EXPECT_TRUE(config->auto_create_topics);
  EXPECT_EQ(config->default_partitions, 1);
}

TEST(ServerConfigTest, FlagsWinOverEnvironment) {
  absl::StatusOr<ServerConfig> config =
      Parse({"--kafka-port=19092", "--data-dir", "/tmp/x", "standalone"},
            {{"CHRONIK_KAFKA_PORT", "29092"},
             {"CHRONIK_HTTP_PORT", "18080"},
             {"CHRONIK_AUTO_CREATE_TOPICS", "false"},
             {"HOME", "/root"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->kafka_port, 19092);
  EXPECT_EQ(config->http_port, 18080);
  EXPECT_EQ(config->data_dir, "/tmp/x");
  EXPECT_FALSE(config->auto_create_topics);
}

TEST(ServerConfigTest, BadValuesNameTheFlagOrVariable) {
  EXPECT_THAT(Parse({"--kafka-port=99999"}).status().message(),
              HasSubstr("--kafka-port: 99999 is out of range"));
  EXPECT_THAT(Parse({"--kafka-port=abc"}).status().message(),
              HasSubstr("--kafka-port: 'abc' is not an integer"));
  EXPECT_THAT(Parse({}, {{"CHRONIK_LOG_LEVEL", "loud"}}).status().message(),
              HasSubstr("CHRONIK_LOG_LEVEL: 'loud' is not one of"));
  EXPECT_THAT(Parse({"--auto-create-topics=maybe"}).status().message(),
              HasSubstr("--auto-create-topics: 'maybe' is not true or false"));
  EXPECT_THAT(Parse({"--frobnicate=1"}).status().message(),
              HasSubstr("unknown flag --frobnicate"));
  EXPECT_THAT(Parse({"--data-dir"}).status().message(),
              HasSubstr("--data-dir: missing value"));
  EXPECT_THAT(Parse({"serve"}).status().message(),
              HasSubstr("unknown mode 'serve'"));
  EXPECT_THAT(
      Parse({"--kafka-port=9000", "--http-port=9000"}).status().message(),
      HasSubstr("both use port 9000"));
}

// The seed's file without its [gossip] section (which is refused).
std::string SeedFileWithoutGossip() {
  std::string text = kSeedClusterFile;
  return text.substr(0, text.find("[gossip]"));
}

TEST(ServerConfigTest, SeedClusterFileWithStandaloneWordJoinsCluster) {
  // The seed's documented command line: --cluster-config FILE standalone.
  absl::StatusOr<ServerConfig> config =
      Parse({"--advertised-addr", "localhost", "--cluster-config", "n2.toml",
             "standalone"},
            {}, {{"n2.toml", SeedFileWithoutGossip()}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->mode, ServerConfig::Mode::kCluster);
  EXPECT_EQ(config->node_id, 2u);
  EXPECT_EQ(config->kafka_port, 9093);
  EXPECT_EQ(config->raft_port, 9193);
  EXPECT_EQ(config->http_port, 9645);
  EXPECT_EQ(config->replication_factor, 3);
  EXPECT_EQ(config->min_insync_replicas, 2);
  ASSERT_EQ(config->peers.size(), 3u);
  EXPECT_EQ(config->peers[2].raft_port, 9194);
  EXPECT_EQ(config->advertised_host, "localhost");
}

TEST(ServerConfigTest, SeedTypoTableHeaderGetsAClearError) {
  std::string text = kSeedClusterFile;
  text.replace(text.find("[gossip]"), 8, "[/gossip]");
  absl::Status status =
      Parse({"--cluster-config=c.toml"}, {}, {{"c.toml", text}}).status();
  EXPECT_THAT(status.message(), HasSubstr("c.toml:22:"));
  EXPECT_THAT(status.message(), HasSubstr("did you mean '[gossip]'"));
}

TEST(ServerConfigTest, GossipSectionIsRefusedSayingWhatToUseInstead) {
  // Issue 12: [gossip] was parsed and ignored (bootstrap_expect unused,
  // bind_addr never bound).
  absl::Status status =
      Parse({"--cluster-config=c.toml"}, {}, {{"c.toml", kSeedClusterFile}})
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("c.toml:22: [gossip] is not "
                                          "supported"));
  EXPECT_THAT(status.message(), HasSubstr("remove the section"));
  EXPECT_THAT(status.message(), HasSubstr("[[peers]]"));
  // Even empty.
  EXPECT_THAT(Parse({"--cluster-config=c.toml"}, {},
                    {{"c.toml", SeedFileWithoutGossip() + "[gossip]\n"}})
                  .status()
                  .message(),
              HasSubstr("[gossip] is not supported"));
}

TEST(ServerConfigTest, UnknownKeysAnywhereNameTheKeyFileLineAndSection) {
  auto error_for = [](const std::string& text) {
    return std::string(
        Parse({"--cluster-config=f.toml"}, {}, {{"f.toml", text}})
            .status()
            .message());
  };
  const std::string peer = "[[peers]]\nid = 1\naddr = \"h:1\"\nraft_port = 2\n";
  EXPECT_THAT(error_for(peer + "raftport = 3\n"),
              HasSubstr("f.toml:5: unknown key 'raftport' in [[peers]] (known "
                        "keys: id, addr, raft_port, http_port)"));
  EXPECT_THAT(error_for("enabled = true\nbootstrap_expect = 3\n" + peer),
              HasSubstr("f.toml:2: unknown key 'bootstrap_expect' in the top "
                        "level"));
  EXPECT_THAT(error_for(peer + "[[brokers]]\nid = 2\n"),
              HasSubstr("f.toml:5: unknown table [[brokers]]"));
  EXPECT_THAT(error_for(peer + "[raft]\nelection_ms = 5\n"),
              HasSubstr("f.toml:5: unknown table [raft]"));
  // A bad value in a peer names the value's own line, once.
  EXPECT_THAT(error_for(peer + "http_port = \"x\"\n"),
              HasSubstr("f.toml:5: 'http_port' must be an integer"));
}

TEST(ServerConfigTest, OneHostNodesOnTheDefaultHttpPortAreToldHowToFixIt) {
  // Issue 12: the seed's one-host file gives node 2 an http_port, nodes 1 and
  // 3 none: both took the default 9644 and node 3 failed to bind.
  const std::string file = SeedFileWithoutGossip();
  absl::Status status =
      Parse({"--cluster-config=c.toml", "--node-id=1"}, {}, {{"c.toml", file}})
          .status();
  EXPECT_THAT(status.message(),
              HasSubstr("nodes 1 and 3 are both on localhost and neither has "
                        "an HTTP port, so both would serve HTTP on the "
                        "default port 9644"));
  EXPECT_THAT(status.message(), HasSubstr("http_port = PORT in each peer's "
                                          "entry of [[peers]] of c.toml"));
  EXPECT_THAT(status.message(), HasSubstr("--http-port=PORT"));
  // The flag is the other fix, and wins over the file.
  absl::StatusOr<ServerConfig> config =
      Parse({"--cluster-config=c.toml", "--node-id=1", "--http-port=9700"}, {},
            {{"c.toml", file}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->http_port, 9700);
  config = Parse({"--cluster-config=c.toml", "--node-id=2", "--http-port=9701"},
                 {}, {{"c.toml", file}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->http_port, 9701) << "flags win over the file";
  // This node's HTTP port on another node's listener.
  EXPECT_THAT(
      Parse({"--cluster-config=c.toml", "--node-id=1", "--http-port=9193"}, {},
            {{"c.toml", file}})
          .status()
          .message(),
      HasSubstr("node 1's HTTP port 9193 is node 2's raft port on "
                "localhost"));
  // Hosts of their own may all use the default.
  EXPECT_TRUE(Parse({"--node-id=1",
                     "--cluster-peers=1=10.0.0.1:9092:9192,2=10.0.0.2:"
                     "9092:9192"})
                  .ok());
}

TEST(ServerConfigTest, PortCollisionBetweenNodesIsRejected) {
  std::string text = SeedFileWithoutGossip();
  // Node 3's raft port equals node 1's Kafka port on the same host.
  text.replace(text.find("raft_port = 9194"), 16, "raft_port = 9092");
  absl::Status status =
      Parse({"--cluster-config=c.toml"}, {}, {{"c.toml", text}}).status();
  EXPECT_THAT(status.message(),
              HasSubstr("port conflict on localhost:9092: node 1 kafka and "
                        "node 3 raft listeners"));
}

TEST(ServerConfigTest, LocalhostAndLoopbackAreOneHost) {
  EXPECT_FALSE(ValidatePeerPorts({{1, "localhost", 9092, 9192, 0},
                                  {2, "127.0.0.1", 9092, 9193, 0}})
                   .ok());
  EXPECT_TRUE(ValidatePeerPorts({{1, "10.0.0.1", 9092, 9192, 9644},
                                 {2, "10.0.0.2", 9092, 9192, 9644}})
                  .ok());
}

TEST(ServerConfigTest, EnvironmentPeersMakeACluster) {
  absl::StatusOr<ServerConfig> config = Parse(
      {}, {{"CHRONIK_CLUSTER_ENABLED", "true"},
           {"CHRONIK_NODE_ID", "3"},
           {"CHRONIK_CLUSTER_PEERS",
            "1=localhost:9092:9192,2=localhost:9093:9193,3=localhost:9094:"
            "9194:9646"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->mode, ServerConfig::Mode::kCluster);
  EXPECT_EQ(config->kafka_port, 9094);
  EXPECT_EQ(config->raft_port, 9194);
  EXPECT_EQ(config->http_port, 9646);
}

TEST(ServerConfigTest, ClusterErrors) {
  EXPECT_THAT(Parse({"cluster"}).status().message(),
              HasSubstr("cluster mode needs peers"));
  EXPECT_THAT(Parse({"--node-id=7", "--cluster-peers=1=h:1:2,2=h:3:4"})
                  .status()
                  .message(),
              HasSubstr("node id 7 is not among the cluster peers"));
  EXPECT_THAT(Parse({"--cluster-peers=1=h:1"}).status().message(),
              HasSubstr("--cluster-peers: peer '1=h:1': wrong shape"));
  EXPECT_THAT(Parse({"--cluster-config=missing.toml"}).status().message(),
              HasSubstr("--cluster-config missing.toml: no such file"));
  EXPECT_THAT(Parse({"--replication-factor=3", "--cluster-peers=1=h:1:2"})
                  .status()
                  .message(),
              HasSubstr("replication_factor 3 exceeds the 1 cluster peers"));
  EXPECT_THAT(Parse({"--min-insync-replicas=2"}).status().message(),
              HasSubstr("min_insync_replicas 2 exceeds replication_factor 1"));
  EXPECT_THAT(Parse({"--broker-session-timeout-ms=5"}).status().message(),
              HasSubstr("--broker-session-timeout-ms"));
}

TEST(ServerConfigTest, LivenessAndLagTimeouts) {
  absl::StatusOr<ServerConfig> defaults = Parse({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->broker_session_timeout_ms, 9'000);
  EXPECT_EQ(defaults->replica_lag_time_max_ms, 30'000);
  absl::StatusOr<ServerConfig> set =
      Parse({"--broker-session-timeout-ms=1500"},
            {{"CHRONIK_REPLICA_LAG_TIME_MAX_MS", "4000"}});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->broker_session_timeout_ms, 1'500);
  EXPECT_EQ(set->replica_lag_time_max_ms, 4'000);
}

TEST(ServerConfigTest, LeaderBalancing) {
  absl::StatusOr<ServerConfig> defaults = Parse({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(defaults->auto_leader_rebalance_enable);
  EXPECT_EQ(defaults->leader_imbalance_check_interval_ms, 300'000);
  EXPECT_EQ(defaults->leader_imbalance_per_broker_percentage, 10);
  absl::StatusOr<ServerConfig> set =
      Parse({"--auto-leader-rebalance-enable=false",
             "--leader-imbalance-check-interval-ms=2000"},
            {{"CHRONIK_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE", "0"}});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_FALSE(set->auto_leader_rebalance_enable);
  EXPECT_EQ(set->leader_imbalance_check_interval_ms, 2'000);
  EXPECT_EQ(set->leader_imbalance_per_broker_percentage, 0);
  EXPECT_TRUE(defaults->raft_quiesce);
  absl::StatusOr<ServerConfig> loud = Parse({"--raft-quiesce=false"});
  ASSERT_TRUE(loud.ok()) << loud.status();
  EXPECT_FALSE(loud->raft_quiesce);
  EXPECT_EQ(defaults->raft_election_timeout_ms, 1000);
  absl::StatusOr<ServerConfig> quick =
      Parse({}, {{"CHRONIK_RAFT_ELECTION_TIMEOUT_MS", "500"}});
  ASSERT_TRUE(quick.ok()) << quick.status();
  EXPECT_EQ(quick->raft_election_timeout_ms, 500);
  EXPECT_THAT(Parse({"--raft-election-timeout-ms=50"}).status().message(),
              HasSubstr("--raft-election-timeout-ms"));
  EXPECT_THAT(
      Parse({"--leader-imbalance-check-interval-ms=5"}).status().message(),
      HasSubstr("--leader-imbalance-check-interval-ms"));
  EXPECT_THAT(Parse({}, {{"CHRONIK_AUTO_LEADER_REBALANCE_ENABLE", "maybe"}})
                  .status()
                  .message(),
              HasSubstr("CHRONIK_AUTO_LEADER_REBALANCE_ENABLE"));
}

TEST(ServerConfigTest, TomlErrorsNameTheLine) {
  auto error_for = [](const std::string& text) {
    return std::string(
        Parse({"--cluster-config=f"}, {}, {{"f", text}}).status().message());
  };
  EXPECT_THAT(error_for("enabled = true\nnode_id = \"two\"\n"),
              HasSubstr("f:2: 'node_id' must be an integer"));
  EXPECT_THAT(error_for("enabled = yes\n"),
              HasSubstr("f:1: value 'yes' is not a quoted string"));
  EXPECT_THAT(error_for("colour = 1\n"),
              HasSubstr("f:1: unknown key 'colour'"));
  EXPECT_THAT(error_for("[[peers]]\nid = 1\nraft_port = 2\n"),
              HasSubstr("f:1: peer needs addr"));
  EXPECT_THAT(error_for("node_id = 1\nnode_id = 2\n"),
              HasSubstr("f:2: key 'node_id' defined twice"));
}

TEST(ServerConfigTest, NodeIdZeroIsAcceptedAsKafkaNumbersBrokersFromZero) {
  // Issue 12: --node-id=0 and id = 0 were refused.
  constexpr char kFromZero[] = R"(enabled = true
[[peers]]
id = 0
addr = "127.0.0.1:9092"
raft_port = 9192
http_port = 9644

[[peers]]
id = 1
addr = "127.0.0.1:9093"
raft_port = 9193
http_port = 9645
)";
  absl::StatusOr<ServerConfig> config = Parse(
      {"--cluster-config=z.toml", "--node-id=0"}, {}, {{"z.toml", kFromZero}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->node_id, 0u);
  EXPECT_EQ(config->kafka_port, 9092);
  EXPECT_EQ(config->peers.at(0).id, 0u);
  config = Parse({"--node-id=0", "--cluster-peers=0=h:1:2:3,1=h:4:5:6"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->peers.at(0).id, 0u);
  EXPECT_THAT(Parse({"--node-id=-1"}).status().message(),
              HasSubstr("--node-id: -1 is out of range [0, 2147483647]"));
  EXPECT_THAT(Parse({"--node-id=2147483648"}).status().message(),
              HasSubstr("out of range [0, 2147483647]"));
}

TEST(NodeIdsTest, KafkaAndRaftIdsConvertBothWaysAndZeroIsNotRaftsNone) {
  EXPECT_NE(RaftNodeId(0), 0u);
  EXPECT_EQ(KafkaNodeId(RaftNodeId(0)), 0);
  for (uint64_t id : {uint64_t{1}, uint64_t{2}, uint64_t{kMaxKafkaNodeId}}) {
    EXPECT_EQ(RaftNodeId(id), id) << "ids from 1 keep their data dirs";
    EXPECT_EQ(KafkaNodeId(RaftNodeId(id)), static_cast<int32_t>(id));
  }
  EXPECT_GT(RaftNodeId(0), static_cast<uint64_t>(kMaxKafkaNodeId));
  EXPECT_EQ(KafkaNodeId(0), -1) << "Raft's none is Kafka's -1";
}

TEST(ServerConfigTest, HelpListsEveryFlagWithItsVariable) {
  absl::StatusOr<ServerConfig> config = Parse({"--help"});
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->show_help);
  const std::string usage = ServerConfigUsage();
  for (const char* expected :
       {"--kafka-port", "CHRONIK_KAFKA_PORT", "--advertised-addr", "--data-dir",
        "--http-port", "--log-level", "--node-id", "--auto-create-topics",
        "--default-partitions", "--cluster-config"}) {
    EXPECT_THAT(usage, HasSubstr(expected));
  }
}

TEST(ServerConfigTest, ListenersComeFromTheConfigInBindOrder) {
  absl::StatusOr<ServerConfig> config =
      Parse({"--node-id=2", "--bind-addr=10.0.0.2",
             "--cluster-peers=1=10.0.0.1:9092:9192,2=10.0.0.2:9093:9193:9700"});
  ASSERT_TRUE(config.ok()) << config.status();
  const std::vector<ListenerAddress> listeners = ListenersOf(*config);
  ASSERT_EQ(listeners.size(), 3u);
  EXPECT_EQ(listeners[0].name, "kafka");
  EXPECT_EQ(listeners[0].host, "10.0.0.2");
  EXPECT_EQ(listeners[0].port, 9093);
  EXPECT_EQ(listeners[1].name, "http");
  EXPECT_EQ(listeners[1].port, 9700);
  EXPECT_EQ(listeners[2].name, "raft");
  EXPECT_EQ(listeners[2].port, 9193);
  // Standalone: no Raft listener.
  absl::StatusOr<ServerConfig> standalone = Parse({"--kafka-port=9000"});
  ASSERT_TRUE(standalone.ok());
  ASSERT_EQ(ListenersOf(*standalone).size(), 2u);
  // The TEST-ONLY derived port (the seed's bug) is not what production uses.
  env::BrokerBugs bugs;
  bugs.derived_http_port = true;
  EXPECT_EQ(ListenersOf(*config, bugs)[1].port, 9094);
}

}  // namespace
}  // namespace chronik::config
