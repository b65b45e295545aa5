// What the broker reads of the "consumer" group protocol: the topics a
// member subscribes to, from the JoinGroup metadata of its chosen protocol
// (ConsumerProtocolSubscription, any version: every version starts with an
// int16 version and the array of topic names, classic encoding). OffsetDelete
// refuses to delete offsets of topics an active member subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC), as Kafka does. Pure; thread-safe.
#ifndef CHRONIK_BROKER_GROUP_CONSUMER_SUBSCRIPTION_H_
#define CHRONIK_BROKER_GROUP_CONSUMER_SUBSCRIPTION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace chronik::group {

inline constexpr char kConsumerProtocolType[] = "consumer";

// The subscribed topics of `metadata` (in its order), or InvalidArgument
// when it is not a ConsumerProtocolSubscription.
absl::StatusOr<std::vector<std::string>> SubscribedTopics(
    absl::string_view metadata);

}  // namespace chronik::group

#endif  // CHRONIK_BROKER_GROUP_CONSUMER_SUBSCRIPTION_H_
