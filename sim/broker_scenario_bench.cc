// Speed of the simulator on the broker scenario:
//   bazel run -c opt //sim:broker_scenario_bench [-- --seeds=100 --first=1]
// Runs a fixed set of seeds (first..first+seeds-1) one after another on this
// thread, each with 3 brokers, 30 simulated seconds (faults during the first
// 15), swarm faults (the seed's fault plan) and 4 clients doing the work: 2
// producers and 2 consumer-group members (the admin that creates the topic
// and the consumer that reads everything back at the end are the harness,
// not the load). Prints seeds per CPU second of the process (getrusage:
// user + system) and simulated seconds per wall second (a passing seed ends
// when its consumer has read everything, before the 30 s). A tool: it reads
// the clocks to report, the runs themselves stay deterministic.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/broker_scenario.h"

namespace chronik::sim {
namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Seconds on the steady clock (wall time, for reporting only).
double WallSeconds() {
  using Clock = std::chrono::steady_clock;  // determinism-ok: a tool reporting
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

bool ParseFlag(const char* arg, const char* name, uint64_t* value) {
  const size_t length = std::strlen(name);
  if (std::strncmp(arg, name, length) != 0) return false;
  char* end = nullptr;
  *value = std::strtoull(arg + length, &end, 10);
  return end != arg + length && *end == '\0';
}

int Main(int argc, char** argv) {
  uint64_t seeds = 100;
  uint64_t first = 1;
  for (int i = 1; i < argc; ++i) {
    if (!ParseFlag(argv[i], "--seeds=", &seeds) &&
        !ParseFlag(argv[i], "--first=", &first)) {
      std::fprintf(stderr,
                   "usage: broker_scenario_bench [--seeds=N] "
                   "[--first=SEED]\n");
      return 2;
    }
  }
  if (seeds == 0) seeds = 1;
  BrokerScenarioOptions base;
  base.nodes = 3;
  base.run_length = 30 * kSecond;
  base.fault_phase = 15 * kSecond;
  base.producers = 2;
  base.group_members = 2;
  const double cpu_start = CpuSeconds();
  const double wall_start = WallSeconds();
  double simulated = 0;
  uint64_t failed = 0;
  uint64_t events = 0;
  for (uint64_t seed = first; seed < first + seeds; ++seed) {
    BrokerScenarioOptions options = base;
    options.seed = seed;
    BrokerScenarioResult result = RunBrokerScenario(options);
    simulated += static_cast<double>(result.simulated) / kSecond;
    events += result.scheduler_events;
    if (!result.passed) {
      ++failed;
      std::printf("seed %llu FAIL: %s\n", static_cast<unsigned long long>(seed),
                  result.failure.c_str());
    }
  }
  const double cpu = CpuSeconds() - cpu_start;
  const double wall = WallSeconds() - wall_start;
  std::printf(
      "broker scenario: %llu seeds (%llu..%llu), 3 brokers, 30 s simulated "
      "(faults 15 s), 2 producers + 2 group members, swarm faults; %llu "
      "failed\n",
      static_cast<unsigned long long>(seeds),
      static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(first + seeds - 1),
      static_cast<unsigned long long>(failed));
  std::printf("cpu %.2f s, wall %.2f s, %.1f simulated s, %llu events\n", cpu,
              wall, simulated, static_cast<unsigned long long>(events));
  std::printf("seeds_per_cpu_s=%.2f\n", cpu > 0 ? seeds / cpu : 0.0);
  std::printf("sim_s_per_wall_s=%.1f\n", wall > 0 ? simulated / wall : 0.0);
  std::printf("sim_s_per_cpu_s=%.1f\n", cpu > 0 ? simulated / cpu : 0.0);
  return 0;
}

}  // namespace
}  // namespace chronik::sim

int main(int argc, char** argv) { return chronik::sim::Main(argc, argv); }
