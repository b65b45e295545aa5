// OffsetForLeaderEpoch (KIP-101/279/320): for each partition and leader
// epoch, the partition's leader answers the largest epoch <= the requested
// one and where its data ends (the start of the next epoch, or the high
// watermark for the current one), from the replica's leader epochs
// (PartitionReplica, partition/leader_epochs.h). Consumers use it to find
// log truncation after a leader change.
#include <string>
#include <utility>

#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

void Handle(Services& s, const RequestContext& c,
            kafka::OffsetForLeaderEpochRequest& r) {
  kafka::OffsetForLeaderEpochResponse response;
  bool had_error = false;
  for (const auto& topic : r.topics) {
    kafka::OffsetForLeaderEpochResponse::OffsetForLeaderTopicResult out_topic;
    out_topic.topic = topic.topic;
    const int16_t denied = TopicAccess(s, c, acl::kDescribe, topic.topic);
    for (const auto& p : topic.partitions) {
      kafka::OffsetForLeaderEpochResponse::OffsetForLeaderPartitionResult out;
      out.partition = p.partition;
      // The leader only, whoever asks (Kafka's replica_id is not checked):
      // epochs are the leader's word.
      PartitionReplica* replica = nullptr;
      out.error_code =
          denied != kafka::error::kNone
              ? denied
              : s.partitions.LeaderReplica(s.state(), topic.topic, p.partition,
                                           p.current_leader_epoch,
                                           /*require_ready=*/true, &replica);
      if (out.error_code == kafka::error::kNone) {
        const partition::EpochEnd end =
            replica->EndOffsetForEpoch(p.leader_epoch);
        out.leader_epoch = end.epoch;
        out.end_offset = end.end_offset;
      }
      had_error |= out.error_code != kafka::error::kNone;
      out_topic.partitions.push_back(out);
    }
    response.topics.push_back(std::move(out_topic));
  }
  s.connections.Finish(c, response, had_error);
}

}  // namespace chronik::broker
