#include "broker/config/cluster_file.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "broker/config/config_values.h"
#include "broker/config/listeners.h"
#include "broker/config/node_ids.h"
#include "broker/config/toml.h"

namespace chronik::config {
namespace {

// "file:line", or just "file" for line 0 (the root table has no header).
std::string Where(absl::string_view path, int line) {
  return line > 0 ? absl::StrCat(path, ":", line) : std::string(path);
}

// Reads an integer key of a TOML table, with range checks. Errors name the
// key's line, or the table's header when the key is missing.
absl::Status TomlInt(const TomlTable& table, const std::string& key,
                     int64_t min, int64_t max, absl::string_view path,
                     int64_t* out, bool required) {
  auto it = table.values.find(key);
  if (it == table.values.end()) {
    if (!required) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(Where(path, table.line), ": missing '", key, "'"));
  }
  const std::string at = Where(path, table.lines.at(key));
  const int64_t* value = std::get_if<int64_t>(&it->second);
  if (value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": '", key, "' must be an integer"));
  }
  if (*value < min || *value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": '", key, "' = ", *value, " is out of range [", min,
                     ", ", max, "]"));
  }
  *out = *value;
  return absl::OkStatus();
}

// Every key of `table` must be one of `known`: a misspelt or unsupported key
// is an error naming the key, the file:line and the section, never ignored.
absl::Status CheckKeys(const TomlTable& table,
                       const std::vector<std::string>& known,
                       absl::string_view path, absl::string_view section) {
  for (const auto& [key, value] : table.values) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        Where(path, table.lines.at(key)), ": unknown key '", key, "' in ",
        section, " (known keys: ", absl::StrJoin(known, ", "), ")"));
  }
  return absl::OkStatus();
}

// "host:port" from a peer's `addr`.
absl::Status ParseAddr(const TomlTable& table, absl::string_view path,
                       PeerConfig* peer) {
  auto it = table.values.find("addr");
  const std::string* addr = it == table.values.end()
                                ? nullptr
                                : std::get_if<std::string>(&it->second);
  if (addr == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(path, table.line), ": peer needs addr = \"host:kafka_port\""));
  }
  const std::string at = Where(path, table.lines.at("addr"));
  std::vector<std::string> parts = absl::StrSplit(*addr, ':');
  int64_t port;
  if (parts.size() != 2 || !CheckHost(parts[0]).ok() ||
      !ParseInt(parts[1], 1, 65535, &port).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": addr '", *addr, "' is not host:port"));
  }
  peer->host = parts[0];
  peer->kafka_port = static_cast<int>(port);
  return absl::OkStatus();
}

// One [[peers]] table.
absl::StatusOr<PeerConfig> ParsePeer(const TomlTable& table,
                                     absl::string_view path) {
  absl::Status status = CheckKeys(
      table, {"id", "addr", "raft_port", "http_port"}, path, "[[peers]]");
  if (!status.ok()) return status;
  PeerConfig peer;
  int64_t number = 0;
  status = TomlInt(table, "id", 0, kMaxKafkaNodeId, path, &number, true);
  if (!status.ok()) return status;
  peer.id = static_cast<uint64_t>(number);
  if (!(status = ParseAddr(table, path, &peer)).ok()) return status;
  status = TomlInt(table, "raft_port", 1, 65535, path, &number, true);
  if (!status.ok()) return status;
  peer.raft_port = static_cast<int>(number);
  number = 0;
  status = TomlInt(table, "http_port", 1, 65535, path, &number, false);
  if (!status.ok()) return status;
  peer.http_port = static_cast<int>(number);
  return peer;
}

// The root table's keys.
absl::Status ApplyRoot(const TomlTable& root, const std::string& path,
                       ServerConfig& config) {
  std::vector<std::string> known = {"enabled", "node_id", "replication_factor",
                                    "min_insync_replicas"};
  for (std::string& key : RootSettingKeys()) known.push_back(std::move(key));
  absl::Status status = CheckKeys(root, known, path, "the top level");
  if (!status.ok()) return status;
  if (!(status = ApplyListenerKeys(root, path, config)).ok()) return status;
  if (auto it = root.values.find("enabled"); it != root.values.end()) {
    const bool* enabled = std::get_if<bool>(&it->second);
    if (enabled == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", root.lines.at("enabled"),
                       ": 'enabled' must be a boolean"));
    }
    config.mode = *enabled ? ServerConfig::Mode::kCluster
                           : ServerConfig::Mode::kStandalone;
  }
  int64_t value = static_cast<int64_t>(config.node_id);
  status = TomlInt(root, "node_id", 0, kMaxKafkaNodeId, path, &value, false);
  if (!status.ok()) return status;
  config.node_id = static_cast<uint64_t>(value);
  value = config.replication_factor;
  status = TomlInt(root, "replication_factor", 1, 16, path, &value, false);
  if (!status.ok()) return status;
  config.replication_factor = static_cast<int>(value);
  value = config.min_insync_replicas;
  status = TomlInt(root, "min_insync_replicas", 1, 16, path, &value, false);
  if (!status.ok()) return status;
  config.min_insync_replicas = static_cast<int>(value);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyClusterFile(const std::string& path, const std::string& text,
                              ServerConfig& config) {
  absl::StatusOr<TomlDocument> document = ParseToml(text, path);
  if (!document.ok()) return document.status();
  if (absl::Status status = ApplyRoot(document->root, path, config);
      !status.ok()) {
    return status;
  }
  for (const auto& [name, tables] : document->arrays) {
    if (name != "peers") {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(path, tables.front().line), ": unknown table [[",
                       name, "]] (the cluster file has [[peers]] only)"));
    }
    config.peers.clear();
    for (const TomlTable& table : tables) {
      absl::StatusOr<PeerConfig> peer = ParsePeer(table, path);
      if (!peer.ok()) return peer.status();
      config.peers.push_back(*peer);
    }
  }
  for (const auto& [name, table] : document->tables) {
    if (name == "gossip") {
      // The seed's [gossip] (bind_addr, bootstrap_expect) was parsed and
      // ignored: nothing gossips. Refused rather than silently dropped.
      return absl::InvalidArgumentError(absl::StrCat(
          Where(path, table.line),
          ": [gossip] is not supported (chronik does not gossip; bind_addr "
          "and bootstrap_expect would be ignored): remove the section. "
          "Cluster members are the [[peers]] tables (id, addr, raft_port, "
          "http_port), and a node serves once the metadata group of all "
          "peers has elected a leader (GET /ready)"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        Where(path, table.line), ": unknown table [", name,
        "] (the cluster file has top-level keys and [[peers]] tables only)"));
  }
  return absl::OkStatus();
}

}  // namespace chronik::config
