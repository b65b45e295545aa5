// BrokerWorld::Call, the one way a simulated client sends a request (the
// real codec: EncodeRequestFrame, DecodeResponseFrame) and waits for its
// answer or its timeout; a template shared by the client files.
#ifndef CHRONIK_SIM_BROKER_WORLD_CALL_H_
#define CHRONIK_SIM_BROKER_WORLD_CALL_H_

#include <functional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/protocol.h"
#include "sim/broker_world.h"

namespace chronik::sim {

// A Kafka error code's name for traces and failures ("error N" if unknown).
inline std::string ErrorName(int16_t code) {
  const char* name = kafka::error::Name(code);
  return name != nullptr ? name : absl::StrCat("error ", code);
}

template <typename Response, typename Request>
void BrokerWorld::Call(SimClient& client, int node_id, int16_t version,
                       const Request& request,
                       std::function<void(SimClient&, const Response&)> done,
                       Nanos timeout) {
  PendingRequest pending;
  pending.correlation = client.next_correlation++;
  pending.attempt = ++client.attempt;
  const int index = client.index;
  pending.on_response = [this, index, version,
                         done = std::move(done)](absl::string_view payload) {
    Response response;
    int32_t correlation = 0;
    absl::Status decoded =
        kafka::DecodeResponseFrame(payload, version, &correlation, &response);
    if (!decoded.ok()) {
      Fail(absl::StrCat("client ", index, " cannot decode ", Response::kName,
                        ": ", decoded.ToString()));
      return;
    }
    Record(Trace::kWorld, "response",
           {static_cast<uint64_t>(index), static_cast<uint64_t>(correlation)});
    done(clients_[index], response);
  };
  const std::string frame =
      kafka::EncodeRequestFrame(version, pending.correlation,
                                std::string(absl::StrCat("c", index)), request);
  Record(Trace::kWorld, "request",
         {static_cast<uint64_t>(index), static_cast<uint64_t>(Request::kApiKey),
          static_cast<uint64_t>(node_id),
          static_cast<uint64_t>(pending.correlation)},
         [] { return std::string(Request::kName); });
  client.pending = std::move(pending);
  const uint64_t attempt = client.attempt;
  scheduler_.After(timeout, [this, index, attempt] {
    SimClient& timed_out = clients_[index];
    if (timed_out.pending.has_value() && timed_out.attempt == attempt) {
      ClientFailed(timed_out, "request timeout");
    }
  });
  SendFrame(client, node_id, frame);
}

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_BROKER_WORLD_CALL_H_
