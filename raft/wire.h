// Conversion between the core's plain structs (types.h) and the wire schema
// (proto/raft.proto), for the production driver's transport edge.
//
// The core never sees protobuf types. A driver converts each outgoing Message
// with ToProto (adding the Raft group id, which the core does not know) and
// each received one with FromProto, which validates what came off the wire
// (unknown enum values, a snapshot on a non-snapshot message) and returns an
// error instead of crashing. Payload bytes are copied once here (into or out
// of the protobuf), never per follower inside the core. Stateless; thread-safe.
#ifndef CHRONIK_RAFT_WIRE_H_
#define CHRONIK_RAFT_WIRE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "proto/raft.pb.h"
#include "raft/types.h"

namespace chronik::raft {

void ToProto(const Message& message, uint64_t group_id, raftpb::Message* out);

struct WireMessage {
  uint64_t group_id = 0;
  Message message;
};
absl::StatusOr<WireMessage> FromProto(const raftpb::Message& in);

void ToProto(const HardState& hard_state, raftpb::HardState* out);
HardState FromProto(const raftpb::HardState& in);
void ToProto(const ConfState& conf_state, raftpb::ConfState* out);
ConfState FromProto(const raftpb::ConfState& in);

}  // namespace chronik::raft

#endif  // CHRONIK_RAFT_WIRE_H_
