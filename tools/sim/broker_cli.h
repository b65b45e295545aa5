// tools:sim --scenario=broker: runs sim/broker_scenario for one seed (fault
// plan, workload figures, verdict, trace_hash) or a range of seeds (--jobs
// worker threads; a summary and a replay command per failure). --timeline
// writes one seed's HTML timeline page; --shrink reduces a failing seed's
// fault plan and workload.
#ifndef CHRONIK_TOOLS_SIM_BROKER_CLI_H_
#define CHRONIK_TOOLS_SIM_BROKER_CLI_H_

#include <cstdint>
#include <string>

#include "sim/broker_scenario.h"

namespace chronik::sim::cli {

// One seed, printed; returns 0 when it passes. With `timeline` (a path, ""
// for none) also writes the run's timeline page there (sim/timeline.h);
// `bug` (the --bug text) goes into the replay command.
int RunBrokerSeed(const BrokerScenarioOptions& options, bool trace,
                  const std::string& timeline = "",
                  const std::string& bug = "");
// Shrinks a failing seed (tools/sim/broker_shrink.h) and prints the reduced
// plan, workload and replay command; returns 1 when the seed fails, 0 when
// it passes (nothing to shrink).
int ShrinkBrokerSeed(const BrokerScenarioOptions& options,
                     const std::string& bug);
// Seeds first..last on `jobs` threads; returns 0 when all pass.
// `bug` (the --bug text) goes into the replay commands.
int RunBrokerSeeds(const BrokerScenarioOptions& options, uint64_t first,
                   uint64_t last, int jobs, const std::string& bug);

}  // namespace chronik::sim::cli

#endif  // CHRONIK_TOOLS_SIM_BROKER_CLI_H_
