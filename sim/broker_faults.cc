#include "sim/broker_faults.h"

#include <algorithm>
#include <array>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "sim/clock.h"
#include "sim/random.h"

namespace chronik::sim {
namespace {

enum class Target { kNone, kNode, kPartition };

// One row per kind: its name in plans and traces, whether it takes the node
// down (the duration is then the restart delay), what it is aimed at, and the
// range its `value` is drawn from with the unit it is described in.
struct KindInfo {
  BrokerFaultKind kind;
  const char* name;
  bool restart;
  Target target;
  int64_t value_min;
  int64_t value_max;
  const char* unit;  // "" when the value means nothing to a reader
};

constexpr int64_t kMaxJumpMicros = 10'000'000;
constexpr int64_t kMaxDrift = NodeClock::kMaxDriftPpm / 2;

constexpr std::array<KindInfo, kBrokerFaultKinds> kKinds = {{
    {BrokerFaultKind::kCrash, "crash", true, Target::kNode, 0, 0, ""},
    {BrokerFaultKind::kCrashMetadataLeader, "crash_metadata_leader", true,
     Target::kNone, 0, 0, ""},
    {BrokerFaultKind::kCrashPartitionLeader, "crash_partition_leader", true,
     Target::kPartition, 0, 0, ""},
    {BrokerFaultKind::kIsolate, "isolate", false, Target::kNode, 0, 0, ""},
    {BrokerFaultKind::kPartitionBroker, "partition_broker", false,
     Target::kNode, 0, 0, ""},
    {BrokerFaultKind::kLoseResponses, "lose_responses", false, Target::kNone,
     50, 300, " per mille"},
    {BrokerFaultKind::kClientPartition, "client_partition", false,
     Target::kNode, 0, 0, ""},
    {BrokerFaultKind::kClockJump, "clock_jump", false, Target::kNode,
     -kMaxJumpMicros, kMaxJumpMicros, " us"},
    {BrokerFaultKind::kClockDrift, "clock_drift", false, Target::kNode,
     -kMaxDrift, kMaxDrift, " ppm"},
    {BrokerFaultKind::kPause, "pause", false, Target::kNode, 0, 0, ""},
    {BrokerFaultKind::kCrashInFsync, "crash_in_fsync", true, Target::kNode, 0,
     0, ""},
    {BrokerFaultKind::kPowerLoss, "power_loss", true, Target::kNone, 0, 0, ""},
    {BrokerFaultKind::kStop, "stop", true, Target::kNode, 0, 0, ""},
    {BrokerFaultKind::kPortTaken, "port_taken", false, Target::kNode, 0, 2,
     " (listener)"},
    {BrokerFaultKind::kOneWayPartition, "one_way_partition", false,
     Target::kNode, 0, 1, " (0 out, 1 in)"},
    {BrokerFaultKind::kLoss, "loss", false, Target::kNone, 50, 400,
     " per mille"},
    {BrokerFaultKind::kDuplicate, "duplicate", false, Target::kNone, 50, 300,
     " per mille"},
    {BrokerFaultKind::kReorder, "reorder", false, Target::kNone, 1, 50, " ms"},
    {BrokerFaultKind::kDelay, "delay", false, Target::kNone, 20, 500, " ms"},
    {BrokerFaultKind::kClog, "clog", false, Target::kNode, 0, 0, ""},
    {BrokerFaultKind::kDiskErrors, "disk_errors", false, Target::kNode, 5, 200,
     " per mille"},
    {BrokerFaultKind::kDiskFull, "disk_full", false, Target::kNode, 0, 65536,
     " bytes left"},
    {BrokerFaultKind::kSlowFsync, "slow_fsync", false, Target::kNode, 20, 1000,
     " ms"},
}};

const KindInfo& Info(BrokerFaultKind kind) {
  const KindInfo& info = kKinds[static_cast<size_t>(kind)];
  CHRONIK_CHECK(info.kind == kind) << "kKinds out of order at " << info.name;
  return info;
}

// Debian's Abseil has its own string_view type.
absl::Status ParseItem(absl::string_view item, int nodes, int partitions,
                       BrokerFault* fault) {
  const std::vector<absl::string_view> at = absl::StrSplit(item, '@');
  if (at.size() != 2) return absl::InvalidArgumentError("expected kind@...");
  absl::StatusOr<BrokerFaultKind> kind =
      ParseBrokerFaultKind(std::string_view(at[0].data(), at[0].size()));
  if (!kind.ok()) return kind.status();
  fault->kind = *kind;
  const std::vector<absl::string_view> fields = absl::StrSplit(at[1], ':');
  int64_t start_us = 0, duration_us = 0;
  if (fields.size() != 5 || !absl::SimpleAtoi(fields[0], &start_us) ||
      !absl::SimpleAtoi(fields[1], &fault->node) ||
      !absl::SimpleAtoi(fields[2], &fault->partition) ||
      !absl::SimpleAtoi(fields[3], &duration_us) ||
      !absl::SimpleAtoi(fields[4], &fault->value)) {
    return absl::InvalidArgumentError(
        "expected start_us:node:partition:duration_us:value (integers)");
  }
  if (fault->node < 1 || fault->node > nodes) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", fault->node, " is not in 1..", nodes));
  }
  if (fault->partition < 0 || fault->partition >= partitions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "partition ", fault->partition, " is not in 0..", partitions - 1));
  }
  if (start_us < 0 || duration_us <= 0) {
    return absl::InvalidArgumentError(
        "start must be >= 0 and duration > 0 microseconds");
  }
  const KindInfo& info = Info(*kind);
  if (fault->value < info.value_min || fault->value > info.value_max) {
    return absl::InvalidArgumentError(
        absl::StrCat("value ", fault->value, " of ", info.name, " is not in ",
                     info.value_min, "..", info.value_max));
  }
  fault->node -= 1;
  fault->start = start_us * kMicrosecond;
  fault->duration = duration_us * kMicrosecond;
  return absl::OkStatus();
}

}  // namespace

