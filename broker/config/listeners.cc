#include "broker/config/listeners.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "broker/config/security_config.h"
#include "broker/config/toml.h"

namespace chronik::config {
namespace {

using env::SecurityProtocol;

std::optional<SecurityProtocol> ParseProtocol(absl::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  if (upper == "PLAINTEXT") return SecurityProtocol::kPlaintext;
  if (upper == "SSL") return SecurityProtocol::kSsl;
  if (upper == "SASL_PLAINTEXT") return SecurityProtocol::kSaslPlaintext;
  if (upper == "SASL_SSL") return SecurityProtocol::kSaslSsl;
  return std::nullopt;
}

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

// One "NAME://host:port" entry; `port_min` 0 allows any free port.
absl::StatusOr<KafkaListener> ParseEntry(absl::string_view entry,
                                         int port_min) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listener '", entry, "': ", why, " (expected NAME://host:port)"));
  };
  const size_t scheme = entry.find("://");
  if (scheme == absl::string_view::npos) return bad("no '://'");
  KafkaListener listener;
  listener.name = std::string(entry.substr(0, scheme));
  if (!ValidName(listener.name)) {
    return bad("the name must be letters, digits, '_' or '-'");
  }
  absl::string_view address = entry.substr(scheme + 3);
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return bad("no port");
  listener.host = std::string(address.substr(0, colon));
  if (listener.host.size() > 253 ||
      listener.host.find_first_of(" /:\t") != std::string::npos) {
    return bad("bad host");
  }
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < port_min ||
      port > 65535) {
    return bad(absl::StrCat("the port must be ", port_min, "..65535"));
  }
  listener.port = port;
  return listener;
}

absl::StatusOr<std::vector<KafkaListener>> ParseList(absl::string_view text,
                                                     int port_min) {
  std::vector<KafkaListener> listeners;
  std::set<std::string> names;
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    absl::StatusOr<KafkaListener> listener =
        ParseEntry(absl::StripAsciiWhitespace(entry), port_min);
    if (!listener.ok()) return listener.status();
    if (!names.insert(listener->name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("listener name ", listener->name, " is given twice"));
    }
    listeners.push_back(*std::move(listener));
  }
  if (listeners.empty()) return absl::InvalidArgumentError("no listeners");
  return listeners;
}

absl::StatusOr<std::map<std::string, SecurityProtocol>> ParseProtocolMap(
    absl::string_view text) {
  std::map<std::string, SecurityProtocol> map;
  for (absl::string_view entry : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    entry = absl::StripAsciiWhitespace(entry);
    std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(entry, absl::MaxSplits(':', 1));
    std::optional<SecurityProtocol> protocol = ParseProtocol(parts.second);
    if (!ValidName(parts.first) || !protocol.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", entry,
          "' is not NAME:PROTOCOL (PLAINTEXT, SSL, SASL_PLAINTEXT or "
          "SASL_SSL)"));
    }
    map[std::string(parts.first)] = *protocol;
  }
  return map;
}

// A setter that only checks the syntax now and keeps the text for
// ResolveListeners.
template <typename Check>
std::function<absl::Status(ServerConfig&, absl::string_view)> SpecSetter(
    std::string ListenerSpecs::*field, Check check) {
  return [field, check](ServerConfig& config, absl::string_view text) {
    absl::Status status = check(text);
    if (status.ok()) config.listener_specs.*field = std::string(text);
    return status;
  };
}

std::function<absl::Status(ServerConfig&, absl::string_view)> FileSetter(
    std::string TlsConfig::*field) {
  return [field](ServerConfig& config, absl::string_view text) {
    if (text.empty()) return absl::InvalidArgumentError("empty file name");
    config.tls.*field = std::string(text);
    return absl::OkStatus();
  };
}

absl::Status SetClientAuth(ServerConfig& config, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "none") {
    config.tls.client_auth = TlsClientAuth::kNone;
  } else if (lower == "requested") {
    config.tls.client_auth = TlsClientAuth::kRequested;
  } else if (lower == "required") {
    config.tls.client_auth = TlsClientAuth::kRequired;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not one of none, requested, required"));
  }
  return absl::OkStatus();
}

