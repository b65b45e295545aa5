// MetadataClient: this node's access to the metadata Raft group (group 0) and
// its replicated state machine (metadata::MetadataState).
//
// It proposes commands (on the metadata leader) and calls their `done` with the
// apply result once committed, or with nullptr when they cannot commit (not
// leader, leadership lost, overwritten). On a follower, commands that must
// reach the state anyway (this node's registration, auto-creations, producer-id
// blocks) are forwarded to the leader as kForwardProposal messages and retried
// every kForwardRetryMs until their effect is applied: every broker registers,
// none sits in a metadata group of its own.
//
// Apply() is called with every committed metadata entry in log order (also on
// replay at start) and returns what it applied, so the parent can react
// (partitions to reconcile, producer-id blocks). Deterministic; one thread.
#ifndef CHRONIK_BROKER_SERVER_METADATA_CLIENT_H_
#define CHRONIK_BROKER_SERVER_METADATA_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "broker/config/server_config.h"
#include "broker/env/env.h"
#include "broker/env/injected_bugs.h"
#include "broker/metadata/metadata_state.h"
#include "broker/replication/raft_host.h"
#include "proto/metadata.pb.h"

namespace chronik::broker {

inline constexpr replication::GroupId kMetadataGroup = 0;
// A follower re-sends a forwarded metadata command after this long.
inline constexpr int64_t kForwardRetryMs = 1'000;
inline constexpr size_t kMaxForwardedCreates = 1'000;
inline constexpr size_t kMaxAutoCreatesInFlight = 256;

class MetadataClient {
 public:
  using Done = std::function<void(const metadata::ApplyResult*)>;
  struct Applied {
    metapb::MetadataCommand command;
    metadata::ApplyResult result;
  };

  MetadataClient(const config::ServerConfig& config,
                 const env::Environment& env, replication::RaftHost* host,
                 env::StepOutput* out, const env::BrokerBugs& bugs = {});

  const metadata::MetadataState& state() const { return state_; }
  raft::NodeId leader() const { return host_->leader(kMetadataGroup); }
  bool is_leader() const { return host_->is_leader(kMetadataGroup); }
  // The metadata leader's broker entry (controller, group coordinator).
  const metapb::BrokerInfo* LeaderBroker() const;

  // Leader: proposes `command`; `done` runs once (see above).
  void Propose(const metapb::MetadataCommand& command, Done done);
  // Proposes on the leader, else forwards to it; false when no leader is
  // known (the caller retries later).
  bool ProposeOrForward(const metapb::MetadataCommand& command);
  // A committed entry of the metadata group; nullopt when it carried no
  // command (leader no-op, undecodable).
  std::optional<Applied> Apply(const raft::Entry& entry);
  void OnLeaderChange(raft::NodeId leader);
  // Snapshots of the metadata group: the state as a serialized
  // metapb::MetadataSnapshot, and its replacement by one covering every
  // entry through `index` (waiting proposals at or below it fail: their
  // outcome is not known here). DataLoss when `image` does not decode.
  std::string TakeSnapshot() const;
  absl::Status RestoreSnapshot(raft::Index index, absl::string_view image);
  // A follower's forwarded command (the leader proposes it, others drop it).
  void OnForwardedProposal(const raft::Message& message);

  // Registers this node (host, port) unless the state already has it.
  void MaybeRegister();
  // Creates `topic` with the broker defaults unless already on its way.
  void MaybeAutoCreate(const std::string& topic);
  // A fresh random topic id (16 bytes, not zero, not in use).
  std::string NewTopicId();

 private:
  // To the leader; with no leader known, to every configured peer when
  // `to_every_peer`, else nowhere (false).
  bool Forward(const metapb::MetadataCommand& command,
               bool to_every_peer = false);
  void FinishPending(const raft::Entry& entry,
                     const std::optional<metadata::ApplyResult>& result);

  const config::ServerConfig& config_;
  env::Clock* const clock_;
  env::LogSink* const log_;
  replication::RaftHost* const host_;
  env::StepOutput* const out_;
  const env::BrokerBugs bugs_;  // TEST-ONLY
  std::mt19937_64 rng_;
  metadata::MetadataState state_;
  // Proposals waiting for commit: index -> (term, done).
  std::map<raft::Index, std::pair<raft::Term, Done>> pending_;
  bool registration_in_flight_ = false;
  int64_t next_registration_forward_ms_ = 0;
  std::set<std::string> auto_creates_in_flight_;
  // Auto-creations a follower forwarded: topic -> when it may forward again.
  std::map<std::string, int64_t> forwarded_creates_;
};

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_METADATA_CLIENT_H_
