#include "broker/runtime/peer_tls.h"

#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/runtime/log.h"

namespace chronik::runtime {
namespace {

std::vector<X509*> ReadCerts(const std::string& pem) {
  std::vector<X509*> certs;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    certs.push_back(cert);
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the PEM reads as an error
  return certs;
}

void FreeCerts(std::vector<X509*>& certs) {
  for (X509* cert : certs) X509_free(cert);
  certs.clear();
}

std::string SubjectOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string subject(data, static_cast<size_t>(size));
  BIO_free(bio);
  return subject;
}

// "host:port" or "[v6]:port" -> host.
std::string HostOf(const std::string& target) {
  if (!target.empty() && target[0] == '[') {
    const size_t end = target.find(']');
    return end == std::string::npos ? target : target.substr(1, end - 1);
  }
  const size_t colon = target.rfind(':');
  return colon == std::string::npos ? target : target.substr(0, colon);
}

absl::Status WriteFile(const std::string& path, const std::string& text,
                       mode_t mode) {
  {
    std::ofstream file(path, std::ios::trunc);
    file << text;
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  chmod(path.c_str(), mode);
  return absl::OkStatus();
}

}  // namespace

// The CAs (replaced by Update) and the rate limit of refusal lines.
class PeerTls::Trust {
 public:
  explicit Trust(std::string ca) : ca_(std::move(ca)) {}
  std::string ca() {
    std::lock_guard<std::mutex> lock(mu_);
    return ca_;
  }
  void set_ca(std::string ca) {
    std::lock_guard<std::mutex> lock(mu_);
    ca_ = std::move(ca);
  }
  void Refused(const std::string& line) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (line == last_line_ && now - last_logged_ < std::chrono::seconds(10)) {
        return;
      }
      last_line_ = line;
      last_logged_ = now;
    }
    LogWarn(line);
  }

 private:
  std::mutex mu_;
  std::string ca_;                                     // guarded by mu_
  std::string last_line_;                              // guarded by mu_
  std::chrono::steady_clock::time_point last_logged_;  // guarded by mu_
};

namespace {

class Verifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  // `peer`: the address the dialing side reaches the peer at (empty on the
  // accepting side, where gRPC tells no address).
  Verifier(std::shared_ptr<PeerTls::Trust> trust, std::string peer)
      : trust_(std::move(trust)), peer_(std::move(peer)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> /*callback*/,
              grpc::Status* sync_status) override {
    // The leaf, then whatever chain came with it (on the accepting side
    // gRPC's full chain leaves the leaf out).
    std::string chain(request->peer_cert().data(), request->peer_cert().size());
    chain.append(request->peer_cert_full_chain().data(),
                 request->peer_cert_full_chain().size());
    std::string subject;
    const std::string why =
        CheckPeerChain(trust_->ca(), chain, HostOf(peer_), &subject);
    if (why.empty()) {
      *sync_status = grpc::Status::OK;
      return true;
    }
    trust_->Refused(
        peer_.empty()
            ? absl::StrCat("raft: refused an incoming peer's TLS certificate (",
                           subject, "): ", why)
            : absl::StrCat("raft: refused the TLS certificate of peer ", peer_,
                           " (", subject, "): ", why));
    *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                absl::StrCat("peer certificate: ", why));
    return true;
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {
  }

 private:
  const std::shared_ptr<PeerTls::Trust> trust_;
  const std::string peer_;
};

}  // namespace

absl::StatusOr<PeerTlsPems> ReadPeerTlsPems(const config::TlsConfig& tls) {
  PeerTlsPems pems;
  for (const auto& [flag, path, pem] :
       {std::tuple<const char*, std::string, std::string*>{
            "--tls-cert-file", tls.cert_file, &pems.cert},
        {"--tls-key-file", tls.key_file, &pems.key},
        {"--tls-ca-file", tls.ca_file, &pems.ca}}) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    if (!file || text.str().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(flag, " ", path, ": cannot read it (--raft-tls)"));
    }
    *pem = text.str();
  }
  return pems;
}

