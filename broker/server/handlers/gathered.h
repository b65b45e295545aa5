// Gathered<Response>: a response assembled from parts that complete later
// (metadata proposals to commit), sent once: when the last part is done or at
// its deadline, whichever comes first.
#ifndef CHRONIK_BROKER_SERVER_HANDLERS_GATHERED_H_
#define CHRONIK_BROKER_SERVER_HANDLERS_GATHERED_H_

#include <algorithm>
#include <memory>

#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

template <typename Response>
struct Gathered {
  RequestContext context;
  Response response;
  int remaining = 0;  // parts not done yet
  bool finished = false;
};

// Whether any part of a response carries an error (for the error metrics).
template <typename Results>
bool AnyError(const Results& results) {
  return std::any_of(results.begin(), results.end(),
                     [](const auto& r) { return r.error_code != 0; });
}
inline bool HasAnyError(const kafka::CreateTopicsResponse& r) {
  return AnyError(r.topics);
}
inline bool HasAnyError(const kafka::DeleteTopicsResponse& r) {
  return AnyError(r.responses);
}
inline bool HasAnyError(const kafka::CreatePartitionsResponse& r) {
  return AnyError(r.results);
}
inline bool HasAnyError(const kafka::AlterConfigsResponse& r) {
  return AnyError(r.responses);
}
inline bool HasAnyError(const kafka::AlterPartitionReassignmentsResponse& r) {
  return r.error_code != 0 ||
         std::any_of(
             r.responses.begin(), r.responses.end(),
             [](const auto& topic) { return AnyError(topic.partitions); });
}
inline bool HasAnyError(const kafka::DeleteGroupsResponse& r) {
  return AnyError(r.results);
}
inline bool HasAnyError(const kafka::IncrementalAlterConfigsResponse& r) {
  return AnyError(r.responses);
}
inline bool HasAnyError(const kafka::DeleteRecordsResponse& r) {
  return std::any_of(r.topics.begin(), r.topics.end(),
                     [](const auto& t) { return AnyError(t.partitions); });
}

template <typename Response>
void FinishGathered(Services& s,
                    const std::shared_ptr<Gathered<Response>>& gathered) {
  if (gathered->finished) return;
  gathered->finished = true;
  s.connections.Finish(gathered->context, gathered->response,
                       HasAnyError(gathered->response));
}

template <typename Response>
void PartDone(Services& s,
              const std::shared_ptr<Gathered<Response>>& gathered) {
  if (!gathered->finished && --gathered->remaining == 0) {
    FinishGathered(s, gathered);
  }
}

// One part of `wait`: proposes `command` to the metadata group and, once
// applied (or refused), records its error in `out` (`dropped`, by default
// NOT_CONTROLLER, when the proposal was dropped) and marks the part done.
template <typename Response, typename Out>
void ProposePart(Services& s, const std::shared_ptr<Gathered<Response>>& wait,
                 Out* out, const metapb::MetadataCommand& command,
                 int16_t dropped = kafka::error::kNotController) {
  ++wait->remaining;
  s.metadata.Propose(
      command, [&s, wait, out, dropped](const metadata::ApplyResult* result) {
        if (wait->finished) return;
        out->error_code = result == nullptr ? dropped : result->error_code;
        if (result != nullptr && result->error_code != 0) {
          out->error_message = result->error_message;
        }
        PartDone(s, wait);
      });
}

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_HANDLERS_GATHERED_H_
