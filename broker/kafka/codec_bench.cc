// Codec throughput: decode/encode of a Produce request and a Fetch response
// carrying 1 MiB of 1 KiB records, record batch validation, and CRC-32C next
// to memcpy of the same bytes. Run: bazel run -c opt //broker/kafka:codec_bench
#include <cstring>
#include <string>
#include <vector>

#include "base/crc32c.h"
#include "benchmark/benchmark.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"

namespace chronik::kafka {
namespace {

constexpr size_t kRecordBytes = 1024;
constexpr size_t kPayloadBytes = 1024 * 1024;
constexpr int kRecordCount = kPayloadBytes / kRecordBytes;

std::string OneMiBBatch(Compression codec = Compression::kNone) {
  std::vector<Record> records(kRecordCount);
  for (int i = 0; i < kRecordCount; ++i) {
    records[i].offset_delta = i;
    records[i].timestamp_delta = i;
    std::string value(kRecordBytes, '\0');
    for (size_t j = 0; j < value.size(); ++j) {
      value[j] = static_cast<char>('a' + (i * 31 + j * 7) % 26);
    }
    records[i].value = std::move(value);
  }
  RecordBatchSpec spec;
  spec.compression = codec;
  absl::StatusOr<std::string> batch = BuildRecordBatch(spec, records);
  if (!batch.ok()) std::abort();
  return *std::move(batch);
}

ProduceRequest MakeProduce() {
  ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = 30000;
  request.topics.resize(1);
  request.topics[0].name = "bench";
  request.topics[0].partitions.resize(1);
  request.topics[0].partitions[0].records = OneMiBBatch();
  return request;
}

FetchResponse MakeFetch() {
  FetchResponse response;
  response.responses.resize(1);
  response.responses[0].topic = "bench";
  response.responses[0].partitions.resize(1);
  response.responses[0].partitions[0].high_watermark = kRecordCount;
  response.responses[0].partitions[0].records = OneMiBBatch();
  return response;
}

void BM_ProduceRequestDecode(benchmark::State& state) {
  const int16_t version = static_cast<int16_t>(state.range(0));
  const std::string frame =
      EncodeRequestFrame(version, 1, std::string("bench"), MakeProduce());
  const absl::string_view payload = absl::string_view(frame).substr(4);
  for (auto _ : state) {
    absl::StatusOr<DecodedRequest> request = DecodeRequestFrame(payload);
    benchmark::DoNotOptimize(request);
    if (!request.ok()) state.SkipWithError("decode failed");
  }
  state.SetBytesProcessed(state.iterations() * frame.size());
}
BENCHMARK(BM_ProduceRequestDecode)->Arg(7)->Arg(9);

// What the broker does per Produce: decode, then parse every batch (header
// checks and CRC-32C over the whole batch).
void BM_ProduceRequestDecodeAndValidate(benchmark::State& state) {
  const std::string frame =
      EncodeRequestFrame(9, 1, std::string("bench"), MakeProduce());
  const absl::string_view payload = absl::string_view(frame).substr(4);
  for (auto _ : state) {
    absl::StatusOr<DecodedRequest> request = DecodeRequestFrame(payload);
    const auto& produce = std::get<ProduceRequest>(request->body);
    absl::StatusOr<std::vector<RecordBatchView>> batches =
        ParseRecordBatches(*produce.topics[0].partitions[0].records);
    benchmark::DoNotOptimize(batches);
    if (!batches.ok()) state.SkipWithError("invalid batch");
  }
  state.SetBytesProcessed(state.iterations() * frame.size());
}
BENCHMARK(BM_ProduceRequestDecodeAndValidate);

void BM_ProduceRequestEncode(benchmark::State& state) {
  const ProduceRequest request = MakeProduce();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string frame = EncodeRequestFrame(9, 1, std::string("bench"), request);
    bytes = frame.size();
    benchmark::DoNotOptimize(frame);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_ProduceRequestEncode);

void BM_FetchResponseEncode(benchmark::State& state) {
  const FetchResponse response = MakeFetch();
  const RequestHeader header{FetchRequest::kApiKey,
                             static_cast<int16_t>(state.range(0)), 1, "c"};
  size_t bytes = 0;
  for (auto _ : state) {
    std::string frame = EncodeResponseFrame(header, response);
    bytes = frame.size();
    benchmark::DoNotOptimize(frame);
  }
  state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(BM_FetchResponseEncode)->Arg(11)->Arg(12);

void BM_FetchResponseDecode(benchmark::State& state) {
  const int16_t version = static_cast<int16_t>(state.range(0));
  const std::string frame = EncodeResponseFrame(
      RequestHeader{FetchRequest::kApiKey, version, 1, "c"}, MakeFetch());
  const absl::string_view payload = absl::string_view(frame).substr(4);
  for (auto _ : state) {
    FetchResponse response;
    int32_t correlation_id = 0;
    absl::Status status =
        DecodeResponseFrame(payload, version, &correlation_id, &response);
    benchmark::DoNotOptimize(response);
    if (!status.ok()) state.SkipWithError("decode failed");
  }
  state.SetBytesProcessed(state.iterations() * frame.size());
}
BENCHMARK(BM_FetchResponseDecode)->Arg(11)->Arg(12);

// Full record iteration (copies every key/value) of an uncompressed and an
// lz4/zstd-compressed 1 MiB batch: the cost of looking inside.
void BM_DecodeRecords(benchmark::State& state) {
  const std::string batch =
      OneMiBBatch(static_cast<Compression>(state.range(0)));
  const RecordBatchView view = *ParseRecordBatch(batch);
  for (auto _ : state) {
    absl::StatusOr<std::vector<Record>> records = DecodeRecords(view);
    benchmark::DoNotOptimize(records);
  }
  state.SetBytesProcessed(state.iterations() * kPayloadBytes);
  state.SetLabel(CompressionName(static_cast<Compression>(state.range(0))));
}
BENCHMARK(BM_DecodeRecords)
    ->Arg(static_cast<int>(Compression::kNone))
    ->Arg(static_cast<int>(Compression::kLz4))
    ->Arg(static_cast<int>(Compression::kZstd));

void BM_Crc32c(benchmark::State& state) {
  const std::string data = OneMiBBatch();
  for (auto _ : state) {
    benchmark::DoNotOptimize(crc32c::Value(data));
  }
  state.SetBytesProcessed(state.iterations() * data.size());
}
BENCHMARK(BM_Crc32c);

void BM_Crc32cPortable(benchmark::State& state) {
  const std::string data = OneMiBBatch();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        crc32c::ExtendPortable(0, data.data(), data.size()));
  }
  state.SetBytesProcessed(state.iterations() * data.size());
}
BENCHMARK(BM_Crc32cPortable);

void BM_Crc32cHardwareLanes(benchmark::State& state) {
  const std::string data = OneMiBBatch();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        crc32c::ExtendHardware(0, data.data(), data.size()));
  }
  state.SetBytesProcessed(state.iterations() * data.size());
}
BENCHMARK(BM_Crc32cHardwareLanes);

void BM_Memcpy(benchmark::State& state) {
  const std::string data = OneMiBBatch();
  std::string copy(data.size(), '\0');
  for (auto _ : state) {
    std::memcpy(copy.data(), data.data(), data.size());
    benchmark::DoNotOptimize(copy.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * data.size());
}
BENCHMARK(BM_Memcpy);

}  // namespace
}  // namespace chronik::kafka
