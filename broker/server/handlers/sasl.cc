// SaslHandshake and SaslAuthenticate: PLAIN (users file) and
// SCRAM-SHA-256/512 (credentials in the metadata state), KIP-368
// re-authentication. After SaslHandshake v0 (kafka-python) the tokens come
// bare; ConnectionTable hands each as a SaslAuthenticate of version -1.
#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {
namespace {

constexpr const char* kMechanisms[] = {"PLAIN", "SCRAM-SHA-256",
                                       "SCRAM-SHA-512"};

void Answer(Services& s, const RequestContext& c, std::string bytes,
            int64_t lifetime_ms) {
  if (c.header.api_version < 0) {  // a bare token
    std::string frame(4, '\0');
    const uint32_t size = static_cast<uint32_t>(bytes.size());
    for (int i = 0; i < 4; ++i)
      frame[i] = static_cast<char>(size >> (24 - 8 * i));
    s.connections.Deliver(c, frame + bytes, false);
    return;
  }
  kafka::SaslAuthenticateResponse response;
  response.auth_bytes = std::move(bytes);
  response.session_lifetime_ms = lifetime_ms;
  s.connections.Finish(c, response);
}

// Wrong credentials: SASL_AUTHENTICATION_FAILED, then the connection is
// closed with a log line naming the user and why (never the secret); both
// after --failed-authentication-delay-ms (ConnectionTable).
void Fail(Services& s, const RequestContext& c, SaslSession& session,
          absl::string_view user, absl::string_view why) {
  const std::string mechanism = session.mechanism;
  std::optional<std::string> frame;
  if (c.header.api_version >= 0) {
    kafka::SaslAuthenticateResponse response;
    response.error_code = kafka::error::kSaslAuthenticationFailed;
    response.error_message = absl::StrCat(
        "Authentication failed during authentication due to invalid "
        "credentials with SASL mechanism ",
        mechanism);
    frame = kafka::EncodeResponseFrame(c.header, response);
  }
  s.connections.FailAuthentication(
      c, std::move(frame),
      absl::StrCat("SASL ", mechanism, " authentication of '", user,
                   "' failed: ", why));
}

void Succeed(Services& s, const RequestContext& c, SaslSession& session,
             const std::string& user, std::string bytes) {
  const std::string principal = absl::StrCat("User:", user);
  if (session.authenticated && principal != session.principal) {
    Fail(s, c, session, user, "re-authentication may not change the principal");
    return;
  }
  session.authenticated = true;
  session.principal = principal;
  session.handshakes = 0;
  session.raw_tokens = false;
  session.scram.reset();
  int64_t lifetime_ms = 0;
  if (s.security->max_reauth_ms() > 0) {
    lifetime_ms = s.security->max_reauth_ms();
    session.expires_ms = s.NowMs() + lifetime_ms;
  }
  Answer(s, c, std::move(bytes), lifetime_ms);
}

void PlainStep(Services& s, const RequestContext& c, SaslSession& session,
               const std::string& token) {
  std::vector<std::string> parts = absl::StrSplit(token, '\0');
  if (parts.size() != 3) {
    Fail(s, c, session, "", "malformed PLAIN message");
    return;
  }
  const std::string& user = parts[1];
  if (!parts[0].empty() && parts[0] != user) {
    Fail(s, c, session, user, "the authorization id differs from the user");
    return;
  }
  if (!s.security->PlainMatches(user, parts[2])) {
    Fail(s, c, session, user, "invalid username or password");
    return;
  }
  Succeed(s, c, session, user, "");
}

void ScramStep(Services& s, const RequestContext& c, SaslSession& session,
               int mechanism, const std::string& token) {
  if (!session.scram.has_value()) {
    session.scram.emplace(mechanism, s.security->NewNonce());
    absl::StatusOr<std::string> user = session.scram->ClientFirst(token);
    if (!user.ok()) {
      Fail(s, c, session, "", user.status().message());
      return;
    }
    session.user = *user;
    const metapb::ScramCredential* credential =
        s.state().security().FindCredential(*user, mechanism);
    if (credential == nullptr) {
      Fail(s, c, session, *user, "no such user or no credential of it");
      return;
    }
    Answer(s, c, session.scram->ServerFirst(*credential), 0);
    return;
  }
  absl::StatusOr<std::string> server_final = session.scram->ClientFinal(token);
  if (!server_final.ok()) {
    Fail(s, c, session, session.user, server_final.status().message());
    return;
  }
  Succeed(s, c, session, session.user, *std::move(server_final));
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::SaslHandshakeRequest& r) {
  SaslSession* session = s.connections.sasl(c.connection);
  if (session == nullptr) return;
  kafka::SaslHandshakeResponse response;
  for (const char* mechanism : kMechanisms) {
    response.mechanisms.push_back(mechanism);
  }
  if (!session->required) {  // not a SASL listener
    response.error_code = kafka::error::kIllegalSaslState;
    s.connections.Finish(c, response, true);
    return;
  }
  if (++session->handshakes > kMaxSaslHandshakes) {
    s.connections.Close(c.connection,
                        "too many SASL handshakes without authenticating");
    return;
  }
  if (std::find(std::begin(kMechanisms), std::end(kMechanisms), r.mechanism) ==
      std::end(kMechanisms)) {
    response.error_code = kafka::error::kUnsupportedSaslMechanism;
    s.connections.Finish(c, response, true);
    return;
  }
  session->mechanism = r.mechanism;
  session->scram.reset();
  session->raw_tokens = c.header.api_version == 0;
  s.connections.Finish(c, response);
}

void Handle(Services& s, const RequestContext& c,
            kafka::SaslAuthenticateRequest& r) {
  SaslSession* session = s.connections.sasl(c.connection);
  if (session == nullptr) return;
  if (!session->required || session->mechanism.empty()) {
    kafka::SaslAuthenticateResponse response;
    response.error_code = kafka::error::kIllegalSaslState;
    response.error_message = "SaslAuthenticate without a SaslHandshake";
    s.connections.Finish(c, response, true);
    s.connections.Close(c.connection, "SaslAuthenticate before SaslHandshake");
    return;
  }
  if (session->mechanism == "PLAIN") {
    PlainStep(s, c, *session, r.auth_bytes);
  } else {
    ScramStep(s, c, *session, *scram::MechanismByName(session->mechanism),
              r.auth_bytes);
  }
}

}  // namespace chronik::broker
