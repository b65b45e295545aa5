// The security settings of ServerConfig (internal to server_config.cc): their
// flags/variables and the users file read at start.
//   --kafka-security-protocol  PLAINTEXT or SASL_PLAINTEXT (until named
//                              listeners: every Kafka connection's protocol)
//   --sasl-plain-users-file    lines "user:password" ('#' comments, blank
//                              lines); PLAIN's users
//   --super-users              "User:a;User:b": allowed everything
//   --allow-everyone-if-no-acl-found  a resource no ACL names is open
//   --connections-max-reauth-ms       KIP-368 session lifetime (0: none)
//   --failed-authentication-delay-ms  a failed SASL authentication is
//                                     answered and closed this much later
// Each is also a key of the cluster file's root table (the flag with '_' for
// '-', as the listener keys: listeners.h).
#ifndef CHRONIK_BROKER_CONFIG_SECURITY_CONFIG_H_
#define CHRONIK_BROKER_CONFIG_SECURITY_CONFIG_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/config/server_config.h"

namespace chronik::config {

struct SecurityOption {
  const char* flag;
  const char* env;
  const char* value_name;
  const char* help;
  std::function<absl::Status(ServerConfig&, absl::string_view)> set;
};
const std::vector<SecurityOption>& SecurityOptions();

// "user:password" lines; errors name path:line (never the password).
absl::StatusOr<std::map<std::string, std::string>> ParsePlainUsers(
    absl::string_view text, absl::string_view path);
// Reads --sasl-plain-users-file into sasl_plain_users.
absl::Status LoadSecurityFiles(ServerConfig& config,
                               const FileReader& read_file);

}  // namespace chronik::config

#endif  // CHRONIK_BROKER_CONFIG_SECURITY_CONFIG_H_
