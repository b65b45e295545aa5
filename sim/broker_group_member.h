// The state of one simulated consumer-group member of the broker scenario
// (internal; the behaviour is in broker_world_groups.cc). Kept apart from
// broker_world.h so the scenario's client struct only gains one field.
#ifndef CHRONIK_SIM_BROKER_GROUP_MEMBER_H_
#define CHRONIK_SIM_BROKER_GROUP_MEMBER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/time.h"

namespace chronik::sim {

// Where a member is in Kafka's consumer protocol (eager rebalancing, as the
// classic Java consumer and librdkafka's "range" assignor do it).
enum class GroupPhase {
  kNotStarted,
  kJoin,          // JoinGroup (again after MEMBER_ID_REQUIRED or a rebalance)
  kSync,          // SyncGroup (the leader sends the assignment)
  kFetchOffsets,  // OffsetFetch of the assigned partitions
  kConsume,       // Fetch, Heartbeat, OffsetCommit
  kGone,          // left or died; a later incarnation may start
};

struct GroupMemberState {
  GroupPhase phase = GroupPhase::kNotStarted;
  int incarnation = 0;   // 1 for the first process, +1 for every restart
  std::string name;      // "m<client>.<incarnation>", for the checker
  int coordinator = -1;  // node id; -1: FindCoordinator first
  bool call_to_coordinator = false;  // the request in flight went there
  std::string member_id;
  int32_t generation = -1;
  bool leader = false;
  std::vector<std::string> members;  // the leader's JoinGroup answer
  std::vector<int> assigned;         // partitions of this generation
  std::map<int, int64_t> position;   // next offset to deliver
  std::map<int, int64_t> committed;  // last acknowledged commit
  size_t next_partition = 0;         // Fetch round robin over `assigned`
  Nanos next_heartbeat = 0;
  Nanos next_commit = 0;
  // A rebalance was announced: commit what was consumed, then rejoin.
  bool revoking = false;
  bool leaving = false;           // LeaveGroup (after a last commit), then gone
  bool last_commit_sent = false;  // the commit before revoking or leaving
  bool leave_sent = false;
  // The plan, drawn from the seed's "groups" stream.
  Nanos start_at = 0;
  Nanos exit_at = -1;      // -1: stays
  bool exit_dies = false;  // dies silently instead of LeaveGroup
  Nanos restart_after = 0;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_BROKER_GROUP_MEMBER_H_
