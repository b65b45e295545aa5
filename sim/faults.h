// Fault schedules and swarm testing.
//
// A run's faults are a list of `Fault` records (what, when, to whom, for how
// long), generated up front from the seed. Keeping them as data is what makes
// shrinking possible: a failing run's list is reduced by removing entries and
// re-running with the same seed for everything else (tools/sim --shrink), and
// the reduced list can be passed back as text (FormatSchedule / ParseSchedule)
// to replay it.
//
// Swarm testing: each seed first decides which fault kinds are on at all and at
// what rate (ChooseSwarm), so different seeds explore different mixes instead
// of every seed getting a little of everything. Each kind draws from its own
// stream ("faults/<kind>"), so adding a kind changes neither the decisions nor
// the times of the others. Pure functions of their inputs; no state.
#ifndef CHRONIK_SIM_FAULTS_H_
#define CHRONIK_SIM_FAULTS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/time.h"

namespace chronik::sim {

enum class FaultKind : int {
  kCrash = 0,   // node crashes (volatile state lost), restarts after `duration`
  kCrashSquat,  // crash, and another process takes the node's port until
                // `value` microseconds after the restart attempt
  kStop,        // clean stop, restart after `duration`
  kPause,       // GC-like stall of `duration`
  kPartition,   // symmetric partition: nodes in bitmask `value` vs the rest
  kAsymmetric,  // link node -> peer blocked for `duration`
  kIsolate,     // every link of node blocked for `duration`
  kClog,        // link node -> peer holds messages for `duration`
  kLoss,        // loss probability `value` per mille, for `duration`
  kDuplicate,   // duplication probability `value` per mille, for `duration`
  kReorder,     // reordering on, for `duration`
  kSlowLinks,   // latency tail probability `value` per mille, for `duration`
  kClockDrift,  // node's clock drifts by `value` ppm from then on
  kClockJump,   // node's clock jumps by `value` microseconds (either sign)
  kSquatAtStart,  // another process holds node's port at start for `duration`
  kSlowFsync,     // node's fsync latency multiplied by `value`, for `duration`
  kCrashInFsync,  // node crashes during its next fsync (power cut with writes
                  // in flight), restarts after `duration`
  kDiskErrors,    // node's disk fails writes and fsyncs (EIO) with probability
                  // `value` per mille, for `duration`
  kDiskFull,      // node's disk is full (ENOSPC), for `duration`
  kCorruptSectors,  // from then on, a crash garbles the last sector of a torn
                    // write with probability `value` per mille
  kCrashLeader,     // whichever node leads then crashes, restarts after
                    // `duration` (a "kill the leader" nemesis)
  kCount,
};
inline constexpr int kFaultKinds = static_cast<int>(FaultKind::kCount);

std::string_view FaultKindName(FaultKind kind);
absl::StatusOr<FaultKind> ParseFaultKind(std::string_view name);

struct Fault {
  Nanos at = 0;
  FaultKind kind = FaultKind::kCrash;
  int node = -1;  // -1 when not about one node
  int peer = -1;
  Nanos duration = 0;
  int64_t value = 0;

  bool operator==(const Fault&) const = default;
};

// Which fault kinds a seed turned on, and how many of each it schedules.
struct SwarmChoice {
  std::array<bool, kFaultKinds> enabled{};
  std::array<int, kFaultKinds> count{};
  // "crash x3, partition x2, loss x1" or "none".
  std::string Describe() const;
};

// Turns each kind on with probability 1/2 and picks how many of it to schedule.
SwarmChoice ChooseSwarm(uint64_t seed);

// The fault schedule of a seed: `choice.count[k]` faults of each enabled kind,
// at times within [0, fault_phase), sorted by (time, kind, node) for a stable
// order.
std::vector<Fault> GenerateSchedule(uint64_t seed, const SwarmChoice& choice,
                                    int num_nodes, Nanos fault_phase);

// Text form, one fault per ';'-separated item:
// kind@at_us:node:peer:duration_us:value (e.g. "crash@1250000:2:-1:300000:0").
// ParseSchedule accepts exactly what FormatSchedule prints, and "" (no faults).
std::string FormatSchedule(const std::vector<Fault>& faults);
absl::StatusOr<std::vector<Fault>> ParseSchedule(std::string_view text,
                                                 int num_nodes);
// One fault as a readable line ("1.250000s crash n2 for 0.300000s").
std::string DescribeFault(const Fault& fault);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_FAULTS_H_
