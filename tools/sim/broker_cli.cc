#include "tools/sim/broker_cli.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/timeline.h"
#include "tools/sim/broker_shrink.h"

namespace chronik::sim::cli {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

std::string Replay(const BrokerScenarioOptions& options, uint64_t seed,
                   const std::string& bug) {
  BrokerScenarioOptions replayed = options;
  replayed.seed = seed;
  return BrokerReplayCommand(replayed, bug, nullptr);
}

// Writes the page; false (after saying why) when the file cannot be written.
bool WriteTimeline(const std::string& path, const std::string& html) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << html;
  out.close();
  if (!out) {
    std::fprintf(stderr, "sim: cannot write the timeline to %s\n",
                 path.c_str());
    return false;
  }
  std::printf("timeline: %s (%zu bytes)\n", path.c_str(), html.size());
  return true;
}

}  // namespace

int RunBrokerSeed(const BrokerScenarioOptions& base, bool trace,
                  const std::string& timeline, const std::string& bug) {
  BrokerScenarioOptions options = base;
  std::optional<TimelineRecorder> recorder;
  if (!timeline.empty()) {
    recorder.emplace(options.nodes);
    options.listener = recorder->Listener();
  }
  std::printf("chronik sim: scenario=broker seed=%llu nodes=%d%s\n",
              static_cast<unsigned long long>(options.seed), options.nodes,
              options.bug_no_idempotence ? " bug=no_idempotence" : "");
  std::vector<std::string> plan = PlanBrokerFaults(options);
  std::printf("fault plan (%zu):\n", plan.size());
  for (const std::string& line : plan) std::printf("  %s\n", line.c_str());
  if (trace) {
    options.printer = [](std::string_view line) {
      std::printf("%.*s\n", static_cast<int>(line.size()), line.data());
    };
  }
  const auto start = std::chrono::steady_clock::now();
  BrokerScenarioResult result = RunBrokerScenario(options);
  const double wall = SecondsSince(start);
  std::printf(
      "workload: %llu sends, %llu acked, %llu retries, %llu producer resets, "
      "%llu records read, %llu crashes, %llu lost responses\n",
      static_cast<unsigned long long>(result.sends),
      static_cast<unsigned long long>(result.acked),
      static_cast<unsigned long long>(result.retries),
      static_cast<unsigned long long>(result.producer_resets),
      static_cast<unsigned long long>(result.records_read),
      static_cast<unsigned long long>(result.crashes),
      static_cast<unsigned long long>(result.lost_responses));
  std::printf(
      "snapshots: %llu taken, %llu installed; partition snapshots: %llu "
      "taken, %llu installed; %llu DeleteRecords\n",
      static_cast<unsigned long long>(result.snapshots_taken),
      static_cast<unsigned long long>(result.snapshots_installed),
      static_cast<unsigned long long>(result.partition_snapshots_taken),
      static_cast<unsigned long long>(result.partition_snapshots_installed),
      static_cast<unsigned long long>(result.records_deleted));
  std::printf("%llu partition moves\n",
              static_cast<unsigned long long>(result.moves));
  std::printf(
      "transactions: %llu ended (%llu committed), %llu records delivered to "
      "read_committed\n",
      static_cast<unsigned long long>(result.txns_ended),
      static_cast<unsigned long long>(result.txns_committed),
      static_cast<unsigned long long>(result.txn_delivered));
  std::printf(
      "compaction: %llu offsets compacted away, %llu transaction markers "
      "removed\n",
      static_cast<unsigned long long>(result.compacted_away),
      static_cast<unsigned long long>(result.markers_removed));
  std::printf(
      "storage flushes: %llu, %llu begun while the one before synced, %llu "
      "idle tail-log checkpoints; %llu payload bytes written uncopied\n",
      static_cast<unsigned long long>(result.flushes),
      static_cast<unsigned long long>(result.flushes_overlapped),
      static_cast<unsigned long long>(result.idle_tail_log_checkpoints),
      static_cast<unsigned long long>(result.spliced_bytes));
  if (result.joined || result.left) {
    std::printf("cluster changes: a node joined: %s; a broker left: %s\n",
                result.joined ? "yes" : "no", result.left ? "yes" : "no");
  }
  if (result.live_after_heal >= 0) {
    std::printf("live %s after the heal\n",
                FormatTime(result.live_after_heal).c_str());
  }
  std::printf("verdict: %s%s\n", result.passed ? "PASS" : "FAIL: ",
              result.passed ? "" : result.failure.c_str());
  std::printf("%llu events, %s simulated, %.2fs wall\n",
              static_cast<unsigned long long>(result.scheduler_events),
              FormatTime(result.simulated).c_str(), wall);
  std::printf("trace_hash=%016llx\n",
              static_cast<unsigned long long>(result.trace_hash));
  if (recorder.has_value()) {
    TimelineInfo info;
    info.title = Replay(options, options.seed, bug);
    info.passed = result.passed;
    info.failure = result.failure;
    info.end = result.simulated;
    info.fault_plan = result.fault_plan;
    if (!WriteTimeline(timeline, recorder->Html(info))) return 2;
  }
  return result.passed ? 0 : 1;
}

