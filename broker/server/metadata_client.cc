#include "broker/server/metadata_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/splitmix64.h"
#include "broker/metadata/broker_address.h"
#include "raft/node_ids.h"

namespace chronik::broker {

MetadataClient::MetadataClient(const config::ServerConfig& config,
                               const env::Environment& env,
                               replication::RaftHost* host,
                               env::StepOutput* out,
                               const env::BrokerBugs& bugs)
    : config_(config),
      clock_(env.clock),
      log_(env.log),
      host_(host),
      out_(out),
      bugs_(bugs),
      rng_(env.seed ^ (config.node_id * splitmix64::kGamma)) {
  CHRONIK_CHECK(clock_ != nullptr && log_ != nullptr && host_ != nullptr &&
                out_ != nullptr);
}

const metapb::BrokerInfo* MetadataClient::LeaderBroker() const {
  return state_.FindBroker(leader());
}

void MetadataClient::Propose(const metapb::MetadataCommand& command,
                             Done done) {
  std::string bytes;
  CHRONIK_CHECK(command.SerializeToString(&bytes));
  absl::StatusOr<replication::RaftHost::Proposed> proposed =
      host_->Propose(kMetadataGroup, raft::Bytes::Own(std::move(bytes)));
  if (!proposed.ok()) {
    done(nullptr);
    return;
  }
  CHRONIK_CHECK(pending_.count(proposed->index) == 0);
  pending_.emplace(proposed->index,
                   std::make_pair(proposed->term, std::move(done)));
}

bool MetadataClient::ProposeOrForward(const metapb::MetadataCommand& command) {
  if (is_leader()) {
    Propose(command, [](const metadata::ApplyResult*) {});
    return true;
  }
  return Forward(command);
}

std::optional<MetadataClient::Applied> MetadataClient::Apply(
    const raft::Entry& entry) {
  std::optional<Applied> applied;
  std::optional<metadata::ApplyResult> result;
  if (entry.type == raft::EntryType::kNormal && !entry.data.empty()) {
    metapb::MetadataCommand command;
    if (command.ParseFromArray(entry.data.data(),
                               static_cast<int>(entry.data.size()))) {
      result = state_.Apply(entry.index, command);
      if (command.has_create_topic()) {
        forwarded_creates_.erase(command.create_topic().name());
      }
      applied = Applied{std::move(command), *result};
    } else {
      // Every node skips the same undecodable entry, so states stay equal.
      log_->Log(env::LogLevel::kError,
                absl::StrCat("metadata entry ", entry.index,
                             " does not decode; skipped"));
    }
  }
  FinishPending(entry, result);
  return applied;
}

std::string MetadataClient::TakeSnapshot() const {
  std::string image;
  CHRONIK_CHECK(state_.ToSnapshot().SerializeToString(&image));
  return image;
}

absl::Status MetadataClient::RestoreSnapshot(raft::Index index,
                                             absl::string_view image) {
  metapb::MetadataSnapshot snapshot;
  if (!snapshot.ParseFromArray(image.data(), static_cast<int>(image.size()))) {
    return absl::DataLossError(
        absl::StrCat("metadata snapshot at ", index, " does not decode"));
  }
  absl::StatusOr<metadata::MetadataState> state =
      metadata::MetadataState::FromSnapshot(snapshot);
  if (!state.ok()) return state.status();
  if (state->applied_index() > index) {
    return absl::DataLossError(absl::StrCat("metadata snapshot at ", index,
                                            " has applied ",
                                            state->applied_index()));
  }
  state_ = *std::move(state);
  while (!pending_.empty() && pending_.begin()->first <= index) {
    auto node = pending_.extract(pending_.begin());
    node.mapped().second(nullptr);
  }
  for (auto it = forwarded_creates_.begin(); it != forwarded_creates_.end();) {
    it = state_.FindTopic(it->first) != nullptr ? forwarded_creates_.erase(it)
                                                : std::next(it);
  }
  return absl::OkStatus();
}

void MetadataClient::FinishPending(
    const raft::Entry& entry,
    const std::optional<metadata::ApplyResult>& result) {
  // Anything proposed at or below this index that is still waiting either is
  // this entry or was overwritten by another leader's entry.
  while (!pending_.empty() && pending_.begin()->first <= entry.index) {
    auto node = pending_.extract(pending_.begin());
    const bool ours = node.key() == entry.index &&
                      node.mapped().first == entry.term && result.has_value();
    node.mapped().second(ours ? &*result : nullptr);
  }
}

void MetadataClient::OnLeaderChange(raft::NodeId leader) {
  if (leader == config_.node_id) return;
  // Waiters of our proposals get a retriable error now rather than waiting
  // for an index a new leader may never fill. (A proposal may still commit;
  // retries of admin requests are idempotent by name.)
  std::map<raft::Index, std::pair<raft::Term, Done>> failed;
  failed.swap(pending_);
  for (auto& [index, pending] : failed) pending.second(nullptr);
  registration_in_flight_ = false;
}

void MetadataClient::OnForwardedProposal(const raft::Message& message) {
  if (!is_leader() || message.entries.size() != 1) return;  // sender retries
  metapb::MetadataCommand command;
  const raft::Bytes& data = message.entries[0].data;
  if (!command.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return;
  }
  if (command.has_register_broker()) {
    const metapb::BrokerInfo& broker = command.register_broker().broker();
    const metapb::BrokerInfo* registered = state_.FindBroker(broker.node_id());
    if (registered != nullptr && metadata::SameAddresses(*registered, broker) &&
        registered->raft_port() == broker.raft_port()) {
      return;  // a joiner's repeat: nothing to change
    }
  }
  Propose(command, [](const metadata::ApplyResult*) {});
}

bool MetadataClient::Forward(const metapb::MetadataCommand& command,
                             bool to_every_peer) {
  std::vector<raft::NodeId> to;
  if (leader() != raft::kNoNode) {
    to.push_back(leader());
  } else if (to_every_peer ||
             (config_.join && bugs_.joiner_acts_before_learning)) {
    for (const config::PeerConfig& peer : config_.peers) to.push_back(peer.id);
  }
  std::erase(to, config_.node_id);
  if (to.empty()) return false;
  std::string bytes;
  CHRONIK_CHECK(command.SerializeToString(&bytes));
  const raft::Bytes data = raft::Bytes::Own(std::move(bytes));
  for (raft::NodeId id : to) {
    raft::Message message;
    message.type = raft::MessageType::kForwardProposal;
    message.from = config_.node_id;
    message.to = id;
    // The wire format wants entries to follow message.index (0): index 1.
    message.entries.push_back(
        raft::Entry{0, 1, raft::EntryType::kNormal, data});
    out_->peer_messages.push_back(
        env::PeerMessage{kMetadataGroup, std::move(message)});
  }
  return true;
}

void MetadataClient::MaybeRegister() {
  if (registration_in_flight_) return;
  const bool leads = is_leader();
  if (!leads && clock_->NowMs() < next_registration_forward_ms_) return;
  metapb::MetadataCommand command;
  metapb::BrokerInfo* broker =
      command.mutable_register_broker()->mutable_broker();
  broker->set_node_id(config_.node_id);
  broker->set_host(config_.advertised_host);
  broker->set_kafka_port(config_.advertised_port != 0 ? config_.advertised_port
                                                      : config_.kafka_port);
  broker->set_raft_port(config_.raft_port);
  // Named listeners (none for the default one): Metadata tells each client
  // the addresses of the listener it came in on.
  if (!config_.listeners.empty()) {
    for (const config::KafkaListener& l : config::KafkaListenersOf(config_)) {
      metapb::ListenerInfo* listener = broker->add_listeners();
      listener->set_name(l.name);
      listener->set_host(l.advertised_host);
      listener->set_port(l.advertised_port);
    }
  }
  command.mutable_register_broker()->set_join(config_.join);
  const metapb::BrokerInfo* registered = state_.FindBroker(config_.node_id);
  // A joiner repeats its registration until it is a member of the metadata
  // group: it is its only sign of life to the controller until then (the
  // controller does not propose a repeat, see OnForwardedProposal).
  const raft::ConfState* conf = host_->membership(kMetadataGroup);
  const bool member =
      !config_.join || bugs_.joiner_registers_once ||
      (conf != nullptr && (raft::Contains(conf->voters, config_.node_id) ||
                           raft::Contains(conf->learners, config_.node_id)));
  if (registered != nullptr && metadata::SameAddresses(*registered, *broker) &&
      member) {
    return;
  }
  if (!leads) {
    if (bugs_.registration_not_forwarded) return;
    // Followers ask the leader; the outcome shows in the applied metadata.
    // A joiner hears from no leader before it is a member: it asks every
    // peer it knows, and the leader among them proposes (others drop it).
    if (Forward(command, /*to_every_peer=*/config_.join)) {
      next_registration_forward_ms_ = clock_->NowMs() + kForwardRetryMs;
    }
    return;
  }
  registration_in_flight_ = true;
  Propose(command, [this](const metadata::ApplyResult* result) {
    registration_in_flight_ = false;
    if (result != nullptr && result->error_code != 0) {
      log_->Log(
          env::LogLevel::kError,
          absl::StrCat("broker registration failed: ", result->error_message));
    }
  });
}

std::string MetadataClient::NewTopicId() {
  std::string id(16, '\0');
  do {
    for (int i = 0; i < 16; i += 8) {
      const uint64_t random = rng_();
      for (int b = 0; b < 8; ++b) {
        id[i + b] = static_cast<char>(random >> (8 * b));
      }
    }
  } while (id == std::string(16, '\0') || state_.FindTopicById(id) != nullptr);
  return id;
}

void MetadataClient::MaybeAutoCreate(const std::string& topic) {
  if (!bugs_.auto_create_every_request &&
      (auto_creates_in_flight_.count(topic) > 0 ||
       auto_creates_in_flight_.size() >= kMaxAutoCreatesInFlight)) {
    return;  // on its way (or too many at once: a later request retries)
  }
  metapb::MetadataCommand command;
  metapb::CreateTopic* create = command.mutable_create_topic();
  create->set_name(topic);
  create->set_partitions(config_.default_partitions);
  create->set_replication_factor(std::min<int>(
      config_.replication_factor,
      static_cast<int>(std::max<size_t>(1, state_.LiveBrokers().size()))));
  create->set_topic_id(NewTopicId());
  create->set_created_at_ms(clock_->NowMs());
  create->set_auto_created(true);
  if (!is_leader()) {
    // A follower forwards once per retry interval; the topic appears when the
    // leader's proposal is applied here.
    if (forwarded_creates_.size() >= kMaxForwardedCreates &&
        forwarded_creates_.count(topic) == 0) {
      return;
    }
    auto [it, inserted] = forwarded_creates_.emplace(topic, 0);
    if (!inserted && clock_->NowMs() < it->second &&
        !bugs_.auto_create_every_request) {
      return;
    }
    if (Forward(command)) it->second = clock_->NowMs() + kForwardRetryMs;
    return;
  }
  auto_creates_in_flight_.insert(topic);
  Propose(command, [this, topic](const metadata::ApplyResult*) {
    auto_creates_in_flight_.erase(topic);
  });
}

}  // namespace chronik::broker
