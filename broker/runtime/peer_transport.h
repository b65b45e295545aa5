// PeerTransport: Raft messages between chronik nodes over real gRPC
// (proto/raft.proto, RaftTransport.Send: one client stream per peer carries
// batches of messages for every Raft group the two nodes share).
//
// Sending: Send() (event-loop thread) converts the message (raft/wire.h) and
// queues it for its peer; one sender thread per peer drains its queue into
// MessageBatch writes on a long-lived stream, reopening it after a failure.
// Queues are bounded (max_queued_messages_per_peer); a full queue or a broken
// stream drops messages, which Raft tolerates (it retransmits).
// Receiving: a gRPC server on the node's raft port decodes each batch and
// hands the messages to `deliver` on a gRPC thread; the caller moves them to
// its event loop. Malformed messages are dropped with a log line.
//
// Shutdown: Stop() (also run by the destructor) cancels the peers' incoming
// streams (they never end on their own), waits for the gRPC handlers to
// return, and joins the senders. Once it returns `deliver` is never called
// again and Send() drops, so the caller may then free whatever `deliver`
// posts to (the event loop).
//
// Thread-safety: Send, Stop and dropped() from any one thread (the event
// loop's); `deliver` runs on gRPC threads.
#ifndef CHRONIK_BROKER_RUNTIME_PEER_TRANSPORT_H_
#define CHRONIK_BROKER_RUNTIME_PEER_TRANSPORT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/runtime/peer_tls.h"
#include "raft/types.h"
#include "raft/wire.h"

namespace chronik::runtime {

struct PeerTransportOptions {
  raft::NodeId self = raft::kNoNode;
  std::string bind_host = "127.0.0.1";
  int port = 0;  // the raft listener; 0 = any free port
  std::map<raft::NodeId, std::string> peers;  // id -> "host:raft_port"
  size_t max_queued_messages_per_peer = 100'000;
  size_t max_batch_bytes = 4 << 20;
  int reconnect_backoff_ms = 100;
  // Mutual TLS (PEM contents; empty cert_pem: plaintext): both ends present
  // a certificate signed by `ca_pem`, and peers' certificates must name the
  // host they are reached at (peer_tls.h: a refused one is logged). The PEMs
  // are staged under tls_dir (default: a directory under /tmp) and can be
  // replaced with ReloadTls.
  std::string tls_cert_pem;
  std::string tls_key_pem;
  std::string tls_ca_pem;
  std::string tls_dir;
};

class PeerTransport {
 public:
  using Deliver = std::function<void(std::vector<raft::WireMessage> messages)>;

  // Binds and starts serving; an error names the raft listener and port.
  static absl::StatusOr<std::unique_ptr<PeerTransport>> Start(
      const PeerTransportOptions& options, Deliver deliver);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  void Send(uint64_t group_id, const raft::Message& message);
  // Sends to `id` at `address` ("host:port") from now on: a peer that
  // joined after the start, or one whose address changed (its queued
  // messages are dropped). Same thread as Send. True when it changed.
  bool SetPeer(raft::NodeId id, const std::string& address);
  // Idempotent; see the header comment.
  void Stop();
  int port() const { return port_; }
  // New handshakes use these PEMs (within a second); an error (a key that
  // does not match, no CA) keeps the current ones. TLS transports only.
  absl::Status ReloadTls(const PeerTlsPems& pems);
  uint64_t dropped() const { return dropped_.load(); }
  // Most messages one peer's queue held (since start), and stream writes
  // that blocked over kSlowSendMs (HTTP/2 flow control: the peer reads
  // slower than this node sends). Either delays the heartbeats queued
  // behind, which the peers then see as a silent leader.
  static constexpr int64_t kSlowSendMs = 100;
  uint64_t peak_queued() const { return peak_queued_.load(); }
  uint64_t slow_writes() const { return slow_writes_.load(); }
  // Batches whose oldest message had waited in its queue over kSlowSendMs
  // when the sender took it (a sender thread behind, or starved of CPU).
  uint64_t late_batches() const { return late_batches_.load(); }

 private:
  class Service;
  class Sender;
  explicit PeerTransport(const PeerTransportOptions& options);

  const PeerTransportOptions options_;
  int port_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<PeerTls> tls_;  // --raft-tls
  std::map<raft::NodeId, std::unique_ptr<Sender>> senders_;
  std::map<raft::NodeId, std::string> addresses_;  // of the senders
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> peak_queued_{0};   // any sender thread
  std::atomic<uint64_t> slow_writes_{0};   // any sender thread
  std::atomic<uint64_t> late_batches_{0};  // any sender thread
  bool stopped_ = false;
};

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_PEER_TRANSPORT_H_
