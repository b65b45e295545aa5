// tools:sim: the command line of the deterministic simulator.
//
//   bazel run -c opt //tools:sim -- --scenario=raft --seed=42
//   bazel run -c opt //tools:sim -- --scenario=broker --seed=42 (or
//   --seeds=A..B --jobs=2; see tools/sim/broker_cli.h)
//   bazel run -c opt //tools:sim -- --seeds=1..500 --jobs=2
//   bazel run -c opt //tools:sim -- --seed=42 --trace
//   [--until=role|--until=1234] bazel run -c opt //tools:sim -- --seed=42
//   --bug=commit_old_term --shrink
//
// One seed prints a header (seed, code commit, the swarm's fault choice and
// schedule), the verdict, event counts, simulated and wall time, and
// trace_hash=<hex>; the same seed on the same code prints the same hash. A
// range prints progress and ends with "N passed, M failed" and one replay
// command per failure. --shrink reduces a failing seed's fault schedule and
// workload and prints a replay command for the reduced run. This is a tool: it
// may read the wall clock (for reporting only) and use threads
// (--jobs); the simulation itself stays deterministic.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sim/broker_bugs.h"
#include "sim/broker_faults.h"
#include "tools/sim/broker_cli.h"
#include "tools/sim/sim_cli.h"

ABSL_FLAG(std::string, scenario, "raft", "scenario to run (raft, broker)");
ABSL_FLAG(std::string, seed, "", "run (or replay) one seed");
ABSL_FLAG(std::string, seeds, "", "run a range of seeds, A..B inclusive");
ABSL_FLAG(int, jobs, 1, "worker threads for --seeds");
ABSL_FLAG(int, nodes, 3, "cluster size (3 or 5)");
ABSL_FLAG(
    std::string, bug, "",
    "inject bugs into the Raft core (comma-separated): " CHRONIK_SIM_BUGS);
ABSL_FLAG(bool, faults, true, "swarm-chosen faults (false: a fault-free run)");
ABSL_FLAG(std::string, schedule, "",
          "replace the seed's fault schedule (as printed by --shrink; "
          "each scenario has its own form); 'none' for no faults");
ABSL_FLAG(int64_t, max_ops, -1, "cap on client operations (-1: none)");
ABSL_FLAG(int, clients, 3,
          "client processes writing and reading (0: an idle cluster)");
ABSL_FLAG(int, tick_ms, 10,
          "Raft tick (heartbeat) period in ms; elections after 10-20 ticks");
ABSL_FLAG(bool, rule_checks, true,
          "check Raft's rules directly (false: only end-to-end properties)");
ABSL_FLAG(double, seconds, 30, "simulated seconds per seed");
ABSL_FLAG(double, fault_seconds, 20, "simulated seconds of the fault phase");
ABSL_FLAG(bool, replay, false,
          "replay one seed (same as --seed; use with --trace)");
ABSL_FLAG(bool, trace, false, "print every event of the run");
ABSL_FLAG(std::string, until, "",
          "with --trace: stop at the first event of this kind, or at this "
          "event number");
ABSL_FLAG(bool, shrink, false,
          "shrink a failing seed's fault schedule and workload (both "
          "scenarios)");
ABSL_FLAG(int, producers, 2, "--scenario=broker: producers");
ABSL_FLAG(int, partitions, 3, "--scenario=broker: partitions of topic t");
ABSL_FLAG(int, group_members, -1,
          "--scenario=broker: consumer-group members (-1: drawn per seed, "
          "0: no group)");
ABSL_FLAG(int, compaction, -1,
          "--scenario=broker: topic t compacts (-1: drawn per seed, 0: no, "
          "1: yes when the admin creates it)");
ABSL_FLAG(std::string, timeline, "",
          "--scenario=broker, one --seed: write the run's timeline, one "
          "self-contained HTML page, to this file");
ABSL_FLAG(std::string, commit, "",
          "code commit to print in the header (default: the stamped one)");

namespace chronik::sim::cli {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "sim: %s\n", message.c_str());
  return 2;
}

