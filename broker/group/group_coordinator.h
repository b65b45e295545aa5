// GroupCoordinator: the Kafka consumer-group membership protocol (JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups) for the groups
// this node coordinates, plus the generation checks of OffsetCommit.
//
// Membership is volatile, as in Kafka: after a coordinator failover members
// rejoin. Committed offsets are not kept here; they go through the metadata
// Raft group (broker/metadata/).
//
// Requests that cannot be answered at once (a JoinGroup waiting for the other
// members, a SyncGroup waiting for the leader's assignment) are parked; they
// complete later from another request or from Tick(), and the answers are
// collected with TakeCompletions(). Every answer carries the caller's `ticket`.
//
// Deterministic: time comes in as `now_ms` arguments, member ids are built from
// a counter (no randomness), iteration is over sorted maps. Thread-compatible.
//
// Protocol facts (Kafka's group coordinator): a JoinGroup with an empty member
// id at version >= 4 gets MEMBER_ID_REQUIRED and a fresh id to rejoin with; a
// rebalance completes when every known member has rejoined or the rebalance
// timeout passes (laggards are removed); the first member to join becomes the
// leader and receives every member's metadata; SyncGroup from the leader
// carries the assignment for all; heartbeats during a rebalance get
// REBALANCE_IN_PROGRESS; a member silent for its session timeout is removed.
//
// Static membership (KIP-345): a member with a group.instance.id joins without
// MEMBER_ID_REQUIRED. When it joins again with an empty member id (a restart)
// it takes over its old entry under a new member id: in a Stable group whose
// chosen protocol and subscribed topics stay the same it is answered at once
// with the current generation and the old leader id (so it does not assign)
// and SyncGroup hands back its old assignment: no rebalance. The replaced
// member id is fenced: Heartbeat, SyncGroup, OffsetCommit, LeaveGroup and
// JoinGroup naming it with that instance id get FENCED_INSTANCE_ID (without
// the instance id, UNKNOWN_MEMBER_ID). Session expiry and LeaveGroup remove a
// static member as any other.
#ifndef CHRONIK_BROKER_GROUP_GROUP_COORDINATOR_H_
#define CHRONIK_BROKER_GROUP_GROUP_COORDINATOR_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/env/injected_bugs.h"
#include "broker/kafka/errors.h"

namespace chronik::group {

// Bounds.
inline constexpr int kMaxMembersPerGroup = 1'000;
inline constexpr int kMaxGroups = 100'000;
inline constexpr int32_t kMinSessionTimeoutMs = 1'000;
inline constexpr int32_t kMaxSessionTimeoutMs = 30 * 60 * 1'000;
inline constexpr size_t kMaxProtocolsPerMember = 64;

using Ticket = uint64_t;

struct Protocol {
  std::string name;
  std::string metadata;
};

struct JoinRequest {
  std::string group_id;
  std::string member_id;  // "" for a new member
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  int32_t session_timeout_ms = 10'000;
  int32_t rebalance_timeout_ms = 300'000;
  bool require_known_member_id = true;  // JoinGroup v4+
};

struct JoinMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string metadata;
};

struct JoinResult {
  int16_t error_code = kafka::error::kNone;
  int32_t generation_id = -1;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<JoinMember> members;  // only for the leader
};

struct SyncRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::map<std::string, std::string> assignments;  // leader only
};

struct SyncResult {
  int16_t error_code = kafka::error::kNone;
  std::string protocol_type;
  std::string protocol_name;
  std::string assignment;
};

// LeaveGroup v3+: a member id, a group.instance.id, or both.
struct LeavingMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct Completion {
  Ticket ticket = 0;
  std::optional<JoinResult> join;
  std::optional<SyncResult> sync;
};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::string metadata;  // of the chosen protocol
  std::string assignment;
};

struct GroupDescription {
  std::string group_id;
  std::string state;  // Empty, PreparingRebalance, CompletingRebalance, Stable
  std::string protocol_type;
  std::string protocol_name;
  int32_t generation_id = 0;
  std::vector<MemberDescription> members;
};

class GroupCoordinator {
 public:
  // `epoch` distinguishes coordinator incarnations (e.g. the Raft term in
  // which this node became coordinator); it is part of every member id handed
  // out, so ids from an earlier incarnation never collide with new ones.
  // `bugs`: TEST-ONLY (env/injected_bugs.h). `initial_rebalance_delay_ms`:
  // Kafka's group.initial.rebalance.delay.ms (0: none).
  explicit GroupCoordinator(uint64_t epoch, const env::BrokerBugs& bugs = {},
                            int64_t initial_rebalance_delay_ms = 0)
      : epoch_(epoch),
        bugs_(bugs),
        initial_rebalance_delay_ms_(initial_rebalance_delay_ms) {}

