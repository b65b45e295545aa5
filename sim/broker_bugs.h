// The broker scenario's injected bugs by name (`--bug=NAME,...`): the
// broker's own (env::BrokerBugs) and the scenario's client bug
// `no_idempotence`. Raft core bugs are named by tools/sim (ParseBugs).
#ifndef CHRONIK_SIM_BROKER_BUGS_H_
#define CHRONIK_SIM_BROKER_BUGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "broker/env/injected_bugs.h"
#include "sim/broker_scenario.h"

namespace chronik::sim {

struct BrokerBugName {
  const char* name;
  bool env::BrokerBugs::*field;
};

// Every env::BrokerBugs field, by its --bug name.
absl::Span<const BrokerBugName> BrokerBugNames();

// Switches on the broker and client bugs named in `list` (comma-separated)
// and returns the names it does not know, comma-separated (Raft bugs, for
// the caller to parse).
std::string TakeBrokerBugs(absl::string_view list,
                           BrokerScenarioOptions* options);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_BROKER_BUGS_H_