absl::StatusOr<uint64_t> ParseSeed(const std::string& text) {
  uint64_t seed = 0;
  if (!absl::SimpleAtoi(text, &seed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a seed (a 64-bit unsigned number)"));
  }
  return seed;
}

double WallSeconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

int RunOne(const CliOptions& cli, uint64_t seed) {
  RaftScenarioOptions options = MakeOptions(cli, seed);
  if (cli.trace) {
    options.printer = [](std::string_view line) {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    };
    uint64_t number = 0;
    if (!cli.until.empty()) {
      if (absl::SimpleAtoi(cli.until, &number)) {
        options.stop_event = number;
      } else {
        options.stop_kind = cli.until;
      }
    }
  }
  // The header first, so a trace (or a crash) comes after it.
  std::printf("%s", FormatHeader(cli, seed, PlanFaults(options)).c_str());
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  RaftScenarioResult result = RunRaftScenario(options);
  const double wall = WallSeconds(start);
  std::printf("%s", FormatVerdict(result).c_str());
  std::printf(
      "events=%llu trace_events=%llu simulated=%s wall=%.3fs (%.0f "
      "simulated s per wall s)\n",
      static_cast<unsigned long long>(result.scheduler_events),
      static_cast<unsigned long long>(result.trace_events),
      FormatTime(result.simulated).c_str(), wall,
      wall > 0 ? static_cast<double>(result.simulated) / kSecond / wall : 0.0);
  std::printf("%s", FormatFigures(result).c_str());
  if (!result.passed && !result.stopped) {
    std::printf("replay: %s\n", ReplayCommand(cli, seed, nullptr).c_str());
  }
  std::printf("trace_hash=%016llx\n",
              static_cast<unsigned long long>(result.trace_hash));
  return result.passed || result.stopped ? 0 : 1;
}

int RunRange(const CliOptions& cli, uint64_t first, uint64_t last, int jobs) {
  const uint64_t total = last - first + 1;
  std::atomic<uint64_t> next{first};
  std::atomic<uint64_t> finished{0};
  std::mutex mutex;
  std::vector<std::pair<uint64_t, std::string>> failures;
  const bool tty = isatty(STDERR_FILENO);
  const auto start = std::chrono::steady_clock::now();
  double simulated_seconds = 0;
  auto worker = [&] {
    for (;;) {
      const uint64_t seed = next.fetch_add(1);
      if (seed > last || seed < first) return;
      RaftScenarioResult result = RunRaftScenario(MakeOptions(cli, seed));
      std::lock_guard<std::mutex> lock(mutex);
      simulated_seconds += static_cast<double>(result.simulated) / kSecond;
      if (!result.passed) failures.emplace_back(seed, result.failure);
      const uint64_t done = ++finished;
      if (tty) {
        std::fprintf(stderr, "\r[%llu/%llu] %zu failed",
                     static_cast<unsigned long long>(done),
                     static_cast<unsigned long long>(total), failures.size());
        std::fflush(stderr);
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < jobs; ++i) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  const double wall = WallSeconds(start);
  if (tty) std::fprintf(stderr, "\n");
  std::sort(failures.begin(), failures.end());
  for (const auto& [seed, failure] : failures) {
    std::printf("FAIL seed=%llu: %s\n  replay: %s\n",
                static_cast<unsigned long long>(seed), failure.c_str(),
                ReplayCommand(cli, seed, nullptr).c_str());
  }
  std::printf(
      "%llu passed, %zu failed (seeds %llu..%llu, %.2fs wall, %.1f "
      "seeds/s, %.0f simulated s per wall s, jobs=%d)\n",
      static_cast<unsigned long long>(total - failures.size()), failures.size(),
      static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(last), wall,
      wall > 0 ? total / wall : 0.0, wall > 0 ? simulated_seconds / wall : 0.0,
      jobs);
  return failures.empty() ? 0 : 1;
}

int RunShrink(const CliOptions& cli, uint64_t seed) {
  ShrinkResult shrunk = Shrink(cli, seed, [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  });
  if (!shrunk.failed) {
    std::printf("seed %llu passes: nothing to shrink\n",
                static_cast<unsigned long long>(seed));
    return 0;
  }
  std::printf("original: %zu faults, %lld ops: %s\n", shrunk.original_faults,
              static_cast<long long>(shrunk.original_ops),
              shrunk.original_failure.c_str());
  std::printf("shrunk to %zu faults, max_ops=%lld after %d runs: %s\n",
              shrunk.schedule.size(), static_cast<long long>(shrunk.max_ops),
              shrunk.runs, shrunk.failure.c_str());
  for (const Fault& fault : shrunk.schedule) {
    std::printf("  %s\n", DescribeFault(fault).c_str());
  }
  std::printf("replay: %s\n", ReplayCommand(cli, seed, &shrunk).c_str());
  return 1;
}

// The broker scenario's workload flags and --schedule, into `options`; an
// error message, or "".
std::string BrokerWorkload(BrokerScenarioOptions* options) {
  options->producers = absl::GetFlag(FLAGS_producers);
  options->partitions = absl::GetFlag(FLAGS_partitions);
  options->group_members = absl::GetFlag(FLAGS_group_members);
  options->compaction = absl::GetFlag(FLAGS_compaction);
  if (options->producers < 1 || options->producers > 16) {
    return "--producers must be in 1..16";
  }
  if (options->partitions < 1 || options->partitions > 64) {
    return "--partitions must be in 1..64";
  }
  if (options->group_members < -1 || options->group_members > 16) {
    return "--group_members must be in -1..16";
  }
  const std::string schedule = absl::GetFlag(FLAGS_schedule);
  if (schedule.empty()) return "";
  absl::StatusOr<std::vector<BrokerFault>> plan =
      ParseBrokerFaultPlan(schedule, options->nodes, options->partitions);
  if (!plan.ok()) {
    return absl::StrCat("--schedule: ", plan.status().message());
  }
  for (const BrokerFault& fault : *plan) {
    if (fault.start >= options->fault_phase) {
      return absl::StrCat("--schedule: ", DescribeBrokerFault(fault),
                          " starts after the fault phase");
    }
  }
  options->fault_plan = *std::move(plan);
  return "";
}

// --scenario=broker (tools/sim/broker_cli.h): --seed or --seeds, --nodes,
// --jobs, --trace, --timeline, --shrink, --schedule, --bug=NAME
// (sim/broker_bugs.h or a Raft bug), --faults, --seconds, --fault_seconds,
// --producers, --partitions, --group_members.
int BrokerMain() {
  BrokerScenarioOptions options;
  options.nodes = absl::GetFlag(FLAGS_nodes);
  if (options.nodes < 1 || options.nodes > 9) {
    return Fail("--nodes must be in 1..9");
  }
  options.faults = absl::GetFlag(FLAGS_faults);
  options.run_length =
      static_cast<Nanos>(absl::GetFlag(FLAGS_seconds) * kSecond);
  options.fault_phase =
      static_cast<Nanos>(absl::GetFlag(FLAGS_fault_seconds) * kSecond);
  // The broker scenario runs 40 s unless --seconds says otherwise (the
  // flag's default, 30, is the Raft scenario's).
  if (absl::GetFlag(FLAGS_seconds) == 30) options.run_length = 40 * kSecond;
  if (options.fault_phase >= options.run_length) {
    return Fail("--fault_seconds must be below --seconds");
  }
  if (const std::string error = BrokerWorkload(&options); !error.empty()) {
    return Fail(error);
  }
  const std::string bug = absl::GetFlag(FLAGS_bug);
  if (const std::string raft_bugs = TakeBrokerBugs(bug, &options);
      !raft_bugs.empty()) {
    absl::StatusOr<raft::InjectedBugs> bugs = ParseBugs(raft_bugs);
    if (!bugs.ok()) return Fail(std::string(bugs.status().message()));
    options.raft_bugs = *bugs;
  }
  const std::string seed_text = absl::GetFlag(FLAGS_seed);
  const std::string seeds_text = absl::GetFlag(FLAGS_seeds);
  if (seed_text.empty() == seeds_text.empty()) {
    return Fail("give --seed=N or --seeds=A..B");
  }
  if (!seeds_text.empty()) {
    if (!absl::GetFlag(FLAGS_timeline).empty() || absl::GetFlag(FLAGS_shrink)) {
      return Fail("--timeline and --shrink take one --seed, not --seeds");
    }
    std::vector<std::string> bounds = absl::StrSplit(seeds_text, "..");
    if (bounds.size() != 2) return Fail("--seeds must look like A..B");
    absl::StatusOr<uint64_t> first = ParseSeed(bounds[0]);
    absl::StatusOr<uint64_t> last = ParseSeed(bounds[1]);
    if (!first.ok() || !last.ok() || *first > *last) {
      return Fail("--seeds must look like A..B with A <= B");
    }
    const int jobs = absl::GetFlag(FLAGS_jobs);
    if (jobs < 1 || jobs > 64) return Fail("--jobs must be in 1..64");
    return RunBrokerSeeds(options, *first, *last, jobs, bug);
  }
  absl::StatusOr<uint64_t> seed = ParseSeed(seed_text);
  if (!seed.ok()) return Fail(std::string(seed.status().message()));
  options.seed = *seed;
  if (absl::GetFlag(FLAGS_shrink)) {
    if (absl::GetFlag(FLAGS_trace) || !absl::GetFlag(FLAGS_timeline).empty()) {
      return Fail("--shrink does not mix with --trace or --timeline");
    }
    return ShrinkBrokerSeed(options, bug);
  }
  return RunBrokerSeed(options, absl::GetFlag(FLAGS_trace),
                       absl::GetFlag(FLAGS_timeline), bug);
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "deterministic simulator: --seed=N | --seeds=A..B [--jobs=2] | --seed=N "
      "--trace | --seed=N --shrink");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    return Fail(absl::StrCat("unexpected argument '", rest[1],
                             "' (flags are --name=value)"));
  }
  if (absl::GetFlag(FLAGS_scenario) == "broker") return BrokerMain();
  if (!absl::GetFlag(FLAGS_timeline).empty()) {
    return Fail("--timeline is for --scenario=broker");
  }
  absl::StatusOr<CliOptions> cli = ParseCliOptions(
      absl::GetFlag(FLAGS_scenario), absl::GetFlag(FLAGS_nodes),
      absl::GetFlag(FLAGS_bug), absl::GetFlag(FLAGS_faults),
      absl::GetFlag(FLAGS_schedule), absl::GetFlag(FLAGS_max_ops),
      absl::GetFlag(FLAGS_seconds), absl::GetFlag(FLAGS_fault_seconds));
  if (!cli.ok()) return Fail(std::string(cli.status().message()));
  cli->clients = absl::GetFlag(FLAGS_clients);
  if (cli->clients < 0 || cli->clients > 64) {
    return Fail("--clients must be in 0..64");
  }
  cli->tick_ms = absl::GetFlag(FLAGS_tick_ms);
  if (cli->tick_ms < 1 || cli->tick_ms > 1000) {
    return Fail("--tick_ms must be in 1..1000");
  }
  cli->rule_checks = absl::GetFlag(FLAGS_rule_checks);
  cli->trace = absl::GetFlag(FLAGS_trace);
  cli->until = absl::GetFlag(FLAGS_until);
  cli->commit = absl::GetFlag(FLAGS_commit);
  if (cli->commit.empty()) cli->commit = StampedCommit();
  const std::string seed_text = absl::GetFlag(FLAGS_seed);
  const std::string seeds_text = absl::GetFlag(FLAGS_seeds);
  if (!seed_text.empty() && !seeds_text.empty()) {
    return Fail("give either --seed or --seeds, not both");
  }
  if (seed_text.empty() && seeds_text.empty()) {
    return Fail("give --seed=N (one seed) or --seeds=A..B (a range)");
  }
  if (!cli->until.empty() && !cli->trace) return Fail("--until needs --trace");
  if (!seeds_text.empty()) {
    if (cli->trace || absl::GetFlag(FLAGS_shrink) ||
        absl::GetFlag(FLAGS_replay)) {
      return Fail(
          "--trace, --replay and --shrink take one --seed, not --seeds");
    }
    std::vector<std::string> bounds = absl::StrSplit(seeds_text, "..");
    if (bounds.size() != 2) return Fail("--seeds must look like A..B");
    absl::StatusOr<uint64_t> first = ParseSeed(bounds[0]);
    absl::StatusOr<uint64_t> last = ParseSeed(bounds[1]);
    if (!first.ok()) return Fail(std::string(first.status().message()));
    if (!last.ok()) return Fail(std::string(last.status().message()));
    if (*first > *last) return Fail("--seeds=A..B needs A <= B");
    const int jobs = absl::GetFlag(FLAGS_jobs);
    if (jobs < 1 || jobs > 64) return Fail("--jobs must be in 1..64");
    return RunRange(*cli, *first, *last, jobs);
  }
  absl::StatusOr<uint64_t> seed = ParseSeed(seed_text);
  if (!seed.ok()) return Fail(std::string(seed.status().message()));
  if (absl::GetFlag(FLAGS_shrink)) {
    if (cli->trace) return Fail("--shrink and --trace do not mix");
    return RunShrink(*cli, *seed);
  }
  return RunOne(*cli, *seed);
}

}  // namespace
}  // namespace chronik::sim::cli

int main(int argc, char** argv) { return chronik::sim::cli::Main(argc, argv); }
