#include "broker/runtime/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::runtime {
namespace {

// Whether `path` can be opened for reading; the error names the flag, the
// file and why not.
absl::Status CheckReadable(const char* flag, const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        flag, " ", path, ": cannot read it: ", std::strerror(errno)));
  }
  std::fclose(file);
  return absl::OkStatus();
}

absl::Status Bad(const char* flag, const std::string& path,
                 absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat(flag, " ", path, ": ", what, " (", TlsErrors(), ")"));
}

// The certificate and key (and client CAs) into `context`.
absl::Status Load(const config::TlsConfig& config, SSL_CTX* context) {
  for (const auto& [flag, path] : {std::pair<const char*, std::string>{
                                       "--tls-cert-file", config.cert_file},
                                   {"--tls-key-file", config.key_file},
                                   {"--tls-ca-file", config.ca_file}}) {
    if (path.empty()) continue;
    if (absl::Status status = CheckReadable(flag, path); !status.ok()) {
      return status;
    }
  }
  if (SSL_CTX_use_certificate_chain_file(context, config.cert_file.c_str()) !=
      1) {
    return Bad("--tls-cert-file", config.cert_file,
               "not a PEM certificate (chain)");
  }
  X509* certificate = SSL_CTX_get0_certificate(context);
  if (certificate != nullptr &&
      X509_cmp_current_time(X509_get0_notAfter(certificate)) < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--tls-cert-file ", config.cert_file, ": the certificate has expired"));
  }
  EVP_PKEY* key = nullptr;
  if (FILE* file = std::fopen(config.key_file.c_str(), "r")) {
    key = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
    std::fclose(file);
  }
  if (key == nullptr) {
    return Bad("--tls-key-file", config.key_file, "not a PEM private key");
  }
  const bool used = SSL_CTX_use_PrivateKey(context, key) == 1;
  EVP_PKEY_free(key);
  if (!used || SSL_CTX_check_private_key(context) != 1) {
    return Bad("--tls-key-file", config.key_file,
               absl::StrCat("the key does not match the certificate of "
                            "--tls-cert-file ",
                            config.cert_file));
  }
  if (!config.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(context, config.ca_file.c_str(),
                                      nullptr) != 1) {
      return Bad("--tls-ca-file", config.ca_file, "not PEM CA certificates");
    }
    STACK_OF(X509_NAME)* names =
        SSL_load_client_CA_file(config.ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(context, names);
  }
  return absl::OkStatus();
}

absl::StatusOr<SSL_CTX*> Build(const config::TlsConfig& config) {
  ERR_clear_error();
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) {
    return absl::InternalError(absl::StrCat("SSL_CTX_new: ", TlsErrors()));
  }
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION);
  static constexpr unsigned char kSessionContext[] = "chronik";
  SSL_CTX_set_session_id_context(context, kSessionContext,
                                 sizeof(kSessionContext) - 1);
  int mode = SSL_VERIFY_NONE;
  if (config.client_auth == config::TlsClientAuth::kRequested) {
    mode = SSL_VERIFY_PEER;
  } else if (config.client_auth == config::TlsClientAuth::kRequired) {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(context, mode, nullptr);
  if (absl::Status status = Load(config, context); !status.ok()) {
    SSL_CTX_free(context);
    return status;
  }
  return context;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsContext>> TlsContext::Create(
    const config::TlsConfig& config) {
  absl::StatusOr<SSL_CTX*> context = Build(config);
  if (!context.ok()) return context.status();
  return std::unique_ptr<TlsContext>(new TlsContext(config, *context));
}

TlsContext::TlsContext(const config::TlsConfig& config, SSL_CTX* context)
    : config_(config), context_(context) {}

TlsContext::~TlsContext() { SSL_CTX_free(context_); }

absl::Status TlsContext::Reload() {
  absl::StatusOr<SSL_CTX*> context = Build(config_);
  if (!context.ok()) return context.status();
  // Open sessions hold their own reference to the old context.
  SSL_CTX_free(context_);
  context_ = *context;
  return absl::OkStatus();
}

SSL* TlsContext::NewSession(int fd) {
  ERR_clear_error();
  SSL* ssl = SSL_new(context_);
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

std::string TlsPrincipal(SSL* ssl) {
  X509* certificate = SSL_get1_peer_certificate(ssl);
  if (certificate == nullptr) return "";
  std::string principal;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    BIO* bio = BIO_new(BIO_s_mem());
    CHRONIK_CHECK(bio != nullptr);
    // RFC 2253 order and escaping, UTF-8 kept as is (as Java's
    // X500Principal.getName() prints it).
    X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0,
                       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    principal = absl::StrCat("User:", std::string(data, length));
    BIO_free(bio);
  }
  X509_free(certificate);
  return principal;
}

std::string TlsErrors() {
  std::string text;
  while (unsigned long error = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(error, buffer, sizeof(buffer));
    absl::StrAppend(&text, text.empty() ? "" : "; ", buffer);
  }
  return text.empty() ? "no OpenSSL error" : text;
}

}  // namespace chronik::runtime
