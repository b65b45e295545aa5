// CPU cost of the broker's produce and fetch paths, in process: a Broker on a
// simulated disk (no real IO), driven with real request frames. Run with
// `bazel run -c opt //broker/server:broker_bench`.
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "benchmark/benchmark.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/broker.h"
#include "broker/server/testing/test_driver.h"
#include "sim/disk/sim_disk.h"

namespace chronik::broker {
namespace {

struct Fixture {
  Fixture() : rng(1), disk(Options(), rng) {
    BrokerOptions options;
    options.config.node_id = 1;
    options.config.advertised_host = "127.0.0.1";
    driver = std::make_unique<testing::TestDriver>(options, &disk, &clock, 1);
    CHRONIK_CHECK(driver->Start().ok());
    driver->Open(1, "bench");
    kafka::CreateTopicsRequest create;
    create.topics.push_back({"bench", 1, 1, {}, {}});
    Send(kafka::EncodeRequestFrame(4, 1, std::string("b"), create));
  }
  static sim::SimDiskOptions Options() {
    sim::SimDiskOptions options;
    options.fsync_latency_min_micros = 0;
    options.fsync_latency_max_micros = 0;
    return options;
  }
  // One request through the broker; returns the responses it produced.
  size_t Send(const std::string& frame) {
    driver->Write(1, frame);
    driver->Settle();
    std::deque<std::string>& responses = driver->connection(1).responses;
    const size_t answered = responses.size();
    responses.clear();
    return answered;
  }
  std::mt19937_64 rng;
  sim::SimDisk disk;
  testing::FakeClock clock;
  std::unique_ptr<testing::TestDriver> driver;
};

std::string ProduceFrame(int records, int record_bytes) {
  std::vector<kafka::Record> batch;
  for (int i = 0; i < records; ++i) {
    kafka::Record record;
    record.offset_delta = i;
    record.value = std::string(record_bytes, 'v');
    batch.push_back(std::move(record));
  }
  kafka::RecordBatchSpec spec;
  absl::StatusOr<std::string> built = kafka::BuildRecordBatch(spec, batch);
  CHRONIK_CHECK(built.ok());
  kafka::ProduceRequest request;
  request.acks = 1;
  request.timeout_ms = 1000;
  request.topics.push_back({"bench", {{0, *built}}});
  return kafka::EncodeRequestFrame(9, 7, std::string("b"), request);
}

// One produce of `range(0)` records of 1 KiB each, acks=1, per iteration.
void BM_Produce(benchmark::State& state) {
  Fixture fixture;
  const std::string frame =
      ProduceFrame(static_cast<int>(state.range(0)), 1024);
  uint64_t responses = 0;
  for (auto _ : state) responses += fixture.Send(frame);
  CHRONIK_CHECK_GE(responses, static_cast<uint64_t>(state.iterations()));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * frame.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Produce)->Arg(1)->Arg(64)->Arg(1024);

// Fetch of up to 1 MiB from a partition holding 64 MiB.
void BM_Fetch1MiB(benchmark::State& state) {
  Fixture fixture;
  const std::string produce = ProduceFrame(1024, 1024);
  for (int i = 0; i < 64; ++i) fixture.Send(produce);
  kafka::FetchRequest request;
  request.max_wait_ms = 0;
  request.topics.push_back({"bench", {{0, -1, 0, -1, -1, 1 << 20}}});
  int64_t offset = 0;
  for (auto _ : state) {
    request.topics[0].partitions[0].fetch_offset = offset;
    fixture.Send(kafka::EncodeRequestFrame(11, 8, std::string("b"), request));
    offset = (offset + 1024) % (64 * 1024);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (1 << 20));
}
BENCHMARK(BM_Fetch1MiB);

}  // namespace
}  // namespace chronik::broker

BENCHMARK_MAIN();
