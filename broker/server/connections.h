// ConnectionTable: the Kafka connections of one broker node. It frames the
// bytes a driver delivers, decodes each request, hands it to the dispatcher
// with a RequestContext, and sends the responses of each connection in
// request order (a response finished early waits for the ones before it).
//
// Backpressure: a connection with max_inflight_requests_per_connection
// requests unanswered is paused (ConnectionAction kPauseReading) and resumed
// when a response goes out. A malformed frame closes its connection with a log
// line naming why. Per-API request, error and latency counters feed /metrics.
//
// Outputs are appended to the node's StepOutput (never sent from here), so a
// driver never sees a call back into the node. Deterministic; one thread.
#ifndef CHRONIK_BROKER_SERVER_CONNECTIONS_H_
#define CHRONIK_BROKER_SERVER_CONNECTIONS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/input_buffer.h"
#include "base/shared_bytes.h"
#include "broker/config/server_config.h"
#include "broker/env/env.h"
#include "broker/kafka/messages.h"
#include "broker/kafka/protocol.h"
#include "broker/server/metrics.h"
#include "broker/server/security.h"

namespace chronik::broker {

using env::ConnectionId;

// Where a request came from and where its response goes.
struct RequestContext {
  ConnectionId connection = 0;
  uint64_t seq = 0;  // per connection, in arrival order
  kafka::RequestHeader header;
  int64_t start_ms = 0;
  std::string client_host;
  std::string listener;  // the listener the connection came in on
  env::SecurityProtocol protocol = env::SecurityProtocol::kPlaintext;
  std::string principal = kAnonymous;  // as authenticated (security.h)
};

class ConnectionTable {
 public:
  using Dispatch =
      std::function<void(const RequestContext&, kafka::AnyRequest&)>;

  ConnectionTable(const config::ServerConfig& config, env::Clock* clock,
                  env::LogSink* log, env::StepOutput* out);

  void Open(ConnectionId id, const env::ConnectionInfo& info);
  // The driver closed it: responses still being prepared go nowhere.
  void Closed(ConnectionId id);
  // Frames and dispatches every complete request in `input` (up to the
  // in-flight bound); consumed bytes leave `input`. Complete frames are
  // taken over without a copy (InputBuffer::Take; requests slice them); the
  // bytes after them are put back into `input`, which reserves room for
  // the frame they start (the driver reads into it directly).
  void Read(ConnectionId id, InputBuffer* input, const Dispatch& dispatch);

  // Answers a request: `frame` (nullopt: acks=0, no response) is sent once
  // every earlier request of its connection has been answered.
  void Deliver(const RequestContext& context, std::optional<ByteChain> frame,
               bool had_error);
  template <typename Response>
  void Finish(const RequestContext& context, const Response& response,
              bool had_error = false) {
    Deliver(context, kafka::EncodeResponseChain(context.header, response),
            had_error);
  }

  // The connection's SASL session (nullptr when closed).
  SaslSession* sasl(ConnectionId id) {
    auto it = connections_.find(id);
    return it == connections_.end() ? nullptr : &it->second.sasl;
  }
  // Closes a connection after what was sent before, logging `why`.
  void Close(ConnectionId id, absl::string_view why);
  // A failed authentication: its answer `frame` (none after a bare SASL
  // token) goes out and the connection closes (logging `why`) only after
  // failed_authentication_delay_ms (Kafka's
  // connection.failed.authentication.delay.ms); meanwhile it reads nothing.
  void FailAuthentication(const RequestContext& context,
                          std::optional<std::string> frame,
                          absl::string_view why);
  // Answers and closes the failed authentications whose delay is over.
  void CloseFailedAuthentications();

  bool IsOpen(ConnectionId id) const { return connections_.count(id) > 0; }
  size_t size() const { return connections_.size(); }
  // Fills the connection and request counters of `metrics`.
  void AddMetrics(BrokerMetrics* metrics) const;

 private:
  struct Connection {
    env::ConnectionInfo info;
    uint64_t next_seq = 0;      // sequence of the next request read
    uint64_t next_to_send = 0;  // sequence of the next response to send
    // Finished responses waiting for earlier ones (nullopt: no response).
    std::map<uint64_t, std::optional<ByteChain>> finished;
    bool paused = false;
    SaslSession sasl;
    struct Failure {
      RequestContext context;
      std::optional<std::string> frame;
      std::string why;
      int64_t due_ms = 0;
    };
    std::optional<Failure> failed = {};  // FailAuthentication, delayed
  };
  void HandleFrame(ConnectionId id, Connection& connection,
                   absl::string_view payload,
                   const std::shared_ptr<const void>& frames,
                   const Dispatch& dispatch);
  void CloseMalformed(ConnectionId id, absl::string_view why);
  void CountLatency(const RequestContext& context, bool had_error);
  void Emit(ConnectionId id, env::ConnectionAction::Kind kind,
            ByteChain bytes = {});

  const config::ServerConfig& config_;
  env::Clock* const clock_;
  env::LogSink* const log_;
  env::StepOutput* const out_;
  std::map<ConnectionId, Connection> connections_;
  BrokerMetrics counters_;  // apis, bytes, malformed
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_CONNECTIONS_H_
