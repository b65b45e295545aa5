// Kafka protocol error codes: the one list of the codes chronik answers with.
//
// Names and values are Kafka's (org.apache.kafka.common.protocol.Errors); the
// constant kFooBar is Kafka's FOO_BAR. A code goes on the wire as an int16 in
// a response's error_code field; 0 means success. Every part of the broker
// (codec, metadata state machine, group coordinator, producer state, request
// handlers) and the tools spell codes from here, never as literals.
//
// To add one, add a line to CHRONIK_KAFKA_ERRORS with Kafka's name and value.
// Header-only constants plus Name(); thread-safe.
#ifndef CHRONIK_BROKER_KAFKA_ERRORS_H_
#define CHRONIK_BROKER_KAFKA_ERRORS_H_

#include <cstdint>

// X(constant, value, Kafka's name), sorted by value.
#define CHRONIK_KAFKA_ERRORS(X)                                            \
  X(kNone, 0, "NONE")                                                      \
  X(kOffsetOutOfRange, 1, "OFFSET_OUT_OF_RANGE")                           \
  X(kCorruptMessage, 2, "CORRUPT_MESSAGE")                                 \
  X(kUnknownTopicOrPartition, 3, "UNKNOWN_TOPIC_OR_PARTITION")             \
  X(kLeaderNotAvailable, 5, "LEADER_NOT_AVAILABLE")                        \
  X(kNotLeaderOrFollower, 6, "NOT_LEADER_OR_FOLLOWER")                     \
  X(kRequestTimedOut, 7, "REQUEST_TIMED_OUT")                              \
  X(kBrokerNotAvailable, 8, "BROKER_NOT_AVAILABLE")                        \
  X(kMessageTooLarge, 10, "MESSAGE_TOO_LARGE")                             \
  X(kCoordinatorLoadInProgress, 14, "COORDINATOR_LOAD_IN_PROGRESS")        \
  X(kCoordinatorNotAvailable, 15, "COORDINATOR_NOT_AVAILABLE")             \
  X(kNotCoordinator, 16, "NOT_COORDINATOR")                                \
  X(kInvalidTopic, 17, "INVALID_TOPIC_EXCEPTION")                          \
  X(kNotEnoughReplicas, 19, "NOT_ENOUGH_REPLICAS")                         \
  X(kNotEnoughReplicasAfterAppend, 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND") \
  X(kInvalidRequiredAcks, 21, "INVALID_REQUIRED_ACKS")                     \
  X(kIllegalGeneration, 22, "ILLEGAL_GENERATION")                          \
  X(kInconsistentGroupProtocol, 23, "INCONSISTENT_GROUP_PROTOCOL")         \
  X(kInvalidGroupId, 24, "INVALID_GROUP_ID")                               \
  X(kUnknownMemberId, 25, "UNKNOWN_MEMBER_ID")                             \
  X(kInvalidSessionTimeout, 26, "INVALID_SESSION_TIMEOUT")                 \
  X(kRebalanceInProgress, 27, "REBALANCE_IN_PROGRESS")                     \
  X(kTopicAuthorizationFailed, 29, "TOPIC_AUTHORIZATION_FAILED")           \
  X(kGroupAuthorizationFailed, 30, "GROUP_AUTHORIZATION_FAILED")           \
  X(kClusterAuthorizationFailed, 31, "CLUSTER_AUTHORIZATION_FAILED")       \
  X(kUnsupportedSaslMechanism, 33, "UNSUPPORTED_SASL_MECHANISM")           \
  X(kIllegalSaslState, 34, "ILLEGAL_SASL_STATE")                           \
  X(kUnsupportedVersion, 35, "UNSUPPORTED_VERSION")                        \
  X(kTopicAlreadyExists, 36, "TOPIC_ALREADY_EXISTS")                       \
  X(kInvalidPartitions, 37, "INVALID_PARTITIONS")                          \
  X(kInvalidReplicationFactor, 38, "INVALID_REPLICATION_FACTOR")           \
  X(kInvalidReplicaAssignment, 39, "INVALID_REPLICA_ASSIGNMENT")           \
  X(kInvalidConfig, 40, "INVALID_CONFIG")                                  \
  X(kNotController, 41, "NOT_CONTROLLER")                                  \
  X(kInvalidRequest, 42, "INVALID_REQUEST")                                \
  X(kUnsupportedForMessageFormat, 43, "UNSUPPORTED_FOR_MESSAGE_FORMAT")    \
  X(kPolicyViolation, 44, "POLICY_VIOLATION")                              \
  X(kOutOfOrderSequenceNumber, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER")         \
  X(kInvalidProducerEpoch, 47, "INVALID_PRODUCER_EPOCH")                   \
  X(kInvalidTxnState, 48, "INVALID_TXN_STATE")                             \
  X(kInvalidProducerIdMapping, 49, "INVALID_PRODUCER_ID_MAPPING")          \
  X(kInvalidTransactionTimeout, 50, "INVALID_TRANSACTION_TIMEOUT")         \
  X(kConcurrentTransactions, 51, "CONCURRENT_TRANSACTIONS")                \
  X(kTransactionalIdAuthorizationFailed, 53,                               \
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED")                               \
  X(kSecurityDisabled, 54, "SECURITY_DISABLED")                            \
  X(kOperationNotAttempted, 55, "OPERATION_NOT_ATTEMPTED")                 \
  X(kKafkaStorageError, 56, "KAFKA_STORAGE_ERROR")                         \
  X(kSaslAuthenticationFailed, 58, "SASL_AUTHENTICATION_FAILED")           \
  X(kNonEmptyGroup, 68, "NON_EMPTY_GROUP")                                 \
  X(kGroupIdNotFound, 69, "GROUP_ID_NOT_FOUND")                            \
  X(kListenerNotFound, 72, "LISTENER_NOT_FOUND")                           \
  X(kFencedLeaderEpoch, 74, "FENCED_LEADER_EPOCH")                         \
  X(kUnknownLeaderEpoch, 75, "UNKNOWN_LEADER_EPOCH")                       \
  X(kUnsupportedCompressionType, 76, "UNSUPPORTED_COMPRESSION_TYPE")       \
  X(kMemberIdRequired, 79, "MEMBER_ID_REQUIRED")                           \
  X(kPreferredLeaderNotAvailable, 80, "PREFERRED_LEADER_NOT_AVAILABLE")    \
  X(kGroupMaxSizeReached, 81, "GROUP_MAX_SIZE_REACHED")                    \
  X(kFencedInstanceId, 82, "FENCED_INSTANCE_ID")                           \
  X(kEligibleLeadersNotAvailable, 83, "ELIGIBLE_LEADERS_NOT_AVAILABLE")    \
  X(kElectionNotNeeded, 84, "ELECTION_NOT_NEEDED")                         \
  X(kNoReassignmentInProgress, 85, "NO_REASSIGNMENT_IN_PROGRESS")          \
  X(kGroupSubscribedToTopic, 86, "GROUP_SUBSCRIBED_TO_TOPIC")              \
  X(kInvalidRecord, 87, "INVALID_RECORD")                                  \
  X(kUnstableOffsetCommit, 88, "UNSTABLE_OFFSET_COMMIT")                   \
  X(kProducerFenced, 90, "PRODUCER_FENCED")                                \
  X(kResourceNotFound, 91, "RESOURCE_NOT_FOUND")                           \
  X(kDuplicateResource, 92, "DUPLICATE_RESOURCE")                          \
  X(kUnacceptableCredential, 93, "UNACCEPTABLE_CREDENTIAL")                \
  X(kUnknownTopicId, 100, "UNKNOWN_TOPIC_ID")                              \
  X(kTransactionalIdNotFound, 105, "TRANSACTIONAL_ID_NOT_FOUND")

namespace chronik::kafka::error {

#define CHRONIK_KAFKA_ERROR_CONSTANT_(constant, value, name) \
  inline constexpr int16_t constant = value;
CHRONIK_KAFKA_ERRORS(CHRONIK_KAFKA_ERROR_CONSTANT_)
#undef CHRONIK_KAFKA_ERROR_CONSTANT_

// Kafka's name of `code` ("NOT_COORDINATOR"), or nullptr for a code not in
// the list above.
constexpr const char* Name(int16_t code) {
#define CHRONIK_KAFKA_ERROR_CASE_(constant, value, name) \
  case value:                                            \
    return name;
  switch (code) {
    CHRONIK_KAFKA_ERRORS(CHRONIK_KAFKA_ERROR_CASE_)
    default:
      return nullptr;
  }
#undef CHRONIK_KAFKA_ERROR_CASE_
}

}  // namespace chronik::kafka::error

#endif  // CHRONIK_BROKER_KAFKA_ERRORS_H_
