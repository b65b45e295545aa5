#include "broker/config/peer_ports.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::config {

std::string NormalizeHost(const std::string& host) {
  return host == "localhost" ? "127.0.0.1" : host;
}

absl::Status CheckOwnHttpPort(const ServerConfig& config, bool http_given,
                              absl::string_view cluster_file) {
  const PeerConfig* self = nullptr;
  for (const PeerConfig& peer : config.peers) {
    if (peer.id == config.node_id) self = &peer;
  }
  CHRONIK_CHECK(self != nullptr);
  const bool defaulted = !http_given && self->http_port == 0;
  const std::string file =
      cluster_file.empty() ? "CHRONIK_CLUSTER_PEERS (id=host:kafka:raft:http)"
                           : absl::StrCat("[[peers]] of ", cluster_file);
  const std::string fix = absl::StrCat(
      "give every node on one host its own HTTP port: http_port = PORT in "
      "each peer's entry of ",
      file, ", or start each node with --http-port=PORT (CHRONIK_HTTP_PORT)");
  for (const PeerConfig& peer : config.peers) {
    if (peer.id == self->id ||
        NormalizeHost(peer.host) != NormalizeHost(self->host)) {
      continue;
    }
    if (defaulted && peer.http_port == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "nodes ", self->id, " and ", peer.id, " are both on ", self->host,
          " and neither has an HTTP port, so both would serve HTTP on the "
          "default port ",
          config.http_port, ": ", fix));
    }
    const std::pair<const char*, int> listeners[] = {{"kafka", peer.kafka_port},
                                                     {"raft", peer.raft_port},
                                                     {"http", peer.http_port}};
    for (const auto& [kind, port] : listeners) {
      if (port != 0 && port == config.http_port) {
        return absl::InvalidArgumentError(absl::StrCat(
            "node ", self->id, "'s HTTP port ", config.http_port, " is node ",
            peer.id, "'s ", kind, " port on ", self->host, ": ", fix));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePeerPorts(const std::vector<PeerConfig>& peers) {
  // (host, port) -> "node N kafka" for the first listener seen there.
  std::map<std::pair<std::string, int>, std::string> taken;
  for (const PeerConfig& peer : peers) {
    const std::pair<const char*, int> listeners[] = {{"kafka", peer.kafka_port},
                                                     {"raft", peer.raft_port},
                                                     {"http", peer.http_port}};
    for (const auto& [kind, port] : listeners) {
      if (port == 0) continue;
      const std::string owner = absl::StrCat("node ", peer.id, " ", kind);
      auto [it, inserted] =
          taken.emplace(std::make_pair(NormalizeHost(peer.host), port), owner);
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat("port conflict on ", peer.host, ":", port, ": ",
                         it->second, " and ", owner, " listeners"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace chronik::config
