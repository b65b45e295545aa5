// tools:sim --scenario=broker --shrink: reduces a failing broker seed to a
// smaller run that fails by the same checker rule, and says how to replay it.
//
// The run keeps its seed (so everything not reduced draws the same), with an
// explicit fault plan (BrokerScenarioOptions::fault_plan) and workload. A
// candidate is kept only when its run still fails with the same rule: the
// failure text's head before the first ':' ("LOST", "INCONSISTENT OFFSET",
// "LIVENESS", "COMMIT REFUSED", ...). In order, within a bounded number of
// runs: faults removed by delta debugging (halves, then smaller chunks down
// to single faults); the workload reduced (consumer-group members, then
// producers, then partitions); fault durations halved (down to 100 ms); and
// the faults once more. Runs are deterministic, so the reduced run fails
// again every time it is replayed.
//
// Single-threaded; the caller owns everything.
#ifndef CHRONIK_TOOLS_SIM_BROKER_SHRINK_H_
#define CHRONIK_TOOLS_SIM_BROKER_SHRINK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/broker_faults.h"
#include "sim/broker_scenario.h"

namespace chronik::sim::cli {

// The workload and faults a shrink varies.
struct BrokerRunShape {
  std::vector<BrokerFault> plan;
  int producers = 0;
  int group_members = 0;  // resolved (never -1)
  int partitions = 0;
};

struct BrokerShrinkResult {
  bool failed = false;  // the original run failed at all
  std::string rule;     // the checker rule both runs fail by
  std::string original_failure;
  BrokerRunShape original;
  std::string failure;  // of the reduced run
  BrokerRunShape reduced;
  int runs = 0;  // scenario runs spent, the original's included
};

inline constexpr int kMaxBrokerShrinkRuns = 200;

// "LOST: partition 2 ..." -> "LOST"; a text without ':' is its own rule.
std::string FailureRule(const std::string& failure);

// `options` with the shape's plan and workload.
BrokerScenarioOptions WithShape(const BrokerScenarioOptions& options,
                                const BrokerRunShape& shape);

// Shrinks the run of `options` (its seed, bugs, nodes, lengths; its explicit
// fault plan when it has one, else the seed's). `progress` hears one line per
// reduction kept.
BrokerShrinkResult ShrinkBrokerRun(
    const BrokerScenarioOptions& options,
    const std::function<void(const std::string&)>& progress,
    int max_runs = kMaxBrokerShrinkRuns);

// "bazel run -c opt //tools:sim -- --scenario=broker --seed=N ..." replaying
// `options` (with `bug`, the --bug text), and the shape when given.
std::string BrokerReplayCommand(const BrokerScenarioOptions& options,
                                const std::string& bug,
                                const BrokerRunShape* shape);

}  // namespace chronik::sim::cli

#endif  // CHRONIK_TOOLS_SIM_BROKER_SHRINK_H_
