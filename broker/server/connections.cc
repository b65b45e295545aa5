#include "broker/server/connections.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/wire.h"

namespace chronik::broker {
namespace {

const char* ApiName(int16_t key) {
  const kafka::ApiInfo* api = kafka::FindApi(key);
  return api == nullptr ? "Unknown" : api->name;
}

// A frame header alone reserves at most this much of its frame's bytes;
// larger frames grow geometrically as their bytes arrive.
constexpr size_t kMaxFrameReserveBytes = 8 << 20;

// Room past a large frame's end, so that the production driver still reads
// its last bytes straight into the input (it does so while at least
// runtime::kMinDirectReadBytes, 16 KiB, are spare) and the next frame's
// first bytes read with them fit without growing the buffer.
constexpr size_t kFrameTailSlackBytes = 16 << 10;

// The capacity the input should have when it starts with `head`: room for
// the whole frame whose header starts it, so the production driver reads
// socket bytes straight into the spare capacity and a large Produce request
// is neither copied by growth nor through a bounce buffer (see
// EventLoop::HandleReadable). 0: no frame header yet.
size_t FrameReserveBytes(absl::string_view head) {
  if (head.size() < kafka::kFrameSizeBytes) return 0;
  const uint32_t declared = kafka::LoadBigEndian32(head.data());
  if (declared > INT32_MAX) return 0;  // malformed: Read closes it next time
  const size_t total = kafka::kFrameSizeBytes + declared;
  if (total < kFrameTailSlackBytes) return total;
  return std::min<size_t>(total + kFrameTailSlackBytes, kMaxFrameReserveBytes);
}

}  // namespace

ConnectionTable::ConnectionTable(const config::ServerConfig& config,
                                 env::Clock* clock, env::LogSink* log,
                                 env::StepOutput* out)
    : config_(config), clock_(clock), log_(log), out_(out) {
  CHRONIK_CHECK(clock != nullptr && log != nullptr && out != nullptr);
}

void ConnectionTable::Open(ConnectionId id, const env::ConnectionInfo& info) {
  CHRONIK_CHECK(connections_.count(id) == 0)
      << "connection " << id << " opened twice";
  Connection& connection = connections_[id];
  connection.info = info;
  connection.sasl.required =
      info.protocol == env::SecurityProtocol::kSaslPlaintext ||
      info.protocol == env::SecurityProtocol::kSaslSsl;
  if (!info.tls_principal.empty()) {
    connection.sasl.principal = info.tls_principal;
  }
}

void ConnectionTable::Close(ConnectionId id, absl::string_view why) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  log_->Log(
      env::LogLevel::kWarn,
      absl::StrCat("closing connection ", it->second.info.peer, ": ", why));
  connections_.erase(it);
  Emit(id, env::ConnectionAction::Kind::kClose);
}

void ConnectionTable::Closed(ConnectionId id) { connections_.erase(id); }

void ConnectionTable::FailAuthentication(const RequestContext& context,
                                         std::optional<std::string> frame,
                                         absl::string_view why) {
  auto it = connections_.find(context.connection);
  if (it == connections_.end()) return;
  Connection& connection = it->second;
  if (config_.failed_authentication_delay_ms <= 0) {
    if (frame.has_value()) Deliver(context, std::move(frame), true);
    Close(context.connection, why);
    return;
  }
  connection.failed = Connection::Failure{
      context, std::move(frame), std::string(why),
      clock_->NowMs() + config_.failed_authentication_delay_ms};
  if (!connection.paused) {
    connection.paused = true;
    Emit(context.connection, env::ConnectionAction::Kind::kPauseReading);
  }
}

void ConnectionTable::CloseFailedAuthentications() {
  std::vector<Connection::Failure> due;
  for (auto& [id, connection] : connections_) {
    if (connection.failed.has_value() &&
        connection.failed->due_ms <= clock_->NowMs()) {
      due.push_back(*std::move(connection.failed));
    }
  }
  for (Connection::Failure& failure : due) {
    if (failure.frame.has_value()) {
      Deliver(failure.context, std::move(failure.frame), true);
    }
    Close(failure.context.connection, failure.why);
  }
}

void ConnectionTable::Emit(ConnectionId id, env::ConnectionAction::Kind kind,
                           ByteChain bytes) {
  out_->connections.push_back(
      env::ConnectionAction{id, kind, std::move(bytes)});
}

void ConnectionTable::CloseMalformed(ConnectionId id, absl::string_view why) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ++counters_.malformed_requests;
  log_->Log(
      env::LogLevel::kWarn,
      absl::StrCat("closing connection ", it->second.info.peer, ": ", why));
  connections_.erase(it);
  Emit(id, env::ConnectionAction::Kind::kClose);
}

