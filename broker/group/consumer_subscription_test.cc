#include "broker/group/consumer_subscription.h"

#include <optional>
#include <string>

#include "broker/kafka/wire.h"
#include "gtest/gtest.h"

namespace chronik::group {
namespace {

// A subscription as the Java client and librdkafka write it: version,
// topics, user data, then (v1+) owned partitions.
std::string Subscription(int16_t version,
                         const std::vector<std::string>& topics) {
  kafka::Writer writer;
  writer.WriteInt16(version);
  writer.WriteArrayLength(static_cast<int64_t>(topics.size()), false);
  for (const std::string& topic : topics) writer.WriteString(topic, false);
  writer.WriteNullableBytes(std::nullopt, false);
  if (version >= 1) writer.WriteArrayLength(0, false);
  return writer.Release();
}

TEST(ConsumerSubscriptionTest, ReadsTheTopicsOfEveryVersion) {
  for (int16_t version : {0, 1, 3}) {
    auto topics = SubscribedTopics(Subscription(version, {"a", "orders"}));
    ASSERT_TRUE(topics.ok()) << topics.status();
    EXPECT_EQ(*topics, (std::vector<std::string>{"a", "orders"}));
  }
}

TEST(ConsumerSubscriptionTest, OtherBytesAreRefused) {
  EXPECT_FALSE(SubscribedTopics("").ok());
  EXPECT_FALSE(SubscribedTopics("meta-range").ok());
  std::string cut = Subscription(0, {"orders"});
  EXPECT_FALSE(SubscribedTopics(cut.substr(0, 8)).ok());
}

}  // namespace
}  // namespace chronik::group