std::string CheckPeerChain(const std::string& ca_pem, const std::string& chain,
                           const std::string& host, std::string* subject) {
  std::vector<X509*> certs = ReadCerts(chain);
  if (certs.empty()) return "no certificate";
  *subject = SubjectOf(certs[0]);
  std::vector<X509*> cas = ReadCerts(ca_pem);
  X509_STORE* store = X509_STORE_new();
  for (X509* ca : cas) X509_STORE_add_cert(store, ca);
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted, certs[i]);
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  std::string why;
  if (X509_STORE_CTX_init(context, store, certs[0], untrusted) != 1) {
    why = "cannot verify (OpenSSL)";
  } else {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context);
    if (!host.empty() &&
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    }
    if (X509_verify_cert(context) != 1) {
      why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(context));
    }
  }
  X509_STORE_CTX_free(context);
  sk_X509_free(untrusted);
  X509_STORE_free(store);
  FreeCerts(cas);
  FreeCerts(certs);
  ERR_clear_error();
  return why;
}

PeerTls::PeerTls(std::string dir) : dir_(std::move(dir)) {}

absl::StatusOr<std::shared_ptr<PeerTls>> PeerTls::Create(
    const std::string& dir, const PeerTlsPems& pems) {
  std::shared_ptr<PeerTls> tls(new PeerTls(dir));
  if (absl::Status status = tls->Update(pems); !status.ok()) return status;
  tls->trust_ = std::make_shared<Trust>(pems.ca);
  tls->verifier_ =
      grpc::experimental::ExternalCertificateVerifier::Create<Verifier>(
          tls->trust_, std::string());
  const std::string current = dir + "/current/";
  tls->provider_ =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          current + "key.pem", current + "cert.pem", current + "ca.pem",
          /*refresh_interval_sec=*/1);
  return tls;
}

absl::Status PeerTls::Update(const PeerTlsPems& pems) {
  std::vector<X509*> certs = ReadCerts(pems.cert);
  std::vector<X509*> cas = ReadCerts(pems.ca);
  BIO* bio =
      BIO_new_mem_buf(pems.key.data(), static_cast<int>(pems.key.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  const bool matches = !certs.empty() && key != nullptr &&
                       X509_check_private_key(certs[0], key) == 1;
  const bool have_cas = !cas.empty();
  EVP_PKEY_free(key);
  FreeCerts(certs);
  FreeCerts(cas);
  ERR_clear_error();
  if (!matches) {
    return absl::InvalidArgumentError(
        "raft TLS: the key does not match the certificate (or either is not "
        "PEM)");
  }
  if (!have_cas) {
    return absl::InvalidArgumentError("raft TLS: no CA certificate");
  }
  if (absl::Status status = Stage(pems); !status.ok()) return status;
  if (trust_ != nullptr) trust_->set_ca(pems.ca);
  return absl::OkStatus();
}

absl::Status PeerTls::Stage(const PeerTlsPems& pems) {
  std::error_code error;
  const std::string generation = absl::StrCat("gen-", ++generation_);
  const std::string path = dir_ + "/" + generation;
  std::filesystem::remove_all(path, error);
  std::filesystem::create_directories(path, error);
  chmod(dir_.c_str(), 0700);  // a copy of the private key lives here
  if (error) {
    return absl::InternalError(
        absl::StrCat("raft TLS: cannot create ", path, ": ", error.message()));
  }
  for (const auto& [name, text, mode] :
       {std::tuple<const char*, const std::string*, mode_t>{"cert.pem",
                                                            &pems.cert, 0644},
        {"key.pem", &pems.key, 0600},
        {"ca.pem", &pems.ca, 0644}}) {
    absl::Status status = WriteFile(path + "/" + name, *text, mode);
    if (!status.ok()) return status;
  }
  // Swap dir/current to the new generation in one rename.
  const std::string link = dir_ + "/current.new";
  std::filesystem::remove(link, error);
  std::filesystem::create_directory_symlink(generation, link, error);
  if (!error) std::filesystem::rename(link, dir_ + "/current", error);
  if (error) {
    return absl::InternalError(absl::StrCat("raft TLS: cannot switch ", dir_,
                                            "/current: ", error.message()));
  }
  if (generation_ > 2) {
    std::filesystem::remove_all(absl::StrCat(dir_, "/gen-", generation_ - 2),
                                error);
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> PeerTls::ServerCredentials() {
  grpc::experimental::TlsServerCredentialsOptions options(provider_);
  options.watch_identity_key_cert_pairs();
  options.watch_root_certs();
  // A peer must present a certificate; Verifier checks it (and logs).
  options.set_cert_request_type(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  options.set_certificate_verifier(verifier_);
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> PeerTls::ChannelCredentials(
    const std::string& peer) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(provider_);
  options.watch_identity_key_cert_pairs();
  options.watch_root_certs();
  options.set_verify_server_certs(false);  // Verifier does, with the host
  options.set_check_call_host(false);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<Verifier>(trust_,
                                                                        peer));
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace chronik::runtime
