// LeaderBalance: moving partition leadership back to preferred replicas, on
// one node (Kafka's preferred replica election and auto leader rebalance,
// done with Raft's leadership transfer).
//
// The preferred replica of a partition is the first of its replicas. Two
// things ask for it to lead, both with one metadata command,
// ElectPreferredLeaders (a list of partition groups): ElectLeaders (any
// broker, handlers/leaders.cc) and each broker's balancer (below). The
// command changes no metadata state; every node hands it to this class.
//
// Contract:
//   OnWish(wish, now)  an applied ElectPreferredLeaders: each named group is
//                      wished for kPreferredWishMs of tick time.
//   Act(state, now)    every step: for each wished group this node leads
//                      (with no transfer under way), once the preferred
//                      replica is another node that is registered, unfenced,
//                      in this leader's ISR, recently active and holds every
//                      committed entry, asks Raft to hand the leadership to
//                      it (RaftHost::TransferLeadership) and drops the wish:
//                      one attempt per wish (a transfer the core abandons,
//                      e.g. to a node that is shutting down and declines it,
//                      is not retried until asked again). A draining node
//                      acts on no wish: its controlled shutdown chooses.
//   Balance(state, now, draining)
//                      every leader_imbalance_check_interval_ms of tick time
//                      (the first one interval after start), unless disabled
//                      or draining: this node counts the partitions it is
//                      the preferred replica of and those it does not lead;
//                      when the second exceeds
//                      leader_imbalance_per_broker_percentage of the first,
//                      it returns a command wishing back those whose leader
//                      is known and whose committed ISR names it (the leader
//                      checks the rest). Nothing when balanced: no churn.
//
// Why the preferred replica asks (not the controller): it alone knows it is
// not shutting down (a draining node never asks, so balancing never fights a
// controlled shutdown), Kafka's imbalance rule is per broker anyway, and the
// final judgement (ISR, caught up, active) is the partition leader's, from
// its live Raft progress. Deterministic; one thread.
#ifndef CHRONIK_BROKER_SERVER_LEADER_BALANCE_H_
#define CHRONIK_BROKER_SERVER_LEADER_BALANCE_H_

#include <cstdint>
#include <map>
#include <optional>

#include "broker/config/server_config.h"
#include "broker/env/env.h"
#include "broker/env/injected_bugs.h"
#include "broker/metadata/metadata_state.h"
#include "broker/replication/raft_host.h"
#include "broker/server/partition_manager.h"
#include "proto/metadata.pb.h"
#include "raft/types.h"

namespace chronik::broker {

// How long (tick time) a partition leader acts on a wish it applied (waiting
// for the preferred replica to catch up). Short: a waiting ElectLeaders
// sends its wish again every second, the balancer every interval, and an
// old wish could meet a preferred replica that has begun shutting down
// since (it declines; the leader refuses proposals until the transfer is
// abandoned, an election timeout).
inline constexpr int64_t kPreferredWishMs = 2'000;

// The preferred replica of a partition (its first replica; the last one
// under the test-only bug env::BrokerBugs::preferred_is_last_replica).
raft::NodeId PreferredReplica(const metapb::PartitionInfo& partition,
                              const env::BrokerBugs& bugs);

class LeaderBalance {
 public:
  LeaderBalance(raft::NodeId self, const config::ServerConfig& config,
                replication::RaftHost* host, PartitionManager* partitions,
                env::LogSink* log, const env::BrokerBugs& bugs);

  void OnWish(const metapb::ElectPreferredLeaders& wish, int64_t now_ms);
  void Act(const metadata::MetadataState& state, int64_t now_ms, bool draining);
  std::optional<metapb::MetadataCommand> Balance(
      const metadata::MetadataState& state, int64_t now_ms, bool draining);
  size_t wishes() const { return wishes_.size(); }
  // Commands Balance returned; transfers Act started.
  uint64_t requests() const { return requests_; }
  uint64_t transfers() const { return transfers_; }

 private:
  // Whether `preferred` may take over `group_id` from this leader now.
  bool Eligible(const metadata::MetadataState& state,
                const metapb::PartitionInfo& partition, raft::NodeId preferred);

  const raft::NodeId self_;
  const config::ServerConfig& config_;
  replication::RaftHost* const host_;
  PartitionManager* const partitions_;
  env::LogSink* const log_;
  const env::BrokerBugs bugs_;          // TEST-ONLY
  std::map<uint64_t, int64_t> wishes_;  // group -> until when (tick time)
  int64_t next_check_ms_;
  uint64_t requests_ = 0;
  uint64_t transfers_ = 0;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_LEADER_BALANCE_H_
