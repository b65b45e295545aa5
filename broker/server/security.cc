#include "broker/server/security.h"

#include <openssl/crypto.h>

#include "absl/strings/str_format.h"
#include "broker/config/listeners.h"

namespace chronik::broker {
namespace {

// Kafka's default of allow.everyone.if.no.acl.found is false; chronik's
// default: true unless a connection must authenticate.
bool AllowIfNoAcl(const config::ServerConfig& config) {
  if (config.allow_everyone_if_no_acl_found.has_value()) {
    return *config.allow_everyone_if_no_acl_found;
  }
  for (const config::KafkaListener& listener :
       config::KafkaListenersOf(config)) {
    if (listener.protocol == env::SecurityProtocol::kSaslPlaintext ||
        listener.protocol == env::SecurityProtocol::kSaslSsl) {
      return false;
    }
  }
  return true;
}

}  // namespace

Security::Security(const config::ServerConfig& config, uint64_t seed)
    : authorizer_(config.super_users, AllowIfNoAcl(config)),
      plain_users_(config.sasl_plain_users),
      max_reauth_ms_(config.connections_max_reauth_ms),
      rng_(splitmix64::Mix(seed ^ 0x7361736c6e6f6e63ull)) {}  // "saslnonc"

bool Security::PlainMatches(absl::string_view user,
                            absl::string_view password) const {
  auto it = plain_users_.find(std::string(user));
  if (it == plain_users_.end()) return false;
  return it->second.size() == password.size() &&
         CRYPTO_memcmp(it->second.data(), password.data(), password.size()) ==
             0;
}

std::string Security::NewNonce() {
  return absl::StrFormat("%016x%016x", rng_.Next(), rng_.Next());
}

}  // namespace chronik::broker