int ShrinkBrokerSeed(const BrokerScenarioOptions& options,
                     const std::string& bug) {
  BrokerShrinkResult shrunk =
      ShrinkBrokerRun(options, [](const std::string& line) {
        std::fprintf(stderr, "%s\n", line.c_str());
      });
  if (!shrunk.failed) {
    std::printf("seed %llu passes: nothing to shrink\n",
                static_cast<unsigned long long>(options.seed));
    return 0;
  }
  auto shape = [](const BrokerRunShape& s) {
    return absl::StrCat(s.plan.size(), " faults, ", s.producers, " producers, ",
                        s.group_members, " group members, ", s.partitions,
                        " partitions");
  };
  std::printf("original: %s: %s\n", shape(shrunk.original).c_str(),
              shrunk.original_failure.c_str());
  std::printf("shrunk to %s after %d runs: %s\n", shape(shrunk.reduced).c_str(),
              shrunk.runs, shrunk.failure.c_str());
  for (const BrokerFault& fault : shrunk.reduced.plan) {
    std::printf("  %s\n", DescribeBrokerFault(fault).c_str());
  }
  std::printf("replay: %s\n",
              BrokerReplayCommand(options, bug, &shrunk.reduced).c_str());
  return 1;
}

int RunBrokerSeeds(const BrokerScenarioOptions& base, uint64_t first,
                   uint64_t last, int jobs, const std::string& bug) {
  const auto start = std::chrono::steady_clock::now();
  std::atomic<uint64_t> next{first};
  std::mutex mu;
  std::map<uint64_t, std::string> failures;  // by seed: ordered output
  uint64_t passed = 0;
  uint64_t snapshots_taken = 0;
  uint64_t snapshots_installed = 0;
  uint64_t seeds_with_installs = 0;
  uint64_t moves = 0;
  uint64_t seeds_with_moves = 0;
  uint64_t partition_taken = 0;
  uint64_t partition_installed = 0;
  uint64_t seeds_with_partition_installs = 0;
  uint64_t records_deleted = 0;
  uint64_t joins = 0;
  uint64_t departures = 0;
  uint64_t txns_ended = 0;
  uint64_t txns_committed = 0;
  uint64_t txn_delivered = 0;
  uint64_t seeds_with_txns = 0;
  uint64_t compacted_away = 0;
  uint64_t seeds_with_compaction = 0;
  uint64_t markers_removed = 0;
  uint64_t seeds_with_markers_removed = 0;
  uint64_t flushes = 0;
  uint64_t flushes_overlapped = 0;
  uint64_t seeds_with_overlaps = 0;
  uint64_t idle_checkpoints = 0;
  uint64_t seeds_with_idle_checkpoints = 0;
  uint64_t spliced_bytes = 0;
  uint64_t seeds_with_splices = 0;
  auto worker = [&] {
    for (uint64_t seed = next++; seed <= last; seed = next++) {
      BrokerScenarioOptions options = base;
      options.seed = seed;
      BrokerScenarioResult result = RunBrokerScenario(options);
      std::lock_guard<std::mutex> lock(mu);
      snapshots_taken += result.snapshots_taken;
      snapshots_installed += result.snapshots_installed;
      seeds_with_installs += result.snapshots_installed > 0 ? 1 : 0;
      moves += result.moves;
      seeds_with_moves += result.moves > 0 ? 1 : 0;
      partition_taken += result.partition_snapshots_taken;
      partition_installed += result.partition_snapshots_installed;
      seeds_with_partition_installs +=
          result.partition_snapshots_installed > 0 ? 1 : 0;
      records_deleted += result.records_deleted;
      joins += result.joined ? 1 : 0;
      departures += result.left ? 1 : 0;
      txns_ended += result.txns_ended;
      txns_committed += result.txns_committed;
      txn_delivered += result.txn_delivered;
      seeds_with_txns += result.txns_ended > 0 ? 1 : 0;
      compacted_away += result.compacted_away;
      seeds_with_compaction += result.compacted_away > 0 ? 1 : 0;
      markers_removed += result.markers_removed;
      seeds_with_markers_removed += result.markers_removed > 0 ? 1 : 0;
      flushes += result.flushes;
      flushes_overlapped += result.flushes_overlapped;
      seeds_with_overlaps += result.flushes_overlapped > 0 ? 1 : 0;
      idle_checkpoints += result.idle_tail_log_checkpoints;
      seeds_with_idle_checkpoints += result.idle_tail_log_checkpoints > 0;
      spliced_bytes += result.spliced_bytes;
      seeds_with_splices += result.spliced_bytes > 0 ? 1 : 0;
      if (result.passed) {
        ++passed;
      } else {
        failures[seed] = result.failure;
        std::fprintf(stderr, "seed %llu FAIL: %s\n",
                     static_cast<unsigned long long>(seed),
                     result.failure.c_str());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < jobs; ++i) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  std::printf(
      "%llu passed, %zu failed (seeds %llu..%llu, %.2fs wall, "
      "jobs=%d)\n",
      static_cast<unsigned long long>(passed), failures.size(),
      static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(last), SecondsSince(start), jobs);
  std::printf("snapshots: %llu taken, %llu installed (in %llu seeds)\n",
              static_cast<unsigned long long>(snapshots_taken),
              static_cast<unsigned long long>(snapshots_installed),
              static_cast<unsigned long long>(seeds_with_installs));
  std::printf("partition moves: %llu (in %llu seeds)\n",
              static_cast<unsigned long long>(moves),
              static_cast<unsigned long long>(seeds_with_moves));
  std::printf("cluster changes: %llu nodes joined, %llu brokers left\n",
              static_cast<unsigned long long>(joins),
              static_cast<unsigned long long>(departures));
  std::printf(
      "partition snapshots: %llu taken, %llu installed (in %llu seeds); "
      "%llu DeleteRecords\n",
      static_cast<unsigned long long>(partition_taken),
      static_cast<unsigned long long>(partition_installed),
      static_cast<unsigned long long>(seeds_with_partition_installs),
      static_cast<unsigned long long>(records_deleted));
  std::printf(
      "transactions: %llu ended (%llu committed, in %llu seeds), %llu records "
      "delivered to read_committed\n",
      static_cast<unsigned long long>(txns_ended),
      static_cast<unsigned long long>(txns_committed),
      static_cast<unsigned long long>(seeds_with_txns),
      static_cast<unsigned long long>(txn_delivered));
  std::printf(
      "compaction: %llu offsets compacted away (in %llu seeds), %llu "
      "transaction markers removed (in %llu seeds)\n",
      static_cast<unsigned long long>(compacted_away),
      static_cast<unsigned long long>(seeds_with_compaction),
      static_cast<unsigned long long>(markers_removed),
      static_cast<unsigned long long>(seeds_with_markers_removed));
  std::printf(
      "storage flushes: %llu, %llu begun while the one before synced (in "
      "%llu seeds), %llu idle tail-log checkpoints (in %llu seeds); %llu "
      "payload bytes written uncopied (in %llu seeds)\n",
      static_cast<unsigned long long>(flushes),
      static_cast<unsigned long long>(flushes_overlapped),
      static_cast<unsigned long long>(seeds_with_overlaps),
      static_cast<unsigned long long>(idle_checkpoints),
      static_cast<unsigned long long>(seeds_with_idle_checkpoints),
      static_cast<unsigned long long>(spliced_bytes),
      static_cast<unsigned long long>(seeds_with_splices));
  for (const auto& [seed, failure] : failures) {
    std::printf("  seed %llu: %s\n  replay: %s\n",
                static_cast<unsigned long long>(seed), failure.c_str(),
                Replay(base, seed, bug).c_str());
  }
  return failures.empty() ? 0 : 1;
}

}  // namespace chronik::sim::cli
