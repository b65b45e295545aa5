// The TOML cluster file (--cluster-config): top-level keys (mode, node id,
// replication defaults, listener keys) and one [[peers]] table per member.
// Every error names the file, the line and the key; unknown keys and tables
// are refused, never ignored. Pure: the caller reads the file.
#ifndef CHRONIK_BROKER_CONFIG_CLUSTER_FILE_H_
#define CHRONIK_BROKER_CONFIG_CLUSTER_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "broker/config/server_config.h"

namespace chronik::config {

// Applies the cluster file `text` (read from `path`, used in messages) to
// `config`: its [[peers]] replace any peers given before.
absl::Status ApplyClusterFile(const std::string& path, const std::string& text,
                              ServerConfig& config);

}  // namespace chronik::config

#endif  // CHRONIK_BROKER_CONFIG_CLUSTER_FILE_H_
