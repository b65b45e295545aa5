// chronik-load: a Kafka load generator on librdkafka. Produces (and optionally
// consumes back) fixed-size messages against a broker, or against librdkafka's
// in-memory mock cluster as the reference point, and reports msg/s, MB/s and
// produce latency percentiles (send to delivery report).
//
//   bazel run -c opt //tools/load:chronik-load -- --brokers=127.0.0.1:9092
//       --message_bytes=256 --acks=all --duration_s=10   (one command line)
//   bazel run -c opt //tools/load:chronik-load -- --mock_brokers=1 ...
//
// Tools are outside the deterministic code: threads and the real clock are fine
// here.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

ABSL_FLAG(std::string, brokers, "",
          "bootstrap servers of the broker under test");
ABSL_FLAG(
    int, mock_brokers, 0,
    "instead of --brokers, start librdkafka's in-memory mock cluster with "
    "this many brokers (the reference point)");
ABSL_FLAG(std::string, topic, "chronik-load", "topic to produce to");
ABSL_FLAG(std::string, client_config, "",
          "extra librdkafka settings of every client, KEY=VALUE,... (e.g. "
          "security.protocol=SSL,ssl.ca.location=ca.pem)");
ABSL_FLAG(int, partitions, 1, "partitions when the tool creates the topic");
ABSL_FLAG(int, message_bytes, 256, "payload size of each message");
ABSL_FLAG(std::string, acks, "1", "producer acks: 0, 1 or all");
ABSL_FLAG(int, linger_ms, 5, "producer linger.ms");
ABSL_FLAG(int, batch_bytes, 1 << 20, "producer batch.size");
ABSL_FLAG(std::string, compression, "none",
          "compression.codec: none, gzip, snappy, lz4, zstd");
ABSL_FLAG(double, duration_s, 10, "how long to produce, seconds");
ABSL_FLAG(int64_t, messages, 0,
          "stop after this many messages in total (0 = only --duration_s)");
ABSL_FLAG(int, producers, 1, "concurrent producer instances (one thread each)");
ABSL_FLAG(double, rate, 0,
          "total target messages per second (0 = as fast as possible)");
ABSL_FLAG(bool, consume, false,
          "after producing, consume the topic from the beginning and report");
ABSL_FLAG(int64_t, max_latency_samples, 20'000'000,
          "bound on recorded latency samples (memory)");

namespace chronik::load {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// Latency samples shared by all producer threads (delivery callbacks), bounded.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(int64_t max_samples) : max_samples_(max_samples) {}

  void Record(int64_t nanos) {
    absl::MutexLock lock(&mu_);
    if (static_cast<int64_t>(samples_.size()) < max_samples_) {
      samples_.push_back(nanos);
    } else {
      ++dropped_;
    }
  }

  // Returns p50, p99, p999 in microseconds (sorts the samples).
  std::vector<double> Percentiles() {
    absl::MutexLock lock(&mu_);
    std::sort(samples_.begin(), samples_.end());
    std::vector<double> result;
    for (double q : {0.50, 0.99, 0.999}) {
      if (samples_.empty()) {
        result.push_back(0);
        continue;
      }
      size_t i = static_cast<size_t>(q * (samples_.size() - 1));
      result.push_back(samples_[i] / 1000.0);
    }
    return result;
  }

  int64_t dropped() {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }

 private:
  const int64_t max_samples_;
  absl::Mutex mu_;
  std::vector<int64_t> samples_ ABSL_GUARDED_BY(mu_);
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

struct ProducerTotals {
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> first_error_logged{0};
};

struct DeliveryContext {
  LatencyRecorder* latencies;
  ProducerTotals* totals;
};

void OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message,
                void* opaque) {
  auto* context = static_cast<DeliveryContext*>(opaque);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    context->totals->failed.fetch_add(1);
    if (context->totals->first_error_logged.exchange(1) == 0) {
      std::fprintf(stderr, "chronik-load: delivery failed: %s\n",
                   rd_kafka_err2str(message->err));
    }
    return;
  }
  const auto sent_nanos = reinterpret_cast<intptr_t>(message->_private);
  context->latencies->Record(NowNanos() - sent_nanos);
  context->totals->delivered.fetch_add(1);
}

