#include "broker/config/server_config.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/check.h"
#include "broker/config/cluster_file.h"
#include "broker/config/config_values.h"
#include "broker/config/listeners.h"
#include "broker/config/node_ids.h"
#include "broker/config/peer_ports.h"
#include "broker/config/security_config.h"
#include "broker/config/toml.h"

namespace chronik::config {
namespace {

using Setter = std::function<absl::Status(ServerConfig&, absl::string_view)>;

// One configurable setting: its flag, its environment variable, and how to
// apply a textual value. Errors from `set` are prefixed with where the value
// came from.
struct Option {
  const char* flag;  // without the leading "--"
  const char* env;
  const char* value_name;
  const char* help;
  Setter set;
};

template <typename T>
Setter IntSetter(T ServerConfig::*field, int64_t min, int64_t max) {
  return [field, min, max](ServerConfig& config, absl::string_view text) {
    int64_t value;
    absl::Status status = ParseInt(text, min, max, &value);
    if (status.ok()) config.*field = static_cast<T>(value);
    return status;
  };
}

Setter BoolSetter(bool ServerConfig::*field) {
  return [field](ServerConfig& config, absl::string_view text) {
    return ParseBool(text, &(config.*field));
  };
}

absl::Status SetAdvertised(ServerConfig& config, absl::string_view text) {
  std::pair<std::string, std::string> parts =
      absl::StrSplit(text, absl::MaxSplits(':', 1));
  if (absl::Status status = CheckHost(parts.first); !status.ok()) {
    return status;
  }
  config.advertised_host = parts.first;
  if (!text.empty() && text.find(':') != absl::string_view::npos) {
    int64_t port;
    absl::Status status = ParseInt(parts.second, 1, 65535, &port);
    if (!status.ok()) return status;
    config.advertised_port = static_cast<int>(port);
  }
  return absl::OkStatus();
}

absl::Status SetLogLevel(ServerConfig& config, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") {
    config.log_level = LogLevel::kDebug;
  } else if (lower == "info") {
    config.log_level = LogLevel::kInfo;
  } else if (lower == "warn" || lower == "warning") {
    config.log_level = LogLevel::kWarn;
  } else if (lower == "error") {
    config.log_level = LogLevel::kError;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not one of debug, info, warn, error"));
  }
  return absl::OkStatus();
}

// "1=host:9092:9192[:9644],2=..." (id=host:kafka_port:raft_port[:http_port]).
absl::StatusOr<std::vector<PeerConfig>> ParsePeerList(absl::string_view text) {
  std::vector<PeerConfig> peers;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    item = absl::StripAsciiWhitespace(item);
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer '", item, "': ", why,
                       " (expected id=host:kafka_port:raft_port[:http_port])"));
    };
    std::pair<absl::string_view, absl::string_view> id_and_rest =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    std::vector<absl::string_view> fields =
        absl::StrSplit(id_and_rest.second, ':');
    if (fields.size() < 3 || fields.size() > 4) return bad("wrong shape");
    PeerConfig peer;
    int64_t value;
    if (!ParseInt(id_and_rest.first, 0, kMaxKafkaNodeId, &value).ok()) {
      return bad("bad id");
    }
    peer.id = static_cast<uint64_t>(value);
    if (!CheckHost(fields[0]).ok()) return bad("bad host");
    peer.host = std::string(fields[0]);
    int* ports[] = {&peer.kafka_port, &peer.raft_port, &peer.http_port};
    for (size_t i = 1; i < fields.size(); ++i) {
      if (!ParseInt(fields[i], 1, 65535, &value).ok()) return bad("bad port");
      *ports[i - 1] = static_cast<int>(value);
    }
    peers.push_back(peer);
  }
  if (peers.empty()) return absl::InvalidArgumentError("no peers listed");
  return peers;
}

std::vector<Option> BaseOptions();

const std::vector<Option>& Options() {
  // Built once per process; immutable afterwards.
  static const auto* options = [] {
    auto* list = new std::vector<Option>(BaseOptions());
    for (const ListenerSetting& setting : ListenerSettings()) {
      list->push_back({setting.flag, setting.env, setting.value_name,
                       setting.help, setting.set});
    }
    for (const SecurityOption& o : SecurityOptions()) {
      list->push_back({o.flag, o.env, o.value_name, o.help, o.set});
    }
    return list;
  }();
  return *options;
}

