// SCRAM (RFC 5802, RFC 7677) for SCRAM-SHA-256 and SCRAM-SHA-512: the key
// derivations over OpenSSL's libcrypto (PBKDF2 = Hi, HMAC, SHA) and the
// server side of one exchange. Pure: the server nonce is given by the caller
// (drawn from the broker's seeded generator).
#ifndef CHRONIK_BROKER_SERVER_SCRAM_H_
#define CHRONIK_BROKER_SERVER_SCRAM_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/metadata.pb.h"

namespace chronik::broker::scram {

// 1: SHA-256, 2: SHA-512 (Kafka's ScramMechanism numbers); else nullopt.
std::optional<int> MechanismByName(absl::string_view name);

// Hi(password, salt, iterations) (PBKDF2-HMAC).
std::string SaltedPassword(int mechanism, absl::string_view password,
                           absl::string_view salt, int iterations);
std::string Hmac(int mechanism, absl::string_view key, absl::string_view data);
std::string Hash(int mechanism, absl::string_view data);
// The stored form of a credential from its salted password (what
// AlterUserScramCredentials sends): StoredKey = H(HMAC(salted, "Client
// Key")), ServerKey = HMAC(salted, "Server Key").
metapb::ScramCredential MakeCredential(const std::string& user, int mechanism,
                                       absl::string_view salt, int iterations,
                                       absl::string_view salted_password);

std::string Base64(absl::string_view bytes);
std::optional<std::string> Unbase64(absl::string_view text);

// The server side of one exchange: client-first -> server-first,
// client-final -> server-final. Errors are messages safe to show (never a
// secret).
class ServerExchange {
 public:
  ServerExchange(int mechanism, std::string server_nonce)
      : mechanism_(mechanism), server_nonce_(std::move(server_nonce)) {}
  // Parses the client-first message; the user it names (unescaped).
  absl::StatusOr<std::string> ClientFirst(absl::string_view message);
  // Once the credential of the user is known: the server-first message.
  std::string ServerFirst(const metapb::ScramCredential& credential);
  // Verifies the client-final message; the server-final message.
  absl::StatusOr<std::string> ClientFinal(absl::string_view message);

 private:
  bool EndsWithNonce(const std::optional<std::string>& nonce) const;

  int mechanism_;
  std::string server_nonce_;
  std::string client_first_bare_;
  std::string gs2_header_;
  std::string nonce_;  // client nonce + server nonce
  std::string server_first_;
  metapb::ScramCredential credential_;
};

}  // namespace chronik::broker::scram

#endif  // CHRONIK_BROKER_SERVER_SCRAM_H_
