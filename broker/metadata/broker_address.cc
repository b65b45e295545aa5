#include "broker/metadata/broker_address.h"

namespace chronik::metadata {

std::optional<BrokerAddress> AdvertisedAddress(const metapb::BrokerInfo& broker,
                                               absl::string_view listener) {
  for (const metapb::ListenerInfo& entry : broker.listeners()) {
    if (entry.name() == listener) {
      return BrokerAddress{entry.host(), entry.port()};
    }
  }
  if (broker.listeners_size() > 0) return std::nullopt;
  return BrokerAddress{broker.host(), broker.kafka_port()};
}

bool SameAddresses(const metapb::BrokerInfo& a, const metapb::BrokerInfo& b) {
  if (a.host() != b.host() || a.kafka_port() != b.kafka_port() ||
      a.listeners_size() != b.listeners_size()) {
    return false;
  }
  for (int i = 0; i < a.listeners_size(); ++i) {
    const metapb::ListenerInfo& x = a.listeners(i);
    const metapb::ListenerInfo& y = b.listeners(i);
    if (x.name() != y.name() || x.host() != y.host() || x.port() != y.port()) {
      return false;
    }
  }
  return true;
}

}  // namespace chronik::metadata
