#include "tools/sim/broker_shrink.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace chronik::sim::cli {
namespace {

constexpr Nanos kShortestFault = 100 * kMillisecond;

class Shrinker {
 public:
  Shrinker(const BrokerScenarioOptions& options,
           const std::function<void(const std::string&)>& progress,
           int max_runs, BrokerShrinkResult* out)
      : options_(options),
        progress_(progress),
        max_runs_(max_runs),
        out_(*out) {}

  bool budget() const { return out_.runs < max_runs_; }

  // Runs `shape`; keeps it (true) when it fails by the same rule.
  bool Try(BrokerRunShape shape, const std::string& what) {
    ++out_.runs;
    BrokerScenarioResult result = RunBrokerScenario(WithShape(options_, shape));
    if (result.passed || FailureRule(result.failure) != out_.rule) return false;
    out_.reduced = std::move(shape);
    out_.failure = std::move(result.failure);
    progress_(absl::StrCat("shrink: ", what, ": still ", out_.rule, " (",
                           out_.reduced.plan.size(), " faults, run ", out_.runs,
                           ")"));
    return true;
  }

  // Delta debugging over the fault list: no faults, then chunks (halves
  // first, then smaller, down to single faults).
  void Faults() {
    if (out_.reduced.plan.empty() || !budget()) return;
    BrokerRunShape none = out_.reduced;
    none.plan.clear();
    if (Try(none, "no faults")) return;
    size_t chunks = 2;
    while (out_.reduced.plan.size() > 1 && budget()) {
      const std::vector<BrokerFault>& plan = out_.reduced.plan;
      chunks = std::min(chunks, plan.size());
      const size_t size = (plan.size() + chunks - 1) / chunks;
      bool removed = false;
      for (size_t start = 0; start < plan.size() && budget(); start += size) {
        BrokerRunShape candidate = out_.reduced;
        candidate.plan.erase(
            candidate.plan.begin() + start,
            candidate.plan.begin() + std::min(plan.size(), start + size));
        if (Try(std::move(candidate),
                absl::StrCat("without faults ", start + 1, "..",
                             std::min(plan.size(), start + size)))) {
          chunks = std::max<size_t>(chunks - 1, 2);
          removed = true;
          break;
        }
      }
      if (!removed) {
        if (chunks >= out_.reduced.plan.size()) break;
        chunks = std::min(out_.reduced.plan.size(), chunks * 2);
      }
    }
  }

  // The smallest count in [least, current) that still fails, if any.
  void Reduce(int BrokerRunShape::*field, int least, const char* name) {
    const int current = out_.reduced.*field;
    for (int n = least; n < current && budget(); ++n) {
      BrokerRunShape candidate = out_.reduced;
      candidate.*field = n;
      if (Try(std::move(candidate), absl::StrCat(name, "=", n))) return;
    }
  }

  void Workload() {
    Reduce(&BrokerRunShape::group_members, 0, "group_members");
    // The first producer is the one the liveness check needs.
    Reduce(&BrokerRunShape::producers, 1, "producers");
    Reduce(&BrokerRunShape::partitions, 1, "partitions");
  }

  // Halves each fault's duration while the run still fails.
  void Durations() {
    for (size_t i = 0; i < out_.reduced.plan.size() && budget(); ++i) {
      while (budget() && out_.reduced.plan[i].duration > kShortestFault) {
        BrokerRunShape candidate = out_.reduced;
        BrokerFault& fault = candidate.plan[i];
        fault.duration = std::max(kShortestFault, fault.duration / 2);
        if (!Try(std::move(candidate),
                 absl::StrCat("fault ", i + 1, " shortened"))) {
          break;
        }
      }
    }
  }

 private:
  const BrokerScenarioOptions& options_;
  const std::function<void(const std::string&)>& progress_;
  const int max_runs_;
  BrokerShrinkResult& out_;
};

}  // namespace

std::string FailureRule(const std::string& failure) {
  const size_t colon = failure.find(':');
  return std::string(absl::StripAsciiWhitespace(
      colon == std::string::npos ? failure : failure.substr(0, colon)));
}

BrokerScenarioOptions WithShape(const BrokerScenarioOptions& options,
                                const BrokerRunShape& shape) {
  BrokerScenarioOptions out = options;
  out.producers = shape.producers;
  out.group_members = shape.group_members;
  out.partitions = shape.partitions;
  std::vector<BrokerFault> plan = shape.plan;
  // A fault aimed at a partition names one that exists.
  for (BrokerFault& fault : plan) fault.partition %= shape.partitions;
  out.fault_plan = std::move(plan);
  return out;
}

BrokerShrinkResult ShrinkBrokerRun(
    const BrokerScenarioOptions& options,
    const std::function<void(const std::string&)>& progress, int max_runs) {
  BrokerShrinkResult out;
  BrokerRunShape& original = out.original;
  if (options.fault_plan.has_value()) {
    original.plan = *options.fault_plan;
  } else if (options.faults) {
    original.plan = MakeBrokerFaultPlan(
        options.seed, options.nodes, options.partitions, options.fault_phase);
  }
  original.producers = options.producers;
  original.group_members = BrokerGroupMembers(options);
  original.partitions = options.partitions;
  // The original, with its plan and workload explicit (the same run).
  out.runs = 1;
  BrokerScenarioResult first = RunBrokerScenario(WithShape(options, original));
  if (first.passed) return out;
  out.failed = true;
  out.original_failure = first.failure;
  out.rule = FailureRule(first.failure);
  out.failure = first.failure;
  out.reduced = original;
  Shrinker shrinker(options, progress, max_runs, &out);
  shrinker.Faults();
  shrinker.Workload();
  shrinker.Durations();
  shrinker.Faults();
  return out;
}

std::string BrokerReplayCommand(const BrokerScenarioOptions& options,
                                const std::string& bug,
                                const BrokerRunShape* shape) {
  std::string command =
      absl::StrCat("bazel run -c opt //tools:sim -- --scenario=broker --seed=",
                   options.seed);
  if (options.nodes != 3) absl::StrAppend(&command, " --nodes=", options.nodes);
  if (!bug.empty()) absl::StrAppend(&command, " --bug=", bug);
  if (!options.faults) absl::StrAppend(&command, " --faults=false");
  if (options.run_length != 40 * kSecond) {
    absl::StrAppend(&command, " --seconds=",
                    static_cast<double>(options.run_length) / kSecond);
  }
  if (options.fault_phase != 20 * kSecond) {
    absl::StrAppend(&command, " --fault_seconds=",
                    static_cast<double>(options.fault_phase) / kSecond);
  }
  const std::vector<BrokerFault>* plan = shape != nullptr ? &shape->plan
                                         : options.fault_plan.has_value()
                                             ? &*options.fault_plan
                                             : nullptr;
  if (plan != nullptr) {
    absl::StrAppend(&command, " --schedule='",
                    plan->empty() ? "none" : FormatBrokerFaultPlan(*plan), "'");
  }
  const int producers = shape != nullptr ? shape->producers : options.producers;
  const int members =
      shape != nullptr ? shape->group_members : options.group_members;
  const int partitions =
      shape != nullptr ? shape->partitions : options.partitions;
  if (producers != 2) absl::StrAppend(&command, " --producers=", producers);
  if (members != -1) absl::StrAppend(&command, " --group_members=", members);
  if (partitions != 3) absl::StrAppend(&command, " --partitions=", partitions);
  return command;
}

}  // namespace chronik::sim::cli
