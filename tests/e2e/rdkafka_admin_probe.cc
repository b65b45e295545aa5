// rdkafka_admin_probe: librdkafka's (2.0.2) group admin calls that Debian's
// Python clients lack, as its users make them. Used by admin_apis_test.py.
//   rdkafka_admin_probe BOOTSTRAP delete-groups GROUP...
//     DeleteGroups; prints "group GROUP CODE" per group (CODE: Kafka's
//     error name, NO_ERROR for none).
//   rdkafka_admin_probe BOOTSTRAP delete-offsets GROUP TOPIC:PARTITION...
//     DeleteConsumerGroupOffsets (OffsetDelete); prints "group GROUP CODE"
//     and "partition TOPIC PARTITION CODE" per partition.
// Exits 1 when a call fails as a whole, printing "error CODE".
#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kTimeoutMs = 15000;

rd_kafka_event_t* Await(rd_kafka_queue_t* queue) {
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kTimeoutMs);
  if (event == nullptr) {
    std::fprintf(stderr, "no result within %d ms\n", kTimeoutMs);
    return nullptr;
  }
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::printf("error %s\n", rd_kafka_err2name(rd_kafka_event_error(event)));
    std::fprintf(stderr, "error: %s\n", rd_kafka_event_error_string(event));
    rd_kafka_event_destroy(event);
    return nullptr;
  }
  return event;
}

const char* Code(const rd_kafka_error_t* error) {
  return error == nullptr ? "NO_ERROR" : rd_kafka_error_name(error);
}

void PrintGroups(const rd_kafka_group_result_t** groups, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    std::printf("group %s %s\n", rd_kafka_group_result_name(groups[i]),
                Code(rd_kafka_group_result_error(groups[i])));
    const rd_kafka_topic_partition_list_t* partitions =
        rd_kafka_group_result_partitions(groups[i]);
    for (int p = 0; partitions != nullptr && p < partitions->cnt; ++p) {
      const rd_kafka_topic_partition_t& tp = partitions->elems[p];
      std::printf("partition %s %d %s\n", tp.topic, tp.partition,
                  rd_kafka_err2name(tp.err));
    }
  }
}

bool DeleteGroups(rd_kafka_t* rk, rd_kafka_queue_t* queue, int argc,
                  char** argv) {
  std::vector<rd_kafka_DeleteGroup_t*> groups;
  for (int i = 0; i < argc; ++i)
    groups.push_back(rd_kafka_DeleteGroup_new(argv[i]));
  rd_kafka_DeleteGroups(rk, groups.data(), groups.size(), nullptr, queue);
  rd_kafka_DeleteGroup_destroy_array(groups.data(), groups.size());
  rd_kafka_event_t* event = Await(queue);
  if (event == nullptr) return false;
  size_t count = 0;
  const rd_kafka_group_result_t** results = rd_kafka_DeleteGroups_result_groups(
      rd_kafka_event_DeleteGroups_result(event), &count);
  PrintGroups(results, count);
  rd_kafka_event_destroy(event);
  return true;
}

bool DeleteOffsets(rd_kafka_t* rk, rd_kafka_queue_t* queue, const char* group,
                   int argc, char** argv) {
  rd_kafka_topic_partition_list_t* partitions =
      rd_kafka_topic_partition_list_new(argc);
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    const size_t colon = arg.rfind(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "expected TOPIC:PARTITION, got %s\n", argv[i]);
      return false;
    }
    rd_kafka_topic_partition_list_add(partitions, arg.substr(0, colon).c_str(),
                                      std::atoi(arg.substr(colon + 1).c_str()));
  }
  rd_kafka_DeleteConsumerGroupOffsets_t* request =
      rd_kafka_DeleteConsumerGroupOffsets_new(group, partitions);
  rd_kafka_topic_partition_list_destroy(partitions);
  rd_kafka_DeleteConsumerGroupOffsets(rk, &request, 1, nullptr, queue);
  rd_kafka_DeleteConsumerGroupOffsets_destroy(request);
  rd_kafka_event_t* event = Await(queue);
  if (event == nullptr) return false;
  size_t count = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_DeleteConsumerGroupOffsets_result_groups(
          rd_kafka_event_DeleteConsumerGroupOffsets_result(event), &count);
  PrintGroups(results, count);
  rd_kafka_event_destroy(event);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || (std::strcmp(argv[2], "delete-groups") != 0 &&
                   std::strcmp(argv[2], "delete-offsets") != 0)) {
    std::fprintf(
        stderr,
        "usage: %s BOOTSTRAP delete-groups GROUP...\n"
        "       %s BOOTSTRAP delete-offsets GROUP TOPIC:PARTITION...\n",
        argv[0], argv[0]);
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
  const bool ok = std::strcmp(argv[2], "delete-groups") == 0
                      ? DeleteGroups(rk, queue, argc - 3, argv + 3)
                      : DeleteOffsets(rk, queue, argv[3], argc - 4, argv + 4);
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
  return ok ? 0 : 1;
}