std::vector<Option> BaseOptions() {
  return std::vector<Option>{
      {"kafka-port", "CHRONIK_KAFKA_PORT", "PORT",
       "Kafka listener port (0 = any free port)",
       IntSetter(&ServerConfig::kafka_port, 0, 65535)},
      {"bind-addr", "CHRONIK_BIND_ADDR", "IPV4", "address the listeners bind",
       [](ServerConfig& c, absl::string_view v) {
         absl::Status s = CheckHost(v);
         if (s.ok()) c.bind_host = std::string(v);
         return s;
       }},
      {"advertised-addr", "CHRONIK_ADVERTISED_ADDR", "HOST[:PORT]",
       "address clients are told to connect to (default: bind address and "
       "Kafka port)",
       SetAdvertised},
      {"data-dir", "CHRONIK_DATA_DIR", "DIR", "where logs and state are kept",
       [](ServerConfig& c, absl::string_view v) {
         if (v.empty()) return absl::InvalidArgumentError("empty directory");
         c.data_dir = std::string(v);
         return absl::OkStatus();
       }},
      {"http-port", "CHRONIK_HTTP_PORT", "PORT",
       "HTTP port for /health, /ready and /metrics (0 = any free port)",
       IntSetter(&ServerConfig::http_port, 0, 65535)},
      {"http-bind-addr", "CHRONIK_HTTP_BIND_ADDR", "IPV4",
       "address of the HTTP listener (default: --bind-addr)",
       [](ServerConfig& c, absl::string_view v) {
         absl::Status s = CheckHost(v);
         if (s.ok()) c.http_bind_host = std::string(v);
         return s;
       }},
      {"http-token-file", "CHRONIK_HTTP_TOKEN_FILE", "PATH",
       "file with a token HTTP requests (except /health) must send as "
       "'Authorization: Bearer TOKEN'",
       [](ServerConfig& c, absl::string_view v) {
         c.http_token_file = std::string(v);
         return absl::OkStatus();
       }},
      {"log-level", "CHRONIK_LOG_LEVEL", "LEVEL", "debug, info, warn or error",
       SetLogLevel},
      {"node-id", "CHRONIK_NODE_ID", "ID",
       "this node's broker id, 0 or more (cluster mode)",
       IntSetter(&ServerConfig::node_id, 0, kMaxKafkaNodeId)},
      {"auto-create-topics", "CHRONIK_AUTO_CREATE_TOPICS", "BOOL",
       "create a missing topic on produce or metadata request",
       BoolSetter(&ServerConfig::auto_create_topics)},
      {"default-partitions", "CHRONIK_DEFAULT_PARTITIONS", "N",
       "partitions of an auto-created topic",
       IntSetter(&ServerConfig::default_partitions, 1, 10'000)},
      {"replication-factor", "CHRONIK_REPLICATION_FACTOR", "N",
       "replicas of an auto-created topic (cluster mode)",
       IntSetter(&ServerConfig::replication_factor, 1, 16)},
      {"min-insync-replicas", "CHRONIK_MIN_INSYNC_REPLICAS", "N",
       "replicas that must hold a write for acks=all",
       IntSetter(&ServerConfig::min_insync_replicas, 1, 16)},
      {"broker-session-timeout-ms", "CHRONIK_BROKER_SESSION_TIMEOUT_MS", "MS",
       "the controller fences a broker silent this long",
       IntSetter(&ServerConfig::broker_session_timeout_ms, 100, 3'600'000)},
      {"replica-lag-time-max-ms", "CHRONIK_REPLICA_LAG_TIME_MAX_MS", "MS",
       "a follower not caught up for this long leaves the ISR",
       IntSetter(&ServerConfig::replica_lag_time_max_ms, 100, 3'600'000)},
      {"group-initial-rebalance-delay-ms",
       "CHRONIK_GROUP_INITIAL_REBALANCE_DELAY_MS", "MS",
       "a new consumer group waits this long for more members to join",
       IntSetter(&ServerConfig::group_initial_rebalance_delay_ms, 0, 300'000)},
      {"auto-leader-rebalance-enable", "CHRONIK_AUTO_LEADER_REBALANCE_ENABLE",
       "BOOL", "move leadership back to preferred replicas periodically",
       BoolSetter(&ServerConfig::auto_leader_rebalance_enable)},
      {"raft-quiesce", "CHRONIK_RAFT_QUIESCE", "BOOL",
       "idle partition Raft groups stop their heartbeats and timers",
       BoolSetter(&ServerConfig::raft_quiesce)},
      {"raft-election-timeout-ms", "CHRONIK_RAFT_ELECTION_TIMEOUT_MS", "MS",
       "a follower that hears nothing from its leader this long (randomized "
       "up to twice it) campaigns",
       IntSetter(&ServerConfig::raft_election_timeout_ms, 100, 60'000)},
      {"flush-syncfs-min-files", "CHRONIK_FLUSH_SYNCFS_MIN_FILES", "N",
       "a flush of at least N files syncs the file system once (syncfs) "
       "instead of each file; 0 = never",
       IntSetter(&ServerConfig::flush_syncfs_min_files, 0, 1'000'000)},
      {"tail-log-mib", "CHRONIK_TAIL_LOG_MIB", "MIB",
       "size of the node-wide tail log that makes a flush of many partitions "
       "one fsync; 0 = none",
       IntSetter(&ServerConfig::tail_log_mib, 0, 65'536)},
      {"page-cache-drop-behind-mib", "CHRONIK_PAGE_CACHE_DROP_BEHIND_MIB",
       "MIB",
       "synced partition log bytes this far behind their segment's end leave "
       "the page cache, so a steady load reuses its memory; 0 = never",
       IntSetter(&ServerConfig::page_cache_drop_behind_mib, 0, 1'048'576)},
      {"tail-log-min-groups", "CHRONIK_TAIL_LOG_MIN_GROUPS", "N",
       "a flush in which at least N partitions append uses the tail log",
       IntSetter(&ServerConfig::tail_log_min_groups, 1, 1'000'000)},
      {"leader-imbalance-check-interval-ms",
       "CHRONIK_LEADER_IMBALANCE_CHECK_INTERVAL_MS", "MS",
       "how often a broker checks its leader imbalance",
       IntSetter(&ServerConfig::leader_imbalance_check_interval_ms, 100,
                 86'400'000)},
      {"leader-imbalance-per-broker-percentage",
       "CHRONIK_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE", "PERCENT",
       "imbalance (partitions not led by their preferred replica) tolerated",
       IntSetter(&ServerConfig::leader_imbalance_per_broker_percentage, 0,
                 100)},
      {"max-request-bytes", "CHRONIK_MAX_REQUEST_BYTES", "BYTES",
       "largest request frame accepted",
       IntSetter(&ServerConfig::max_request_bytes, 1024, 1 << 30)},
      {"cluster-peers", "CHRONIK_CLUSTER_PEERS", "LIST",
       "cluster members: id=host:kafka_port:raft_port[:http_port],...",
       [](ServerConfig& c, absl::string_view v) {
         absl::StatusOr<std::vector<PeerConfig>> peers = ParsePeerList(v);
         if (!peers.ok()) return peers.status();
         c.peers = *std::move(peers);
         c.mode = ServerConfig::Mode::kCluster;
         return absl::OkStatus();
       }},
      {"join", "CHRONIK_JOIN", "BOOL",
       "join a running cluster as a new member (an empty data directory; "
       "the controller adds it to the metadata group)",
       BoolSetter(&ServerConfig::join)},
      {"cluster-enabled", "CHRONIK_CLUSTER_ENABLED", "BOOL",
       "run as a cluster member (needs peers)",
       [](ServerConfig& c, absl::string_view v) {
         bool enabled;
         absl::Status s = ParseBool(v, &enabled);
         if (s.ok()) {
           c.mode = enabled ? ServerConfig::Mode::kCluster
                            : ServerConfig::Mode::kStandalone;
         }
         return s;
       }},
  };
}

const Option* FindOption(absl::string_view flag) {
  for (const Option& option : Options()) {
    if (flag == option.flag) return &option;
  }
  return nullptr;
}

absl::Status Apply(const Option& option, absl::string_view source,
                   absl::string_view value, ServerConfig& config) {
  absl::Status status = option.set(config, value);
  if (status.ok()) return status;
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": ", status.message()));
}

struct ParsedArgs {
  std::vector<std::pair<const Option*, std::string>> flags;  // in order
  std::string mode;
  std::string cluster_config;
  bool help = false;
  bool version = false;
};

absl::StatusOr<ParsedArgs> ScanArgs(const std::vector<std::string>& args) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      continue;
    }
    if (arg == "--version") {
      parsed.version = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      if (!parsed.mode.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unexpected argument '", arg, "' after mode '", parsed.mode, "'"));
      }
      if (arg != "standalone" && arg != "cluster") {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown mode '", arg, "' (expected standalone or cluster)"));
      }
      parsed.mode = std::string(arg);
      continue;
    }
    std::string name(arg);
    std::string value;
    bool has_value = false;
    if (size_t equals = name.find('='); equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
      has_value = true;
    } else if (i + 1 < args.size()) {
      value = args[++i];
      has_value = true;
    }
    if (!has_value) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": missing value"));
    }
    if (name == "cluster-config") {
      parsed.cluster_config = value;
      continue;
    }
    const Option* option = FindOption(name);
    if (option == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    parsed.flags.emplace_back(option, value);
  }
  return parsed;
}

absl::Status FinishCluster(ServerConfig& config) {
  if (config.peers.empty()) {
    return absl::InvalidArgumentError(
        "cluster mode needs peers: a --cluster-config file with [[peers]] or "
        "CHRONIK_CLUSTER_PEERS");
  }
  std::sort(
      config.peers.begin(), config.peers.end(),
      [](const PeerConfig& a, const PeerConfig& b) { return a.id < b.id; });
  for (size_t i = 1; i < config.peers.size(); ++i) {
    if (config.peers[i].id == config.peers[i - 1].id) {
      return absl::InvalidArgumentError(
          absl::StrCat("peer id ", config.peers[i].id, " is listed twice"));
    }
  }
  auto self =
      std::find_if(config.peers.begin(), config.peers.end(),
                   [&](const PeerConfig& p) { return p.id == config.node_id; });
  if (self == config.peers.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "node id ", config.node_id, " is not among the cluster peers"));
  }
  if (absl::Status status = ValidatePeerPorts(config.peers); !status.ok()) {
    return status;
  }
  config.raft_port = self->raft_port;
  if (config.join && config.peers.size() < 2) {
    return absl::InvalidArgumentError(
        "--join needs the running cluster's members among the peers (the new "
        "node asks them to add it)");
  }
  if (config.replication_factor > static_cast<int>(config.peers.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("replication_factor ", config.replication_factor,
                     " exceeds the ", config.peers.size(), " cluster peers"));
  }
  return absl::OkStatus();
}

