#include "broker/group/group_coordinator.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/group/consumer_subscription.h"

namespace chronik::group {

namespace error = kafka::error;

const char* GroupCoordinator::StateName(State state) {
  switch (state) {
    case State::kEmpty:
      return "Empty";
    case State::kPreparingRebalance:
      return "PreparingRebalance";
    case State::kCompletingRebalance:
      return "CompletingRebalance";
    case State::kStable:
      return "Stable";
  }
  return "Dead";
}

std::string GroupCoordinator::NewMemberId(const std::string& client_id) {
  return absl::StrCat(client_id.empty() ? "member" : client_id, "-", epoch_,
                      "-", next_member_number_++);
}

void GroupCoordinator::Complete(Ticket ticket, JoinResult result) {
  Completion completion;
  completion.ticket = ticket;
  completion.join = std::move(result);
  completions_.push_back(std::move(completion));
}

void GroupCoordinator::Complete(Ticket ticket, SyncResult result) {
  Completion completion;
  completion.ticket = ticket;
  completion.sync = std::move(result);
  completions_.push_back(std::move(completion));
}

std::vector<Completion> GroupCoordinator::TakeCompletions() {
  std::vector<Completion> result;
  result.swap(completions_);
  return result;
}

namespace {

JoinResult JoinError(int16_t code, std::string member_id = "") {
  JoinResult result;
  result.error_code = code;
  result.member_id = std::move(member_id);
  return result;
}

SyncResult SyncError(int16_t code) {
  SyncResult result;
  result.error_code = code;
  return result;
}

bool Supports(const std::vector<Protocol>& protocols, const std::string& name) {
  return std::any_of(protocols.begin(), protocols.end(),
                     [&](const Protocol& p) { return p.name == name; });
}

}  // namespace

std::optional<JoinResult> GroupCoordinator::Join(Ticket ticket,
                                                 const JoinRequest& request,
                                                 int64_t now_ms) {
  if (request.group_id.empty()) return JoinError(error::kInvalidGroupId);
  if (request.session_timeout_ms < kMinSessionTimeoutMs ||
      request.session_timeout_ms > kMaxSessionTimeoutMs) {
    return JoinError(error::kInvalidSessionTimeout);
  }
  if (request.protocol_type.empty() || request.protocols.empty() ||
      request.protocols.size() > kMaxProtocolsPerMember) {
    return JoinError(error::kInconsistentGroupProtocol);
  }
  auto group_it = groups_.find(request.group_id);
  if (group_it == groups_.end()) {
    if (static_cast<int>(groups_.size()) >= kMaxGroups) {
      return JoinError(error::kGroupMaxSizeReached);
    }
    group_it = groups_.emplace(request.group_id, Group{}).first;
    group_it->second.group_id = request.group_id;
  }
  Group& group = group_it->second;
  if (!group.members.empty() && !Compatible(group, request)) {
    return JoinError(error::kInconsistentGroupProtocol);
  }

  if (request.group_instance_id.has_value()) {
    if (request.member_id.empty()) {
      return JoinStatic(ticket, group, request, now_ms);
    }
    // A known static member rejoining: its instance id must map to it.
    const int16_t code =
        CheckMember(group, request.member_id, request.group_instance_id);
    if (code != error::kNone) return JoinError(code, request.member_id);
    return JoinRound(ticket, group, request.member_id, request, now_ms);
  }
  std::string member_id = request.member_id;
  if (member_id.empty()) {
    member_id = NewMemberId(request.client_id);
    if (request.require_known_member_id) {
      if (group.pending_member_ids.size() >= 2 * kMaxMembersPerGroup) {
        return JoinError(error::kGroupMaxSizeReached);
      }
      group.pending_member_ids[member_id] = now_ms + request.session_timeout_ms;
      return JoinError(error::kMemberIdRequired, member_id);
    }
  } else if (group.members.count(member_id) == 0 &&
             group.pending_member_ids.count(member_id) == 0) {
    return JoinError(error::kUnknownMemberId, member_id);
  }
  return JoinRound(ticket, group, member_id, request, now_ms);
}

std::optional<JoinResult> GroupCoordinator::JoinRound(
    Ticket ticket, Group& group, const std::string& member_id,
    const JoinRequest& request, int64_t now_ms) {
  const bool is_new = group.members.count(member_id) == 0;
  if (is_new && static_cast<int>(group.members.size()) >= kMaxMembersPerGroup) {
    return JoinError(error::kGroupMaxSizeReached, member_id);
  }
  group.pending_member_ids.erase(member_id);
  if (group.members.empty()) group.protocol_type = request.protocol_type;

  const bool from_empty = group.state == State::kEmpty;
  if (group.state != State::kPreparingRebalance) {
    PrepareRebalance(group, now_ms);
  }
  if (is_new && (from_empty || group.initial_join_deadline_ms > 0)) {
    DelayInitialJoin(group, from_empty, request.rebalance_timeout_ms, now_ms);
  }
  RecordJoin(group.members[member_id], member_id, request, ticket, now_ms);
  group.rebalance_deadline_ms =
      std::max(group.rebalance_deadline_ms,
               now_ms + std::max(request.rebalance_timeout_ms, 0));
  MaybeCompleteJoin(group, now_ms);

  // Answered synchronously when this join completed the round.
  for (auto it = completions_.begin(); it != completions_.end(); ++it) {
    if (it->ticket == ticket && it->join.has_value()) {
      JoinResult result = std::move(*it->join);
      completions_.erase(it);
      return result;
    }
  }
  return std::nullopt;
}

std::optional<JoinResult> GroupCoordinator::JoinStatic(
    Ticket ticket, Group& group, const JoinRequest& request, int64_t now_ms) {
  const std::string new_id = NewMemberId(request.client_id);
  const std::string* found = StaticMemberId(group, *request.group_instance_id);
  if (found == nullptr) {
    // A new static member joins at once (no MEMBER_ID_REQUIRED round).
    return JoinRound(ticket, group, new_id, request, now_ms);
  }
  const std::string old_id = *found;
  const std::string old_leader = group.leader;
  ReplaceStaticMember(group, old_id, new_id);
  Member& member = group.members.at(new_id);
  const bool keeps = group.state == State::kStable &&
                     RejoinKeepsSelection(group, member, request);
  if (!keeps) {
    // Preparing: it joins the round; otherwise a round starts for it.
    return JoinRound(ticket, group, new_id, request, now_ms);
  }
  // Stable and nothing the assignment depends on changed: answered with the
  // current generation and the old leader id, so it does not assign.
  RecordJoin(member, new_id, request, std::nullopt, now_ms);
  JoinResult result;
  result.generation_id = group.generation_id;
  result.protocol_type = group.protocol_type;
  result.protocol_name = group.protocol_name;
  result.leader = old_leader;
  result.member_id = new_id;
  return result;
}

void GroupCoordinator::ReplaceStaticMember(Group& group,
                                           const std::string& old_id,
                                           const std::string& new_id) {
  auto node = group.members.extract(old_id);
  CHRONIK_CHECK(!node.empty());
  Member& member = node.mapped();
  if (member.pending_join) {
    Complete(*member.pending_join, JoinError(error::kFencedInstanceId, old_id));
    member.pending_join.reset();
  }
  if (member.pending_sync) {
    Complete(*member.pending_sync, SyncError(error::kFencedInstanceId));
    member.pending_sync.reset();
  }
  member.member_id = new_id;
  node.key() = new_id;
  group.members.insert(std::move(node));
  if (group.leader == old_id) group.leader = new_id;
}

bool GroupCoordinator::RejoinKeepsSelection(const Group& group,
                                            const Member& before,
                                            const JoinRequest& request) const {
  auto metadata_of = [&](const std::vector<Protocol>& protocols)
      -> std::optional<std::string> {
    for (const Protocol& protocol : protocols) {
      if (protocol.name == group.protocol_name) return protocol.metadata;
    }
    return std::nullopt;
  };
  std::optional<std::string> old_metadata = metadata_of(before.protocols);
  std::optional<std::string> new_metadata = metadata_of(request.protocols);
  if (!new_metadata.has_value()) return false;
  // The group's protocol stays the choice: Kafka's selectProtocol.
  Group after = group;
  after.members.at(before.member_id).protocols = request.protocols;
  if (ChooseProtocol(after) != group.protocol_name) return false;
  if (!old_metadata.has_value()) return false;
  if (group.protocol_type != kConsumerProtocolType) {
    return *old_metadata == *new_metadata;
  }
  // A consumer's metadata also carries its owned partitions (empty after a
  // restart); only the subscribed topics matter to the assignment.
  absl::StatusOr<std::vector<std::string>> old_topics =
      SubscribedTopics(*old_metadata);
  absl::StatusOr<std::vector<std::string>> new_topics =
      SubscribedTopics(*new_metadata);
  if (!old_topics.ok() || !new_topics.ok()) {
    return *old_metadata == *new_metadata;
  }
  std::sort(old_topics->begin(), old_topics->end());
  std::sort(new_topics->begin(), new_topics->end());
  return *old_topics == *new_topics;
}

const std::string* GroupCoordinator::StaticMemberId(
    const Group& group, const std::string& instance_id) {
  for (const auto& [id, member] : group.members) {
    if (member.group_instance_id == instance_id) return &id;
  }
  return nullptr;
}

int16_t GroupCoordinator::CheckMember(
    const Group& group, const std::string& member_id,
    const std::optional<std::string>& instance_id) {
  if (instance_id.has_value()) {
    const std::string* current = StaticMemberId(group, *instance_id);
    if (current != nullptr && *current != member_id) {
      return error::kFencedInstanceId;
    }
  }
  if (group.members.count(member_id) == 0) return error::kUnknownMemberId;
  return error::kNone;
}

bool GroupCoordinator::Compatible(const Group& group,
                                  const JoinRequest& request) {
  if (group.protocol_type != request.protocol_type) return false;
  // The newcomer must share at least one protocol with every member.
  for (const Protocol& protocol : request.protocols) {
    bool everyone = true;
    for (const auto& [id, member] : group.members) {
      if (id != request.member_id &&
          !Supports(member.protocols, protocol.name)) {
        everyone = false;
        break;
      }
    }
    if (everyone) return true;
  }
  return false;
}

void GroupCoordinator::RecordJoin(Member& member, const std::string& member_id,
                                  const JoinRequest& request,
                                  std::optional<Ticket> ticket,
                                  int64_t now_ms) {
  if (member.pending_join.has_value()) {
    // A retried join replaces the parked one; answer the old one.
    Complete(*member.pending_join,
             JoinError(error::kUnknownMemberId, member_id));
  }
  member.member_id = member_id;
  member.group_instance_id = request.group_instance_id;
  member.client_id = request.client_id;
  member.client_host = request.client_host;
  member.protocols = request.protocols;
  member.session_timeout_ms = request.session_timeout_ms;
  member.rebalance_timeout_ms = request.rebalance_timeout_ms;
  member.session_deadline_ms = now_ms + request.session_timeout_ms;
  if (ticket.has_value()) member.pending_join = ticket;
}

void GroupCoordinator::PrepareRebalance(Group& group, int64_t now_ms) {
  FailPendingSyncs(group, error::kRebalanceInProgress);
  group.state = State::kPreparingRebalance;
  int32_t timeout_ms = 0;
  for (const auto& [id, member] : group.members) {
    timeout_ms = std::max(timeout_ms, member.rebalance_timeout_ms);
  }
  group.rebalance_deadline_ms = now_ms + timeout_ms;
}

void GroupCoordinator::DelayInitialJoin(Group& group, bool first,
                                        int32_t rebalance_timeout_ms,
                                        int64_t now_ms) {
  if (initial_rebalance_delay_ms_ <= 0) return;
  if (first) {
    group.initial_join_limit_ms = now_ms + std::max(rebalance_timeout_ms, 0);
  }
  group.initial_join_deadline_ms = std::min(
      now_ms + initial_rebalance_delay_ms_, group.initial_join_limit_ms);
}

void GroupCoordinator::MaybeCompleteJoin(Group& group, int64_t now_ms) {
  CHRONIK_CHECK(group.state == State::kPreparingRebalance);
  if (group.members.empty()) {
    group.state = State::kEmpty;
    group.initial_join_deadline_ms = 0;
    return;
  }
  if (group.initial_join_deadline_ms > now_ms) return;  // more may come
  group.initial_join_deadline_ms = 0;
  for (const auto& [id, member] : group.members) {
    if (!member.pending_join.has_value()) return;
  }
  CompleteJoin(group, now_ms);
}

std::optional<std::string> GroupCoordinator::ChooseProtocol(
    const Group& group) const {
  CHRONIK_CHECK(!group.members.empty());
  auto leader = group.members.find(group.leader);
  const Member& first = leader != group.members.end()
                            ? leader->second
                            : group.members.begin()->second;
  for (const Protocol& candidate : first.protocols) {
    bool everyone = true;
    for (const auto& [id, member] : group.members) {
      everyone = everyone && Supports(member.protocols, candidate.name);
    }
    if (everyone) return candidate.name;
  }
  return std::nullopt;
}

void GroupCoordinator::CompleteJoin(Group& group, int64_t now_ms) {
  if (group.members.count(group.leader) == 0) {
    group.leader = group.members.begin()->first;
  }
  std::optional<std::string> protocol = ChooseProtocol(group);
  ++group.generation_id;
  if (!protocol.has_value()) {
    for (auto& [id, member] : group.members) {
      if (member.pending_join) {
        Complete(*member.pending_join,
                 JoinError(error::kInconsistentGroupProtocol, id));
      }
    }
    group.members.clear();
    group.state = State::kEmpty;
    return;
  }
  group.protocol_name = *protocol;
  group.state = State::kCompletingRebalance;
  for (auto& [id, member] : group.members) {
    member.assignment.clear();
    member.session_deadline_ms = now_ms + member.session_timeout_ms;
    CHRONIK_CHECK(member.pending_join.has_value());
    const Ticket ticket = *member.pending_join;
    member.pending_join.reset();
    Complete(ticket, JoinResultFor(group, member));
  }
}

JoinResult GroupCoordinator::JoinResultFor(const Group& group,
                                           const Member& member) const {
  JoinResult result;
  result.generation_id = group.generation_id;
  result.protocol_type = group.protocol_type;
  result.protocol_name = group.protocol_name;
  result.leader = group.leader;
  result.member_id = member.member_id;
  if (member.member_id == group.leader) {
    for (const auto& [id, other] : group.members) {
      JoinMember entry;
      entry.member_id = id;
      entry.group_instance_id = other.group_instance_id;
      for (const Protocol& protocol : other.protocols) {
        if (protocol.name == group.protocol_name) {
          entry.metadata = protocol.metadata;
        }
      }
      result.members.push_back(std::move(entry));
    }
  }
  return result;
}

std::optional<SyncResult> GroupCoordinator::Sync(Ticket ticket,
                                                 const SyncRequest& request,
                                                 int64_t now_ms) {
  auto group_it = groups_.find(request.group_id);
  if (group_it == groups_.end()) return SyncError(error::kUnknownMemberId);
  Group& group = group_it->second;
  const int16_t code =
      CheckMember(group, request.member_id, request.group_instance_id);
  if (code != error::kNone) return SyncError(code);
  auto member_it = group.members.find(request.member_id);
  if (request.generation_id != group.generation_id) {
    return SyncError(error::kIllegalGeneration);
  }
  Member& member = member_it->second;
  member.session_deadline_ms = now_ms + member.session_timeout_ms;
  SyncResult ok;
  ok.protocol_type = group.protocol_type;
  ok.protocol_name = group.protocol_name;
  switch (group.state) {
    case State::kEmpty:
      return SyncError(error::kUnknownMemberId);
    case State::kPreparingRebalance:
      return SyncError(error::kRebalanceInProgress);
    case State::kStable:
      ok.assignment = member.assignment;
      return ok;
    case State::kCompletingRebalance:
      break;
  }
  if (request.member_id != group.leader) {
    if (member.pending_sync.has_value()) {
      Complete(*member.pending_sync, SyncError(error::kRebalanceInProgress));
    }
    member.pending_sync = ticket;
    return std::nullopt;
  }
  for (auto& [id, each] : group.members) {
    auto assigned = request.assignments.find(id);
    each.assignment =
        assigned == request.assignments.end() ? "" : assigned->second;
  }
  group.state = State::kStable;
  for (auto& [id, each] : group.members) {
    if (!each.pending_sync.has_value()) continue;
    SyncResult result = ok;
    result.assignment = each.assignment;
    Complete(*each.pending_sync, std::move(result));
    each.pending_sync.reset();
  }
  ok.assignment = member.assignment;
  return ok;
}

void GroupCoordinator::FailPendingSyncs(Group& group, int16_t error_code) {
  for (auto& [id, member] : group.members) {
    if (member.pending_sync.has_value()) {
      Complete(*member.pending_sync, SyncError(error_code));
      member.pending_sync.reset();
    }
  }
}

int16_t GroupCoordinator::Heartbeat(
    const std::string& group_id, const std::string& member_id,
    int32_t generation_id, int64_t now_ms,
    const std::optional<std::string>& group_instance_id) {
  auto group_it = groups_.find(group_id);
  if (group_it == groups_.end()) return error::kUnknownMemberId;
  Group& group = group_it->second;
  const int16_t code = CheckMember(group, member_id, group_instance_id);
  if (code != error::kNone) return code;
  auto member_it = group.members.find(member_id);
  member_it->second.session_deadline_ms =
      now_ms + member_it->second.session_timeout_ms;
  if (group.state == State::kPreparingRebalance)
    return error::kRebalanceInProgress;
  if (generation_id != group.generation_id) return error::kIllegalGeneration;
  return error::kNone;
}

std::vector<int16_t> GroupCoordinator::Leave(
    const std::string& group_id, const std::vector<std::string>& member_ids,
    int64_t now_ms) {
  std::vector<LeavingMember> members;
  for (const std::string& id : member_ids) members.push_back({id, {}});
  return LeaveMembers(group_id, members, now_ms);
}

std::vector<int16_t> GroupCoordinator::LeaveMembers(
    const std::string& group_id, const std::vector<LeavingMember>& members,
    int64_t now_ms) {
  std::vector<int16_t> result;
  auto group_it = groups_.find(group_id);
  for (const LeavingMember& leaving : members) {
    if (group_it == groups_.end()) {
      result.push_back(error::kUnknownMemberId);
      continue;
    }
    Group& group = group_it->second;
    std::string member_id = leaving.member_id;
    if (member_id.empty() && leaving.group_instance_id.has_value()) {
      // Removal by instance id alone (an admin removing a static member).
      const std::string* found =
          StaticMemberId(group, *leaving.group_instance_id);
      if (found != nullptr) member_id = *found;
    }
    const int16_t code =
        CheckMember(group, member_id, leaving.group_instance_id);
    if (code == error::kNone) RemoveMember(group, member_id, now_ms);
    result.push_back(code);
  }
  return result;
}

void GroupCoordinator::RemoveMember(Group& group, const std::string& member_id,
                                    int64_t now_ms) {
  auto it = group.members.find(member_id);
  CHRONIK_CHECK(it != group.members.end());
  if (it->second.pending_join) {
    Complete(*it->second.pending_join,
             JoinError(error::kUnknownMemberId, member_id));
  }
  if (it->second.pending_sync) {
    Complete(*it->second.pending_sync, SyncError(error::kUnknownMemberId));
  }
  group.members.erase(it);
  if (group.leader == member_id) group.leader.clear();
  if (group.members.empty()) {
    group.state = State::kEmpty;
    group.protocol_name.clear();
    return;
  }
  if (group.state == State::kPreparingRebalance) {
    MaybeCompleteJoin(group, now_ms);
  } else {
    PrepareRebalance(group, now_ms);
  }
}

int16_t GroupCoordinator::ValidateCommit(
    const std::string& group_id, const std::string& member_id,
    int32_t generation_id,
    const std::optional<std::string>& group_instance_id) const {
  if (group_id.empty()) return error::kInvalidGroupId;
  auto group_it = groups_.find(group_id);
  if (generation_id < 0 && member_id.empty()) {
    // Outside the group protocol (manual assignment): allowed unless a live
    // group owns the id.
    if (group_it == groups_.end() || group_it->second.members.empty()) {
      return error::kNone;
    }
    return error::kUnknownMemberId;
  }
  if (group_it == groups_.end()) return error::kIllegalGeneration;
  const Group& group = group_it->second;
  const int16_t code = CheckMember(group, member_id, group_instance_id);
  if (code != error::kNone) return code;
  if (bugs_.commit_refused_while_preparing &&
      group.state == State::kPreparingRebalance) {
    return error::kRebalanceInProgress;
  }
  if (generation_id != group.generation_id) return error::kIllegalGeneration;
  // As Kafka: a member of the current generation may commit while a
  // rebalance is being prepared (it commits before giving up its partitions:
  // refusing that commit makes the next owner re-read what it consumed).
  // Between the joins and the leader's SyncGroup the generation's
  // assignment is not known yet, so commits wait for it.
  if (group.state == State::kCompletingRebalance) {
    return error::kRebalanceInProgress;
  }
  return error::kNone;
}

void GroupCoordinator::Tick(int64_t now_ms) {
  for (auto& [group_id, group] : groups_) {
    for (auto it = group.pending_member_ids.begin();
         it != group.pending_member_ids.end();) {
      it = it->second <= now_ms ? group.pending_member_ids.erase(it)
                                : std::next(it);
    }
    if (group.state == State::kPreparingRebalance &&
        group.initial_join_deadline_ms > 0 &&
        now_ms >= group.initial_join_deadline_ms &&
        now_ms < group.rebalance_deadline_ms) {
      MaybeCompleteJoin(group, now_ms);  // the initial delay is over
      continue;
    }
    if (group.state == State::kPreparingRebalance &&
        now_ms >= group.rebalance_deadline_ms) {
      // Members that did not rejoin in time are out.
      std::vector<std::string> laggards;
      for (const auto& [id, member] : group.members) {
        if (!member.pending_join.has_value()) laggards.push_back(id);
      }
      for (const std::string& id : laggards) {
        group.members.erase(id);
        if (group.leader == id) group.leader.clear();
      }
      MaybeCompleteJoin(group, now_ms);
      continue;
    }
    // Sessions expire in every state, as in Kafka: a member that died while
    // a rebalance is being prepared must not hold the round until the
    // rebalance timeout. Members waiting on a parked JoinGroup or SyncGroup
    // are alive (the coordinator owes them the answer).
    if (bugs_.no_session_expiry_while_preparing &&
        group.state == State::kPreparingRebalance) {
      continue;
    }
    std::vector<std::string> expired;
    for (const auto& [id, member] : group.members) {
      if (member.session_deadline_ms <= now_ms &&
          !member.pending_join.has_value() &&
          !member.pending_sync.has_value()) {
        expired.push_back(id);
      }
    }
    for (const std::string& id : expired) {
      if (group.members.count(id) > 0) RemoveMember(group, id, now_ms);
    }
  }
}

std::optional<GroupDescription> GroupCoordinator::Describe(
    const std::string& group_id) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return std::nullopt;
  const Group& group = it->second;
  GroupDescription description;
  description.group_id = group.group_id;
  description.state = StateName(group.state);
  description.protocol_type = group.protocol_type;
  description.protocol_name = group.protocol_name;
  description.generation_id = group.generation_id;
  for (const auto& [id, member] : group.members) {
    MemberDescription out;
    out.member_id = id;
    out.group_instance_id = member.group_instance_id;
    out.client_id = member.client_id;
    out.client_host = member.client_host;
    for (const Protocol& protocol : member.protocols) {
      if (protocol.name == group.protocol_name)
        out.metadata = protocol.metadata;
    }
    out.assignment = member.assignment;
    description.members.push_back(std::move(out));
  }
  return description;
}

std::vector<GroupDescription> GroupCoordinator::List() const {
  std::vector<GroupDescription> result;
  for (const auto& [id, group] : groups_) {
    GroupDescription description;
    description.group_id = id;
    description.state = StateName(group.state);
    description.protocol_type = group.protocol_type;
    result.push_back(std::move(description));
  }
  return result;
}

int16_t GroupCoordinator::Delete(const std::string& group_id) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return kafka::error::kGroupIdNotFound;
  if (it->second.state != State::kEmpty) return kafka::error::kNonEmptyGroup;
  CHRONIK_CHECK(it->second.members.empty());
  groups_.erase(it);
  return kafka::error::kNone;
}

void GroupCoordinator::Reset(int16_t error_code) {
  for (auto& [id, group] : groups_) {
    for (auto& [member_id, member] : group.members) {
      if (member.pending_join) {
        Complete(*member.pending_join, JoinError(error_code, member_id));
      }
      if (member.pending_sync) {
        Complete(*member.pending_sync, SyncError(error_code));
      }
    }
  }
  groups_.clear();
}

}  // namespace chronik::group
