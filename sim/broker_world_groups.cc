// The broker scenario's consumer-group members: one group ("g") over the
// topic, consuming as the classic Java consumer and librdkafka do with eager
// rebalancing and the range assignor computed by the leader member:
// FindCoordinator -> JoinGroup (MEMBER_ID_REQUIRED, then again with the id)
// -> SyncGroup (the leader sends every member's assignment) -> OffsetFetch
// of the assigned partitions -> Fetch loop, Heartbeat every session/3,
// OffsetCommit of the consumed positions every second and, when a rebalance
// is announced (REBALANCE_IN_PROGRESS) or before LeaveGroup, once more
// before the partitions are given up. Coordinator errors and timeouts send
// the member to FindCoordinator; UNKNOWN_MEMBER_ID rejoins with an empty id;
// ILLEGAL_GENERATION rejoins. Members start late, leave with LeaveGroup or
// die silently (the coordinator must expire them), and come back as new
// members; the plan comes from the seed's "groups" stream. The checker hears
// every offset fetched, record delivered and commit acknowledged.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "sim/broker_world.h"
#include "sim/broker_world_call.h"
#include "sim/consumer_protocol.h"

namespace chronik::sim {
namespace {

namespace error = kafka::error;

constexpr char kGroupId[] = "g";
constexpr int32_t kSessionTimeoutMs = 6'000;
constexpr int32_t kRebalanceTimeoutMs = 10'000;
constexpr Nanos kHeartbeatInterval = kSessionTimeoutMs * kMillisecond / 3;
constexpr Nanos kCommitInterval = 1 * kSecond;
// JoinGroup and SyncGroup are parked until the round completes: real
// clients wait the rebalance timeout and some.
constexpr Nanos kJoinTimeout = kRebalanceTimeoutMs * kMillisecond + 3 * kSecond;
constexpr Nanos kGroupBackoff = 100 * kMillisecond;
// Kafka's COORDINATOR_LOAD_IN_PROGRESS (not in errors.h: never answered).
constexpr int16_t kCoordinatorLoadInProgress = 14;

bool HasUncommitted(const GroupMemberState& g) {
  for (const auto& [partition, position] : g.position) {
    auto it = g.committed.find(partition);
    if (it == g.committed.end() || it->second < position) return true;
  }
  return false;
}

const char* PhaseName(GroupPhase phase) {
  switch (phase) {
    case GroupPhase::kNotStarted:
      return "not started";
    case GroupPhase::kJoin:
      return "joining";
    case GroupPhase::kSync:
      return "syncing";
    case GroupPhase::kFetchOffsets:
      return "fetching offsets";
    case GroupPhase::kConsume:
      return "consuming";
    case GroupPhase::kGone:
      return "gone";
  }
  return "?";
}

}  // namespace

int BrokerGroupMembers(const BrokerScenarioOptions& options) {
  if (options.group_members >= 0) return options.group_members;
  return 2 +
         static_cast<int>(Rng::Stream(options.seed, "groups/count").Below(2));
}

int BrokerWorld::GroupMemberCount(const BrokerScenarioOptions& options) {
  return BrokerGroupMembers(options);
}

void BrokerWorld::PlanGroupMembers() {
  int ordinal = 0;
  for (SimClient& client : clients_) {
    if (client.kind != ClientKind::kGroupMember) continue;
    GroupMemberState& g = client.group;
    // The first starts early, the second joins a group of one (usually under
    // faults), a third at any time of the fault phase.
    g.start_at = ordinal == 0
                     ? group_rng_.Between(500 * kMillisecond, 2 * kSecond)
                 : ordinal == 1 ? group_rng_.Between(3 * kSecond, 12 * kSecond)
                                : group_rng_.Between(1 * kSecond, 15 * kSecond);
    const uint64_t exit = group_rng_.Below(3);  // stay, leave, die
    const Nanos exit_earliest = g.start_at + 2 * kSecond;
    const Nanos exit_latest = options_.fault_phase - 2 * kSecond;
    if (exit != 0 && exit_earliest < exit_latest) {
      g.exit_at = group_rng_.Between(exit_earliest, exit_latest);
      g.exit_dies = exit == 2;
      g.restart_after = group_rng_.Between(1 * kSecond, 4 * kSecond);
    }
    const int index = client.index;
    scheduler_.At(g.start_at,
                  [this, index] { StartGroupMember(clients_[index]); });
    if (g.exit_at >= 0) {
      scheduler_.At(g.exit_at, [this, index] { GroupExit(clients_[index]); });
    }
    ++ordinal;
  }
}

void BrokerWorld::StartGroupMember(SimClient& client) {
  if (finished_) return;
  GroupMemberState& g = client.group;
  GroupMemberState fresh;
  fresh.incarnation = g.incarnation + 1;
  fresh.name = absl::StrCat("m", client.index, ".", fresh.incarnation);
  fresh.start_at = g.start_at;
  fresh.phase = GroupPhase::kJoin;
  g = std::move(fresh);
  client.need_metadata = true;
  client.backoff = 0;
  Record(Trace::kWorld, "group_start",
         {static_cast<uint64_t>(client.index),
          static_cast<uint64_t>(g.incarnation)},
         [&] { return g.name; });
  ActLater(client, 0);
}

// Leaves (a last commit, LeaveGroup) or dies silently (its connections
// reset, nothing said); a new incarnation starts later either way.
void BrokerWorld::GroupExit(SimClient& client) {
  GroupMemberState& g = client.group;
  if (finished_ || g.phase == GroupPhase::kGone ||
      g.phase == GroupPhase::kNotStarted) {
    return;
  }
  Record(Trace::kWorld, g.exit_dies ? "group_die" : "group_leave",
         {static_cast<uint64_t>(client.index)}, [&] { return g.name; });
  if (!g.exit_dies) {
    g.leaving = true;
    Act(client);  // or after the request in flight
    return;
  }
  Revoke(client);
  g.phase = GroupPhase::kGone;
  client.pending.reset();
  CloseClientConnection(client);
  const int index = client.index;
  scheduler_.After(g.restart_after,
                   [this, index] { StartGroupMember(clients_[index]); });
}

void BrokerWorld::Revoke(SimClient& client) {
  GroupMemberState& g = client.group;
  for (const auto& [partition, position] : g.position) {
    checker_.OnGroupRevoked(g.name, partition);
  }
  g.assigned.clear();
  g.position.clear();
  g.committed.clear();
  g.revoking = false;
  g.last_commit_sent = false;
}

void BrokerWorld::GroupCallFailed(SimClient& client) {
  GroupMemberState& g = client.group;
  if (g.leaving && g.leave_sent) {
    // Close() does not wait forever: the session timeout removes it.
    Revoke(client);
    g.phase = GroupPhase::kGone;
    const int index = client.index;
    scheduler_.After(g.restart_after,
                     [this, index] { StartGroupMember(clients_[index]); });
    return;
  }
  if (g.call_to_coordinator) g.coordinator = -1;
  if (g.phase == GroupPhase::kSync) g.phase = GroupPhase::kJoin;
}

void BrokerWorld::GroupAct(SimClient& client) {
  GroupMemberState& g = client.group;
  if (g.phase == GroupPhase::kNotStarted || g.phase == GroupPhase::kGone) {
    return;
  }
  if (g.coordinator < 0) {
    FindCoordinator(client);
    return;
  }
  if (g.leaving && g.phase != GroupPhase::kConsume) {
    LeaveGroup(client);
    return;
  }
  switch (g.phase) {
    case GroupPhase::kJoin:
      JoinGroup(client);
      return;
    case GroupPhase::kSync:
      SyncGroup(client);
      return;
    case GroupPhase::kFetchOffsets:
      FetchGroupOffsets(client);
      return;
    case GroupPhase::kConsume:
      GroupStep(client);
      return;
    case GroupPhase::kNotStarted:
    case GroupPhase::kGone:
      return;
  }
}

void BrokerWorld::FindCoordinator(SimClient& client) {
  kafka::FindCoordinatorRequest request;
  request.key = kGroupId;
  request.key_type = 0;
  client.group.call_to_coordinator = false;
  Call<kafka::FindCoordinatorResponse>(
      client, AnyBroker(client), 3, request,
      [this](SimClient& c, const kafka::FindCoordinatorResponse& response) {
        if (response.error_code == error::kNone && response.node_id >= 1 &&
            response.node_id <= num_nodes()) {
          c.group.coordinator = response.node_id;
          c.backoff = 0;
          ActLater(c, 0);
          return;
        }
        c.backoff = std::clamp<Nanos>(c.backoff * 2, kGroupBackoff, kSecond);
        ActLater(c, c.backoff);
      });
}

bool BrokerWorld::OnGroupError(SimClient& client, int16_t code,
                               bool commit_first) {
  GroupMemberState& g = client.group;
  switch (code) {
    case error::kNotCoordinator:
    case error::kCoordinatorNotAvailable:
    case kCoordinatorLoadInProgress:
      g.coordinator = -1;
      if (g.phase == GroupPhase::kSync) g.phase = GroupPhase::kJoin;
      break;
    case error::kUnknownMemberId:
      g.member_id.clear();
      g.generation = -1;
      Revoke(client);
      g.phase = GroupPhase::kJoin;
      break;
    case error::kIllegalGeneration:
      g.generation = -1;
      Revoke(client);
      g.phase = GroupPhase::kJoin;
      break;
    case error::kRebalanceInProgress:
      if (commit_first && g.phase == GroupPhase::kConsume) {
        g.revoking = true;  // GroupStep commits, then rejoins
      } else {
        Revoke(client);
        g.phase = GroupPhase::kJoin;
      }
      ActLater(client, 0);
      return true;
    default:
      return false;
  }
  Record(Trace::kWorld, "group_error",
         {static_cast<uint64_t>(client.index), static_cast<uint64_t>(code)});
  ActLater(client, kGroupBackoff);
  return true;
}

void BrokerWorld::JoinGroup(SimClient& client) {
  GroupMemberState& g = client.group;
  kafka::JoinGroupRequest request;
  request.group_id = kGroupId;
  request.session_timeout_ms = kSessionTimeoutMs;
  request.rebalance_timeout_ms = kRebalanceTimeoutMs;
  request.member_id = g.member_id;
  request.protocol_type = "consumer";
  request.protocols.push_back({"range", Subscription(kTopic)});
  g.call_to_coordinator = true;
  Call<kafka::JoinGroupResponse>(
      client, g.coordinator, 5, request,
      [this](SimClient& c, const kafka::JoinGroupResponse& response) {
        OnJoined(c, response);
      },
      kJoinTimeout);
}

void BrokerWorld::OnJoined(SimClient& client,
                           const kafka::JoinGroupResponse& response) {
  GroupMemberState& g = client.group;
  if (response.error_code == error::kMemberIdRequired) {
    g.member_id = response.member_id;
    ActLater(client, 0);
    return;
  }
  if (response.error_code == error::kNone) {
    g.member_id = response.member_id;
    g.generation = response.generation_id;
    g.leader = response.leader == response.member_id;
    g.members.clear();
    for (const auto& member : response.members) {
      g.members.push_back(member.member_id);
    }
    g.phase = GroupPhase::kSync;
    ++result_.group_joins;
    Record(Trace::kWorld, "group_joined",
           {static_cast<uint64_t>(client.index),
            static_cast<uint64_t>(g.generation), g.leader ? 1u : 0u},
           [&] {
             return absl::StrCat(g.name, " ", g.member_id, " generation ",
                                 g.generation, g.leader ? " leader" : "");
           });
    ActLater(client, 0);
    return;
  }
  if (OnGroupError(client, response.error_code, false)) return;
  ActLater(client, kGroupBackoff);
}

void BrokerWorld::SyncGroup(SimClient& client) {
  GroupMemberState& g = client.group;
  kafka::SyncGroupRequest request;
  request.group_id = kGroupId;
  request.generation_id = g.generation;
  request.member_id = g.member_id;
  if (g.leader) {
    for (auto& [member, partitions] :
         RangeAssign(g.members, options_.partitions)) {
      request.assignments.push_back(
          {member, EncodeAssignment(kTopic, partitions)});
    }
  }
  g.call_to_coordinator = true;
  Call<kafka::SyncGroupResponse>(
      client, g.coordinator, 3, request,
      [this](SimClient& c, const kafka::SyncGroupResponse& response) {
        OnSynced(c, response);
      },
      kJoinTimeout);
}

void BrokerWorld::OnSynced(SimClient& client,
                           const kafka::SyncGroupResponse& response) {
  GroupMemberState& g = client.group;
  if (response.error_code != error::kNone) {
    if (OnGroupError(client, response.error_code, false)) return;
    g.phase = GroupPhase::kJoin;
    ActLater(client, kGroupBackoff);
    return;
  }
  absl::StatusOr<std::vector<int>> assigned =
      DecodeAssignment(response.assignment);
  if (!assigned.ok()) {
    Fail(absl::StrCat(
        "group member ", g.name,
        " cannot decode its assignment: ", assigned.status().ToString()));
    return;
  }
  g.assigned = std::move(*assigned);
  g.next_partition = 0;
  g.phase = GroupPhase::kFetchOffsets;
  Record(Trace::kWorld, "group_synced",
         {static_cast<uint64_t>(client.index),
          static_cast<uint64_t>(g.generation), g.assigned.size()},
         [&] {
           std::string text =
               absl::StrCat(g.name, " generation ", g.generation, " gets");
           for (int p : g.assigned) absl::StrAppend(&text, " ", p);
           return text;
         });
  ActLater(client, 0);
}

void BrokerWorld::FetchGroupOffsets(SimClient& client) {
  GroupMemberState& g = client.group;
  if (g.assigned.empty()) {
    g.phase = GroupPhase::kConsume;
    g.next_heartbeat = now() + kHeartbeatInterval;
    g.next_commit = now() + kCommitInterval;
    ActLater(client, 0);
    return;
  }
  kafka::OffsetFetchRequest request;
  request.group_id = kGroupId;
  kafka::OffsetFetchRequest::OffsetFetchRequestTopic topic;
  topic.name = kTopic;
  for (int p : g.assigned) topic.partition_indexes.push_back(p);
  request.topics = std::vector{topic};
  g.call_to_coordinator = true;
  const Nanos sent_at = now();
  Call<kafka::OffsetFetchResponse>(
      client, g.coordinator, 7, request,
      [this, sent_at](SimClient& c, const kafka::OffsetFetchResponse& r) {
        GroupMemberState& m = c.group;
        int16_t code = r.error_code;
        std::map<int, int64_t> found;
        for (const auto& t : r.topics) {
          for (const auto& p : t.partitions) {
            if (code == error::kNone) code = p.error_code;
            if (t.name == kTopic) found[p.partition_index] = p.committed_offset;
          }
        }
        if (code != error::kNone) {
          if (!OnGroupError(c, code, false)) ActLater(c, kGroupBackoff);
          return;
        }
        for (int p : m.assigned) {
          auto it = found.find(p);
          const int64_t committed = it == found.end() ? -1 : it->second;
          checker_.OnGroupOffsetFetched(sent_at, now(), m.name, p, committed);
          m.position[p] = std::max<int64_t>(committed, 0);
          m.committed[p] = committed;
        }
        CheckGroupAnomaly();
        m.phase = GroupPhase::kConsume;
        m.next_heartbeat = now() + kHeartbeatInterval;
        m.next_commit = now() + kCommitInterval;
        ActLater(c, 0);
      });
}

// One step of a consuming member: the commit-and-rejoin of a rebalance (or
// the last commit before leaving), else a due heartbeat, a due commit, or a
// Fetch of the next assigned partition.
void BrokerWorld::GroupStep(SimClient& client) {
  GroupMemberState& g = client.group;
  if (g.revoking || g.leaving) {
    if (HasUncommitted(g) && !g.last_commit_sent) {
      g.last_commit_sent = true;
      GroupCommit(client);
      return;
    }
    if (g.leaving) {
      LeaveGroup(client);
      return;
    }
    Revoke(client);
    g.phase = GroupPhase::kJoin;
    JoinGroup(client);
    return;
  }
  if (now() >= g.next_heartbeat) {
    GroupHeartbeat(client);
    return;
  }
  if (now() >= g.next_commit) {
    g.next_commit = now() + kCommitInterval;
    if (HasUncommitted(g)) {
      GroupCommit(client);
      return;
    }
  }
  if (g.assigned.empty()) {
    ActLater(client, std::min(g.next_heartbeat, g.next_commit) - now());
    return;
  }
  if (client.need_metadata) {
    RequestMetadata(client);
    return;
  }
  GroupFetch(client);
}

void BrokerWorld::GroupHeartbeat(SimClient& client) {
  GroupMemberState& g = client.group;
  kafka::HeartbeatRequest request;
  request.group_id = kGroupId;
  request.generation_id = g.generation;
  request.member_id = g.member_id;
  g.call_to_coordinator = true;
  Call<kafka::HeartbeatResponse>(
      client, g.coordinator, 3, request,
      [this](SimClient& c, const kafka::HeartbeatResponse& response) {
        if (response.error_code == error::kNone) {
          c.group.next_heartbeat = now() + kHeartbeatInterval;
          ActLater(c, 0);
          return;
        }
        if (OnGroupError(c, response.error_code, /*commit_first=*/true)) {
          return;
        }
        c.group.next_heartbeat = now() + kGroupBackoff;
        ActLater(c, kGroupBackoff);
      });
}

void BrokerWorld::GroupCommit(SimClient& client) {
  GroupMemberState& g = client.group;
  kafka::OffsetCommitRequest request;
  request.group_id = kGroupId;
  request.generation_id = g.generation;
  request.member_id = g.member_id;
  kafka::OffsetCommitRequest::OffsetCommitRequestTopic topic;
  topic.name = kTopic;
  for (const auto& [partition, position] : g.position) {
    kafka::OffsetCommitRequest::OffsetCommitRequestPartition out;
    out.partition_index = partition;
    out.committed_offset = position;
    topic.partitions.push_back(std::move(out));
  }
  request.topics.push_back(std::move(topic));
  g.call_to_coordinator = true;
  Call<kafka::OffsetCommitResponse>(
      client, g.coordinator, 7, request,
      [this, request](SimClient& c, const kafka::OffsetCommitResponse& r) {
        int16_t code = error::kNone;
        for (const auto& t : r.topics) {
          for (const auto& p : t.partitions) {
            if (code == error::kNone) code = p.error_code;
          }
        }
        const auto& sent = request.topics[0].partitions;
        if (code == error::kNone) {
          for (const auto& p : sent) {
            c.group.committed[p.partition_index] = p.committed_offset;
            checker_.OnGroupCommitAcked(now(), c.group.name, p.partition_index,
                                        p.committed_offset);
          }
          ++result_.group_commits;
          ActLater(c, 0);
          if (clients_.back().done) Finish();
          return;
        }
        if (code == error::kRebalanceInProgress && !sent.empty()) {
          checker_.OnGroupCommitRefusedRebalancing(
              now(), c.group.name, request.generation_id,
              sent[0].partition_index, sent[0].committed_offset);
          CheckGroupAnomaly();
        }
        if (!OnGroupError(c, code, false)) ActLater(c, kGroupBackoff);
      });
}

void BrokerWorld::LeaveGroup(SimClient& client) {
  GroupMemberState& g = client.group;
  const int index = client.index;
  auto gone = [this, index] {
    SimClient& c = clients_[index];
    Revoke(c);
    c.group.phase = GroupPhase::kGone;
    scheduler_.After(c.group.restart_after,
                     [this, index] { StartGroupMember(clients_[index]); });
  };
  if (g.member_id.empty()) {
    gone();
    return;
  }
  kafka::LeaveGroupRequest request;
  request.group_id = kGroupId;
  request.members.push_back({g.member_id, std::nullopt});
  g.call_to_coordinator = true;
  g.leave_sent = true;
  Call<kafka::LeaveGroupResponse>(
      client, g.coordinator, 3, request,
      [gone](SimClient&, const kafka::LeaveGroupResponse&) { gone(); });
}

void BrokerWorld::CheckGroupAnomaly() {
  if (const std::optional<std::string>& anomaly = checker_.group_anomaly()) {
    Fail(*anomaly);
  }
}

std::string BrokerWorld::GroupLivenessProblem() const {
  std::optional<std::string> lag = checker_.GroupLag();
  std::string text = absl::StrCat(
      "LIVENESS: the consumer group did not catch up: ",
      lag.has_value() ? *lag : std::string("(caught up)"), "; members:");
  for (const SimClient& client : clients_) {
    if (client.kind != ClientKind::kGroupMember) continue;
    const GroupMemberState& g = client.group;
    absl::StrAppend(&text, " ", g.name.empty() ? "-" : g.name, " ",
                    PhaseName(g.phase), " generation ", g.generation, ";");
  }
  return text;
}

}  // namespace chronik::sim
