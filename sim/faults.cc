#include "sim/faults.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/check.h"
#include "sim/random.h"

namespace chronik::sim {
namespace {

constexpr std::array<const char*, kFaultKinds> kNames = {
    "crash",          "crash_squat", "stop",           "pause",
    "partition",      "asymmetric",  "isolate",        "clog",
    "loss",           "duplicate",   "reorder",        "slow_links",
    "clock_drift",    "clock_jump",  "squat_at_start", "slow_fsync",
    "crash_in_fsync", "disk_errors", "disk_full",      "corrupt_sectors",
    "crash_leader",
};

// Most faults a seed schedules of one kind; keeps fault phases readable.
constexpr int kMaxFaultsPerKind = 6;

// Draws the parameters of a fault between nodes (the draws, in order, are
// part of the seed's schedule). False when `fault.kind` is not one.
bool DrawNetworkFault(Fault& fault, Rng& rng, int num_nodes) {
  auto other_node = [&] {
    if (num_nodes == 1) return fault.node;
    int peer = static_cast<int>(rng.Below(num_nodes - 1));
    return peer >= fault.node ? peer + 1 : peer;
  };
  switch (fault.kind) {
    case FaultKind::kPartition: {
      fault.node = -1;
      // A random non-empty proper subset of the nodes.
      const uint64_t all = (uint64_t{1} << num_nodes) - 1;
      fault.value = static_cast<int64_t>(1 + rng.Below(all - 1));
      fault.duration = rng.Between(100 * kMillisecond, 5 * kSecond);
      return true;
    }
    case FaultKind::kAsymmetric:
    case FaultKind::kClog:
      fault.peer = other_node();
      fault.duration = rng.Between(100 * kMillisecond, 4 * kSecond);
      return true;
    case FaultKind::kIsolate:
      fault.duration = rng.Between(100 * kMillisecond, 4 * kSecond);
      return true;
    case FaultKind::kLoss:
    case FaultKind::kDuplicate:
      fault.node = -1;
      fault.value = rng.Between(5, 200);
      fault.duration = rng.Between(500 * kMillisecond, 10 * kSecond);
      return true;
    case FaultKind::kReorder:
      fault.node = -1;
      fault.duration = rng.Between(500 * kMillisecond, 10 * kSecond);
      return true;
    case FaultKind::kSlowLinks:
      fault.node = -1;
      fault.value = rng.Between(10, 300);
      fault.duration = rng.Between(500 * kMillisecond, 10 * kSecond);
      return true;
    default:
      return false;
  }
}

// Draws the parameters of a fault of one node's process, clock or disk.
void DrawNodeFault(Fault& fault, Rng& rng) {
  switch (fault.kind) {
    case FaultKind::kCrash:
    case FaultKind::kStop:
    case FaultKind::kCrashInFsync:
    case FaultKind::kCrashLeader:
      fault.duration = rng.Between(10 * kMillisecond, 3 * kSecond);
      break;
    case FaultKind::kCrashSquat:
      fault.duration = rng.Between(10 * kMillisecond, 2 * kSecond);
      fault.value = rng.Between(1000, 3 * 1000 * 1000);  // squat beyond restart
      break;
    case FaultKind::kPause:
      fault.duration = rng.Between(50 * kMillisecond, 2 * kSecond);
      break;
    case FaultKind::kClockDrift:
      fault.value = rng.Between(-200000, 200000);
      break;
    case FaultKind::kClockJump:
      fault.value = rng.Between(-2 * 1000 * 1000, 2 * 1000 * 1000);
      break;
    case FaultKind::kSquatAtStart:
      fault.at = 0;
      fault.duration = rng.Between(10 * kMillisecond, 3 * kSecond);
      break;
    case FaultKind::kDiskErrors:
      fault.value = rng.Between(10, 300);
      fault.duration = rng.Between(100 * kMillisecond, 3 * kSecond);
      break;
    case FaultKind::kDiskFull:
      fault.duration = rng.Between(100 * kMillisecond, 3 * kSecond);
      break;
    case FaultKind::kCorruptSectors:
      fault.value = rng.Between(100, 1000);
      break;
    case FaultKind::kSlowFsync:
      fault.value = rng.Between(2, 100);
      fault.duration = rng.Between(100 * kMillisecond, 5 * kSecond);
      break;
    default:
      CHRONIK_CHECK(false) << "fault kind " << static_cast<int>(fault.kind)
                           << " has no parameters";
  }
}

Fault MakeFault(FaultKind kind, Rng& rng, int num_nodes, Nanos fault_phase) {
  Fault fault;
  fault.kind = kind;
  fault.at = rng.Between(0, fault_phase - 1);
  fault.node = static_cast<int>(rng.Below(num_nodes));
  if (!DrawNetworkFault(fault, rng, num_nodes)) DrawNodeFault(fault, rng);
  // Whole microseconds, so the text form (FormatSchedule) replays exactly.
  fault.at -= fault.at % kMicrosecond;
  fault.duration -= fault.duration % kMicrosecond;
  return fault;
}

}  // namespace

static_assert(kNames[kFaultKinds - 1] != nullptr, "a fault kind has no name");

std::string_view FaultKindName(FaultKind kind) {
  const int index = static_cast<int>(kind);
  CHRONIK_CHECK_GE(index, 0);
  CHRONIK_CHECK_LT(index, kFaultKinds);
  return kNames[index];
}

absl::StatusOr<FaultKind> ParseFaultKind(std::string_view name) {
  for (int i = 0; i < kFaultKinds; ++i) {
    if (kNames[i] == name) return static_cast<FaultKind>(i);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown fault kind '", std::string(name),
                   "'; known: ", absl::StrJoin(kNames, ", ")));
}