  // Returns the answer now, or nullopt when parked (see TakeCompletions).
  std::optional<JoinResult> Join(Ticket ticket, const JoinRequest& request,
                                 int64_t now_ms);
  std::optional<SyncResult> Sync(Ticket ticket, const SyncRequest& request,
                                 int64_t now_ms);
  int16_t Heartbeat(
      const std::string& group_id, const std::string& member_id,
      int32_t generation_id, int64_t now_ms,
      const std::optional<std::string>& group_instance_id = std::nullopt);
  // Per member: its error code.
  std::vector<int16_t> Leave(const std::string& group_id,
                             const std::vector<std::string>& member_ids,
                             int64_t now_ms);
  // As Kafka's LeaveGroup v3+: an empty member id with an instance id removes
  // that static member (UNKNOWN_MEMBER_ID if none); a member id with an
  // instance id mapped to another member is FENCED_INSTANCE_ID.
  std::vector<int16_t> LeaveMembers(const std::string& group_id,
                                    const std::vector<LeavingMember>& members,
                                    int64_t now_ms);
  // OffsetCommit's membership check. generation -1 with an empty member id is
  // a commit from outside the group protocol, always allowed.
  int16_t ValidateCommit(
      const std::string& group_id, const std::string& member_id,
      int32_t generation_id,
      const std::optional<std::string>& group_instance_id = std::nullopt) const;

  // Expires sessions and rebalance deadlines.
  void Tick(int64_t now_ms);
  std::vector<Completion> TakeCompletions();

  std::optional<GroupDescription> Describe(const std::string& group_id) const;
  // (group id, protocol type, state) of every group, sorted.
  std::vector<GroupDescription> List() const;

  // DeleteGroups: removes the group if it is Empty (NONE); NON_EMPTY_GROUP
  // while it has members; GROUP_ID_NOT_FOUND when this coordinator does not
  // know it (its committed offsets, if any, are the caller's to judge).
  int16_t Delete(const std::string& group_id);

  // Drops all groups, answering parked requests with `error_code` (used when
  // this node stops being the coordinator).
  void Reset(int16_t error_code);

 private:
  enum class State {
    kEmpty,
    kPreparingRebalance,
    kCompletingRebalance,
    kStable
  };
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    std::vector<Protocol> protocols;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    int64_t session_deadline_ms = 0;
    std::optional<Ticket> pending_join;
    std::optional<Ticket> pending_sync;
    bool joined_this_round = false;
    std::string assignment;
  };
  struct Group {
    std::string group_id;
    State state = State::kEmpty;
    std::string protocol_type;
    std::string protocol_name;
    int32_t generation_id = 0;
    std::string leader;
    int64_t rebalance_deadline_ms = 0;
    // The first round of an empty group completes no earlier than this (each
    // newcomer moves it by the initial delay, never past the limit); 0: no
    // such wait.
    int64_t initial_join_deadline_ms = 0;
    int64_t initial_join_limit_ms = 0;
    std::map<std::string, Member> members;  // by member id
    // Ids handed out with MEMBER_ID_REQUIRED, not yet joined: id -> expiry.
    std::map<std::string, int64_t> pending_member_ids;
  };

  static const char* StateName(State state);
  std::string NewMemberId(const std::string& client_id);
  // The joining member's protocols fit the group's members.
  static bool Compatible(const Group& group, const JoinRequest& request);
  // Kafka's validateCurrentMember: FENCED_INSTANCE_ID when the instance id
  // belongs to another member id, UNKNOWN_MEMBER_ID when the member id is not
  // a member, else NONE.
  static int16_t CheckMember(const Group& group, const std::string& member_id,
                             const std::optional<std::string>& instance_id);
  // The member id holding `instance_id`, or nullptr.
  static const std::string* StaticMemberId(const Group& group,
                                           const std::string& instance_id);
  // A JoinGroup of a static member with an empty member id.
  std::optional<JoinResult> JoinStatic(Ticket ticket, Group& group,
                                       const JoinRequest& request,
                                       int64_t now_ms);
  // Moves the static member `old_id` to `new_id`, fencing the old id.
  void ReplaceStaticMember(Group& group, const std::string& old_id,
                           const std::string& new_id);
  // The member's new protocols keep the group's protocol and subscription.
  bool RejoinKeepsSelection(const Group& group, const Member& before,
                            const JoinRequest& request) const;
  // Records the join and brings the round forward (starting one unless one
  // is being prepared); the answer when this join completed the round.
  std::optional<JoinResult> JoinRound(Ticket ticket, Group& group,
                                      const std::string& member_id,
                                      const JoinRequest& request,
                                      int64_t now_ms);
  void RecordJoin(Member& member, const std::string& member_id,
                  const JoinRequest& request, std::optional<Ticket> ticket,
                  int64_t now_ms);
  void PrepareRebalance(Group& group, int64_t now_ms);
  // A newcomer joined a round that began with the group empty: the round
  // waits the initial delay for more (`first`: it began the round).
  void DelayInitialJoin(Group& group, bool first, int32_t rebalance_timeout_ms,
                        int64_t now_ms);
  void MaybeCompleteJoin(Group& group, int64_t now_ms);
  void CompleteJoin(Group& group, int64_t now_ms);
  std::optional<std::string> ChooseProtocol(const Group& group) const;
  JoinResult JoinResultFor(const Group& group, const Member& member) const;
  void RemoveMember(Group& group, const std::string& member_id, int64_t now_ms);
  void FailPendingSyncs(Group& group, int16_t error_code);
  void Complete(Ticket ticket, JoinResult result);
  void Complete(Ticket ticket, SyncResult result);

  std::map<std::string, Group> groups_;
  std::vector<Completion> completions_;
  const uint64_t epoch_;
  const env::BrokerBugs bugs_;
  const int64_t initial_rebalance_delay_ms_;
  uint64_t next_member_number_ = 1;
};

}  // namespace chronik::group

#endif  // CHRONIK_BROKER_GROUP_GROUP_COORDINATOR_H_
