// ServerConfig: everything chronik-server is told at start, parsed from
// command-line flags, CHRONIK_* environment variables and (for clusters) the
// seed's TOML cluster file. Flags win over environment variables, which win
// over the file, which wins over defaults.
//
// Every bad value is an InvalidArgument error naming the flag (or variable, or
// file:line) and what is wrong. No port is ever derived from another: each
// listener's port is given or defaulted explicitly, and a cluster file in which
// two listeners of any nodes on one host share a port is rejected before
// anything binds (the seed's node 3 silently lost a derived port this way).
//
// Parsing is a pure function of its inputs (args, environment map, a file
// reader), so the simulator builds node configs through the same code.
#ifndef CHRONIK_BROKER_CONFIG_SERVER_CONFIG_H_
#define CHRONIK_BROKER_CONFIG_SERVER_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/env/env.h"
#include "broker/env/injected_bugs.h"

namespace chronik::config {

using LogLevel = env::LogLevel;

struct PeerConfig {
  uint64_t id = 0;   // Kafka broker id, 0 or more (node_ids.h)
  std::string host;  // advertised host of the peer's Kafka listener
  int kafka_port = 0;
  int raft_port = 0;
  int http_port = 0;  // 0 = not given (the node picks its own default)
};

// One named Kafka listener (Kafka's `listeners` entry NAME://host:port with
// its `advertised.listeners` address and the security protocol its name maps
// to through `listener.security.protocol.map`).
struct KafkaListener {
  std::string name = "PLAINTEXT";
  env::SecurityProtocol protocol = env::SecurityProtocol::kPlaintext;
  std::string host;             // bind address
  int port = 0;                 // 0 = any free port
  std::string advertised_host;  // "" = host
  int advertised_port = 0;      // 0 = the bound port
};

// Whether a TLS listener asks clients for a certificate (Kafka's
// ssl.client.auth): requested verifies one when sent, required refuses a
// client without one.
enum class TlsClientAuth { kNone, kRequested, kRequired };

struct TlsConfig {
  std::string cert_file;  // PEM certificate chain of the broker
  std::string key_file;   // PEM private key of the certificate
  std::string ca_file;    // PEM CAs that sign client certificates
  TlsClientAuth client_auth = TlsClientAuth::kNone;
  // A connection that has not finished its TLS handshake by then is closed.
  int64_t handshake_timeout_ms = 10'000;
  // Mutual TLS on the Raft transport between brokers (the same certificate,
  // key and CAs): a peer without a certificate signed by the CAs is refused.
  bool raft = false;
};

// The textual listener settings as given (resolved into
// ServerConfig::listeners once every source is read: the protocol map may
// come after the listeners).
struct ListenerSpecs {
  std::string listeners;     // "NAME://host:port,..."
  std::string advertised;    // "NAME://host:port,..."
  std::string protocol_map;  // "NAME:PROTOCOL,..."
};

struct ServerConfig {
  enum class Mode { kStandalone, kCluster };
  Mode mode = Mode::kStandalone;
  uint64_t node_id = 1;  // Kafka broker id, 0 or more (node_ids.h)
  std::string bind_host = "127.0.0.1";  // address every listener binds
  int kafka_port = 9092;                // 0 = any free port
  std::string advertised_host;          // defaults to bind_host
  int advertised_port = 0;              // defaults to the bound Kafka port
  std::string data_dir = "./data";
  int http_port = 9644;  // metrics and health; 0 = any free port
  // Where the HTTP endpoints bind ("" = bind_host): e.g. 127.0.0.1 keeps
  // /metrics and the admin endpoints off the network.
  std::string http_bind_host;
  // A file holding a token every HTTP request but /health must present
  // ("Authorization: Bearer TOKEN"); "" = no token.
  std::string http_token_file;
  LogLevel log_level = LogLevel::kInfo;
  bool auto_create_topics = true;
  int default_partitions = 1;
  int replication_factor = 1;
  int min_insync_replicas = 1;
  // The controller fences a broker it has not heard from for this long
  // (Kafka's broker.session.timeout.ms).
  int64_t broker_session_timeout_ms = 9'000;
  // A follower is in sync while it caught up with its leader within this
  // long (Kafka's replica.lag.time.max.ms).
  int64_t replica_lag_time_max_ms = 30'000;
  // The first rebalance of an empty consumer group waits this long for more
  // members, extended by each newcomer up to the rebalance timeout (Kafka's
  // group.initial.rebalance.delay.ms); 0: complete as soon as all joined.
  int64_t group_initial_rebalance_delay_ms = 3'000;
  // Automatic leader balancing (Kafka's auto.leader.rebalance.enable,
  // leader.imbalance.check.interval.seconds and
  // leader.imbalance.per.broker.percentage): every check interval, a broker
  // whose share of partitions it is the preferred replica of but does not
  // lead is above the percentage asks for their leadership back.
  bool auto_leader_rebalance_enable = true;
  // Idle partition groups quiesce: no per-group heartbeats or timers while
  // nothing happens; one heartbeat per pair of nodes watches liveness
  // (broker/replication/raft_host.h). Off: every group ticks (the old way).
  bool raft_quiesce = true;
  // A follower that hears nothing from its leader for this long (randomized
  // up to twice it) campaigns; also the silence after which a quiesced group
  // wakes and a leader without a quorum steps down (CheckQuorum). etcd and
  // KRaft default to 1 s: a 2-core machine under load can hold a node's
  // messages back for over 0.5 s, and a shorter timeout then moves leaders
  // that were alive.
  int64_t raft_election_timeout_ms = 1000;
  // A storage flush touching at least this many files syncs the data
  // directory's file system once (syncfs) instead of fdatasyncing each file;
  // 0: never. syncfs also writes back other dirty data on that file system,
  // so a data directory sharing a disk with other busy writers may want 0.
  int64_t flush_syncfs_min_files = 8;
  // The node-wide tail log (storage/tail_wal.h), MiB; 0: none. A flush in
  // which at least tail_log_min_groups partitions (Raft groups) append
  // syncs it alone instead of every segment it wrote.
  int64_t tail_log_mib = 64;
  int64_t tail_log_min_groups = 8;
  // Synced partition log bytes further than this behind their segment's end
  // leave the page cache (runtime/posix_disk.h, drop-behind); 0: never.
  int64_t page_cache_drop_behind_mib = 16;
  int64_t leader_imbalance_check_interval_ms = 300'000;
  int leader_imbalance_per_broker_percentage = 10;
  // Cluster mode: this node joins a running cluster (it starts with an empty
  // data directory, asks the peers to add it, and takes the metadata group's
  // state from the controller's snapshot) instead of founding one with the
  // peers as the initial members.
  bool join = false;
  // Cluster mode only: every member (including this node), sorted by id.
  std::vector<PeerConfig> peers;
  int raft_port = 0;  // this node's Raft listener (cluster mode)
  // Limits.
  int64_t max_request_bytes = 100 << 20;
  int max_inflight_requests_per_connection = 64;
  int64_t max_queued_response_bytes_per_connection = 64 << 20;