absl::Status Set(rd_kafka_conf_t* conf, const std::string& key,
                 const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error,
                        sizeof(error)) != RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("librdkafka config ", key, "=", value, ": ", error));
  }
  return absl::OkStatus();
}

absl::StatusOr<rd_kafka_t*> NewClient(rd_kafka_type_t type,
                                      const std::string& brokers,
                                      DeliveryContext* delivery) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", brokers}};
  for (absl::string_view entry : absl::StrSplit(
           absl::GetFlag(FLAGS_client_config), ',', absl::SkipEmpty())) {
    settings.emplace_back(absl::StrSplit(entry, absl::MaxSplits('=', 1)));
  }
  if (type == RD_KAFKA_PRODUCER) {
    settings.insert(
        settings.end(),
        {{"acks", absl::GetFlag(FLAGS_acks)},
         {"linger.ms", absl::StrCat(absl::GetFlag(FLAGS_linger_ms))},
         {"batch.size", absl::StrCat(absl::GetFlag(FLAGS_batch_bytes))},
         {"compression.codec", absl::GetFlag(FLAGS_compression)},
         {"queue.buffering.max.messages", "1000000"}});
  } else {
    settings.insert(settings.end(), {{"group.id", "chronik-load"},
                                     {"auto.offset.reset", "earliest"},
                                     {"enable.auto.commit", "false"}});
  }
  for (const auto& [key, value] : settings) {
    if (absl::Status status = Set(conf, key, value); !status.ok()) {
      rd_kafka_conf_destroy(conf);
      return status;
    }
  }
  if (delivery != nullptr) {
    rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
    rd_kafka_conf_set_opaque(conf, delivery);
  }
  char error[512];
  rd_kafka_t* client = rd_kafka_new(type, conf, error, sizeof(error));
  if (client == nullptr) {
    return absl::InternalError(absl::StrCat("rd_kafka_new: ", error));
  }
  return client;
}

// One producer thread: sends until the deadline, paced to `rate_per_thread`
// messages per second when positive, then flushes.
void ProduceLoop(rd_kafka_t* producer, const std::string& topic,
                 const std::string& payload, int64_t deadline_nanos,
                 double rate_per_thread, int64_t max_count,
                 std::atomic<int64_t>* sent) {
  const int64_t start = NowNanos();
  int64_t count = 0;
  while (max_count == 0 || count < max_count) {
    const int64_t now = NowNanos();
    if (now >= deadline_nanos) break;
    if (rate_per_thread > 0) {
      const auto due =
          start + static_cast<int64_t>(count * 1e9 / rate_per_thread);
      if (now < due) {
        rd_kafka_poll(producer, 0);
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::min<int64_t>(due - now, 1'000'000)));
        continue;
      }
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
        RD_KAFKA_V_OPAQUE(
            reinterpret_cast<void*>(static_cast<intptr_t>(NowNanos()))),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer, 1);
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "chronik-load: produce: %s\n",
                   rd_kafka_err2str(err));
      return;
    }
    ++count;
    rd_kafka_poll(producer, 0);
  }
  rd_kafka_flush(producer, 30'000);
  sent->fetch_add(count);
}

struct Target {
  std::string brokers;
  std::string label;
  rd_kafka_t* mock_owner = nullptr;  // keeps the mock cluster alive
  rd_kafka_mock_cluster_t* mock_cluster = nullptr;
};

