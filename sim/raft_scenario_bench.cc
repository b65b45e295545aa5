// Speed of the simulator on the Raft scenario, single core:
//   bazel run -c opt //sim:raft_scenario_bench
// - BM_IdleCluster/<nodes>/<tick ms>: a fault-free cluster with no clients,
//   only heartbeats, for 60 simulated seconds; sim_s_per_cpu_s is simulated
//   seconds per CPU second of this thread.
// - BM_SeedUnderLoad/<nodes>: whole seeds of 30 simulated seconds with swarm
//   faults and three clients writing and reading (the sweep's workload);
//   seeds_per_cpu_s. (The Time column is wall time; on a busy
//   machine it exceeds CPU time.)
#include <cstdint>

#include "benchmark/benchmark.h"
#include "sim/raft_scenario.h"

namespace chronik::sim {
namespace {

void BM_IdleCluster(benchmark::State& state) {
  uint64_t seed = 1;
  double simulated_seconds = 0;
  for (auto _ : state) {
    RaftScenarioOptions options;
    options.seed = seed++;
    options.num_nodes = static_cast<int>(state.range(0));
    options.tick_interval = state.range(1) * kMillisecond;
    options.faults = false;
    options.num_clients = 0;
    options.fault_phase = 1 * kSecond;
    options.run_length = 60 * kSecond;
    RaftScenarioResult result = RunRaftScenario(options);
    if (!result.passed) state.SkipWithError(result.failure.c_str());
    simulated_seconds += static_cast<double>(result.simulated) / kSecond;
  }
  state.counters["sim_s_per_cpu_s"] =
      benchmark::Counter(simulated_seconds, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_IdleCluster)
    ->Args({3, 10})
    ->Args({5, 10})
    ->Args({3, 50})
    ->Args({5, 50})
    ->Args({3, 100})
    ->Args({5, 100})
    ->Unit(benchmark::kMillisecond);

void BM_SeedUnderLoad(benchmark::State& state) {
  uint64_t seed = 1;
  double simulated_seconds = 0;
  int64_t seeds = 0;
  for (auto _ : state) {
    RaftScenarioOptions options;
    options.seed = seed++;
    options.num_nodes = static_cast<int>(state.range(0));
    RaftScenarioResult result = RunRaftScenario(options);
    benchmark::DoNotOptimize(result.trace_hash);
    simulated_seconds += static_cast<double>(result.simulated) / kSecond;
    ++seeds;
  }
  state.counters["seeds_per_cpu_s"] = benchmark::Counter(
      static_cast<double>(seeds), benchmark::Counter::kIsRate);
  state.counters["sim_s_per_cpu_s"] =
      benchmark::Counter(simulated_seconds, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SeedUnderLoad)
    ->Arg(3)
    ->Arg(5)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3);

}  // namespace
}  // namespace chronik::sim

BENCHMARK_MAIN();
