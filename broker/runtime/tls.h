// TlsContext: the server side of TLS for the Kafka listeners, over OpenSSL.
// It holds the certificate, key and client CAs read from the files of
// config::TlsConfig (TLS 1.2 and 1.3; client certificates verified against
// the CAs when --tls-client-auth asks for them) and makes a session per
// accepted socket; the EventLoop drives the sessions without blocking.
//
// Create and Reload fail with an error naming the file and what is wrong
// with it (missing, unreadable, not PEM, a key that does not match the
// certificate, an expired certificate). Reload (SIGHUP) swaps in the new
// files for new connections; open sessions keep the context they started
// with (OpenSSL counts its references) and stay open. A failed reload keeps
// the current files.
//
// Not thread-safe: the loop thread only.
#ifndef CHRONIK_BROKER_RUNTIME_TLS_H_
#define CHRONIK_BROKER_RUNTIME_TLS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/config/server_config.h"

struct ssl_st;
struct ssl_ctx_st;

namespace chronik::runtime {

class TlsContext {
 public:
  static absl::StatusOr<std::unique_ptr<TlsContext>> Create(
      const config::TlsConfig& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Rereads the files.
  absl::Status Reload();
  // A server session over the connected socket `fd` (the caller frees it
  // with SSL_free), or nullptr when OpenSSL cannot make one.
  ssl_st* NewSession(int fd);
  const config::TlsConfig& config() const { return config_; }

 private:
  TlsContext(const config::TlsConfig& config, ssl_ctx_st* context);
  config::TlsConfig config_;
  ssl_ctx_st* context_;
};

// Kafka's default principal of a verified client certificate: "User:" and
// the certificate subject in RFC 2253 form ("User:CN=alice,O=Example");
// empty when the client sent none or it was not verified.
std::string TlsPrincipal(ssl_st* ssl);

// OpenSSL's queued errors of this thread as one line (the queue is cleared).
std::string TlsErrors();

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_TLS_H_
