#include "broker/server/controlled_shutdown.h"

#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "broker/config/node_ids.h"
#include "raft/raw_node.h"

namespace chronik::broker {
namespace {

// The voter to hand a group over to: one whose log matches the leader's
// (the transfer then takes one round trip), else the most advanced recently
// active one (the core replicates to it first); nullopt when there is none.
// `avoid` (the transferee of an abandoned transfer: a peer that is itself
// shutting down drops the offer) is taken only when there is no other.
std::optional<raft::NodeId> PickTransferee(const raft::NodeStatus& status,
                                           raft::NodeId avoid) {
  std::optional<raft::NodeId> best;
  // Not `avoid` first, then caught up, then the longest log; ties: lower id.
  std::tuple<bool, bool, raft::Index> best_rank;
  for (const raft::ProgressStatus& progress : status.progress) {
    if (progress.id == status.id || progress.is_learner) continue;
    const bool caught_up = progress.match == status.last_index;
    if (!caught_up && !progress.recent_active) continue;
    const std::tuple<bool, bool, raft::Index> rank{progress.id != avoid,
                                                   caught_up, progress.match};
    if (!best.has_value() || rank > best_rank) {
      best = progress.id;
      best_rank = rank;
    }
  }
  return best;
}

bool HasOtherVoter(const raft::NodeStatus& status) {
  for (const raft::ProgressStatus& progress : status.progress) {
    if (progress.id != status.id && !progress.is_learner) return true;
  }
  return false;
}

}  // namespace

ControlledShutdown::ControlledShutdown(replication::GroupId metadata_group,
                                       replication::RaftHost* host,
                                       env::LogSink* log, int64_t timeout_ms)
    : metadata_group_(metadata_group),
      host_(host),
      log_(log),
      timeout_ms_(timeout_ms) {
  CHRONIK_CHECK(host != nullptr && log != nullptr);
  CHRONIK_CHECK_GT(timeout_ms, 0);
}

std::vector<replication::GroupId> ControlledShutdown::LedGroups() const {
  std::vector<replication::GroupId> led;
  for (replication::GroupId group_id : host_->group_ids()) {
    const raft::RawNode* node = host_->node(group_id);
    if (node == nullptr || !node->is_leader()) continue;
    if (HasOtherVoter(node->Status())) led.push_back(group_id);
  }
  return led;
}

void ControlledShutdown::Begin(int64_t now_ms) {
  if (begun_) return;
  begun_ = true;
  begun_ms_ = now_ms;
  const std::vector<replication::GroupId> led = LedGroups();
  log_->Log(
      env::LogLevel::kInfo,
      absl::StrCat("controlled shutdown: handing over the leadership of ",
                   led.size(), " Raft groups (at most ", timeout_ms_, " ms)"));
  Advance(now_ms);
}

void ControlledShutdown::Advance(int64_t now_ms) {
  if (!begun_ || complete_) return;
  const std::vector<replication::GroupId> led = LedGroups();
  const int64_t elapsed = now_ms - begun_ms_;
  if (led.empty() || elapsed >= timeout_ms_) {
    complete_ = true;
    if (led.empty()) {
      log_->Log(env::LogLevel::kInfo,
                absl::StrCat("controlled shutdown: leads no Raft group after ",
                             elapsed, " ms"));
    } else {
      log_->Log(env::LogLevel::kWarn,
                absl::StrCat("controlled shutdown: stopping after ", elapsed,
                             " ms still leading Raft groups ",
                             absl::StrJoin(led, ",")));
    }
    return;
  }
  bool partition_led = false;
  for (replication::GroupId group_id : led) {
    if (group_id != metadata_group_) partition_led = true;
  }
  for (replication::GroupId group_id : led) {
    // The controller goes last: partition leaders elected meanwhile report
    // to it without waiting for a new controller.
    if (group_id == metadata_group_ && partition_led &&
        elapsed < timeout_ms_ / 2) {
      continue;
    }
    Transfer(group_id);
  }
}

void ControlledShutdown::Transfer(replication::GroupId group_id) {
  const raft::RawNode* node = host_->node(group_id);
  CHRONIK_CHECK(node != nullptr);
  const raft::NodeStatus status = node->Status();
  if (status.transferee != raft::kNoNode) return;  // under way
  auto tried = last_transferee_.find(group_id);
  const std::optional<raft::NodeId> transferee = PickTransferee(
      status, tried == last_transferee_.end() ? raft::kNoNode : tried->second);
  if (!transferee.has_value()) return;  // nobody to hand over to yet
  last_transferee_[group_id] = *transferee;
  const absl::Status asked = host_->TransferLeadership(group_id, *transferee);
  if (log_->Enabled(env::LogLevel::kDebug) || !asked.ok()) {
    log_->Log(
        asked.ok() ? env::LogLevel::kDebug : env::LogLevel::kWarn,
        absl::StrCat("controlled shutdown: Raft group ", group_id, " term ",
                     status.hard_state.term, ": leadership to broker ",
                     config::KafkaNodeId(*transferee), asked.ok() ? "" : ": ",
                     asked.message()));
  }
}

}  // namespace chronik::broker
