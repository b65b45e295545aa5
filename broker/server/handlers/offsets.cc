// ListOffsets and DeleteRecords.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

void Handle(Services& s, const RequestContext& c,
            kafka::ListOffsetsRequest& r) {
  kafka::ListOffsetsResponse response;
  bool had_error = false;
  for (const auto& topic : r.topics) {
    kafka::ListOffsetsResponse::ListOffsetsTopicResponse out_topic;
    out_topic.name = topic.name;
    for (const auto& partition : topic.partitions) {
      kafka::ListOffsetsResponse::ListOffsetsPartitionResponse out;
      out.partition_index = partition.partition_index;
      PartitionReplica* replica = nullptr;
      out.error_code = s.partitions.LeaderReplica(
          s.state(), topic.name, partition.partition_index,
          /*require_ready=*/true, &replica);
      if (out.error_code != kafka::error::kNone) {
        // Answered with the error.
      } else if (partition.timestamp == -1) {
        out.offset = replica->high_watermark();
      } else if (partition.timestamp == -2) {
        out.offset = s.partitions.LogStartOffset(*replica);
      } else {
        std::pair<int64_t, int64_t> found =
            s.partitions.OffsetForTimestamp(*replica, partition.timestamp);
        out.offset = found.first;
        out.timestamp = found.second;
      }
      if (c.header.api_version == 0 && out.error_code == 0) {
        out.old_style_offsets.push_back(out.offset);
      }
      had_error |= out.error_code != 0;
      out_topic.partitions.push_back(std::move(out));
    }
    response.topics.push_back(std::move(out_topic));
  }
  s.connections.Finish(c, response, had_error);
}

void Handle(Services& s, const RequestContext& c,
            kafka::DeleteRecordsRequest& r) {
  kafka::DeleteRecordsResponse response;
  for (const auto& topic : r.topics) {
    kafka::DeleteRecordsResponse::DeleteRecordsTopicResult out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      out.partitions.push_back(
          {partition.partition_index, -1, kafka::error::kPolicyViolation});
    }
    response.topics.push_back(std::move(out));
  }
  s.connections.Finish(c, response, true);
}

}  // namespace chronik::broker