// Whether `flag` was given on the command line or as its variable.
bool Given(const ParsedArgs& parsed,
           const std::map<std::string, std::string>& env,
           absl::string_view flag) {
  const Option* option = FindOption(flag);
  CHRONIK_CHECK(option != nullptr) << flag;
  return env.count(option->env) > 0 ||
         std::any_of(parsed.flags.begin(), parsed.flags.end(),
                     [&](const auto& f) { return f.first == option; });
}

// Cluster mode: the own peer entry supplies what no flag or variable gave,
// then the membership and this node's listeners are checked.
absl::Status FinishClusterMode(const ParsedArgs& parsed,
                               const std::map<std::string, std::string>& env,
                               const std::string& cluster_file,
                               ServerConfig& config) {
  const bool http_given = Given(parsed, env, "http-port");
  for (const PeerConfig& peer : config.peers) {
    if (peer.id != config.node_id) continue;
    if (!Given(parsed, env, "kafka-port")) config.kafka_port = peer.kafka_port;
    if (!http_given && peer.http_port != 0) config.http_port = peer.http_port;
    if (config.advertised_host.empty()) config.advertised_host = peer.host;
  }
  if (absl::Status status = FinishCluster(config); !status.ok()) {
    return status;
  }
  return CheckOwnHttpPort(config, http_given, cluster_file);
}

}  // namespace

