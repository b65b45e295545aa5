// PeerTls: mutual TLS of the Raft transport (--raft-tls) over gRPC 1.51's TLS
// credentials (grpc::experimental::Tls*CredentialsOptions).
//
// Both ends present the node's certificate; the peer's chain is checked here
// (a grpc::experimental::ExternalCertificateVerifier running OpenSSL's
// X509_verify_cert against the CAs, and on the dialing side the host the peer
// is reached at) instead of inside gRPC, which refuses a bad certificate
// without a word: a refused certificate is logged with its subject, the
// reason, and (dialing side) the peer's address. gRPC's verifier request
// carries no peer address on the accepting side, so that line names the
// certificate only. Repeats of one line are logged at most every 10 s.
//
// Reload: the PEMs are staged under `dir` (dir/gen-N, dir/current a symlink
// swapped with rename) and served through a FileWatcherCertificateProvider
// reading dir/current; Update (SIGHUP) stages new PEMs after checking them,
// so new handshakes use them within a second; open streams keep theirs.
//
// Thread-safe (the verifier runs on gRPC threads).
#ifndef CHRONIK_BROKER_RUNTIME_PEER_TLS_H_
#define CHRONIK_BROKER_RUNTIME_PEER_TLS_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "broker/config/server_config.h"

namespace chronik::runtime {

struct PeerTlsPems {
  std::string cert;
  std::string key;
  std::string ca;
};

// Reads --tls-cert-file, --tls-key-file and --tls-ca-file; an error names
// the flag and file.
absl::StatusOr<PeerTlsPems> ReadPeerTlsPems(const config::TlsConfig& tls);

// Why `chain` (PEM, leaf first) is not signed by the CAs in `ca_pem` (or does
// not name `host`, when given); empty when it is. `subject` gets the leaf's
// subject (RFC 2253).
std::string CheckPeerChain(const std::string& ca_pem, const std::string& chain,
                           const std::string& host, std::string* subject);

class PeerTls {
 public:
  static absl::StatusOr<std::shared_ptr<PeerTls>> Create(
      const std::string& dir, const PeerTlsPems& pems);
  // Checks the PEMs (a key matching the certificate, CAs) and stages them.
  absl::Status Update(const PeerTlsPems& pems);

  std::shared_ptr<grpc::ServerCredentials> ServerCredentials();
  // For dialing the peer at `address` ("host:port", named when refused).
  std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(
      const std::string& address);

  class Trust;

 private:
  explicit PeerTls(std::string dir);
  absl::Status Stage(const PeerTlsPems& pems);

  const std::string dir_;
  int generation_ = 0;
  std::shared_ptr<Trust> trust_;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
  std::shared_ptr<grpc::experimental::CertificateVerifier> verifier_;  // accept
};

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_PEER_TLS_H_
