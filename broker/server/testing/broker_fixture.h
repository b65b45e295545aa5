// Tests only: the in-process broker fixture shared by the broker's test
// suites: one Broker on a simulated disk with a fake clock (TestDriver), with
// helpers that send real Kafka request frames built by the codec, as a client
// would, and decode the answers. Not thread-safe.
#ifndef CHRONIK_BROKER_SERVER_TESTING_BROKER_FIXTURE_H_
#define CHRONIK_BROKER_SERVER_TESTING_BROKER_FIXTURE_H_

#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/protocol.h"
#include "broker/kafka/record_batch.h"
#include "broker/server/broker.h"
#include "broker/server/testing/test_driver.h"
#include "gtest/gtest.h"
#include "sim/disk/sim_disk.h"

namespace chronik::broker::testing {

class BrokerTest : public ::testing::Test {
 protected:
  BrokerTest() : rng_(5), disk_(sim::SimDiskOptions{}, rng_) { StartBroker(); }

  void StartBroker() {
    BrokerOptions options;
    // A small tail log: cheap in the simulated disk's memory, and its
    // checkpoints run within a test.
    options.store.tail_wal_bytes = kTestTailWalBytes;
    options.store.tail_wal_min_groups = 1;
    options.config.node_id = 1;
    options.config.kafka_port = 9092;
    options.config.advertised_host = "127.0.0.1";
    options.config.default_partitions = 2;
    options.config.group_initial_rebalance_delay_ms = 0;  // joins at once
    options.config.max_inflight_requests_per_connection = max_inflight_;
    options.segment_max_bytes = segment_max_bytes_;
    if (configure_) configure_(options);
    options.retention_check_ticks = 10;
    driver_ =
        std::make_unique<TestDriver>(options, &disk_, &clock_, 5, async_fsync_);
    absl::Status started = driver_->Start();
    CHRONIK_CHECK(started.ok()) << started;
    broker_ = &driver_->broker();
    driver_->Open(kConn, "127.0.0.1:5555", protocol_);
  }

  // Set by a suite before Restart(): changes the options, and the protocol
  // of the connection kConn (security_test).
  std::function<void(BrokerOptions&)> configure_;
  env::SecurityProtocol protocol_ = env::SecurityProtocol::kPlaintext;
  // Set before Restart(): fsyncs come out of steps as requests the driver
  // completes (TestDriver's async mode) instead of running inline.
  bool async_fsync_ = false;

  void Restart(bool crash) {
    driver_.reset();
    broker_ = nullptr;
    if (crash) disk_.Crash();
    StartBroker();
  }

  // Bytes from the client, then the steps they lead to.
  void Write(ConnectionId id, const std::string& bytes) {
    driver_->Write(id, bytes);
    driver_->Settle();
  }
  std::deque<std::string>& Sent(ConnectionId id = kConn) {
    return driver_->connection(id).responses;
  }

  // Sends one request and returns the decoded response (it must be answered
  // by the time the broker has processed it and `ticks` ticks passed).
  template <typename Response, typename Request>
  Response Call(const Request& request, int16_t version, int ticks = 0) {
    SendOnly(request, version);
    for (int i = 0; i < ticks; ++i) Tick();
    return Receive<Response>(version);
  }

  template <typename Request>
  void SendOnly(const Request& request, int16_t version) {
    Write(kConn, kafka::EncodeRequestFrame(version, ++correlation_id_,
                                           std::string("test"), request));
  }

  template <typename Response>
  Response Receive(int16_t version) {
    auto& queue = Sent();
    CHRONIK_CHECK(!queue.empty()) << "no response";
    std::string frame = std::move(queue.front());
    queue.pop_front();
    Response response;
    int32_t correlation_id = 0;
    absl::Status status =
        kafka::DecodeResponseFrame(absl::string_view(frame).substr(4), version,
                                   &correlation_id, &response);
    CHRONIK_CHECK(status.ok()) << status;
    return response;
  }

  void Tick() {
    clock_.now_ms += 50;
    broker_->Tick();
    driver_->Settle();
  }

  kafka::CreateTopicsResponse CreateTopic(const std::string& name,
                                          int partitions) {
    kafka::CreateTopicsRequest request;
    kafka::CreateTopicsRequest::CreatableTopic topic;
    topic.name = name;
    topic.num_partitions = partitions;
    topic.replication_factor = 1;
    request.topics.push_back(topic);
    return Call<kafka::CreateTopicsResponse>(request, 4);
  }

