// PartitionManager (partition_manager.h): the in-sync replicas of the
// partitions this node leads. Each leader's IsrTracker (broker/partition/
// isr.h) is sampled at every tick from its Raft progress, except where a
// quiesced group's sample holds (IsrTracker::Hold): an idle group's progress
// cannot change until an input wakes it (RaftHost::TakeWoken), so an idle
// node's ticks do not walk the partitions it leads.
#include <algorithm>
#include <vector>

#include "base/check.h"
#include "broker/server/partition_manager.h"

namespace chronik::broker {

bool PartitionManager::StartIsr(const metadata::MetadataState& state,
                                PartitionReplica& replica) {
  if (!replica.is_leader()) return false;
  partition::IsrTracker& tracker = replica.isr_tracker();
  const metapb::TopicInfo* topic = state.FindTopic(replica.topic());
  if (topic == nullptr || replica.partition() >= topic->partitions_size()) {
    return false;
  }
  const metapb::PartitionInfo& info = topic->partitions(replica.partition());
  // Restarted when a reassignment changes who hosts the partition.
  std::vector<uint64_t> replicas = metadata::HostingReplicas(info);
  std::sort(replicas.begin(), replicas.end());
  // A leader a cancelled reassignment left out (it hands the group back).
  if (!std::binary_search(replicas.begin(), replicas.end(), self_)) {
    return false;
  }
  if (tracker.term() == replica.leader_term() &&
      tracker.replicas() == replicas) {
    return true;
  }
  // No ISR reported yet (a new partition, or a reassignment's end left none
  // of the old ISR): its current replicas, never the ones a reassignment is
  // adding (they may be down; they join once caught up).
  const auto& in_sync = info.isr().empty() ? info.replicas() : info.isr();
  tracker.Start(replica.leader_term(), self_, replicas,
                {in_sync.begin(), in_sync.end()}, tick_ms_);
  return true;
}

void PartitionManager::TrackIsr(const metadata::MetadataState& state,
                                int64_t tick_ms) {
  // A hold stood for the samples up to the last tick; groups woken since
  // are sampled again from this one.
  for (const uint64_t group_id : host_->TakeWoken()) ReleaseIsrHold(group_id);
#ifndef NDEBUG
  CheckIsrHolds();
#endif
  tick_ms_ = tick_ms;
  for (auto it = isr_sampled_.begin(); it != isr_sampled_.end();) {
    const uint64_t group_id = *it;
    switch (SampleIsr(state, *partitions_.at(group_id), tick_ms)) {
      case IsrSample::kTaken:
        // New samples, and the ISR ages with time (not where a repeated
        // sample refreshed every follower it lists: the ISR stays the same).
        reports_due_ = true;
        ++it;
        break;
      case IsrSample::kRepeated:
        ++it;
        break;
      case IsrSample::kHeld:
        isr_held_.insert(group_id);
        it = isr_sampled_.erase(it);
        break;
    }
  }
}

PartitionManager::IsrSample PartitionManager::SampleIsr(
    const metadata::MetadataState& state, PartitionReplica& replica,
    int64_t tick_ms) {
  const uint64_t group_id = replica.group_id();
  const raft::RawNode* node = host_->node(group_id);
  if (node == nullptr || !node->is_leader()) return IsrSample::kTaken;
  partition::IsrTracker& tracker = replica.isr_tracker();
  // A quiesced group's progress is what it was at its last (steady)
  // sample: StartIsr would find the tracker started (same metadata, same
  // term) and Observe would get the same sample. Outside the host's active
  // set it stays so until an input wakes it: the sample holds until then.
  if (node->quiesced() && replica.isr_started_epoch() == metadata_epoch_ &&
      tracker.term() == replica.leader_term()) {
    if (host_->active(group_id)) {
      if (tracker.Repeat(tick_ms, node->last_index())) {
        return IsrSample::kRepeated;
      }
    } else if (tracker.Hold(tick_ms, node->last_index())) {
      return IsrSample::kHeld;
    }
  }
  if (!StartIsr(state, replica)) return IsrSample::kTaken;
  replica.set_isr_started_epoch(metadata_epoch_);
  const raft::NodeStatus status = node->Status();
  std::vector<partition::FollowerSample> followers;
  for (const raft::ProgressStatus& peer : status.progress) {
    if (peer.id == self_ || peer.is_learner) continue;
    followers.push_back({peer.id, peer.match, peer.recent_active});
  }
  tracker.Observe(tick_ms, status.last_index, followers, node->quiesced());
  return IsrSample::kTaken;
}

void PartitionManager::ReleaseIsrHold(uint64_t group_id) {
  if (isr_held_.erase(group_id) == 0) return;
  if (led_.count(group_id) > 0) isr_sampled_.insert(group_id);
  auto it = partitions_.find(group_id);
  if (it == partitions_.end()) return;
  partition::IsrTracker& tracker = it->second->isr_tracker();
  // (A new leadership restarted it meanwhile: nothing held any more.)
  if (tracker.holding()) tracker.Release(tick_ms_);
}

void PartitionManager::CheckIsrHolds() const {
  CHRONIK_CHECK_EQ(isr_held_.size() + isr_sampled_.size(), led_.size())
      << "every partition led is sampled or held, never both";
  for (const uint64_t group_id : isr_held_) {
    const raft::RawNode* node = host_->node(group_id);
    CHRONIK_CHECK(node != nullptr && node->quiesced() && node->is_leader() &&
                  !host_->active(group_id) && led_.count(group_id) > 0)
        << "group " << group_id << " holds its ISR sample but is not idle";
  }
}

void PartitionManager::ReleaseIsrHolds() {
  while (!isr_held_.empty()) ReleaseIsrHold(*isr_held_.begin());
}

std::vector<uint64_t> PartitionManager::InSyncReplicas(
    const metadata::MetadataState& state, PartitionReplica& replica) {
  if (!StartIsr(state, replica)) return {};
  return replica.isr_tracker().Isr(tick_ms_, replica_lag_time_max_ms_);
}

}  // namespace chronik::broker
