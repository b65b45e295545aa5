#include "tools/sim/sim_cli.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace chronik::sim::cli {

absl::StatusOr<raft::InjectedBugs> ParseBugs(const std::string& text) {
  raft::InjectedBugs bugs;
  if (text.empty()) return bugs;
  for (absl::string_view raw : absl::StrSplit(text, ',')) {
    const std::string name(absl::StripAsciiWhitespace(raw));
    if (name == "grant_two_votes") {
      bugs.grant_two_votes_per_term = true;
    } else if (name == "commit_old_term") {
      bugs.commit_old_term_by_counting = true;
    } else if (name == "vote_before_persist") {
      bugs.answer_vote_before_persisting = true;
    } else if (name == "apply_before_commit") {
      bugs.apply_before_commit = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "--bug: unknown bug '", name, "'; known: " CHRONIK_SIM_BUGS));
    }
  }
  return bugs;
}

absl::StatusOr<CliOptions> ParseCliOptions(const std::string& scenario,
                                           int nodes, const std::string& bugs,
                                           bool faults,
                                           const std::string& schedule,
                                           int64_t max_ops, double seconds,
                                           double fault_seconds) {
  CliOptions cli;
  if (scenario != "raft") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--scenario: unknown scenario '", scenario, "'; known: raft"));
  }
  cli.scenario = scenario;
  if (nodes != 3 && nodes != 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("--nodes must be 3 or 5, not ", nodes));
  }
  cli.nodes = nodes;
  absl::StatusOr<raft::InjectedBugs> parsed_bugs = ParseBugs(bugs);
  if (!parsed_bugs.ok()) return parsed_bugs.status();
  cli.bugs = *parsed_bugs;
  cli.bug_text = bugs;
  cli.faults = faults;
  if (!(seconds > 0 && seconds <= 3600)) {
    return absl::InvalidArgumentError("--seconds must be in (0, 3600]");
  }
  if (!(fault_seconds > 0 && fault_seconds < seconds)) {
    return absl::InvalidArgumentError(
        "--fault_seconds must be positive and less than --seconds");
  }
  cli.run_length =
      static_cast<Nanos>(std::llround(seconds * 1e3)) * kMillisecond;
  cli.fault_phase =
      static_cast<Nanos>(std::llround(fault_seconds * 1e3)) * kMillisecond;
  if (!schedule.empty()) {
    absl::StatusOr<std::vector<Fault>> parsed =
        ParseSchedule(schedule == "none" ? "" : schedule, nodes);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--schedule: ", parsed.status().message()));
    }
    for (const Fault& fault : *parsed) {
      if (fault.at >= cli.fault_phase) {
        return absl::InvalidArgumentError(
            "--schedule: a fault lies beyond the fault phase");
      }
    }
    cli.schedule = *parsed;
  }
  if (max_ops < -1) {
    return absl::InvalidArgumentError("--max_ops must be >= -1");
  }
  cli.max_ops = max_ops;
  return cli;
}

RaftScenarioOptions MakeOptions(const CliOptions& cli, uint64_t seed) {
  RaftScenarioOptions options;
  options.seed = seed;
  options.num_nodes = cli.nodes;
  options.faults = cli.faults;
  options.schedule = cli.schedule;
  options.max_ops = cli.max_ops;
  options.num_clients = cli.clients;
  options.tick_interval = cli.tick_ms * kMillisecond;
  options.rule_checks = cli.rule_checks;
  options.bugs = cli.bugs;
  options.run_length = cli.run_length;
  options.fault_phase = cli.fault_phase;
  return options;
}

std::string StampedCommit() {
#ifdef CHRONIK_COMMIT
  return CHRONIK_COMMIT;
#else
  return "unknown (pass --commit=$(git rev-parse --short HEAD))";
#endif
}

std::string FormatHeader(const CliOptions& cli, uint64_t seed,
                         const FaultPlan& plan) {
  std::string out = absl::StrFormat(
      "chronik sim: scenario=%s seed=%d nodes=%d commit=%s%s\n", cli.scenario,
      seed, cli.nodes, cli.commit,
      cli.bug_text.empty() ? "" : absl::StrCat(" bugs=", cli.bug_text));
  absl::StrAppend(&out, "faults: ", plan.swarm, "\n");
  absl::StrAppend(&out, "schedule (", plan.schedule.size(), " faults):\n");
  for (const Fault& fault : plan.schedule) {
    absl::StrAppend(&out, "  ", DescribeFault(fault), "\n");
  }
  return out;
}

std::string FormatVerdict(const RaftScenarioResult& result) {
  if (result.stopped) return "verdict: STOPPED (--until reached)\n";
  if (result.passed) return "verdict: PASS\n";
  return absl::StrCat("verdict: FAIL: ", result.failure, "\n");
}

std::string FormatFigures(const RaftScenarioResult& result) {
  return absl::StrFormat(
      "ops invoked=%d acked=%d reads=%d committed_index=%d leaders=%d "
      "crashes=%d bind_failures=%d live_after_heal=%s\n",
      result.ops_invoked, result.ops_acked, result.reads_checked,
      result.committed_index, result.leaders_elected, result.crashes,
      result.bind_failures,
      result.recovered_after_heal < 0
          ? std::string("never")
          : FormatTime(result.recovered_after_heal));
}