absl::Status SetHandshakeTimeout(ServerConfig& config, absl::string_view text) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(text, &ms) || ms < 100 || ms > 600'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a number of ms in [100, 600000]"));
  }
  config.tls.handshake_timeout_ms = ms;
  return absl::OkStatus();
}

absl::Status SetRaftTls(ServerConfig& config, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") {
    config.tls.raft = true;
  } else if (lower == "false" || lower == "0" || lower == "no" ||
             lower == "off") {
    config.tls.raft = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not true or false"));
  }
  return absl::OkStatus();
}

// Protocols and advertised addresses of `listeners` from the specs.
absl::Status Complete(const ServerConfig& config,
                      std::vector<KafkaListener>& listeners) {
  absl::StatusOr<std::map<std::string, SecurityProtocol>> map =
      ParseProtocolMap(config.listener_specs.protocol_map);
  if (!map.ok()) return map.status();
  for (KafkaListener& listener : listeners) {
    if (auto it = map->find(listener.name); it != map->end()) {
      listener.protocol = it->second;
    } else if (std::optional<SecurityProtocol> p =
                   ParseProtocol(listener.name)) {
      listener.protocol = *p;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "listener ", listener.name,
          " has no security protocol: name it PLAINTEXT, SSL, SASL_PLAINTEXT "
          "or SASL_SSL, or map it with --listener-security-protocol-map=",
          listener.name, ":PROTOCOL"));
    }
    if (listener.host.empty()) listener.host = config.bind_host;
  }
  if (config.listener_specs.advertised.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<KafkaListener>> advertised =
      ParseList(config.listener_specs.advertised, 1);
  if (!advertised.ok()) return advertised.status();
  for (const KafkaListener& entry : *advertised) {
    auto it = std::find_if(
        listeners.begin(), listeners.end(),
        [&](const KafkaListener& l) { return l.name == entry.name; });
    if (it == listeners.end() || entry.host.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--advertised-listeners: ", entry.name,
                       it == listeners.end() ? " is not one of --listeners"
                                             : " needs a host"));
    }
    it->advertised_host = entry.host;
    it->advertised_port = entry.port;
  }
  return absl::OkStatus();
}

// Ports distinct, TLS files given where needed.
absl::Status Check(const ServerConfig& config,
                   const std::vector<KafkaListener>& listeners) {
  std::map<int, std::string> ports;
  if (config.http_port != 0) ports[config.http_port] = "the HTTP listener";
  if (config.mode == ServerConfig::Mode::kCluster && config.raft_port != 0) {
    ports[config.raft_port] = "the Raft listener";
  }
  bool tls = false;
  for (const KafkaListener& listener : listeners) {
    tls = tls || UsesTls(listener.protocol);
    if (listener.port == 0) continue;
    auto [it, inserted] =
        ports.emplace(listener.port, absl::StrCat("listener ", listener.name));
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("port conflict: listener ", listener.name, " and ",
                       it->second, " both use port ", listener.port));
    }
  }
  if (tls && (config.tls.cert_file.empty() || config.tls.key_file.empty())) {
    return absl::InvalidArgumentError(
        "a TLS listener (SSL or SASL_SSL) needs --tls-cert-file and "
        "--tls-key-file");
  }
  if (config.tls.raft &&
      (config.tls.cert_file.empty() || config.tls.key_file.empty() ||
       config.tls.ca_file.empty())) {
    return absl::InvalidArgumentError(
        "--raft-tls needs --tls-cert-file, --tls-key-file and --tls-ca-file");
  }
  if (config.tls.client_auth != TlsClientAuth::kNone &&
      config.tls.ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-auth requested or required needs --tls-ca-file (the "
        "CAs that sign client certificates)");
  }
  return absl::OkStatus();
}

}  // namespace

