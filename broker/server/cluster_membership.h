// ClusterMembership: growing and shrinking a running cluster. The metadata
// group's own membership (every broker is a voter of it) and the broker list
// of the metadata state change together, driven by the controller.
//
// Adding a broker: the new node starts with --join and an empty data
// directory. It does not know the metadata group's history, so it starts the
// group `joining` with its initial voters unknown (raft_host.h): it neither
// campaigns nor votes and takes the group only from a snapshot. It sends its
// registration (its Kafka and Raft addresses) to every configured peer until
// one, the controller, commits it. The controller's Drive() then makes every
// registered, unfenced broker a member: it snapshots the metadata group if it
// has no snapshot to send, adds the broker as a learner, waits until it has
// caught up, and makes it a voter by a joint change (the steps are
// reassignment.h's, the same as a partition's).
//
// Removing a broker: an operator asks for it on any node
// (RequestDecommission; POST /v1/brokers/{id}/decommission), which commits
// DecommissionBroker. The broker gets no new replicas; the controller moves
// its replicas to the placeable brokers hosting the fewest partitions
// (AlterReassignment, at most kMaxDecommissionMovesPerTick at a time), and
// once no partition names it, it leaves the metadata group (leadership first
// handed over if it is the controller) and then the broker list
// (RemoveBroker). Its id may come back only from a node started with --join.
//
// The metadata group's initial voters: what every founding member starts the
// group with must never change (its log's membership changes are relative to
// it), while the cluster file's peer list does change as brokers come and go.
// So a founding node writes them once, at its first start, to the file
// kMetadataVotersFile in its data directory and reads them from there at
// every later start (StartMetadataGroup). A joiner writes none: its
// membership comes with the snapshot it installs.
//
// The cluster file and the running membership: whenever the applied
// membership and the configured peers differ, the node says so, once per
// difference, in a warning naming both lists, and ClusterStatus carries it.
//
// Deterministic; one thread (the broker's).
#ifndef CHRONIK_BROKER_SERVER_CLUSTER_MEMBERSHIP_H_
#define CHRONIK_BROKER_SERVER_CLUSTER_MEMBERSHIP_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/config/server_config.h"
#include "broker/env/disk.h"
#include "broker/env/env.h"
#include "broker/metadata/metadata_state.h"
#include "broker/replication/raft_host.h"
#include "broker/server/metadata_client.h"
#include "proto/metadata.pb.h"
#include "raft/types.h"

namespace chronik::broker {

// The metadata group's initial voters, in the data directory's root. Format:
// one line of text, "chronik-metadata-voters 1 " then the Kafka broker ids
// separated by commas, then "\n" (e.g. "chronik-metadata-voters 1 0,1,2\n").
// Written to a temporary name, fsynced, renamed and the directory fsynced.
inline constexpr char kMetadataVotersFile[] = "metadata-voters";
// Decommission moves the controller proposes in one tick (the rest follow in
// later ticks) and how long it waits before proposing a move again.
inline constexpr size_t kMaxDecommissionMovesPerTick = 32;
inline constexpr int64_t kMembershipRetryMs = 1'000;

// How this node starts the metadata group.
struct MetadataGroupStart {
  std::vector<raft::NodeId> voters;  // sorted Raft ids
  bool joining = false;
  bool voters_unknown = false;
};

// Reads (or, founding the group, writes) kMetadataVotersFile. `config` has
// Raft ids (broker.cc converts them). Without the file, a node with --join
// joins with its voters unknown (the caller refuses a stored metadata log
// without a snapshot then: that node founded its cluster before the file
// existed and must start without --join).
absl::StatusOr<MetadataGroupStart> StartMetadataGroup(
    env::Disk* disk, const config::ServerConfig& config);

// The voters the metadata group moves to: its voters, and every registered
// broker that is unfenced or already a learner, less the brokers being
// decommissioned that no partition names any more.
std::vector<raft::NodeId> MetadataTargetVoters(
    const metadata::MetadataState& state, const raft::ConfState& conf);

// Reassignments moving replicas off brokers being decommissioned: for each
// partition without a reassignment in progress that names one among its
// replicas, the replicas with each such broker replaced by the placeable
// broker (metadata_state.h) hosting the fewest partitions (then the lowest
// id) not already in the list. Partitions no broker can take are skipped.
// At most `max_moves`, in topic and partition order.
std::vector<metapb::AlterReassignment> DecommissionMoves(
    const metadata::MetadataState& state, size_t max_moves);

class ClusterMembership {
 public:
  // `config` has Raft ids; every pointer is borrowed and outlives this.
  ClusterMembership(const config::ServerConfig& config,
                    replication::RaftHost* host, MetadataClient* metadata,
                    env::LogSink* log);

  // The controller, every tick: one step of the moves above.
  void Drive(int64_t tick_ms);
  // An operator's request to decommission broker `node` (a Raft id), or to
  // cancel that. Judged on this node's committed view: NotFound (not a
  // registered broker), FailedPrecondition (the only broker left, or too few
  // placeable brokers would remain for a topic's replication factor);
  // otherwise it is proposed (forwarded to the controller) and re-sent every
  // kMembershipRetryMs until the committed state shows it.
  absl::Status RequestDecommission(raft::NodeId node, bool cancel,
                                   int64_t tick_ms);
  // Every node, every step: re-sends pending requests, logs what changed
  // (membership, config disagreement, this node removed) and appends the
  // Raft addresses registrations taught it to `out` when they changed.
  void Observe(int64_t tick_ms, env::StepOutput* out);

  // This node was decommissioned and is no member of the metadata group.
  bool removed() const { return removed_; }
  // The difference between the cluster file and the running membership;
  // empty when they agree.
  const std::string& config_mismatch() const { return mismatch_; }

 private:
  void ProposeDecommissionMoves(int64_t tick_ms);
  void StepMetadataMembership();
  void RemoveLeftBrokers(int64_t tick_ms);
  void ResendRequests(int64_t tick_ms);
  void NoteMembership();
  void AnnounceAddresses(env::StepOutput* out);

  const config::ServerConfig& config_;
  replication::RaftHost* const host_;
  MetadataClient* const metadata_;
  env::LogSink* const log_;
  // Requests not yet committed: node -> (cancel, when to re-send).
  std::map<raft::NodeId, std::pair<bool, int64_t>> requests_;
  // Controller: when a group's move or a broker's removal may be proposed
  // again.
  std::map<uint64_t, int64_t> next_move_ms_;
  std::map<raft::NodeId, int64_t> next_remove_ms_;
  // Node -> "host:raft_port" last announced to the driver.
  std::map<raft::NodeId, std::string> addresses_;
  std::string mismatch_;
  bool removed_ = false;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_CLUSTER_MEMBERSHIP_H_
