#include "sim/process.h"

#include "gtest/gtest.h"

namespace chronik::sim {
namespace {

TEST(ProcessTest, CrashInvalidatesTheOldIncarnation) {
  Process p;
  EXPECT_FALSE(p.running());
  p.Start();
  const uint64_t first = p.incarnation();
  EXPECT_TRUE(p.Current(first));
  p.Crash();
  EXPECT_FALSE(p.Current(first));
  p.Start();
  EXPECT_FALSE(p.Current(first));
  EXPECT_TRUE(p.Current(p.incarnation()));
}

TEST(ProcessTest, PauseDefersWorkButKeepsIncarnation) {
  Process p;
  p.Start();
  p.Pause(100);
  EXPECT_TRUE(p.Paused(50));
  EXPECT_EQ(p.DeferUntil(50), 100);
  EXPECT_FALSE(p.Paused(100));
  EXPECT_EQ(p.DeferUntil(150), 150);
  EXPECT_TRUE(p.Current(p.incarnation()));
}

TEST(ProcessTest, CleanStop) {
  Process p;
  p.Start();
  p.Stop();
  EXPECT_EQ(p.state(), ProcessState::kStopped);
  EXPECT_FALSE(p.running());
}

}  // namespace
}  // namespace chronik::sim
