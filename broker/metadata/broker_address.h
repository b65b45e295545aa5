// Where clients reach a registered broker: the advertised address of the
// listener a client came in on (Kafka answers Metadata and FindCoordinator
// with the addresses of the request's listener).
//
// Pure functions; thread-safe.
#ifndef CHRONIK_BROKER_METADATA_BROKER_ADDRESS_H_
#define CHRONIK_BROKER_METADATA_BROKER_ADDRESS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "proto/metadata.pb.h"

namespace chronik::metadata {

struct BrokerAddress {
  std::string host;
  int32_t port = 0;
};

// The broker's address on the listener named `listener`; its default address
// (host, kafka_port) when it registered no listener of that name (a broker
// with the default listener only, or one registered before it had named
// listeners).
BrokerAddress AdvertisedAddress(const metapb::BrokerInfo& broker,
                                absl::string_view listener);

// Whether two registrations advertise the same addresses (default and every
// named listener).
bool SameAddresses(const metapb::BrokerInfo& a, const metapb::BrokerInfo& b);

}  // namespace chronik::metadata

#endif  // CHRONIK_BROKER_METADATA_BROKER_ADDRESS_H_
