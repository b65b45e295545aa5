// Kafka protocol error codes the broker answers with (values from Kafka's
// Errors table).
#ifndef CHRONIK_BROKER_SERVER_ERRORS_H_
#define CHRONIK_BROKER_SERVER_ERRORS_H_

#include <cstdint>

namespace chronik::broker::error {

inline constexpr int16_t kNone = 0;
inline constexpr int16_t kOffsetOutOfRange = 1;
inline constexpr int16_t kCorruptMessage = 2;
inline constexpr int16_t kUnknownTopicOrPartition = 3;
inline constexpr int16_t kLeaderNotAvailable = 5;
inline constexpr int16_t kNotLeaderOrFollower = 6;
inline constexpr int16_t kRequestTimedOut = 7;
inline constexpr int16_t kMessageTooLarge = 10;
inline constexpr int16_t kCoordinatorNotAvailable = 15;
inline constexpr int16_t kNotCoordinator = 16;
inline constexpr int16_t kInvalidTopic = 17;
inline constexpr int16_t kNotEnoughReplicas = 19;
inline constexpr int16_t kInvalidRequiredAcks = 21;
inline constexpr int16_t kUnsupportedSaslMechanism = 33;
inline constexpr int16_t kIllegalSaslState = 34;
inline constexpr int16_t kUnsupportedVersion = 35;
inline constexpr int16_t kTopicAlreadyExists = 36;
inline constexpr int16_t kInvalidPartitions = 37;
inline constexpr int16_t kInvalidReplicationFactor = 38;
inline constexpr int16_t kNotController = 41;
inline constexpr int16_t kInvalidRequest = 42;
inline constexpr int16_t kPolicyViolation = 44;
inline constexpr int16_t kInvalidConfig = 40;
inline constexpr int16_t kTransactionalIdAuthorizationFailed = 53;
inline constexpr int16_t kKafkaStorageError = 56;
inline constexpr int16_t kInvalidRecord = 87;

}  // namespace chronik::broker::error

#endif  // CHRONIK_BROKER_SERVER_ERRORS_H_
