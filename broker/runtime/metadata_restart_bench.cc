// Restart time of a node whose metadata group holds 20,000 offset commits,
// with metadata snapshots (the defaults) and without (the whole log
// replayed), on real files (PosixDisk under $TEST_TMPDIR or /tmp, real
// fsyncs) and on the simulated disk (CPU only). A restart is Broker::Start
// (open the LogStore, restore the snapshot, replay the tail) and the steps
// until the node is idle. Run with
// `bazel run -c opt //broker/runtime:metadata_restart_bench`.
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "benchmark/benchmark.h"
#include "broker/kafka/protocol.h"
#include "broker/runtime/posix_disk.h"
#include "broker/server/broker.h"
#include "broker/server/testing/test_driver.h"
#include "sim/disk/sim_disk.h"

namespace chronik::broker {
namespace {

constexpr int kCommits = 20'000;

BrokerOptions Options(bool snapshots) {
  BrokerOptions options;
  options.config.node_id = 1;
  options.config.advertised_host = "127.0.0.1";
  options.config.max_inflight_requests_per_connection = 1'000;
  if (!snapshots) {
    options.metadata_snapshot_entries = 0;
    options.metadata_snapshot_bytes = 0;
  }
  return options;
}

template <typename Request>
void Send(testing::TestDriver& driver, const Request& request, int16_t version,
          int32_t correlation) {
  driver.Write(1, kafka::EncodeRequestFrame(version, correlation,
                                            std::string("b"), request));
}

// A node that committed kCommits offsets (100 requests in flight at a time).
void Fill(env::Disk* disk, testing::FakeClock* clock, bool snapshots) {
  testing::TestDriver driver(Options(snapshots), disk, clock, 1);
  CHRONIK_CHECK(driver.Start().ok());
  driver.Open(1, "bench");
  kafka::CreateTopicsRequest create;
  create.topics.push_back({"t", 4, 1, {}, {}});
  Send(driver, create, 4, 0);
  driver.Settle();
  for (int i = 0; i < kCommits; ++i) {
    kafka::OffsetCommitRequest commit;
    commit.group_id = absl::StrCat("g", i % 8);
    commit.generation_id = -1;
    kafka::OffsetCommitRequest::OffsetCommitRequestTopic topic;
    topic.name = "t";
    kafka::OffsetCommitRequest::OffsetCommitRequestPartition partition;
    partition.partition_index = i % 4;
    partition.committed_offset = i;
    topic.partitions.push_back(partition);
    commit.topics.push_back(topic);
    Send(driver, commit, 7, i + 1);
    if (i % 100 == 99) driver.Settle();
  }
  driver.Settle();
}

std::string TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr ? base : "/tmp", "/restart_bench.XXXXXX");
  CHRONIK_CHECK(mkdtemp(pattern.data()) != nullptr);
  return pattern;
}

// state.range(0): snapshots on (1) or off (0); state.range(1): real files
// (1) or the simulated disk (0).
void BM_RestartAfterOffsetCommits(benchmark::State& state) {
  const bool snapshots = state.range(0) != 0;
  const bool real_files = state.range(1) != 0;
  std::mt19937_64 rng(1);
  sim::SimDiskOptions sim_options;
  sim_options.fsync_latency_min_micros = 0;
  sim_options.fsync_latency_max_micros = 0;
  sim::SimDisk sim_disk(sim_options, rng);
  std::unique_ptr<runtime::PosixDisk> posix_disk;
  env::Disk* disk = &sim_disk;
  if (real_files) {
    posix_disk = std::make_unique<runtime::PosixDisk>(TempDir());
    disk = posix_disk.get();
  }
  testing::FakeClock clock;
  Fill(disk, &clock, snapshots);
  for (auto _ : state) {
    testing::TestDriver driver(Options(snapshots), disk, &clock, 2);
    CHRONIK_CHECK(driver.Start().ok());
    benchmark::DoNotOptimize(driver.broker().MetadataImage());
  }
  state.SetLabel(absl::StrCat(snapshots ? "snapshots" : "no snapshots", ", ",
                              real_files ? "real files" : "simulated disk"));
}
BENCHMARK(BM_RestartAfterOffsetCommits)
    ->Args({1, 1})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({0, 0})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

}  // namespace
}  // namespace chronik::broker

BENCHMARK_MAIN();
