// ElectLeaders (Kafka API 43): leader elections an administrator asks for.
//
// PREFERRED (0): for each named partition (every partition when the list is
// null), the preferred replica (the first listed) is to lead. Any broker may
// take the request (Kafka sends it to the controller): it judges each
// partition from its own view, then proposes (or forwards to the metadata
// leader) one ElectPreferredLeaders command naming the partitions to move;
// the leader of each of them hands its leadership over by Raft when it
// applies it (leader_balance.h). Answers per partition, as Kafka's
// controller does:
//   UNKNOWN_TOPIC_OR_PARTITION      no such topic or partition;
//   ELECTION_NOT_NEEDED             the preferred replica leads already
//                                   (left out when the list is null);
//   PREFERRED_LEADER_NOT_AVAILABLE  it is unregistered, fenced, or not in the
//                                   committed ISR;
//   NONE                            once it leads, as this broker sees it
//                                   (its own Raft view where it hosts a
//                                   replica, else the reported leader);
//   REQUEST_TIMED_OUT               it did not take over within timeout_ms
//                                   (e.g. it is shutting down and declines,
//                                   or the leader found it lagging).
// UNCLEAN (1): Raft elects only a replica holding every committed record,
// so no election can pick an out-of-date one: ELECTION_NOT_NEEDED where the
// partition has a leader (as Kafka answers), ELIGIBLE_LEADERS_NOT_AVAILABLE
// where it has none (Raft elects one once a majority of replicas is up).
// Another election type: INVALID_REQUEST for the request and every
// partition named.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "broker/config/node_ids.h"
#include "broker/kafka/errors.h"
#include "broker/server/handlers/handlers.h"
#include "broker/server/leader_balance.h"

namespace chronik::broker {
namespace {

using Response = kafka::ElectLeadersResponse;
using TopicResult = Response::ReplicaElectionResult;
using PartitionResult = Response::PartitionResult;
constexpr int8_t kPreferredElection = 0;
constexpr int8_t kUncleanElection = 1;
constexpr size_t kMaxElectionWaits = 1'000;

// A partition whose preferred replica is to take over.
struct Target {
  uint64_t group_id = 0;
  raft::NodeId preferred = raft::kNoNode;
};

bool Available(const metadata::MetadataState& state,
               const metapb::PartitionInfo& partition, raft::NodeId node) {
  const auto& isr = partition.isr();
  return state.FindBroker(node) != nullptr && !state.IsFenced(node) &&
         (isr.empty() || std::find(isr.begin(), isr.end(), node) != isr.end());
}

// Judges one partition of `topic` (nullptr: unknown): the answer in `out`
// now, or the target to wait for (`out` then says REQUEST_TIMED_OUT until
// the preferred replica leads).
std::optional<Target> Judge(Services& s, int8_t type,
                            const metapb::TopicInfo* topic, int32_t partition,
                            PartitionResult* out) {
  namespace error = kafka::error;
  out->partition_id = partition;
  if (topic == nullptr || partition < 0 ||
      partition >= topic->partitions_size()) {
    out->error_code = error::kUnknownTopicOrPartition;
    out->error_message = "This server does not host this topic-partition.";
    return std::nullopt;
  }
  const metapb::PartitionInfo& info = topic->partitions(partition);
  const int32_t leader = s.partitions.PartitionLeader(info);
  if (type == kUncleanElection) {
    out->error_code = leader >= 0 ? error::kElectionNotNeeded
                                  : error::kEligibleLeadersNotAvailable;
    out->error_message =
        leader >= 0 ? "Leader election not needed for topic partition."
                    : "Raft elects only a replica holding every committed "
                      "record: a leader is elected once a majority of the "
                      "replicas is up";
    return std::nullopt;
  }
  const raft::NodeId preferred = PreferredReplica(info, s.bugs);
  if (leader == config::KafkaNodeId(preferred)) {
    out->error_code = error::kElectionNotNeeded;
    out->error_message = "Leader election not needed for topic partition.";
    return std::nullopt;
  }
  if (!Available(s.state(), info, preferred)) {
    out->error_code = error::kPreferredLeaderNotAvailable;
    out->error_message =
        absl::StrCat("preferred replica ", config::KafkaNodeId(preferred),
                     " is not an unfenced broker in the ISR");
    return std::nullopt;
  }
  out->error_code = error::kRequestTimedOut;
  out->error_message =
      absl::StrCat("preferred replica ", config::KafkaNodeId(preferred),
                   " did not take over in time");
  return Target{info.group_id(), preferred};
}

// Lays out the answer of every partition the request names (or of every
// partition), judging each; `targets` gets, per result, the target to wait
// for (or nullopt), in the same shape.
void LayOut(Services& s, const kafka::ElectLeadersRequest& r,
            Response* response,
            std::vector<std::vector<std::optional<Target>>>* targets) {
  auto add_topic = [&](const std::string& name) {
    response->replica_election_results.emplace_back().topic = name;
    targets->emplace_back();
  };
  if (r.topic_partitions.has_value()) {
    for (const auto& topic : *r.topic_partitions) {
      add_topic(topic.topic);
      const metapb::TopicInfo* info = s.state().FindTopic(topic.topic);
      for (int32_t partition : topic.partition_id) {
        PartitionResult& out = response->replica_election_results.back()
                                   .partition_result.emplace_back();
        targets->back().push_back(
            Judge(s, r.election_type, info, partition, &out));
      }
    }
    return;
  }
  // Every partition; those that need no election are left out (Kafka).
  for (const metapb::TopicInfo* topic : s.state().Topics()) {
    add_topic(topic->name());
    for (int32_t p = 0; p < topic->partitions_size(); ++p) {
      PartitionResult out;
      std::optional<Target> target = Judge(s, r.election_type, topic, p, &out);
      if (out.error_code == kafka::error::kElectionNotNeeded) continue;
      response->replica_election_results.back().partition_result.push_back(
          std::move(out));
      targets->back().push_back(target);
    }
    if (targets->back().empty()) {
      response->replica_election_results.pop_back();
      targets->pop_back();
    }
  }
}

bool AnyError(const Response& response) {
  for (const TopicResult& topic : response.replica_election_results) {
    for (const PartitionResult& p : topic.partition_result) {
      if (p.error_code != 0) return true;
    }
  }
  return response.error_code != 0;
}

}  // namespace

struct ElectionWaits::Wait {
  struct Pending {
    PartitionResult* out;
    Target target;
  };
  RequestContext context;
  Response response;
  std::vector<Pending> pending;
  int64_t resend_ms = 0;
  bool finished = false;