void ConnectionTable::Read(ConnectionId id, InputBuffer* input,
                           const Dispatch& dispatch) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& connection = it->second;
  if (connection.failed.has_value()) return;  // closing; reads nothing
  const uint64_t max_in_flight =
      static_cast<uint64_t>(config_.max_inflight_requests_per_connection);
  // Once the input holds a complete frame it is taken over as one shared
  // buffer (no copy), so a Produce request's record batches reach Raft and
  // storage as slices of it; the unread rest is put back.
  SharedBytes frames;  // empty until taken (a complete frame is not empty)
  absl::string_view buffer(input->data(), input->size());
  size_t consumed = 0;
  while (true) {
    if (connection.next_seq - connection.next_to_send >= max_in_flight) {
      // Backpressure: leave the rest buffered until responses go out.
      if (!connection.paused) {
        connection.paused = true;
        Emit(id, env::ConnectionAction::Kind::kPauseReading);
      }
      break;
    }
    absl::StatusOr<size_t> frame_bytes = kafka::CompleteFrameBytes(
        buffer.substr(consumed),
        static_cast<int32_t>(config_.max_request_bytes));
    if (!frame_bytes.ok()) {
      CloseMalformed(id, frame_bytes.status().message());
      return;
    }
    if (*frame_bytes == 0) break;
    if (frames.empty()) {
      frames = input->Take();
      buffer = frames.absl_view();
    }
    const absl::string_view frame = buffer.substr(consumed, *frame_bytes);
    counters_.bytes_in += *frame_bytes;
    consumed += *frame_bytes;
    HandleFrame(id, connection, frame.substr(kafka::kFrameSizeBytes),
                frames.owner(), dispatch);
    if (connections_.count(id) == 0) return;  // closed while handling
  }
  const absl::string_view rest = buffer.substr(consumed);
  // Reserved before the rest is put back: the rest is copied once.
  input->Reserve(FrameReserveBytes(rest));
  if (!frames.empty())
    input->Append(std::string_view(rest.data(), rest.size()));
}

void ConnectionTable::HandleFrame(ConnectionId id, Connection& connection,
                                  absl::string_view payload,
                                  const std::shared_ptr<const void>& frames,
                                  const Dispatch& dispatch) {
  RequestContext context;
  context.connection = id;
  context.start_ms = clock_->NowMs();
  context.client_host = connection.info.peer;
  context.listener = connection.info.listener;
  context.protocol = connection.info.protocol;
  context.principal = connection.sasl.principal;
  if (connection.sasl.raw_tokens) {
    // After SaslHandshake v0 the client sends bare SASL tokens: handled as
    // a SaslAuthenticate of version -1, answered with a bare token.
    context.seq = connection.next_seq++;
    context.header.api_key = kafka::SaslAuthenticateRequest::kApiKey;
    context.header.api_version = -1;
    kafka::AnyRequest token = kafka::SaslAuthenticateRequest{};
    std::get<kafka::SaslAuthenticateRequest>(token).auth_bytes =
        std::string(payload);
    dispatch(context, token);
    return;
  }
  absl::StatusOr<kafka::DecodedRequest> decoded =
      kafka::DecodeRequestFrame(payload, frames);
  if (!decoded.ok()) {
    absl::string_view body;
    absl::StatusOr<kafka::RequestHeader> header =
        kafka::DecodeRequestHeader(payload, &body);
    if (header.ok() && header->api_key == kafka::ApiVersionsRequest::kApiKey &&
        absl::IsUnimplemented(decoded.status())) {
      // An ApiVersions version we do not speak: answer in v0 with error 35.
      context.seq = connection.next_seq++;
      context.header = *header;
      Deliver(context, kafka::EncodeApiVersionsResponseFrame(*header), true);
      return;
    }
    CloseMalformed(id, decoded.status().message());
    return;
  }
  context.seq = connection.next_seq++;
  context.header = decoded->header;
  ++counters_.apis[ApiName(context.header.api_key)].requests;
  dispatch(context, decoded->body);
}

void ConnectionTable::CountLatency(const RequestContext& context,
                                   bool had_error) {
  ApiMetrics& api = counters_.apis[ApiName(context.header.api_key)];
  const int64_t latency_ms =
      std::max<int64_t>(0, clock_->NowMs() - context.start_ms);
  api.latency_ms_sum += static_cast<uint64_t>(latency_ms);
  size_t bucket = 0;
  while (bucket < std::size(kLatencyBucketsMs) &&
         latency_ms > kLatencyBucketsMs[bucket]) {
    ++bucket;
  }
  ++api.latency_buckets[bucket];
  if (had_error) ++api.errors;
}

void ConnectionTable::Deliver(const RequestContext& context,
                              std::optional<ByteChain> frame, bool had_error) {
  CountLatency(context, had_error);
  auto it = connections_.find(context.connection);
  if (it == connections_.end()) return;  // closed meanwhile
  Connection& connection = it->second;
  CHRONIK_CHECK_GE(context.seq, connection.next_to_send);
  CHRONIK_CHECK_LT(context.seq, connection.next_seq);
  CHRONIK_CHECK(connection.finished.count(context.seq) == 0)
      << "request " << context.seq << " answered twice";
  connection.finished.emplace(context.seq, std::move(frame));
  while (!connection.finished.empty() &&
         connection.finished.begin()->first == connection.next_to_send) {
    std::optional<ByteChain>& ready = connection.finished.begin()->second;
    if (ready.has_value()) {
      counters_.bytes_out += ready->size();
      Emit(context.connection, env::ConnectionAction::Kind::kSend,
           std::move(*ready));
    }
    connection.finished.erase(connection.finished.begin());
    ++connection.next_to_send;
  }
  if (connection.paused && !connection.failed.has_value()) {
    connection.paused = false;
    Emit(context.connection, env::ConnectionAction::Kind::kResumeReading);
  }
}

void ConnectionTable::AddMetrics(BrokerMetrics* metrics) const {
  metrics->apis = counters_.apis;
  metrics->bytes_in = counters_.bytes_in;
  metrics->bytes_out = counters_.bytes_out;
  metrics->malformed_requests = counters_.malformed_requests;
  metrics->connections = connections_.size();
}

}  // namespace chronik::broker
