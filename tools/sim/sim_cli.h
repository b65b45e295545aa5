// The logic behind tools:sim (flag validation, report formatting, replay
// commands, shrinking), separate from main() so it is unit-tested.
//
// Shrinking: a failing seed is re-run with the same seed for everything else
// while its fault schedule is reduced by delta debugging (remove chunks of
// faults, keep a removal when the run still fails) and its workload is capped
// by a binary search on --max_ops. The result prints as a replay command with
// --schedule and --max_ops. Runs are deterministic, so the shrunk command fails
// the same way every time.
#ifndef CHRONIK_TOOLS_SIM_SIM_CLI_H_
#define CHRONIK_TOOLS_SIM_SIM_CLI_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/faults.h"
#include "sim/raft_scenario.h"

#define CHRONIK_SIM_BUGS \
  "grant_two_votes, commit_old_term, vote_before_persist, apply_before_commit"

namespace chronik::sim::cli {

struct CliOptions {
  std::string scenario = "raft";
  int nodes = 3;
  std::string bug_text;  // as given, for replay commands
  raft::InjectedBugs bugs;
  bool faults = true;
  std::optional<std::vector<Fault>> schedule;
  int64_t max_ops = -1;
  int clients = 3;  // 0: an idle cluster (heartbeats only)
  int tick_ms = 10;
  bool rule_checks = true;
  Nanos run_length = 30 * kSecond;
  Nanos fault_phase = 20 * kSecond;
  bool trace = false;
  std::string until;
  std::string commit;
};

// Validates the flags; InvalidArgument with a message naming the bad one.
absl::StatusOr<CliOptions> ParseCliOptions(const std::string& scenario,
                                           int nodes, const std::string& bugs,
                                           bool faults,
                                           const std::string& schedule,
                                           int64_t max_ops, double seconds,
                                           double fault_seconds);
// Parses "a,b" into InjectedBugs; names listed in CHRONIK_SIM_BUGS.
absl::StatusOr<raft::InjectedBugs> ParseBugs(const std::string& text);

RaftScenarioOptions MakeOptions(const CliOptions& cli, uint64_t seed);

// The commit stamped into the binary at build time, or "unknown".
std::string StampedCommit();

std::string FormatHeader(const CliOptions& cli, uint64_t seed,
                         const FaultPlan& plan);
std::string FormatVerdict(const RaftScenarioResult& result);
std::string FormatFigures(const RaftScenarioResult& result);

struct ShrinkResult {
  bool failed = false;  // the seed failed at all
  std::string original_failure;
  size_t original_faults = 0;
  int64_t original_ops = 0;
  std::string failure;  // of the shrunk run
  std::vector<Fault> schedule;
  int64_t max_ops = -1;
  int runs = 0;
};

// Upper bound on re-runs one shrink may spend.
inline constexpr int kMaxShrinkRuns = 400;

ShrinkResult Shrink(const CliOptions& cli, uint64_t seed,
                    const std::function<void(const std::string&)>& progress);

// "bazel run -c opt //tools:sim -- --scenario=raft --seed=N ..." (with the
// shrunk schedule and cap when `shrunk` is given).
std::string ReplayCommand(const CliOptions& cli, uint64_t seed,
                          const ShrinkResult* shrunk);

}  // namespace chronik::sim::cli

#endif  // CHRONIK_TOOLS_SIM_SIM_CLI_H_
