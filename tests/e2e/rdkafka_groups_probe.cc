// rdkafka_groups_probe BOOTSTRAP GROUP: librdkafka's (2.0.2) consumer-group
// admin calls, as its users make them: ListConsumerGroups (ListGroups v4)
// and ListConsumerGroupOffsets for every partition of GROUP (OffsetFetch v7
// with a null topic list). Prints "group ID STATE" and "offset TOPIC
// PARTITION OFFSET" lines; exits 1 naming the error when a call fails.
// Used by kafka_semantics_test.py.
#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstring>

namespace {

constexpr int kTimeoutMs = 10000;

rd_kafka_event_t* Await(rd_kafka_queue_t* queue) {
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kTimeoutMs);
  if (event == nullptr) {
    std::fprintf(stderr, "no result within %d ms\n", kTimeoutMs);
    return nullptr;
  }
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "error: %s\n", rd_kafka_event_error_string(event));
    rd_kafka_event_destroy(event);
    return nullptr;
  }
  return event;
}

bool ListGroups(rd_kafka_t* rk, rd_kafka_queue_t* queue) {
  rd_kafka_ListConsumerGroups(rk, nullptr, queue);
  rd_kafka_event_t* event = Await(queue);
  if (event == nullptr) return false;
  const rd_kafka_ListConsumerGroups_result_t* result =
      rd_kafka_event_ListConsumerGroups_result(event);
  size_t count = 0, errors = 0;
  const rd_kafka_ConsumerGroupListing_t** groups =
      rd_kafka_ListConsumerGroups_result_valid(result, &count);
  rd_kafka_ListConsumerGroups_result_errors(result, &errors);
  for (size_t i = 0; i < count; ++i) {
    std::printf("group %s %s\n",
                rd_kafka_ConsumerGroupListing_group_id(groups[i]),
                rd_kafka_consumer_group_state_name(
                    rd_kafka_ConsumerGroupListing_state(groups[i])));
  }
  rd_kafka_event_destroy(event);
  if (errors > 0) std::fprintf(stderr, "%zu brokers answered errors\n", errors);
  return errors == 0;
}

bool ListOffsets(rd_kafka_t* rk, rd_kafka_queue_t* queue, const char* group) {
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group, nullptr);
  rd_kafka_ListConsumerGroupOffsets(rk, &request, 1, nullptr, queue);
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  rd_kafka_event_t* event = Await(queue);
  if (event == nullptr) return false;
  size_t count = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_ListConsumerGroupOffsets_result_groups(
          rd_kafka_event_ListConsumerGroupOffsets_result(event), &count);
  bool ok = count == 1;
  for (size_t i = 0; i < count; ++i) {
    if (const rd_kafka_error_t* error =
            rd_kafka_group_result_error(results[i])) {
      std::fprintf(stderr, "group error: %s\n", rd_kafka_error_string(error));
      ok = false;
      continue;
    }
    const rd_kafka_topic_partition_list_t* partitions =
        rd_kafka_group_result_partitions(results[i]);
    for (int p = 0; partitions != nullptr && p < partitions->cnt; ++p) {
      const rd_kafka_topic_partition_t& tp = partitions->elems[p];
      std::printf("offset %s %d %lld\n", tp.topic, tp.partition,
                  static_cast<long long>(tp.offset));
    }
  }
  rd_kafka_event_destroy(event);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP GROUP\n", argv[0]);
    return 2;
  }
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], error,
                        sizeof(error)) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "%s\n", error);
    return 2;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (rk == nullptr) {
    std::fprintf(stderr, "%s\n", error);
    return 2;
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  const bool groups_ok = ListGroups(rk, queue);
  const bool offsets_ok = ListOffsets(rk, queue, argv[2]);
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
  return groups_ok && offsets_ok ? 0 : 1;
}
