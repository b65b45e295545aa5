#include "sim/scheduler.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/random.h"

namespace chronik::sim {
namespace {

TEST(SchedulerTest, RunsByTimeThenScheduleOrder) {
  Trace trace;
  Scheduler scheduler(&trace);
  std::vector<std::string> order;
  scheduler.At(20, [&] { order.push_back("b"); });
  scheduler.At(10, [&] { order.push_back("a"); });
  scheduler.At(20, [&] { order.push_back("c"); });
  scheduler.At(20, [&] {
    order.push_back("d");
    scheduler.After(0, [&] { order.push_back("e"); });
  });
  while (scheduler.Step()) {
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(scheduler.now(), 20);
  EXPECT_EQ(scheduler.events_run(), 5u);
}

TEST(SchedulerTest, CancelledEventsDoNotRun) {
  Trace trace;
  Scheduler scheduler(&trace);
  int runs = 0;
  auto id = scheduler.At(5, [&] { ++runs; });
  scheduler.At(6, [&] { ++runs; });
  scheduler.Cancel(id);
  while (scheduler.Step()) {
  }
  EXPECT_EQ(runs, 1);
}

TEST(SchedulerTest, RunUntilStopsAtDeadline) {
  Trace trace;
  Scheduler scheduler(&trace);
  int runs = 0;
  scheduler.At(5, [&] { ++runs; });
  scheduler.At(15, [&] { ++runs; });
  EXPECT_TRUE(scheduler.RunUntil(10));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(scheduler.now(), 10);
  EXPECT_EQ(scheduler.pending(), 1u);
}

TEST(SchedulerTest, TraceStopsTheRun) {
  Trace trace;
  trace.StopAt("boom", 0);
  Scheduler scheduler(&trace);
  int runs = 0;
  scheduler.At(1, [&] { trace.Record(1, 0, "boom"); });
  scheduler.At(2, [&] { ++runs; });
  EXPECT_FALSE(scheduler.RunUntil(10));
  EXPECT_EQ(runs, 0);
}

TEST(SchedulerTest, TraceEndsAtTheStopEvent) {
  Trace trace;
  trace.StopAt("", 2);
  Scheduler scheduler(&trace);
  scheduler.At(1, [&] {
    for (int i = 0; i < 5; ++i) trace.Record(1, 0, "tick");
  });
  EXPECT_FALSE(scheduler.RunUntil(10));
  EXPECT_EQ(trace.events(), 2u) << "the rest of the step is not recorded";
}

TEST(SchedulerDeathTest, SchedulingInThePastCrashes) {
  Trace trace;
  Scheduler scheduler(&trace);
  scheduler.At(10, [] {});
  scheduler.Step();
  EXPECT_DEATH(scheduler.At(5, [] {}), "past");
}

// A small random world: nodes ping each other with random delays. Its trace
// hash is a function of the seed.
uint64_t PingWorld(uint64_t seed, std::vector<std::string>* lines = nullptr) {
  Trace trace;
  if (lines != nullptr) {
    trace.set_printer([lines](std::string_view l) { lines->emplace_back(l); });
  }
  Scheduler scheduler(&trace);
  Rng rng = Rng::Stream(seed, "network");
  std::function<void(int)> ping = [&](int node) {
    trace.Record(scheduler.now(), node, "ping", {static_cast<uint64_t>(node)});
    if (scheduler.now() < 100 * kMillisecond) {
      const int to = static_cast<int>(rng.Below(3));
      scheduler.After(rng.Between(1, kMillisecond), [&, to] { ping(to); });
    }
  };
  for (int node = 0; node < 3; ++node)
    scheduler.At(0, [&, node] { ping(node); });
  scheduler.RunUntil(kSecond);
  return trace.hash();
}

TEST(SchedulerTest, SameSeedSameTraceHash) {
  EXPECT_EQ(PingWorld(42), PingWorld(42));
}

TEST(SchedulerTest, DifferentSeedsDifferentTraceHashes) {
  EXPECT_NE(PingWorld(42), PingWorld(43));
  EXPECT_NE(PingWorld(1), PingWorld(2));
}

TEST(SchedulerTest, PrintingDoesNotChangeTheHash) {
  std::vector<std::string> lines;
  EXPECT_EQ(PingWorld(5, &lines), PingWorld(5));
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find("ping"), std::string::npos);
}

}  // namespace
}  // namespace chronik::sim