std::string SwarmChoice::Describe() const {
  std::vector<std::string> parts;
  for (int i = 0; i < kFaultKinds; ++i) {
    if (enabled[i])
      parts.push_back(absl::StrCat(std::string(kNames[i]), " x", count[i]));
  }
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

SwarmChoice ChooseSwarm(uint64_t seed) {
  SwarmChoice choice;
  for (int i = 0; i < kFaultKinds; ++i) {
    Rng rng = Rng::Stream(seed, absl::StrCat("swarm/", std::string(kNames[i])));
    choice.enabled[i] = rng.Chance(0.5);
    choice.count[i] = choice.enabled[i]
                          ? static_cast<int>(rng.Between(1, kMaxFaultsPerKind))
                          : 0;
  }
  return choice;
}

std::vector<Fault> GenerateSchedule(uint64_t seed, const SwarmChoice& choice,
                                    int num_nodes, Nanos fault_phase) {
  CHRONIK_CHECK_GT(num_nodes, 0);
  CHRONIK_CHECK_LE(num_nodes, 62);
  CHRONIK_CHECK_GT(fault_phase, 0);
  std::vector<Fault> faults;
  for (int i = 0; i < kFaultKinds; ++i) {
    if (!choice.enabled[i]) continue;
    CHRONIK_CHECK_LE(choice.count[i], kMaxFaultsPerKind);
    Rng rng =
        Rng::Stream(seed, absl::StrCat("faults/", std::string(kNames[i])));
    for (int n = 0; n < choice.count[i]; ++n) {
      faults.push_back(
          MakeFault(static_cast<FaultKind>(i), rng, num_nodes, fault_phase));
    }
  }
  std::stable_sort(
      faults.begin(), faults.end(), [](const Fault& a, const Fault& b) {
        return std::make_tuple(a.at, static_cast<int>(a.kind), a.node) <
               std::make_tuple(b.at, static_cast<int>(b.kind), b.node);
      });
  return faults;
}

std::string FormatSchedule(const std::vector<Fault>& faults) {
  std::vector<std::string> items;
  items.reserve(faults.size());
  for (const Fault& f : faults) {
    items.push_back(absl::StrCat(std::string(FaultKindName(f.kind)), "@",
                                 f.at / kMicrosecond, ":", f.node, ":", f.peer,
                                 ":", f.duration / kMicrosecond, ":", f.value));
  }
  return absl::StrJoin(items, ";");
}

absl::StatusOr<std::vector<Fault>> ParseSchedule(std::string_view text_in,
                                                 int num_nodes) {
  // Debian's Abseil has its own string_view type.
  const absl::string_view text(text_in.data(), text_in.size());
  std::vector<Fault> faults;
  if (text.empty()) return faults;
  for (absl::string_view item : absl::StrSplit(text, ';')) {
    std::vector<absl::string_view> at_split = absl::StrSplit(item, '@');
    if (at_split.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat("fault '", std::string(item),
                       "': expected kind@at:node:peer:dur:value"));
    }
    absl::StatusOr<FaultKind> kind = ParseFaultKind(
        std::string_view(at_split[0].data(), at_split[0].size()));
    if (!kind.ok()) return kind.status();
    std::vector<absl::string_view> fields = absl::StrSplit(at_split[1], ':');
    int64_t numbers[5];
    if (fields.size() != 5) {
      return absl::InvalidArgumentError(absl::StrCat(
          "fault '", std::string(item), "': expected 5 numbers after '@'"));
    }
    for (int i = 0; i < 5; ++i) {
      if (!absl::SimpleAtoi(fields[i], &numbers[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("fault '", std::string(item), "': '",
                         std::string(fields[i]), "' is not a number"));
      }
    }
    Fault fault{numbers[0] * kMicrosecond,    *kind,
                static_cast<int>(numbers[1]), static_cast<int>(numbers[2]),
                numbers[3] * kMicrosecond,    numbers[4]};
    if (fault.at < 0 || fault.duration < 0 || fault.node < -1 ||
        fault.node >= num_nodes || fault.peer < -1 || fault.peer >= num_nodes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "fault '", std::string(item), "': time or node out of range"));
    }
    faults.push_back(fault);
  }
  return faults;
}

std::string DescribeFault(const Fault& f) {
  std::string line =
      absl::StrCat(FormatTime(f.at), " ", std::string(FaultKindName(f.kind)));
  if (f.node >= 0) absl::StrAppend(&line, " n", f.node);
  if (f.peer >= 0) absl::StrAppend(&line, " -> n", f.peer);
  if (f.duration > 0) absl::StrAppend(&line, " for ", FormatTime(f.duration));
  if (f.value != 0) absl::StrAppend(&line, " value=", f.value);
  return line;
}

}  // namespace chronik::sim
