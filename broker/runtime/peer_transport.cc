#include "broker/runtime/peer_transport.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/runtime/log.h"
#include "proto/raft.grpc.pb.h"

namespace chronik::runtime {

// Receives batches from peers.
class PeerTransport::Service final : public raftpb::RaftTransport::Service {
 public:
  explicit Service(Deliver deliver) : deliver_(std::move(deliver)) {}

  // After Close() returns, deliver_ is never called again (a handler still
  // reading drops what it reads).
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }

  grpc::Status Send(grpc::ServerContext* /*context*/,
                    grpc::ServerReader<raftpb::MessageBatch>* reader,
                    raftpb::SendAck* ack) override {
    raftpb::MessageBatch batch;
    while (reader->Read(&batch)) {
      std::vector<raft::WireMessage> messages;
      messages.reserve(batch.messages_size());
      for (const raftpb::Message& wire : batch.messages()) {
        absl::StatusOr<raft::WireMessage> message = raft::FromProto(wire);
        if (!message.ok()) {
          LogWarn(absl::StrCat("raft message from node ", batch.from_node(),
                               " dropped: ", message.status().message()));
          continue;
        }
        messages.push_back(*std::move(message));
      }
      ack->set_batches_received(ack->batches_received() + 1);
      ack->set_messages_received(ack->messages_received() + messages.size());
      if (messages.empty()) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_)
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stopped");
      deliver_(std::move(messages));
    }
    return grpc::Status::OK;
  }

 private:
  const Deliver deliver_;
  std::mutex mu_;
  bool closed_ = false;  // guarded by mu_
};

// One peer's queue and the thread that streams it.
class PeerTransport::Sender {
 public:
  Sender(const PeerTransportOptions& options, raft::NodeId peer,
         std::string address,
         std::shared_ptr<grpc::ChannelCredentials> credentials,
         PeerTransport* transport)
      : options_(options),
        peer_(peer),
        address_(std::move(address)),
        credentials_(std::move(credentials)),
        dropped_(&transport->dropped_),
        peak_queued_(&transport->peak_queued_),
        slow_writes_(&transport->slow_writes_),
        late_batches_(&transport->late_batches_) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Sender() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    changed_.notify_all();
    thread_.join();
  }

  void Enqueue(raftpb::Message message) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.size() >= options_.max_queued_messages_per_peer) {
        dropped_->fetch_add(1);
        return;
      }
      queue_.push_back({std::move(message), std::chrono::steady_clock::now()});
      const uint64_t queued = queue_.size();
      uint64_t peak = peak_queued_->load();
      while (queued > peak &&
             !peak_queued_->compare_exchange_weak(peak, queued)) {
      }
    }
    changed_.notify_one();
  }

 private:
  // Takes queued messages into one batch (bounded by bytes); false when
  // stopping.
  bool NextBatch(raftpb::MessageBatch* batch) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return false;
    batch->Clear();
    batch->set_from_node(options_.self);
    batch->set_to_node(peer_);
    if (std::chrono::steady_clock::now() - queue_.front().queued_at >
        std::chrono::milliseconds(PeerTransport::kSlowSendMs)) {
      late_batches_->fetch_add(1);
    }
    size_t bytes = 0;
    while (!queue_.empty() &&
           (batch->messages_size() == 0 || bytes < options_.max_batch_bytes)) {
      bytes += queue_.front().message.ByteSizeLong();
      *batch->add_messages() = std::move(queue_.front().message);
      queue_.pop_front();
    }
    return true;
  }

  void Run() {
    // Reconnect within a second (gRPC's default backoff grows to minutes):
    // a peer back up, or one whose certificate was fixed, is reached soon.
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                     options_.reconnect_backoff_ms);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                     options_.reconnect_backoff_ms);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(address_, credentials_, arguments);
    std::unique_ptr<raftpb::RaftTransport::Stub> stub =
        raftpb::RaftTransport::NewStub(channel);
    raftpb::SendAck ack;
    std::unique_ptr<grpc::ClientWriter<raftpb::MessageBatch>> writer;
    raftpb::MessageBatch batch;
    while (NextBatch(&batch)) {
      if (writer == nullptr) {
        auto context = std::make_unique<grpc::ClientContext>();
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stopping_) return;
          context_ = context.get();
        }
        writer = stub->Send(context.get(), &ack);
        owned_context_ = std::move(context);
      }
      const auto write_began = std::chrono::steady_clock::now();
      const bool written = writer->Write(batch);
      if (std::chrono::steady_clock::now() - write_began >
          std::chrono::milliseconds(PeerTransport::kSlowSendMs)) {
        slow_writes_->fetch_add(1);
      }
      if (written) continue;
      // The stream broke (peer down or restarting): drop this batch (Raft
      // retransmits) and reopen after a pause.
      dropped_->fetch_add(batch.messages_size());
      writer->Finish().IgnoreError();
      writer.reset();
      {
        std::lock_guard<std::mutex> lock(mu_);
        context_ = nullptr;
      }
      owned_context_.reset();
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait_for(
          lock, std::chrono::milliseconds(options_.reconnect_backoff_ms),
          [&] { return stopping_; });
    }
    if (writer != nullptr) {
      writer->WritesDone();
      writer->Finish().IgnoreError();
    }
  }

  const PeerTransportOptions& options_;
  const raft::NodeId peer_;
  const std::string address_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::atomic<uint64_t>* const dropped_;
  std::atomic<uint64_t>* const peak_queued_;
  std::atomic<uint64_t>* const slow_writes_;
  std::atomic<uint64_t>* const late_batches_;
  std::mutex mu_;
  std::condition_variable changed_;
  struct Queued {
    raftpb::Message message;
    std::chrono::steady_clock::time_point queued_at;  // late_batches
  };
  std::deque<Queued> queue_;                // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  grpc::ClientContext* context_ = nullptr;  // guarded by mu_ (to cancel)
  std::unique_ptr<grpc::ClientContext> owned_context_;  // sender thread only
  std::thread thread_;
};

