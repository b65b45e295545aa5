// Named listeners and TLS settings: --listeners, --advertised-listeners,
// --listener-security-protocol-map, --tls-*, their variables and TOML keys.
#include <map>
#include <string>
#include <vector>

#include "broker/config/server_config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::config {
namespace {

using ::testing::HasSubstr;
using Env = std::map<std::string, std::string>;

absl::StatusOr<ServerConfig> Parse(
    std::vector<std::string> args, Env env = {},
    std::map<std::string, std::string> files = {}) {
  return ParseServerConfig(
      args, env,
      [files](const std::string& path) -> absl::StatusOr<std::string> {
        auto it = files.find(path);
        if (it == files.end()) return absl::NotFoundError("no such file");
        return it->second;
      });
}

std::string ErrorOf(const absl::StatusOr<ServerConfig>& config) {
  EXPECT_FALSE(config.ok());
  return std::string(config.status().message());
}

const std::vector<std::string> kTls = {"--tls-cert-file=/c.pem",
                                       "--tls-key-file=/k.pem"};

std::vector<std::string> WithTls(std::vector<std::string> args) {
  args.insert(args.end(), kTls.begin(), kTls.end());
  return args;
}

TEST(ListenersTest, DefaultIsOnePlaintextListenerFromKafkaPort) {
  absl::StatusOr<ServerConfig> config =
      Parse({"--kafka-port=9100", "--advertised-addr=broker.example:19100"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->listeners.empty());
  const std::vector<KafkaListener> listeners = KafkaListenersOf(*config);
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_EQ(listeners[0].name, "PLAINTEXT");
  EXPECT_EQ(listeners[0].protocol, env::SecurityProtocol::kPlaintext);
  EXPECT_EQ(listeners[0].port, 9100);
  EXPECT_EQ(listeners[0].advertised_host, "broker.example");
  EXPECT_EQ(listeners[0].advertised_port, 19100);
  EXPECT_EQ(ListenersOf(*config)[0].name, "kafka");
}

TEST(ListenersTest, NamedListenersWithProtocolsAndAdvertisedAddresses) {
  absl::StatusOr<ServerConfig> config = Parse(
      WithTls({"--listeners=PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093,"
               "INTERNAL://:9094",
               "--advertised-listeners=SSL://ssl.example:19093",
               "--listener-security-protocol-map=INTERNAL:SASL_SSL"}));
  ASSERT_TRUE(config.ok()) << config.status();
  const std::vector<KafkaListener> listeners = KafkaListenersOf(*config);
  ASSERT_EQ(listeners.size(), 3u);
  EXPECT_EQ(listeners[0].protocol, env::SecurityProtocol::kPlaintext);
  EXPECT_EQ(listeners[0].advertised_host, "127.0.0.1");
  EXPECT_EQ(listeners[0].advertised_port, 9092);
  EXPECT_EQ(listeners[1].protocol, env::SecurityProtocol::kSsl);
  EXPECT_EQ(listeners[1].advertised_host, "ssl.example");
  EXPECT_EQ(listeners[1].advertised_port, 19093);
  EXPECT_EQ(listeners[2].name, "INTERNAL");
  EXPECT_EQ(listeners[2].protocol, env::SecurityProtocol::kSaslSsl);
  EXPECT_EQ(listeners[2].host, "127.0.0.1");  // empty host: --bind-addr
  // The first listener is the default one.
  EXPECT_EQ(config->kafka_port, 9092);
  const std::vector<ListenerAddress> bound = ListenersOf(*config);
  ASSERT_EQ(bound.size(), 4u);
  EXPECT_EQ(bound[1].name, "SSL");
  EXPECT_EQ(bound[1].port, 9093);
  EXPECT_EQ(bound[1].kafka_index, 1);
  EXPECT_EQ(bound[3].name, "http");
}

TEST(ListenersTest, VariablesAndClusterFileKeys) {
  absl::StatusOr<ServerConfig> config =
      Parse({}, {{"CHRONIK_LISTENERS", "SSL://127.0.0.1:9300"},
                 {"CHRONIK_TLS_CERT_FILE", "/c.pem"},
                 {"CHRONIK_TLS_KEY_FILE", "/k.pem"},
                 {"CHRONIK_TLS_CA_FILE", "/ca.pem"},
                 {"CHRONIK_TLS_CLIENT_AUTH", "required"},
                 {"CHRONIK_TLS_HANDSHAKE_TIMEOUT_MS", "2500"}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->listeners.at(0).protocol, env::SecurityProtocol::kSsl);
  EXPECT_EQ(config->tls.ca_file, "/ca.pem");
  EXPECT_EQ(config->tls.client_auth, TlsClientAuth::kRequired);
  EXPECT_EQ(config->tls.handshake_timeout_ms, 2500);

  const std::string file = R"(node_id = 1
listeners = "PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093"
tls_cert_file = "/c.pem"
tls_key_file = "/k.pem"
tls_handshake_timeout_ms = 3000

[[peers]]
id = 1
addr = "127.0.0.1:9092"
raft_port = 9192
)";
  config = Parse({"--cluster-config=c.toml"}, {}, {{"c.toml", file}});
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->listeners.size(), 2u);
  EXPECT_EQ(config->listeners[1].port, 9093);
  EXPECT_EQ(config->tls.handshake_timeout_ms, 3000);
  // A flag wins over the file.
  config = Parse({"--cluster-config=c.toml", "--tls-handshake-timeout-ms=900"},
                 {}, {{"c.toml", file}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->tls.handshake_timeout_ms, 900);
  // A bad value in the file names the file, line and key.
  config = Parse({"--cluster-config=c.toml"}, {},
                 {{"c.toml", "tls_client_auth = \"maybe\"\n"}});
  EXPECT_THAT(ErrorOf(config), HasSubstr("c.toml:1: 'tls_client_auth'"));
}

TEST(ListenersTest, ErrorsNameTheSettingAndListener) {
  EXPECT_THAT(ErrorOf(Parse({"--listeners=PLAINTEXT:9092"})),
              HasSubstr("--listeners: listener 'PLAINTEXT:9092': no '://'"));
  EXPECT_THAT(ErrorOf(Parse({"--listeners=PLAINTEXT://127.0.0.1:70000"})),
              HasSubstr("the port must be 0..65535"));
  EXPECT_THAT(
      ErrorOf(Parse({"--listeners=PLAINTEXT://:9092,PLAINTEXT://:9093"})),
      HasSubstr("listener name PLAINTEXT is given twice"));
  EXPECT_THAT(ErrorOf(Parse({"--listeners=CLIENT://:9092"})),
              HasSubstr("listener CLIENT has no security protocol"));
  EXPECT_THAT(ErrorOf(Parse({"--listeners=PLAINTEXT://:9092,SSL://:9092"}, {})),
              HasSubstr("port conflict"));
  EXPECT_THAT(ErrorOf(Parse(WithTls(
                  {"--listeners=PLAINTEXT://:9092,SSL://127.0.0.2:9092"}))),
              HasSubstr("listener SSL and listener PLAINTEXT both use port "
                        "9092"));
  EXPECT_THAT(ErrorOf(Parse({"--listeners=PLAINTEXT://:9644"})),
              HasSubstr("the HTTP listener both use port 9644"));
  EXPECT_THAT(ErrorOf(Parse({"--listeners=SSL://:9093"})),
              HasSubstr("needs --tls-cert-file and --tls-key-file"));
  EXPECT_THAT(ErrorOf(Parse(WithTls(
                  {"--listeners=SSL://:9093", "--tls-client-auth=required"}))),
              HasSubstr("needs --tls-ca-file"));
  EXPECT_THAT(ErrorOf(Parse(WithTls({"--raft-tls=true"}))),
              HasSubstr("--raft-tls needs --tls-cert-file, --tls-key-file and "
                        "--tls-ca-file"));
  EXPECT_THAT(ErrorOf(Parse({"--raft-tls=maybe"})),
              HasSubstr("--raft-tls: 'maybe' is not true or false"));
  EXPECT_THAT(ErrorOf(Parse({"--tls-client-auth=sometimes"})),
              HasSubstr("--tls-client-auth: 'sometimes' is not one of none"));
  EXPECT_THAT(ErrorOf(Parse({"--listeners=PLAINTEXT://:9092",
                             "--advertised-listeners=SSL://x:1"})),
              HasSubstr("--advertised-listeners: SSL is not one of "
                        "--listeners"));
  EXPECT_THAT(ErrorOf(Parse({"--advertised-listeners=PLAINTEXT://x:1"})),
              HasSubstr("--advertised-listeners needs --listeners"));
  EXPECT_THAT(ErrorOf(Parse({"--listener-security-protocol-map=CLIENT:TLS"})),
              HasSubstr("--listener-security-protocol-map: 'CLIENT:TLS' is not "
                        "NAME:PROTOCOL"));
  EXPECT_THAT(ErrorOf(Parse({}, {{"CHRONIK_LISTENERS", "x"}})),
              HasSubstr("CHRONIK_LISTENERS: listener 'x'"));
  EXPECT_THAT(ErrorOf(Parse({"--kafka-port=9000", "--http-port=9000"})),
              HasSubstr("both use port 9000"));
}

}  // namespace
}  // namespace chronik::config
