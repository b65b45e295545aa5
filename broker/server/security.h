// Security: one node's authentication and authorization settings and the
// per-connection SASL session (connections.h keeps one per connection).
//
// A connection whose listener is SASL_PLAINTEXT or SASL_SSL must
// authenticate (SaslHandshake, SaslAuthenticate; handlers/sasl.cc) before any
// request but ApiVersions; others act as User:ANONYMOUS (or the mutual-TLS
// principal). KIP-368: with connections.max.reauth.ms, a session expires and
// the connection is closed on its next request unless it re-authenticates.
// Randomness (SCRAM nonces) only from the node's seed.
#ifndef CHRONIK_BROKER_SERVER_SECURITY_H_
#define CHRONIK_BROKER_SERVER_SECURITY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/splitmix64.h"
#include "broker/config/server_config.h"
#include "broker/server/authorizer.h"
#include "broker/server/scram.h"

namespace chronik::broker {

// Handshakes a connection may start without authenticating in between, and
// failed authentications before it is closed (the first failure closes it).
inline constexpr int kMaxSaslHandshakes = 3;

struct SaslSession {
  bool required = false;  // a SASL listener
  bool authenticated = false;
  std::string principal = kAnonymous;
  std::string mechanism = {};  // of the last handshake
  bool raw_tokens = false;     // SaslHandshake v0: bare SASL tokens follow
  int handshakes = 0;          // since the last authentication
  int64_t expires_ms = 0;      // 0: never (KIP-368)
  std::optional<scram::ServerExchange> scram = {};
  std::string user = {};  // named in the SCRAM client-first message
};

class Security {
 public:
  Security(const config::ServerConfig& config, uint64_t seed);

  const Authorizer& authorizer() const { return authorizer_; }
  // PLAIN: whether `user` has `password` in the users file.
  bool PlainMatches(absl::string_view user, absl::string_view password) const;
  // A fresh SCRAM server nonce (printable, from the seeded generator).
  std::string NewNonce();
  int64_t max_reauth_ms() const { return max_reauth_ms_; }

 private:
  Authorizer authorizer_;
  const std::map<std::string, std::string>& plain_users_;
  int64_t max_reauth_ms_;
  SplitMix64 rng_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_SECURITY_H_
