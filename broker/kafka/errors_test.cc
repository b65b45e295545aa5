#include "broker/kafka/errors.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace chronik::kafka::error {
namespace {

// A few values checked against Kafka's Errors table by hand, so a typo in the
// list cannot go unnoticed.
static_assert(kNone == 0);
static_assert(kUnknownTopicOrPartition == 3);
static_assert(kNotLeaderOrFollower == 6);
static_assert(kNotCoordinator == 16);
static_assert(kUnsupportedVersion == 35);
static_assert(kInvalidConfig == 40);
static_assert(kOutOfOrderSequenceNumber == 45);
static_assert(kMemberIdRequired == 79);
static_assert(kInvalidRecord == 87);

TEST(KafkaErrorsTest, ValuesAndNamesAreUniqueAndSorted) {
  std::set<std::string> names;
  int previous = -1;
#define CHECK_ONE(constant, value, name)                    \
  EXPECT_GT(value, previous) << name << " is out of order"; \
  previous = value;                                         \
  EXPECT_TRUE(names.insert(name).second) << name;           \
  EXPECT_STREQ(Name(constant), name);
  CHRONIK_KAFKA_ERRORS(CHECK_ONE)
#undef CHECK_ONE
  EXPECT_EQ(Name(4), nullptr);
  EXPECT_STREQ(Name(kNotCoordinator), "NOT_COORDINATOR");
}

}  // namespace
}  // namespace chronik::kafka::error