  static std::string Batch(
      int records, int64_t producer_id = -1, int32_t sequence = -1,
      int64_t timestamp = 1000,
      kafka::Compression compression = kafka::Compression::kNone) {
    kafka::RecordBatchSpec spec;
    spec.producer_id = producer_id;
    spec.producer_epoch = producer_id >= 0 ? 0 : -1;
    spec.base_sequence = sequence;
    spec.base_timestamp = timestamp;
    spec.compression = compression;
    std::vector<kafka::Record> batch;
    for (int i = 0; i < records; ++i) {
      kafka::Record record;
      record.offset_delta = i;
      record.timestamp_delta = i * 10;
      record.value = absl::StrCat("value-", i);
      batch.push_back(record);
    }
    absl::StatusOr<std::string> built = kafka::BuildRecordBatch(spec, batch);
    CHRONIK_CHECK(built.ok()) << built.status();
    return *built;
  }

  kafka::ProduceResponse Produce(const std::string& topic, int32_t partition,
                                 const std::string& records,
                                 int16_t acks = -1) {
    kafka::ProduceRequest request;
    request.acks = acks;
    request.timeout_ms = 5000;
    kafka::ProduceRequest::TopicProduceData data;
    data.name = topic;
    data.partitions.push_back({partition, records});
    request.topics.push_back(data);
    return Call<kafka::ProduceResponse>(request, 9);
  }

  kafka::FetchResponse Fetch(const std::string& topic, int32_t partition,
                             int64_t offset, int32_t max_wait_ms = 0) {
    kafka::FetchRequest request;
    request.max_wait_ms = max_wait_ms;
    request.min_bytes = 1;
    kafka::FetchRequest::FetchTopic fetch_topic;
    fetch_topic.topic = topic;
    kafka::FetchRequest::FetchPartition p;
    p.partition = partition;
    p.fetch_offset = offset;
    p.partition_max_bytes = 1 << 20;
    fetch_topic.partitions.push_back(p);
    request.topics.push_back(fetch_topic);
    return Call<kafka::FetchResponse>(request, 11);
  }

  // ListOffsets of partition 0 of `topic`: (earliest, latest).
  std::pair<int64_t, int64_t> EarliestAndLatest(const std::string& topic) {
    kafka::ListOffsetsRequest list;
    kafka::ListOffsetsRequest::ListOffsetsTopic list_topic;
    list_topic.name = topic;
    list_topic.partitions.push_back({0, -1, -2, 1});  // earliest
    list_topic.partitions.push_back({0, -1, -1, 1});  // latest
    list.topics.push_back(list_topic);
    auto offsets = Call<kafka::ListOffsetsResponse>(list, 7);
    return {offsets.topics.at(0).partitions.at(0).offset,
            offsets.topics.at(0).partitions.at(1).offset};
  }

  // A null topic list asks for every topic (an empty one for none).
  static kafka::MetadataRequest AllTopics() {
    kafka::MetadataRequest request;
    request.topics = std::nullopt;
    return request;
  }

  static std::vector<int64_t> FetchedOffsets(const kafka::FetchResponse& r) {
    std::vector<int64_t> offsets;
    const auto& records = r.responses.at(0).partitions.at(0).records;
    if (!records.has_value()) return offsets;
    auto batches = kafka::ParseRecordBatches(*records);
    CHRONIK_CHECK(batches.ok()) << batches.status();
    for (const auto& batch : *batches) {
      for (int64_t o = batch.header.base_offset;
           o <= batch.header.last_offset(); ++o) {
        offsets.push_back(o);
      }
    }
    return offsets;
  }

  static constexpr ConnectionId kConn = 1;
  std::mt19937_64 rng_;
  sim::SimDisk disk_;
  FakeClock clock_;
  std::unique_ptr<TestDriver> driver_;
  Broker* broker_ = nullptr;
  int32_t correlation_id_ = 0;
  int max_inflight_ = 64;
  uint64_t segment_max_bytes_ = 64ull << 20;
};

}  // namespace chronik::broker::testing

#endif  // CHRONIK_BROKER_SERVER_TESTING_BROKER_FIXTURE_H_
