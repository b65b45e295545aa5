// DescribeLogDirs (Kafka API 35): the log directories of the broker that
// answers and the partition replicas in them.
//
// A chronik broker has one log directory, its data directory (every
// partition's Raft log lives there). Listed: every partition replica this
// broker hosts (a null topic list), or those of the named partitions it
// hosts (others are left out, as in Kafka); per partition the bytes its
// stored log takes, offset lag 0 (a replica's stored log always holds what
// it applied, so its end is never below its high watermark, Kafka's
// max(HW - LEO, 0)), and is_future false (chronik never moves a replica
// between directories). Version 4 adds the volume's total and usable bytes
// (env::Disk::Space; -1 when it cannot be read).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {
namespace {

using LogDirTopic = kafka::DescribeLogDirsResponse::DescribeLogDirsTopic;

int64_t ToInt64(uint64_t bytes) {
  return static_cast<int64_t>(
      std::min<uint64_t>(bytes, std::numeric_limits<int64_t>::max()));
}

// The hosted replicas among `partitions` of `topic`, in the order asked.
LogDirTopic DescribeTopic(Services& s, const metapb::TopicInfo& topic,
                          const std::vector<int32_t>& partitions) {
  LogDirTopic out;
  out.name = topic.name();
  for (int32_t p : partitions) {
    PartitionReplica* replica = s.partitions.Find(s.state(), topic.name(), p);
    if (replica == nullptr) continue;
    out.partitions.push_back({p, ToInt64(s.partitions.StoredBytes(*replica)),
                              /*offset_lag=*/0, /*is_future_key=*/false});
  }
  return out;
}

std::vector<int32_t> AllPartitions(const metapb::TopicInfo& topic) {
  std::vector<int32_t> all;
  for (const auto& partition : topic.partitions()) {
    all.push_back(partition.partition());
  }
  return all;
}

}  // namespace

void Handle(Services& s, const RequestContext& c,
            kafka::DescribeLogDirsRequest& r) {
  if (!ClusterAllowed(s, c)) {  // as Kafka: no directories, and (v3+) why
    kafka::DescribeLogDirsResponse response;
    response.error_code = kafka::error::kClusterAuthorizationFailed;
    s.connections.Finish(c, response, true);
    return;
  }
  kafka::DescribeLogDirsResponse::DescribeLogDirsResult dir;
  dir.log_dir = s.config.data_dir;
  std::vector<std::pair<const metapb::TopicInfo*, std::vector<int32_t>>> asked;
  if (!r.topics.has_value()) {
    for (const metapb::TopicInfo* topic : s.state().Topics()) {
      asked.emplace_back(topic, AllPartitions(*topic));
    }
  } else {
    for (const auto& topic : *r.topics) {
      if (const metapb::TopicInfo* info = s.state().FindTopic(topic.topic)) {
        asked.emplace_back(info, topic.partitions);
      }
    }
  }
  for (const auto& [topic, partitions] : asked) {
    LogDirTopic out = DescribeTopic(s, *topic, partitions);
    if (!out.partitions.empty()) dir.topics.push_back(std::move(out));
  }
  if (s.disk != nullptr) {
    if (absl::StatusOr<env::DiskSpace> space = s.disk->Space(); space.ok()) {
      dir.total_bytes = ToInt64(space->total_bytes);
      dir.usable_bytes = ToInt64(space->usable_bytes);
    }
  }
  kafka::DescribeLogDirsResponse response;
  response.results.push_back(std::move(dir));
  s.connections.Finish(c, response, false);
}

}  // namespace chronik::broker