absl::StatusOr<ServerConfig> ParseServerConfig(
    const std::vector<std::string>& args,
    const std::map<std::string, std::string>& env,
    const FileReader& read_file) {
  absl::StatusOr<ParsedArgs> parsed = ScanArgs(args);
  if (!parsed.ok()) return parsed.status();
  ServerConfig config;
  config.show_help = parsed->help;
  config.show_version = parsed->version;
  if (parsed->help || parsed->version) return config;

  std::string cluster_file = parsed->cluster_config;
  if (cluster_file.empty()) {
    if (auto it = env.find("CHRONIK_CLUSTER_CONFIG"); it != env.end()) {
      cluster_file = it->second;
    }
  }
  if (!cluster_file.empty()) {
    config.mode = ServerConfig::Mode::kCluster;  // unless enabled = false
    absl::StatusOr<std::string> text = read_file(cluster_file);
    if (!text.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--cluster-config ", cluster_file, ": ", text.status().message()));
    }
    absl::Status status = ApplyClusterFile(cluster_file, *text, config);
    if (!status.ok()) return status;
  }
  for (const Option& option : Options()) {
    auto it = env.find(option.env);
    if (it == env.end()) continue;
    absl::Status status = Apply(option, option.env, it->second, config);
    if (!status.ok()) return status;
  }
  for (const auto& [option, value] : parsed->flags) {
    absl::Status status =
        Apply(*option, absl::StrCat("--", option->flag), value, config);
    if (!status.ok()) return status;
  }
  if (parsed->mode == "cluster") config.mode = ServerConfig::Mode::kCluster;

  if (config.mode == ServerConfig::Mode::kCluster) {
    absl::Status status = FinishClusterMode(*parsed, env, cluster_file, config);
    if (!status.ok()) return status;
  } else {
    config.peers.clear();
    if (config.join) {
      return absl::InvalidArgumentError(
          "--join needs cluster mode (a cluster file or --cluster-peers)");
    }
    if (config.replication_factor > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replication_factor ", config.replication_factor,
          " needs cluster mode (a standalone broker has one replica)"));
    }
  }
  if (config.min_insync_replicas > config.replication_factor) {
    return absl::InvalidArgumentError(absl::StrCat(
        "min_insync_replicas ", config.min_insync_replicas,
        " exceeds replication_factor ", config.replication_factor));
  }
  if (absl::Status s = LoadSecurityFiles(config, read_file); !s.ok()) return s;
  if (config.advertised_host.empty()) config.advertised_host = config.bind_host;
  if (absl::Status status = ResolveListeners(config); !status.ok()) {
    return status;
  }
  return config;
}