  void Finish(Services& s) {
    if (finished) return;
    finished = true;
    s.connections.Finish(context, response, AnyError(response));
  }
  // (Re)sends the wish for the partitions still waiting: a forward or a
  // proposal may be lost, a duplicate wish is harmless.
  void SendWish(Services& s) {
    metapb::MetadataCommand command;
    metapb::ElectPreferredLeaders* wish =
        command.mutable_elect_preferred_leaders();
    for (const Pending& p : pending) wish->add_group_ids(p.target.group_id);
    std::sort(wish->mutable_group_ids()->begin(),
              wish->mutable_group_ids()->end());
    wish->set_requested_by(s.config.node_id);
    s.metadata.ProposeOrForward(command);
    resend_ms = s.NowMs() + kForwardRetryMs;
  }
  // Drops the partitions whose preferred replica leads now (answered NONE)
  // or that are gone; true when none is left.
  bool Settle(Services& s) {
    std::vector<Pending> still;
    for (Pending& p : pending) {
      const std::optional<std::pair<std::string, int32_t>> where =
          s.state().PartitionOfGroup(p.target.group_id);
      if (!where.has_value()) {
        p.out->error_code = kafka::error::kUnknownTopicOrPartition;
        p.out->error_message = "the topic was deleted";
        continue;
      }
      const metapb::PartitionInfo& info =
          s.state().FindTopic(where->first)->partitions(where->second);
      if (s.partitions.PartitionLeader(info) ==
          config::KafkaNodeId(p.target.preferred)) {
        p.out->error_code = kafka::error::kNone;
        p.out->error_message = std::nullopt;
        continue;
      }
      still.push_back(p);
    }
    pending.swap(still);
    return pending.empty();
  }
};

void ElectionWaits::Check(Services& s) {
  if (waits_.empty()) return;
  std::vector<std::shared_ptr<Wait>> still;
  for (std::shared_ptr<Wait>& wait : waits_) {
    if (wait->finished) continue;  // answered at its deadline
    if (wait->Settle(s)) {
      wait->Finish(s);
      continue;
    }
    if (s.NowMs() >= wait->resend_ms) wait->SendWish(s);
    still.push_back(std::move(wait));
  }
  waits_.swap(still);
}

void Handle(Services& s, const RequestContext& c,
            kafka::ElectLeadersRequest& r) {
  auto wait = std::make_shared<ElectionWaits::Wait>();
  wait->context = c;
  // ALTER on the cluster (kApiAccess), then a known election type.
  const bool allowed = ClusterAllowed(s, c);
  if (!allowed || (r.election_type != kPreferredElection &&
                   r.election_type != kUncleanElection)) {
    const int16_t code = allowed ? kafka::error::kInvalidRequest
                                 : kafka::error::kClusterAuthorizationFailed;
    wait->response.error_code = code;
    for (const auto& topic : r.topic_partitions.value_or(
             std::vector<kafka::ElectLeadersRequest::TopicPartitions>{})) {
      TopicResult& out = wait->response.replica_election_results.emplace_back();
      out.topic = topic.topic;
      for (int32_t partition : topic.partition_id) {
        out.partition_result.push_back(
            {partition, code,
             allowed ? absl::StrCat("unknown election type ", r.election_type)
                     : std::string("not authorized to elect leaders")});
      }
    }
    wait->Finish(s);
    return;
  }
  std::vector<std::vector<std::optional<Target>>> targets;
  LayOut(s, r, &wait->response, &targets);
  for (size_t t = 0; t < targets.size(); ++t) {
    for (size_t p = 0; p < targets[t].size(); ++p) {
      if (!targets[t][p].has_value()) continue;
      wait->pending.push_back(
          {&wait->response.replica_election_results[t].partition_result[p],
           *targets[t][p]});
    }
  }
  if (wait->pending.empty() || s.elections.size() >= kMaxElectionWaits) {
    wait->Finish(s);  // (too many waiting: REQUEST_TIMED_OUT at once)
    return;
  }
  wait->SendWish(s);
  s.elections.Add(wait);
  s.deadlines.Add(s.NowMs() + ClampTimeout(r.timeout_ms),
                  [&s, wait] { wait->Finish(s); });
}

}  // namespace chronik::broker