PeerTransport::PeerTransport(const PeerTransportOptions& options)
    : options_(options) {}

absl::StatusOr<std::unique_ptr<PeerTransport>> PeerTransport::Start(
    const PeerTransportOptions& options, Deliver deliver) {
  CHRONIK_CHECK(deliver != nullptr);
  std::unique_ptr<PeerTransport> transport(new PeerTransport(options));
  transport->service_ = std::make_unique<Service>(std::move(deliver));
  grpc::ServerBuilder builder;
  const std::string address =
      absl::StrCat(options.bind_host, ":", options.port);
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::InsecureServerCredentials();
  if (!options.tls_cert_pem.empty()) {
    // A peer must present a certificate signed by the CAs (peer_tls.h).
    const std::string dir =
        !options.tls_dir.empty()
            ? options.tls_dir
            : absl::StrCat(std::filesystem::temp_directory_path().string(),
                           "/chronik-raft-tls-", getpid(), "-", options.self,
                           "-", reinterpret_cast<uintptr_t>(transport.get()));
    absl::StatusOr<std::shared_ptr<PeerTls>> tls = PeerTls::Create(
        dir, {options.tls_cert_pem, options.tls_key_pem, options.tls_ca_pem});
    if (!tls.ok()) return tls.status();
    transport->tls_ = *std::move(tls);
    credentials = transport->tls_->ServerCredentials();
  }
  builder.AddListeningPort(address, credentials, &transport->port_);
  builder.RegisterService(transport->service_.get());
  builder.SetMaxReceiveMessageSize(64 << 20);
  // One port, one server: do not share it with another process.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  transport->server_ = builder.BuildAndStart();
  if (transport->server_ == nullptr || transport->port_ == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("raft listener on ", address, ": port ", options.port,
                     " is already in use (or the address cannot be bound)"));
  }
  for (const auto& [id, peer_address] : options.peers) {
    transport->SetPeer(id, peer_address);
  }
  return transport;
}

bool PeerTransport::SetPeer(raft::NodeId id, const std::string& address) {
  if (stopped_ || id == options_.self) return false;
  auto known = addresses_.find(id);
  if (known != addresses_.end() && known->second == address) return false;
  addresses_[id] = address;
  senders_[id] = std::make_unique<Sender>(
      options_, id, address,
      tls_ != nullptr ? tls_->ChannelCredentials(address)
                      : grpc::InsecureChannelCredentials(),
      this);
  return true;
}

absl::Status PeerTransport::ReloadTls(const PeerTlsPems& pems) {
  if (tls_ == nullptr) {
    return absl::FailedPreconditionError("the raft transport is plaintext");
  }
  return tls_->Update(pems);
}

PeerTransport::~PeerTransport() { Stop(); }

void PeerTransport::Stop() {
  if (stopped_) return;
  stopped_ = true;
  senders_.clear();
  // No delivery after this, whatever gRPC still does: a delivery into a freed
  // event loop crashed nodes on SIGTERM with live peers.
  if (service_ != nullptr) service_->Close();
  // Peers' incoming streams never end on their own: a plain Shutdown() would
  // wait for them forever (a node with live peers never exited on SIGTERM).
  // With a deadline, gRPC cancels them; their handlers return at once.
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
}

void PeerTransport::Send(uint64_t group_id, const raft::Message& message) {
  if (stopped_) {
    dropped_.fetch_add(1);
    return;
  }
  auto it = senders_.find(message.to);
  if (it == senders_.end()) {
    dropped_.fetch_add(1);
    return;
  }
  raftpb::Message wire;
  raft::ToProto(message, group_id, &wire);
  it->second->Enqueue(std::move(wire));
}

}  // namespace chronik::runtime
