// Named Kafka listeners and TLS settings (broker/config internal): their
// flags (--listeners, --advertised-listeners,
// --listener-security-protocol-map, --tls-*), and the resolution of the
// textual listener settings into ServerConfig::listeners once every source
// (file, variables, flags) has been read.
//
// Pure functions of their arguments; thread-safe.
#ifndef CHRONIK_BROKER_CONFIG_LISTENERS_H_
#define CHRONIK_BROKER_CONFIG_LISTENERS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "broker/config/server_config.h"
#include "broker/config/toml.h"

namespace chronik::config {

// A setting of this file, as server_config.cc lists its options.
struct ListenerSetting {
  const char* flag;  // without "--"; the TOML key is the flag with '_' for '-'
  const char* env;
  const char* value_name;
  const char* help;
  std::function<absl::Status(ServerConfig&, absl::string_view)> set;
};
const std::vector<ListenerSetting>& ListenerSettings();

// The TOML key of a setting: its flag with '_' for '-'.
std::string TomlKey(absl::string_view flag);
// The TOML keys ApplyListenerKeys applies (listener, TLS and security
// settings: security_config.h).
std::vector<std::string> RootSettingKeys();
// The listener, TLS and security keys of the cluster file's root table
// (listeners = "SSL://...", tls_cert_file = "...", ...), applied as their
// flags would be; errors name path:line and the key.
absl::Status ApplyListenerKeys(const TomlTable& root, const std::string& path,
                               ServerConfig& config);

// Turns config.listener_specs into config.listeners (nothing when no
// --listeners was given) and checks them: names known and distinct, every
// name mapped to a protocol, ports distinct from each other and from the HTTP
// and Raft ports, TLS files given when a listener needs them. Sets kafka_port
// and the advertised address to the first listener's.
absl::Status ResolveListeners(ServerConfig& config);

}  // namespace chronik::config

#endif  // CHRONIK_BROKER_CONFIG_LISTENERS_H_
