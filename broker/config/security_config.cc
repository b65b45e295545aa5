#include "broker/config/security_config.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace chronik::config {
namespace {

absl::Status SetProtocol(ServerConfig& c, absl::string_view v) {
  const std::string upper = absl::AsciiStrToUpper(v);
  if (upper == "PLAINTEXT") {
    c.kafka_security_protocol = env::SecurityProtocol::kPlaintext;
  } else if (upper == "SASL_PLAINTEXT") {
    c.kafka_security_protocol = env::SecurityProtocol::kSaslPlaintext;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", v,
                     "' is not PLAINTEXT or SASL_PLAINTEXT (for SSL or "
                     "SASL_SSL name the listeners: --listeners="
                     "SASL_SSL://HOST:PORT and the --tls-* files)"));
  }
  return absl::OkStatus();
}

absl::Status SetSuperUsers(ServerConfig& c, absl::string_view v) {
  c.super_users.clear();
  for (absl::string_view user : absl::StrSplit(v, ';', absl::SkipEmpty())) {
    user = absl::StripAsciiWhitespace(user);
    if (user.find(':') == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "super user '", user, "' is not a principal like User:name"));
    }
    c.super_users.emplace_back(user);
  }
  return absl::OkStatus();
}

absl::Status SetAllowIfNoAcl(ServerConfig& c, absl::string_view v) {
  const std::string lower = absl::AsciiStrToLower(v);
  if (lower != "true" && lower != "false") {
    return absl::InvalidArgumentError(
        absl::StrCat("'", v, "' is not true or false"));
  }
  c.allow_everyone_if_no_acl_found = lower == "true";
  return absl::OkStatus();
}

// A setter of a duration in ms (0 up to `max`).
auto MsSetter(int64_t ServerConfig::*field, int64_t max) {
  return [field, max](ServerConfig& c, absl::string_view v) {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(v, &ms) || ms < 0 || ms > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", v, "' is not a duration in ms (0 to ", max, ")"));
    }
    c.*field = ms;
    return absl::OkStatus();
  };
}

}  // namespace

const std::vector<SecurityOption>& SecurityOptions() {
  static const auto* options = new std::vector<SecurityOption>{
      {"kafka-security-protocol", "CHRONIK_KAFKA_SECURITY_PROTOCOL", "PROTO",
       "PLAINTEXT or SASL_PLAINTEXT (clients must authenticate)", SetProtocol},
      {"sasl-plain-users-file", "CHRONIK_SASL_PLAIN_USERS_FILE", "FILE",
       "SASL PLAIN users, one user:password a line",
       [](ServerConfig& c, absl::string_view v) {
         c.sasl_plain_users_file = std::string(v);
         return absl::OkStatus();
       }},
      {"super-users", "CHRONIK_SUPER_USERS", "LIST",
       "principals allowed everything: User:a;User:b", SetSuperUsers},
      {"allow-everyone-if-no-acl-found",
       "CHRONIK_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "BOOL",
       "allow a resource no ACL names (default: true without SASL)",
       SetAllowIfNoAcl},
      {"connections-max-reauth-ms", "CHRONIK_CONNECTIONS_MAX_REAUTH_MS", "MS",
       "SASL sessions expire after this long (KIP-368; 0 = never)",
       MsSetter(&ServerConfig::connections_max_reauth_ms, 86'400'000'000)},
      {"failed-authentication-delay-ms",
       "CHRONIK_FAILED_AUTHENTICATION_DELAY_MS", "MS",
       "a failed SASL authentication is answered and closed this much later "
       "(Kafka's connection.failed.authentication.delay.ms; default 100)",
       MsSetter(&ServerConfig::failed_authentication_delay_ms, 60'000)},
  };
  return *options;
}

absl::StatusOr<std::map<std::string, std::string>> ParsePlainUsers(
    absl::string_view text, absl::string_view path) {
  std::map<std::string, std::string> users;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) {
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0 ||
        colon + 1 == line.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number,
                       ": expected user:password (a non-empty user and "
                       "password)"));
    }
    if (!users
             .emplace(std::string(line.substr(0, colon)),
                      std::string(line.substr(colon + 1)))
             .second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": user '",
                       line.substr(0, colon), "' listed twice"));
    }
  }
  return users;
}

absl::Status LoadSecurityFiles(ServerConfig& config,
                               const FileReader& read_file) {
  if (config.sasl_plain_users_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> text = read_file(config.sasl_plain_users_file);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sasl-plain-users-file ", config.sasl_plain_users_file,
                     ": ", text.status().message()));
  }
  absl::StatusOr<std::map<std::string, std::string>> users =
      ParsePlainUsers(*text, config.sasl_plain_users_file);
  if (!users.ok()) return users.status();
  config.sasl_plain_users = *std::move(users);
  return absl::OkStatus();
}

}  // namespace chronik::config
