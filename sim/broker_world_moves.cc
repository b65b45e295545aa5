// The broker scenario's partition moves (reassignment seeds, stream
// "reassign"): the admin picks a partition of "t" and a target of
// replication-factor distinct brokers in a drawn order, asks the controller
// with AlterPartitionReassignments, then waits until the controller's
// ListPartitionReassignments no longer lists the partition and a broker's
// Metadata names exactly the target replicas (in order), and goes on with
// the next round. A target naming a fenced (down) broker is refused
// (INVALID_REPLICA_ASSIGNMENT) and drawn again. The moves run while the
// faults do; the one in hand at the heal must complete, else the run fails
// its liveness. The history checker judges the records of "t" as always:
// a move that loses or duplicates an acknowledged record fails the run.
// What the admin sees of a move (moving_: the List's adding and removing
// replicas) goes to the cluster checker, whose ISR rule needs the voters.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "sim/broker_world.h"
#include "sim/broker_world_call.h"

namespace chronik::sim {
namespace {

namespace error = kafka::error;

constexpr Nanos kMoveRetry = 100 * kMillisecond;
constexpr Nanos kMovePause = 500 * kMillisecond;  // between moves

}  // namespace

void BrokerWorld::StartMove(SimClient& admin) {
  admin.move_partition =
      static_cast<int>(reassign_rng_.Below(options_.partitions));
  std::vector<int32_t> brokers;
  for (int i = 1; i <= num_nodes(); ++i) {
    // A broker being decommissioned takes no new replicas.
    if (i != membership_.leaving + 1) brokers.push_back(i);
  }
  for (size_t i = brokers.size(); i > 1; --i) {  // Fisher-Yates
    std::swap(brokers[i - 1], brokers[reassign_rng_.Below(i)]);
  }
  brokers.resize(replication_factor_);
  admin.move_target = brokers;
  admin.move_alter_unanswered = false;
  admin.move_in_doubt = moving_.count(admin.move_partition) != 0;
  admin.admin_stage = AdminStage::kReassign;
  ActLater(admin, kMovePause);
}

void BrokerWorld::MoveAlter(SimClient& admin) {
  kafka::AlterPartitionReassignmentsRequest request;
  request.topics.push_back(
      {std::string(kTopic), {{admin.move_partition, admin.move_target}}});
  // Moving from the send on, sets unknown: a new target replaces them.
  moving_[admin.move_partition] = SeenMove{};
  if (admin.move_alter_unanswered) admin.move_in_doubt = true;
  admin.move_alter_unanswered = true;
  Call<kafka::AlterPartitionReassignmentsResponse>(
      admin, admin.controller, 0, request,
      [this](SimClient& c,
             const kafka::AlterPartitionReassignmentsResponse& response) {
        c.move_alter_unanswered = false;
        int16_t code = response.error_code;
        if (code == error::kNone) {
          code = response.responses.empty() ||
                         response.responses[0].partitions.empty()
                     ? error::kUnknownTopicOrPartition
                     : response.responses[0].partitions[0].error_code;
        }
        Record(Trace::kWorld, "move_alter",
               {static_cast<uint64_t>(c.move_partition),
                static_cast<uint64_t>(code)},
               [&] {
                 return absl::StrCat("to [", absl::StrJoin(c.move_target, ","),
                                     "]: ", ErrorName(code));
               });
        if (code == error::kNone) {
          c.admin_stage = AdminStage::kAwaitMoved;
        } else if (code == error::kInvalidReplicaAssignment) {
          // Refused: nothing moves unless an earlier attempt did.
          if (!c.move_in_doubt) moving_.erase(c.move_partition);
          StartMove(c);  // a target broker is fenced: draw another
          return;
        } else {
          c.need_metadata = true;  // the controller may have moved
        }
        ActLater(c, kMoveRetry);
      });
}

void BrokerWorld::MoveList(SimClient& admin) {
  kafka::ListPartitionReassignmentsRequest request;
  request.topics = std::vector<kafka::ListPartitionReassignmentsRequest::
                                   ListPartitionReassignmentsTopics>{
      {std::string(kTopic), {admin.move_partition}}};
  Call<kafka::ListPartitionReassignmentsResponse>(
      admin, admin.controller, 0, request,
      [this](SimClient& c,
             const kafka::ListPartitionReassignmentsResponse& response) {
        NoteMoveSets(c.move_partition, response);
        // Done: the sets last seen stay until Metadata names the target.
        if (response.error_code == error::kNone && response.topics.empty()) {
          c.admin_stage = AdminStage::kConfirmMoved;
        } else if (response.error_code != error::kNone) {
          c.need_metadata = true;
        }
        ActLater(c, kMoveRetry);
      });
}

void BrokerWorld::MoveConfirm(SimClient& admin) {
  kafka::MetadataRequest request;
  kafka::MetadataRequest::MetadataRequestTopic topic;
  topic.name = std::string(kTopic);
  request.topics = std::vector{topic};
  request.allow_auto_topic_creation = false;
  Call<kafka::MetadataResponse>(
      admin, AnyBroker(admin), 12, request,
      [this](SimClient& c, const kafka::MetadataResponse& response) {
        if (response.controller_id > 0) c.controller = response.controller_id;
        for (const auto& t : response.topics) {
          if (t.name != kTopic || t.error_code != error::kNone ||
              c.move_partition >= static_cast<int>(t.partitions.size())) {
            continue;
          }
          if (t.partitions[c.move_partition].replica_nodes == c.move_target) {
            moving_.erase(c.move_partition);
            ++result_.moves;
            Record(Trace::kWorld, "move_done",
                   {static_cast<uint64_t>(c.move_partition)});
            StartChurn(c);
            return;
          }
        }
        ActLater(c, kMoveRetry);  // AnyBroker asks the next broker
      });
}

void BrokerWorld::NoteMoveSets(
    int partition, const kafka::ListPartitionReassignmentsResponse& response) {
  if (response.error_code != error::kNone) return;
  for (const auto& topic : response.topics) {
    if (topic.name != kTopic) continue;
    for (const auto& p : topic.partitions) {
      if (p.partition_index != partition) continue;
      moving_[partition] = {true, BrokerIdsToNodes(p.adding_replicas),
                            BrokerIdsToNodes(p.removing_replicas)};
    }
  }
}

std::string BrokerWorld::MoveLivenessProblem(const SimClient& admin) const {
  return absl::StrCat("LIVENESS: the move of ", kTopic, "-",
                      admin.move_partition, " to replicas [",
                      absl::StrJoin(admin.move_target, ","),
                      "] never completed");
}

}  // namespace chronik::sim