std::string ServerConfigUsage() {
  std::string text =
      "usage: chronik-server [flags] [standalone|cluster]\n\n"
      "Starts a Kafka-compatible broker. Standalone is a cluster of one; a\n"
      "--cluster-config file (or CHRONIK_CLUSTER_PEERS) makes it a member of\n"
      "a cluster. Flags win over CHRONIK_* variables, which win over the "
      "file.\n\nflags:\n";
  const ServerConfig defaults;
  for (const Option& option : Options()) {
    absl::StrAppend(&text, "  --", option.flag, "=", option.value_name, "\n",
                    "      ", option.help, " [", option.env, "]\n");
  }
  absl::StrAppend(&text,
                  "  --cluster-config=FILE\n"
                  "      TOML cluster file (enabled, node_id, "
                  "replication_factor,\n"
                  "      min_insync_replicas, [[peers]] id/addr/raft_port/"
                  "http_port) [CHRONIK_CLUSTER_CONFIG]\n"
                  "  --help, --version\n\ndefaults: --kafka-port=",
                  defaults.kafka_port, " --bind-addr=", defaults.bind_host,
                  " --data-dir=", defaults.data_dir,
                  " --http-port=", defaults.http_port,
                  " --log-level=info --auto-create-topics=true"
                  " --default-partitions=1\n");
  return text;
}

}  // namespace chronik::config
