#include "broker/server/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/check.h"

namespace chronik::broker::scram {
namespace {

const EVP_MD* Digest(int mechanism) {
  CHRONIK_CHECK(mechanism == 1 || mechanism == 2) << mechanism;
  return mechanism == 1 ? EVP_sha256() : EVP_sha512();
}

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(why);
}

// The value of attribute `name` ("n=...") of a comma-separated field.
std::optional<std::string> Attribute(absl::string_view field, char name) {
  if (field.size() < 2 || field[0] != name || field[1] != '=') {
    return std::nullopt;
  }
  return std::string(field.substr(2));
}

}  // namespace

bool ServerExchange::EndsWithNonce(
    const std::optional<std::string>& nonce) const {
  return nonce.has_value() && absl::EndsWith(*nonce, nonce_);
}

std::optional<int> MechanismByName(absl::string_view name) {
  if (name == "SCRAM-SHA-256") return 1;
  if (name == "SCRAM-SHA-512") return 2;
  return std::nullopt;
}

std::string SaltedPassword(int mechanism, absl::string_view password,
                           absl::string_view salt, int iterations) {
  const EVP_MD* md = Digest(mechanism);
  std::string out(EVP_MD_size(md), '\0');
  CHRONIK_CHECK(
      PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, md,
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) == 1);
  return out;
}

std::string Hmac(int mechanism, absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  CHRONIK_CHECK(HMAC(Digest(mechanism), key.data(),
                     static_cast<int>(key.size()),
                     reinterpret_cast<const unsigned char*>(data.data()),
                     data.size(), out, &size) != nullptr);
  return std::string(reinterpret_cast<char*>(out), size);
}

std::string Hash(int mechanism, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  CHRONIK_CHECK(EVP_Digest(data.data(), data.size(), out, &size,
                           Digest(mechanism), nullptr) == 1);
  return std::string(reinterpret_cast<char*>(out), size);
}

metapb::ScramCredential MakeCredential(const std::string& user, int mechanism,
                                       absl::string_view salt, int iterations,
                                       absl::string_view salted_password) {
  metapb::ScramCredential credential;
  credential.set_user(user);
  credential.set_mechanism(mechanism);
  credential.set_salt(std::string(salt));
  credential.set_iterations(iterations);
  credential.set_stored_key(
      Hash(mechanism, Hmac(mechanism, salted_password, "Client Key")));
  credential.set_server_key(Hmac(mechanism, salted_password, "Server Key"));
  return credential;
}

std::string Base64(absl::string_view bytes) {
  return absl::Base64Escape(bytes);
}

std::optional<std::string> Unbase64(absl::string_view text) {
  std::string out;
  if (!absl::Base64Unescape(text, &out)) return std::nullopt;
  return out;
}

absl::StatusOr<std::string> ServerExchange::ClientFirst(
    absl::string_view message) {
  // gs2-header: cbind flag ("n" or "y"; channel binding is not offered),
  // optional authzid; then client-first-bare: n=user,r=nonce[,ext...].
  std::vector<absl::string_view> fields = absl::StrSplit(message, ',');
  if (fields.size() < 4 || (fields[0] != "n" && fields[0] != "y")) {
    return Bad("malformed SCRAM client-first message");
  }
  gs2_header_ = absl::StrCat(fields[0], ",", fields[1], ",");
  client_first_bare_ = std::string(message.substr(gs2_header_.size()));
  std::optional<std::string> user = Attribute(fields[2], 'n');
  std::optional<std::string> nonce = Attribute(fields[3], 'r');
  if (!user.has_value() || user->empty() || !nonce.has_value() ||
      nonce->empty()) {
    return Bad("malformed SCRAM client-first message");
  }
  nonce_ = *nonce + server_nonce_;
  return absl::StrReplaceAll(*user, {{"=2C", ","}, {"=3D", "="}});
}

std::string ServerExchange::ServerFirst(
    const metapb::ScramCredential& credential) {
  credential_ = credential;
  server_first_ = absl::StrCat("r=", nonce_, ",s=", Base64(credential.salt()),
                               ",i=", credential.iterations());
  return server_first_;
}

absl::StatusOr<std::string> ServerExchange::ClientFinal(
    absl::string_view message) {
  const size_t proof_at = message.rfind(",p=");
  if (proof_at == absl::string_view::npos) {
    return Bad("malformed SCRAM client-final message");
  }
  const absl::string_view without_proof = message.substr(0, proof_at);
  std::vector<absl::string_view> fields = absl::StrSplit(without_proof, ',');
  // The nonce must end with the server-first one, as Kafka's ScramSaslServer
  // checks: librdkafka 2.0 sends its client nonce before it again.
  if (fields.size() < 2 || Attribute(fields[0], 'c') != Base64(gs2_header_) ||
      !EndsWithNonce(Attribute(fields[1], 'r'))) {
    return Bad("SCRAM channel binding or nonce mismatch");
  }
  std::optional<std::string> proof = Unbase64(message.substr(proof_at + 3));
  if (!proof.has_value() || proof->size() != credential_.stored_key().size()) {
    return Bad("malformed SCRAM client proof");
  }
  const std::string auth_message =
      absl::StrCat(client_first_bare_, ",", server_first_, ",", without_proof);
  const std::string signature =
      Hmac(mechanism_, credential_.stored_key(), auth_message);
  std::string client_key = *proof;
  for (size_t i = 0; i < client_key.size(); ++i) client_key[i] ^= signature[i];
  const std::string stored = Hash(mechanism_, client_key);
  if (CRYPTO_memcmp(stored.data(), credential_.stored_key().data(),
                    stored.size()) != 0) {
    return absl::UnauthenticatedError("invalid SCRAM proof");
  }
  return absl::StrCat(
      "v=", Base64(Hmac(mechanism_, credential_.server_key(), auth_message)));
}

}  // namespace chronik::broker::scram