const char* SecurityProtocolName(SecurityProtocol protocol) {
  switch (protocol) {
    case SecurityProtocol::kPlaintext:
      return "PLAINTEXT";
    case SecurityProtocol::kSsl:
      return "SSL";
    case SecurityProtocol::kSaslPlaintext:
      return "SASL_PLAINTEXT";
    case SecurityProtocol::kSaslSsl:
      return "SASL_SSL";
  }
  return "?";
}

bool UsesTls(SecurityProtocol protocol) {
  return protocol == SecurityProtocol::kSsl ||
         protocol == SecurityProtocol::kSaslSsl;
}

const std::vector<ListenerSetting>& ListenerSettings() {
  // Built once per process; immutable afterwards.
  static const auto* settings = new std::vector<ListenerSetting>{
      {"listeners", "CHRONIK_LISTENERS", "NAME://HOST:PORT,...",
       "named Kafka listeners (default: PLAINTEXT on --bind-addr and "
       "--kafka-port); a name maps to its protocol as below",
       SpecSetter(
           &ListenerSpecs::listeners,
           [](absl::string_view v) { return ParseList(v, 0).status(); })},
      {"advertised-listeners", "CHRONIK_ADVERTISED_LISTENERS",
       "NAME://HOST:PORT,...",
       "what Metadata tells a client of each listener (default: the "
       "listener's own address)",
       SpecSetter(
           &ListenerSpecs::advertised,
           [](absl::string_view v) { return ParseList(v, 1).status(); })},
      {"listener-security-protocol-map",
       "CHRONIK_LISTENER_SECURITY_PROTOCOL_MAP", "NAME:PROTOCOL,...",
       "the protocol of each listener name (PLAINTEXT, SSL, SASL_PLAINTEXT, "
       "SASL_SSL; default: the name itself)",
       SpecSetter(
           &ListenerSpecs::protocol_map,
           [](absl::string_view v) { return ParseProtocolMap(v).status(); })},
      {"tls-cert-file", "CHRONIK_TLS_CERT_FILE", "FILE",
       "PEM certificate (chain) of TLS listeners; reread on SIGHUP",
       FileSetter(&TlsConfig::cert_file)},
      {"tls-key-file", "CHRONIK_TLS_KEY_FILE", "FILE",
       "PEM private key of the certificate; reread on SIGHUP",
       FileSetter(&TlsConfig::key_file)},
      {"tls-ca-file", "CHRONIK_TLS_CA_FILE", "FILE",
       "PEM CA certificates that sign client certificates",
       FileSetter(&TlsConfig::ca_file)},
      {"tls-client-auth", "CHRONIK_TLS_CLIENT_AUTH", "MODE",
       "none, requested or required: client certificates (mutual TLS)",
       SetClientAuth},
      {"tls-handshake-timeout-ms", "CHRONIK_TLS_HANDSHAKE_TIMEOUT_MS", "MS",
       "a TLS handshake not finished by then is closed", SetHandshakeTimeout},
      {"raft-tls", "CHRONIK_RAFT_TLS", "BOOL",
       "mutual TLS between brokers on the Raft transport (the --tls-* files; "
       "a peer certificate must be signed by --tls-ca-file)",
       SetRaftTls},
  };
  return *settings;
}