std::string_view BrokerFaultName(BrokerFaultKind kind) {
  return Info(kind).name;
}

absl::StatusOr<BrokerFaultKind> ParseBrokerFaultKind(std::string_view name) {
  for (const KindInfo& info : kKinds) {
    if (name == info.name) return info.kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown broker fault kind '",
                   absl::string_view(name.data(), name.size()), "'"));
}

bool IsBrokerRestartFault(BrokerFaultKind kind) { return Info(kind).restart; }

std::vector<BrokerFaultKind> ChooseBrokerSwarm(uint64_t seed) {
  Rng rng = Rng::Stream(seed, "faults/swarm");
  std::vector<BrokerFaultKind> on;
  for (const KindInfo& info : kKinds) {
    if (rng.Chance(0.5)) on.push_back(info.kind);
  }
  if (on.empty()) {
    on.push_back(static_cast<BrokerFaultKind>(rng.Below(kBrokerFaultKinds)));
  }
  return on;
}

std::vector<BrokerFault> MakeBrokerFaultPlan(uint64_t seed, int nodes,
                                             int partitions,
                                             Nanos fault_phase) {
  const std::vector<BrokerFaultKind> swarm = ChooseBrokerSwarm(seed);
  std::vector<BrokerFault> plan;
  Rng rng = Rng::Stream(seed, "faults");
  // Times in whole microseconds, as the text form writes them.
  auto micros = [](Nanos t) { return t / kMicrosecond * kMicrosecond; };
  // One fault at a time: each starts after the previous one ended.
  Nanos t = micros(rng.Between(1 * kSecond, 3 * kSecond));
  while (t < fault_phase) {
    BrokerFault fault;
    fault.kind = swarm[rng.Below(swarm.size())];
    const KindInfo& info = Info(fault.kind);
    fault.start = t;
    fault.node = static_cast<int>(rng.Below(nodes));
    fault.partition = static_cast<int>(rng.Below(partitions));
    fault.duration = info.restart
                         ? rng.Between(100 * kMillisecond, 3 * kSecond)
                         : rng.Between(500 * kMillisecond, 4 * kSecond);
    fault.value = rng.Between(info.value_min, info.value_max);
    fault.duration = std::max<Nanos>(
        kMicrosecond, micros(std::min(fault.duration, fault_phase - t)));
    plan.push_back(fault);
    t += fault.duration + micros(rng.Between(200 * kMillisecond, 2 * kSecond));
  }
  return plan;
}

std::string DescribeBrokerFault(const BrokerFault& fault) {
  const KindInfo& info = Info(fault.kind);
  std::string text = absl::StrCat(FormatTime(fault.start), " ", info.name);
  if (info.target == Target::kNode) {
    absl::StrAppend(&text, " n", fault.node + 1);
  } else if (info.target == Target::kPartition) {
    absl::StrAppend(&text, " of partition ", fault.partition);
  }
  if (info.value_min != info.value_max) {
    absl::StrAppend(&text, " ", fault.value, info.unit);
  }
  absl::StrAppend(&text, info.restart ? ", restart after " : ", for ",
                  FormatTime(fault.duration));
  return text;
}

std::string FormatBrokerFaultPlan(const std::vector<BrokerFault>& plan) {
  std::string text;
  for (const BrokerFault& fault : plan) {
    if (!text.empty()) text += ";";
    absl::StrAppend(&text, Info(fault.kind).name, "@",
                    fault.start / kMicrosecond, ":", fault.node + 1, ":",
                    fault.partition, ":", fault.duration / kMicrosecond, ":",
                    fault.value);
  }
  return text;
}

absl::StatusOr<std::vector<BrokerFault>> ParseBrokerFaultPlan(
    std::string_view text_in, int nodes, int partitions) {
  const absl::string_view text(text_in.data(), text_in.size());
  std::vector<BrokerFault> plan;
  if (text.empty() || text == "none") return plan;
  for (absl::string_view item : absl::StrSplit(text, ';')) {
    BrokerFault fault;
    if (absl::Status status = ParseItem(item, nodes, partitions, &fault);
        !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault plan item '", item, "': ", status.message()));
    }
    plan.push_back(fault);
  }
  return plan;
}

}  // namespace chronik::sim
