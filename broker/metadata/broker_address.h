// Where clients reach a registered broker: the advertised address of the
// listener a client came in on (Kafka answers Metadata and FindCoordinator
// with the addresses of the request's listener).
//
// Pure functions; thread-safe.
#ifndef CHRONIK_BROKER_METADATA_BROKER_ADDRESS_H_
#define CHRONIK_BROKER_METADATA_BROKER_ADDRESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "proto/metadata.pb.h"

namespace chronik::metadata {

struct BrokerAddress {
  std::string host;
  int32_t port = 0;
};

// The broker's address on the listener named `listener`; its default address
// (host, kafka_port) when it registered no named listeners (a broker with the
// default listener only, or one registered before it had named listeners).
// Nothing when it has named listeners but none of that name: clients that
// came in on that listener cannot reach it (Kafka leaves such a broker out of
// Metadata and answers LISTENER_NOT_FOUND for the partitions it leads).
std::optional<BrokerAddress> AdvertisedAddress(const metapb::BrokerInfo& broker,
                                               absl::string_view listener);

// Whether two registrations advertise the same addresses (default and every
// named listener).
bool SameAddresses(const metapb::BrokerInfo& a, const metapb::BrokerInfo& b);

}  // namespace chronik::metadata

#endif  // CHRONIK_BROKER_METADATA_BROKER_ADDRESS_H_