namespace {

struct Attempt {
  bool failed;
  std::string failure;
  uint64_t ops;
};

Attempt Try(const CliOptions& cli, uint64_t seed,
            const std::vector<Fault>& schedule, int64_t max_ops, int& runs) {
  ++runs;
  RaftScenarioOptions options = MakeOptions(cli, seed);
  options.schedule = schedule;
  options.max_ops = max_ops;
  RaftScenarioResult result = RunRaftScenario(options);
  return {!result.passed, result.failure, result.ops_invoked};
}

}  // namespace

ShrinkResult Shrink(const CliOptions& cli, uint64_t seed,
                    const std::function<void(const std::string&)>& progress) {
  ShrinkResult out;
  RaftScenarioResult first = RunRaftScenario(MakeOptions(cli, seed));
  out.runs = 1;
  if (first.passed) return out;
  out.failed = true;
  out.original_failure = first.failure;
  out.original_faults = first.schedule.size();
  out.original_ops = static_cast<int64_t>(first.ops_invoked);
  std::vector<Fault> schedule = first.schedule;
  int64_t max_ops = cli.max_ops >= 0 ? cli.max_ops : out.original_ops;
  std::string failure = first.failure;
  // Delta debugging over the fault list: try dropping each of n chunks.
  size_t chunks = 2;
  while (!schedule.empty() && out.runs < kMaxShrinkRuns) {
    chunks = std::min(chunks, schedule.size());
    const size_t size = (schedule.size() + chunks - 1) / chunks;
    bool reduced = false;
    for (size_t start = 0; start < schedule.size() && out.runs < kMaxShrinkRuns;
         start += size) {
      std::vector<Fault> candidate(schedule.begin(), schedule.begin() + start);
      candidate.insert(
          candidate.end(),
          schedule.begin() + std::min(schedule.size(), start + size),
          schedule.end());
      Attempt attempt = Try(cli, seed, candidate, max_ops, out.runs);
      if (attempt.failed) {
        schedule = std::move(candidate);
        failure = attempt.failure;
        chunks = std::max<size_t>(chunks - 1, 2);
        reduced = true;
        progress(
            absl::StrCat("shrink: ", schedule.size(), " faults still fail"));
        break;
      }
    }
    if (!reduced) {
      if (chunks >= schedule.size()) break;
      chunks = std::min(schedule.size(), chunks * 2);
    }
  }
  // Then the workload: the smallest operation cap that still fails (binary
  // search; failures are not monotone in the cap, so this finds a small one,
  // not the least).
  int64_t low = 0, high = max_ops;
  while (low < high && out.runs < kMaxShrinkRuns) {
    const int64_t middle = low + (high - low) / 2;
    Attempt attempt = Try(cli, seed, schedule, middle, out.runs);
    if (attempt.failed) {
      high = middle;
      failure = attempt.failure;
    } else {
      low = middle + 1;
    }
  }
  if (high != max_ops) {
    progress(absl::StrCat("shrink: max_ops ", high, " still fails"));
  }
  max_ops = high;
  // Confirm the final combination (the search may end on an untested cap).
  Attempt last = Try(cli, seed, schedule, max_ops, out.runs);
  if (!last.failed) max_ops = cli.max_ops >= 0 ? cli.max_ops : out.original_ops;
  last = Try(cli, seed, schedule, max_ops, out.runs);
  out.failure = last.failed ? last.failure : failure;
  out.schedule = std::move(schedule);
  out.max_ops = max_ops;
  return out;
}

std::string ReplayCommand(const CliOptions& cli, uint64_t seed,
                          const ShrinkResult* shrunk) {
  std::string command =
      absl::StrCat("bazel run -c opt //tools:sim -- --scenario=", cli.scenario,
                   " --seed=", seed);
  if (cli.nodes != 3) absl::StrAppend(&command, " --nodes=", cli.nodes);
  if (!cli.bug_text.empty()) absl::StrAppend(&command, " --bug=", cli.bug_text);
  if (!cli.faults) absl::StrAppend(&command, " --faults=false");
  if (cli.run_length != 30 * kSecond) {
    absl::StrAppend(
        &command, " --seconds=", static_cast<double>(cli.run_length) / kSecond);
  }
  if (cli.fault_phase != 20 * kSecond) {
    absl::StrAppend(&command, " --fault_seconds=",
                    static_cast<double>(cli.fault_phase) / kSecond);
  }
  const std::optional<std::vector<Fault>>& schedule =
      shrunk != nullptr ? std::optional<std::vector<Fault>>(shrunk->schedule)
                        : cli.schedule;
  if (schedule.has_value()) {
    absl::StrAppend(&command, " --schedule='",
                    schedule->empty() ? "none" : FormatSchedule(*schedule),
                    "'");
  }
  const int64_t max_ops = shrunk != nullptr ? shrunk->max_ops : cli.max_ops;
  if (max_ops >= 0) absl::StrAppend(&command, " --max_ops=", max_ops);
  if (cli.clients != 3) absl::StrAppend(&command, " --clients=", cli.clients);
  if (cli.tick_ms != 10) absl::StrAppend(&command, " --tick_ms=", cli.tick_ms);
  if (!cli.rule_checks) absl::StrAppend(&command, " --rule_checks=false");
  return command;
}

}  // namespace chronik::sim::cli
