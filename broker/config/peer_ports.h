// Listener layout checks of a cluster (broker/config internal): which ports
// of which peers may share a host. ValidatePeerPorts (declared in
// server_config.h, defined with these) checks the whole peer list;
// CheckOwnHttpPort checks the starting node's HTTP port, which may come from a
// default, a flag or the file.
//
// Pure functions of their arguments; thread-safe.
#ifndef CHRONIK_BROKER_CONFIG_PEER_PORTS_H_
#define CHRONIK_BROKER_CONFIG_PEER_PORTS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "broker/config/server_config.h"

namespace chronik::config {

// "localhost" and "127.0.0.1" are one host.
std::string NormalizeHost(const std::string& host);

// Several nodes on one host need an HTTP port each: the seed's one-host
// commands started every peer without http_port on the default port, and all
// but the first failed to bind. Refuses (before anything binds, saying how to
// fix it) a node whose HTTP port is defaulted while another peer on its host
// has none either, or whose HTTP port is another peer's listener there.
// `config` is a finished cluster config (its node is among the peers);
// `http_given`: by flag or variable; `cluster_file`: its path, "" if none.
absl::Status CheckOwnHttpPort(const ServerConfig& config, bool http_given,
                              absl::string_view cluster_file);

}  // namespace chronik::config

#endif  // CHRONIK_BROKER_CONFIG_PEER_PORTS_H_
