// The consumer's leader-epoch checks (KIP-101/320), on the production
// broker's answers: every batch carries the epoch (Raft term) of the leader
// that appended it, never older than the batch read before it; after a
// retriable Fetch error (a leader change, a restart) the consumer asks the
// leader, with OffsetForLeaderEpoch, where the epoch of the last batch it
// read ends, as Kafka's consumer validates its position. Raft never loses a
// committed record, so an end below the position (or a larger epoch than
// asked) is a TRUNCATED failure: the leader's epochs disagree with the log
// the consumer read.
#include <string>

#include "absl/strings/str_cat.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "sim/broker_world.h"
#include "sim/broker_world_call.h"

namespace chronik::sim {

bool BrokerWorld::CheckReadEpoch(SimClient& client,
                                 const kafka::BatchHeader& batch) {
  if (batch.partition_leader_epoch < 1 ||
      batch.partition_leader_epoch < client.read_epoch) {
    Fail(absl::StrCat("EPOCH: partition ", client.partition,
                      " batch at offset ", batch.base_offset,
                      " has leader epoch ", batch.partition_leader_epoch,
                      ", the batch read before it ", client.read_epoch));
    return false;
  }
  client.read_epoch = batch.partition_leader_epoch;
  return true;
}

void BrokerWorld::ValidatePosition(SimClient& client) {
  kafka::OffsetForLeaderEpochRequest request;
  request.replica_id = -1;
  request.topics.push_back(
      {std::string(kTopic), {{client.partition, -1, client.read_epoch}}});
  Call<kafka::OffsetForLeaderEpochResponse>(
      client, client.leaders[client.partition], 4, request,
      [this](SimClient& c, const kafka::OffsetForLeaderEpochResponse& r) {
        const bool answered =
            r.topics.size() == 1 && r.topics[0].partitions.size() == 1;
        const int16_t code = answered ? r.topics[0].partitions[0].error_code
                                      : kafka::error::kUnknownTopicOrPartition;
        if (code != kafka::error::kNone) {
          // Asked again after a Metadata refresh; Fetch judges the error.
          Record(Trace::kWorld, "validate_retry",
                 {static_cast<uint64_t>(c.partition)},
                 [&] { return ErrorName(code); });
          c.need_metadata = true;
          ActLater(c, kMillisecond * 50);
          return;
        }
        const auto& p = r.topics[0].partitions[0];
        if (p.end_offset >= 0 &&
            (p.end_offset < c.offset || p.leader_epoch > c.read_epoch)) {
          Fail(absl::StrCat("TRUNCATED: partition ", c.partition,
                            " read through offset ", c.offset - 1, " in epoch ",
                            c.read_epoch, "; the leader says epoch ",
                            p.leader_epoch, " ends at ", p.end_offset));
          return;
        }
        c.validate_position = false;
        ActLater(c, 0);
      });
}

}  // namespace chronik::sim