std::string TomlKey(absl::string_view flag) {
  std::string key(flag);
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

namespace {

// Applies the root table's value of `flag`'s key, if any, as the flag would.
absl::Status ApplyKey(
    const TomlTable& root, const std::string& path, absl::string_view flag,
    const std::function<absl::Status(ServerConfig&, absl::string_view)>& set,
    ServerConfig& config) {
  const std::string key = TomlKey(flag);
  auto it = root.values.find(key);
  if (it == root.values.end()) return absl::OkStatus();
  const std::string at = absl::StrCat(path, ":", root.lines.at(key));
  std::string text;
  if (const std::string* value = std::get_if<std::string>(&it->second)) {
    text = *value;
  } else if (const int64_t* number = std::get_if<int64_t>(&it->second)) {
    text = absl::StrCat(*number);
  } else if (const bool* flag_value = std::get_if<bool>(&it->second)) {
    text = *flag_value ? "true" : "false";
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": '", key, "' must be a string"));
  }
  if (absl::Status status = set(config, text); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(at, ": '", key, "': ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> RootSettingKeys() {
  std::vector<std::string> keys;
  for (const ListenerSetting& setting : ListenerSettings()) {
    keys.push_back(TomlKey(setting.flag));
  }
  for (const SecurityOption& option : SecurityOptions()) {
    keys.push_back(TomlKey(option.flag));
  }
  return keys;
}

// The listener, TLS and security keys of the root table (listeners =
// "SSL://...", tls_cert_file = "...", ...), applied as their flags would be.
absl::Status ApplyListenerKeys(const TomlTable& root, const std::string& path,
                               ServerConfig& config) {
  for (const ListenerSetting& setting : ListenerSettings()) {
    absl::Status status =
        ApplyKey(root, path, setting.flag, setting.set, config);
    if (!status.ok()) return status;
  }
  for (const SecurityOption& option : SecurityOptions()) {
    absl::Status status = ApplyKey(root, path, option.flag, option.set, config);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ResolveListeners(ServerConfig& config) {
  const ListenerSpecs& specs = config.listener_specs;
  if (specs.listeners.empty()) {
    if (!specs.advertised.empty()) {
      return absl::InvalidArgumentError(
          "--advertised-listeners needs --listeners");
    }
    return Check(config, KafkaListenersOf(config));
  }
  absl::StatusOr<std::vector<KafkaListener>> listeners =
      ParseList(specs.listeners, 0);
  if (!listeners.ok()) return listeners.status();
  if (absl::Status status = Complete(config, *listeners); !status.ok()) {
    return status;
  }
  if (absl::Status status = Check(config, *listeners); !status.ok()) {
    return status;
  }
  config.listeners = *std::move(listeners);
  // The first listener is the default one (the broker registration's own
  // address, for readers that know no listener names).
  const KafkaListener first = KafkaListenersOf(config).front();
  config.kafka_port = first.port;
  config.advertised_host = first.advertised_host;
  config.advertised_port = config.listeners.front().advertised_port;
  return absl::OkStatus();
}

std::vector<KafkaListener> KafkaListenersOf(const ServerConfig& config) {
  std::vector<KafkaListener> listeners = config.listeners;
  if (listeners.empty()) {
    // --kafka-security-protocol names the one default listener's protocol.
    KafkaListener listener;
    listener.name = SecurityProtocolName(config.kafka_security_protocol);
    listener.protocol = config.kafka_security_protocol;
    listener.host = config.bind_host;
    listener.port = config.kafka_port;
    listener.advertised_host = config.advertised_host;
    listener.advertised_port = config.advertised_port;
    listeners.push_back(listener);
  }
  for (KafkaListener& listener : listeners) {
    if (listener.advertised_host.empty()) {
      listener.advertised_host =
          listener.host == "0.0.0.0" && !config.advertised_host.empty()
              ? config.advertised_host
              : listener.host;
    }
    if (listener.advertised_port == 0) {
      listener.advertised_port = listener.port;
    }
  }
  return listeners;
}

std::vector<ListenerAddress> ListenersOf(const ServerConfig& config,
                                         const env::BrokerBugs& bugs) {
  std::vector<ListenerAddress> listeners;
  const std::vector<KafkaListener> kafka = KafkaListenersOf(config);
  for (size_t i = 0; i < kafka.size(); ++i) {
    listeners.push_back({config.listeners.empty() ? "kafka" : kafka[i].name,
                         kafka[i].host, kafka[i].port, static_cast<int>(i)});
  }
  const int http_port = bugs.derived_http_port && config.kafka_port != 0
                            ? config.kafka_port + 1
                            : config.http_port;
  listeners.push_back(
      {"http",
       config.http_bind_host.empty() ? config.bind_host : config.http_bind_host,
       http_port});
  if (config.mode == ServerConfig::Mode::kCluster) {
    listeners.push_back({"raft", config.bind_host, config.raft_port});
  }
  return listeners;
}

}  // namespace chronik::config