absl::StatusOr<Target> MakeTarget() {
  const int mock_brokers = absl::GetFlag(FLAGS_mock_brokers);
  const std::string brokers = absl::GetFlag(FLAGS_brokers);
  if ((mock_brokers > 0) == !brokers.empty()) {
    return absl::InvalidArgumentError(
        "give exactly one of --brokers=HOST:PORT or --mock_brokers=N");
  }
  if (mock_brokers == 0) return Target{brokers, "broker " + brokers};
  absl::StatusOr<rd_kafka_t*> owner = NewClient(RD_KAFKA_PRODUCER, "", nullptr);
  if (!owner.ok()) return owner.status();
  rd_kafka_mock_cluster_t* cluster =
      rd_kafka_mock_cluster_new(*owner, mock_brokers);
  if (cluster == nullptr) return absl::InternalError("mock cluster failed");
  rd_kafka_mock_topic_create(cluster, absl::GetFlag(FLAGS_topic).c_str(),
                             absl::GetFlag(FLAGS_partitions), mock_brokers);
  return Target{
      rd_kafka_mock_cluster_bootstraps(cluster),
      absl::StrCat("librdkafka mock cluster (", mock_brokers, " brokers)"),
      *owner, cluster};
}

absl::Status ValidateFlags() {
  const std::string acks = absl::GetFlag(FLAGS_acks);
  if (acks != "0" && acks != "1" && acks != "all" && acks != "-1") {
    return absl::InvalidArgumentError("--acks must be 0, 1 or all, got " +
                                      acks);
  }
  if (absl::GetFlag(FLAGS_message_bytes) <= 0 ||
      absl::GetFlag(FLAGS_message_bytes) > 16 << 20) {
    return absl::InvalidArgumentError("--message_bytes must be in 1..16 MiB");
  }
  if (absl::GetFlag(FLAGS_producers) <= 0 ||
      absl::GetFlag(FLAGS_producers) > 256) {
    return absl::InvalidArgumentError("--producers must be in 1..256");
  }
  if (absl::GetFlag(FLAGS_messages) < 0) {
    return absl::InvalidArgumentError("--messages must not be negative");
  }
  if (absl::GetFlag(FLAGS_duration_s) <= 0) {
    return absl::InvalidArgumentError("--duration_s must be positive");
  }
  return absl::OkStatus();
}

absl::Status RunProduce(const Target& target) {
  const int producer_count = absl::GetFlag(FLAGS_producers);
  const std::string payload(absl::GetFlag(FLAGS_message_bytes), 'x');
  LatencyRecorder latencies(absl::GetFlag(FLAGS_max_latency_samples));
  ProducerTotals totals;
  DeliveryContext delivery{&latencies, &totals};
  std::vector<rd_kafka_t*> producers;
  for (int i = 0; i < producer_count; ++i) {
    absl::StatusOr<rd_kafka_t*> producer =
        NewClient(RD_KAFKA_PRODUCER, target.brokers, &delivery);
    if (!producer.ok()) return producer.status();
    producers.push_back(*producer);
  }
  const int64_t start = NowNanos();
  const int64_t deadline =
      start + static_cast<int64_t>(absl::GetFlag(FLAGS_duration_s) * 1e9);
  const double rate_per_thread = absl::GetFlag(FLAGS_rate) / producer_count;
  const int64_t messages = absl::GetFlag(FLAGS_messages);
  const int64_t per_thread =
      messages > 0 ? std::max<int64_t>(1, messages / producer_count) : 0;
  std::atomic<int64_t> sent{0};
  std::vector<std::thread> threads;
  for (rd_kafka_t* producer : producers) {
    threads.emplace_back(ProduceLoop, producer, absl::GetFlag(FLAGS_topic),
                         std::cref(payload), deadline, rate_per_thread,
                         per_thread, &sent);
  }
  for (std::thread& thread : threads) thread.join();
  const double seconds = (NowNanos() - start) / 1e9;
  for (rd_kafka_t* producer : producers) rd_kafka_destroy(producer);

  const int64_t delivered = totals.delivered.load();
  const std::vector<double> p = latencies.Percentiles();
  std::printf(
      "produce %s: message_bytes=%d acks=%s producers=%d sent=%lld "
      "delivered=%lld failed=%lld seconds=%.2f msg/s=%.0f MB/s=%.2f "
      "latency_us p50=%.0f p99=%.0f p999=%.0f\n",
      target.label.c_str(), absl::GetFlag(FLAGS_message_bytes),
      absl::GetFlag(FLAGS_acks).c_str(), producer_count,
      static_cast<long long>(sent.load()), static_cast<long long>(delivered),
      static_cast<long long>(totals.failed.load()), seconds,
      delivered / seconds, delivered * payload.size() / seconds / 1e6, p[0],
      p[1], p[2]);
  if (totals.failed.load() > 0) {
    return absl::UnavailableError(
        absl::StrCat(totals.failed.load(), " messages were not delivered"));
  }
  return absl::OkStatus();
}

