// The client side of Kafka's "consumer" group protocol, as the Java consumer
// and librdkafka encode it (the broker never reads these bytes: they travel
// opaquely through JoinGroup and SyncGroup): the subscription a member
// joins with, the assignment the leader member computes with the range
// assignor and sends in SyncGroup.
#ifndef CHRONIK_SIM_CONSUMER_PROTOCOL_H_
#define CHRONIK_SIM_CONSUMER_PROTOCOL_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace chronik::sim {

// ConsumerProtocolSubscription v0 of one topic, no user data.
std::string Subscription(absl::string_view topic);
// ConsumerProtocolAssignment v0: `partitions` of `topic`.
std::string EncodeAssignment(absl::string_view topic,
                             const std::vector<int>& partitions);
// The partitions of an assignment, sorted (empty bytes: none).
absl::StatusOr<std::vector<int>> DecodeAssignment(absl::string_view bytes);
// The range assignor: members sorted by id, each a contiguous run of
// partitions, the first (partitions % members) one more.
std::vector<std::pair<std::string, std::vector<int>>> RangeAssign(
    std::vector<std::string> members, int partitions);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_CONSUMER_PROTOCOL_H_
