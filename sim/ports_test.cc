#include "sim/ports.h"

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

TEST(PortTableTest, RejectsATakenPortLikeEaddrinuse) {
  PortTable ports;
  ASSERT_TRUE(ports.Bind(1, 9092, "node1").ok());
  absl::Status second = ports.Bind(1, 9092, "squatter");
  EXPECT_EQ(second.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(second.message().find("EADDRINUSE"), std::string::npos);
  EXPECT_EQ(ports.Owner(1, 9092), "node1");
  // The same port on another host is free.
  EXPECT_TRUE(ports.Bind(2, 9092, "node2").ok());
}

TEST(PortTableTest, ReleaseFreesThePort) {
  PortTable ports;
  ASSERT_TRUE(ports.Bind(1, 9092, "squatter").ok());
  EXPECT_FALSE(ports.Bind(1, 9092, "node1").ok());
  ports.Release(1, 9092, "squatter");
  EXPECT_FALSE(ports.IsBound(1, 9092));
  EXPECT_TRUE(ports.Bind(1, 9092, "node1").ok());
}

TEST(PortTableTest, ReleaseAllDropsOnlyTheOwnersPortsOnThatHost) {
  PortTable ports;
  ASSERT_TRUE(ports.Bind(1, 9092, "node1").ok());
  ASSERT_TRUE(ports.Bind(1, 9093, "node1").ok());
  ASSERT_TRUE(ports.Bind(1, 9094, "other").ok());
  ASSERT_TRUE(ports.Bind(2, 9092, "node1").ok());
  ports.ReleaseAll(1, "node1");
  EXPECT_EQ(ports.bound(), 2u);
  EXPECT_TRUE(ports.IsBound(1, 9094));
  EXPECT_TRUE(ports.IsBound(2, 9092));
}

TEST(PortTableDeathTest, ReleasingSomeoneElsesPortCrashes) {
  PortTable ports;
  ASSERT_TRUE(ports.Bind(1, 9092, "node1").ok());
  EXPECT_DEATH(ports.Release(1, 9092, "node2"), "not holding");
}

}  // namespace
}  // namespace chronik::sim