  // Security (broker/config/security_config.h, broker/server/security.h).
  // Until named listeners land: the protocol of every Kafka connection.
  env::SecurityProtocol kafka_security_protocol =
      env::SecurityProtocol::kPlaintext;
  std::string sasl_plain_users_file;
  std::map<std::string, std::string> sasl_plain_users;  // user -> password
  std::vector<std::string> super_users;                 // "User:name"
  std::optional<bool> allow_everyone_if_no_acl_found;   // unset: see security.h
  int64_t connections_max_reauth_ms = 0;                // 0: no expiry
  // A failed SASL authentication is answered and closed this much later.
  int64_t failed_authentication_delay_ms = 100;
  // Named Kafka listeners (--listeners). Empty: the one PLAINTEXT listener
  // bind_host:kafka_port advertised as advertised_host:advertised_port. Read
  // them through KafkaListenersOf. With listeners, kafka_port and the
  // advertised address are the first listener's.
  std::vector<KafkaListener> listeners;
  ListenerSpecs listener_specs;
  TlsConfig tls;

  bool show_help = false;
  bool show_version = false;
};

using FileReader =
    std::function<absl::StatusOr<std::string>(const std::string& path)>;

// `args` excludes the program name. `env` holds the process environment (only
// CHRONIK_* names are read).
absl::StatusOr<ServerConfig> ParseServerConfig(
    const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env, const FileReader& read_file);

// The --help text: every flag with its variable, default and meaning.
std::string ServerConfigUsage();

// A listener a node binds: a Kafka listener ("kafka" when it is the default
// one, else the listener's name), http or raft; port 0 = any free port.
struct ListenerAddress {
  std::string name;
  std::string host;
  int port = 0;
  int kafka_index = -1;  // into KafkaListenersOf(config); -1: not Kafka
};

// The node's Kafka listeners, never empty: config.listeners, or the default
// PLAINTEXT one; advertised addresses defaulted (host and port as bound).
std::vector<KafkaListener> KafkaListenersOf(const ServerConfig& config);

// "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL".
const char* SecurityProtocolName(env::SecurityProtocol protocol);
// Whether connections of `protocol` are wrapped in TLS.
bool UsesTls(env::SecurityProtocol protocol);

// Every listener a node with `config` binds, in bind order: Kafka (each
// named listener in order), HTTP, then Raft in cluster mode. The one place a
// node's ports come from (the runtime binds these; the simulator binds them in
// its port table). `bugs` is TEST-ONLY (env/injected_bugs.h).
std::vector<ListenerAddress> ListenersOf(const ServerConfig& config,
                                         const env::BrokerBugs& bugs = {});

// Checks a cluster's listener layout: per host, every Kafka, Raft and HTTP port
// of every peer is distinct. ("localhost" and "127.0.0.1" are one host.)
absl::Status ValidatePeerPorts(const std::vector<PeerConfig>& peers);

}  // namespace chronik::config

#endif  // CHRONIK_BROKER_CONFIG_SERVER_CONFIG_H_
