// The broker scenario's faults as data: the kinds, a seed's swarm choice and
// plan, and the plan's text form (what --shrink prints and --schedule reads).
//
// Swarm testing, as in the Raft scenario (sim/faults.h): each seed first turns
// every kind on or off (stream "faults/swarm", each on with probability 1/2,
// at least one on), then draws its plan from the kinds it turned on (stream
// "faults"): one fault at a time, each starting after the previous one ended,
// within [0, fault_phase). Different seeds thus explore different mixes
// instead of every seed getting a little of everything.
//
// Adding a kind: an enumerator, a row in the kind table (broker_faults.cc),
// what its `value` means, and its effect in broker_world_faults.cc.
//
// Pure functions of their inputs; no state.
#ifndef CHRONIK_SIM_BROKER_FAULTS_H_
#define CHRONIK_SIM_BROKER_FAULTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/time.h"

namespace chronik::sim {

enum class BrokerFaultKind : int {
  kCrash = 0,             // kill -9 of `node`
  kCrashMetadataLeader,   // kill -9 of the metadata leader the clients saw
  kCrashPartitionLeader,  // kill -9 of `partition`'s leader the clients saw
  kIsolate,               // every link of `node`, client links too
  kPartitionBroker,       // `node` from the other brokers (both directions)
  kLoseResponses,         // client connections break after a response, with
                          // probability `value` per mille
  kClientPartition,       // the clients cannot reach `node`
  kClockJump,             // `node`'s clock jumps by `value` microseconds
  kClockDrift,            // `node`'s clock runs `value` ppm fast or slow
  kPause,                 // `node` stalls (a long GC pause, SIGSTOP)
  kCrashInFsync,          // `node` dies while its next flush is fsynced
  kPowerLoss,             // every node dies at once; each restarts later
  kStop,                  // clean stop of `node` (SIGTERM's drain)
  kPortTaken,        // `node` goes down and another process takes its
                     // listener `value` (an index into config::ListenersOf);
                     // it restarts halfway, binding once the port is free
  kOneWayPartition,  // `node`'s messages to the other brokers are lost
                     // (value 0) or theirs to it (value 1)
  kLoss,             // broker links lose messages, `value` per mille
  kDuplicate,        // broker links duplicate messages, `value` per mille
  kReorder,          // broker links reorder within `value` milliseconds
  kDelay,            // half the messages on every link are delayed up to
                     // `value` milliseconds
  kClog,             // `node`'s broker links hold messages until the end
  kDiskErrors,       // `node`'s writes and fsyncs fail (EIO), `value` per
                     // mille; a failed group stops the node (restarted)
  kDiskFull,         // `node`'s disk has `value` bytes left (ENOSPC)
  kSlowFsync,        // `node`'s fsyncs take up to `value` milliseconds
  kCount,
};
inline constexpr int kBrokerFaultKinds =
    static_cast<int>(BrokerFaultKind::kCount);

std::string_view BrokerFaultName(BrokerFaultKind kind);
absl::StatusOr<BrokerFaultKind> ParseBrokerFaultKind(std::string_view name);
// The node goes down and `duration` is the delay before it restarts.
bool IsBrokerRestartFault(BrokerFaultKind kind);

struct BrokerFault {
  BrokerFaultKind kind = BrokerFaultKind::kCrash;
  Nanos start = 0;
  Nanos duration = 0;  // a restart fault: the restart delay
  int node = 0;        // index 0..nodes-1
  int partition = 0;
  int64_t value = 0;  // per kind, see BrokerFaultKind

  bool operator==(const BrokerFault&) const = default;
};

// Which kinds a seed's plan draws from (at least one).
std::vector<BrokerFaultKind> ChooseBrokerSwarm(uint64_t seed);

std::vector<BrokerFault> MakeBrokerFaultPlan(uint64_t seed, int nodes,
                                             int partitions, Nanos fault_phase);

// One fault as a readable line ("1.250000s crash n2, restart after 0.3s").
std::string DescribeBrokerFault(const BrokerFault& fault);

// Text form, one fault per ';'-separated item:
// kind@start_us:node:partition:duration_us:value, nodes numbered from 1
// ("crash@1250000:2:0:300000:0"). Parse accepts what Format prints, and ""
// or "none" (no faults); errors name the item and what is wrong.
std::string FormatBrokerFaultPlan(const std::vector<BrokerFault>& plan);
absl::StatusOr<std::vector<BrokerFault>> ParseBrokerFaultPlan(
    std::string_view text, int nodes, int partitions);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_BROKER_FAULTS_H_