absl::Status RunConsume(const Target& target) {
  absl::StatusOr<rd_kafka_t*> consumer =
      NewClient(RD_KAFKA_CONSUMER, target.brokers, nullptr);
  if (!consumer.ok()) return consumer.status();
  rd_kafka_poll_set_consumer(*consumer);
  // Assign every partition from the beginning (no group rebalance in the way).
  const int partitions = absl::GetFlag(FLAGS_partitions);
  rd_kafka_topic_partition_list_t* assignment =
      rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment,
                                      absl::GetFlag(FLAGS_topic).c_str(), p)
        ->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t assign_error = rd_kafka_assign(*consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (assign_error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(*consumer);
    return absl::InternalError(
        absl::StrCat("assign: ", rd_kafka_err2str(assign_error)));
  }
  int64_t messages = 0;
  int64_t bytes = 0;
  const int64_t start = NowNanos();
  int64_t first = 0;
  int64_t last = start;
  // Wait up to 10 s for the first message, then stop after 2 s without one.
  constexpr int64_t kFirstMessageWaitNanos = 10'000'000'000;
  constexpr int64_t kIdleNanos = 2'000'000'000;
  while (true) {
    const int64_t now = NowNanos();
    if (messages == 0 && now - start > kFirstMessageWaitNanos) break;
    if (messages > 0 && now - last > kIdleNanos) break;
    rd_kafka_message_t* message = rd_kafka_consumer_poll(*consumer, 100);
    if (message == nullptr) continue;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (messages == 0) first = NowNanos();
      ++messages;
      bytes += message->len;
      last = NowNanos();
    } else {
      std::fprintf(stderr, "chronik-load: consume: %s\n",
                   rd_kafka_message_errstr(message));
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(*consumer);
  rd_kafka_destroy(*consumer);
  const double seconds = messages > 0 ? (last - first) / 1e9 : 0;
  std::printf("consume %s: messages=%lld seconds=%.2f msg/s=%.0f MB/s=%.2f\n",
              target.label.c_str(), static_cast<long long>(messages), seconds,
              seconds > 0 ? messages / seconds : 0,
              seconds > 0 ? bytes / seconds / 1e6 : 0);
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Kafka load generator: chronik-load (--brokers=HOST:PORT | "
      "--mock_brokers=N) [--message_bytes --acks --duration_s --producers "
      "--rate --consume ...]");
  absl::ParseCommandLine(argc, argv);
  absl::Status status = ValidateFlags();
  absl::StatusOr<Target> target =
      status.ok() ? MakeTarget() : absl::StatusOr<Target>(status);
  if (target.ok()) status = RunProduce(*target);
  if (target.ok() && status.ok() && absl::GetFlag(FLAGS_consume)) {
    status = RunConsume(*target);
  }
  if (target.ok() && target->mock_owner != nullptr) {
    rd_kafka_mock_cluster_destroy(target->mock_cluster);
    rd_kafka_destroy(target->mock_owner);
  }
  if (!target.ok()) status = target.status();
  if (!status.ok()) {
    std::fprintf(stderr, "chronik-load: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace chronik::load

int main(int argc, char** argv) { return chronik::load::Main(argc, argv); }
