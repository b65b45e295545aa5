// The broker scenario's cluster changes (BrokerScenarioOptions::membership):
// a node joins the running cluster with --join, and an operator
// decommissions a founder through the production call the HTTP endpoint
// makes (Broker::Decommission), watches /v1/cluster's data
// (Broker::Status) until the broker left, then stops it for good. What the
// brokers do is theirs (broker/server/cluster_membership.h); the world only
// acts as the operator and judges that both changes finish (MEMBERSHIP).
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "sim/broker_world.h"

namespace chronik::sim {
namespace {

constexpr Nanos kOperatorPoll = 500 * kMillisecond;

bool Lists(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

MembershipPlan DrawMembershipPlan(const BrokerScenarioOptions& options) {
  // Every draw is made whatever the options say.
  Rng rng = Rng::Stream(options.seed, "membership");
  const bool chance = rng.Chance(0.25);
  const Nanos phase = options.fault_phase;
  const Nanos join_at = rng.Between(kSecond, std::max(kSecond, phase / 2));
  const Nanos decommission_at =
      join_at + rng.Between(kSecond, std::max(kSecond, phase / 2));
  const int leaving = options.nodes >= 2
                          ? 1 + static_cast<int>(rng.Below(options.nodes - 1))
                          : -1;
  MembershipPlan plan;
  // Node 1 stays (the consumer's audit asks it first).
  plan.on = options.membership && options.nodes >= 2 && chance;
  if (!plan.on) return plan;
  plan.join_at = join_at;
  plan.decommission_at = decommission_at;
  plan.leaving = leaving;
  return plan;
}

int BrokerWorld::NodeSlots(const BrokerScenarioOptions& options) {
  return options.nodes + (DrawMembershipPlan(options).on ? 1 : 0);
}

void BrokerWorld::PlanMembership() {
  if (!membership_.on) return;
  scheduler_.At(membership_.join_at, [this] {
    Record(options_.nodes, "join", {});
    StartNode(nodes_[options_.nodes]);
  });
  scheduler_.At(membership_.decommission_at, [this] { RequestDecommission(); });
  scheduler_.At(membership_.join_at + kOperatorPoll,
                [this] { WatchMembership(); });
}

void BrokerWorld::RequestDecommission() {
  if (finished_) return;
  const int32_t id = membership_.leaving + 1;
  // Any running node takes the request (the operator's curl to one).
  for (int k = 0; k < num_nodes(); ++k) {
    BrokerNode& node =
        nodes_[(static_cast<size_t>(membership_.leaving) + 1 + k) %
               nodes_.size()];
    if (!node.process.running() || node.stopping || node.gone) continue;
    const absl::Status status = node.broker->Decommission(id, false);
    Record(node.index, "decommission", {static_cast<uint64_t>(id), status.ok()},
           [&] { return status.ToString(); });
    if (status.ok()) {
      decommission_requested_ = now();
      return;
    }
    break;  // refused or not caught up: ask again later
  }
  scheduler_.After(kOperatorPoll, [this] { RequestDecommission(); });
}

void BrokerWorld::WatchMembership() {
  if (finished_) return;
  const int32_t joiner = options_.nodes + 1;
  const int32_t leaving = membership_.leaving + 1;
  BrokerNode& departing = nodes_[membership_.leaving];
  for (const BrokerNode& node : nodes_) {
    if (!node.process.running() || node.stopping || node.gone) continue;
    if (node.index == membership_.leaving) continue;
    const broker::ClusterStatus status = node.broker->Status();
    if (Lists(status.metadata.voters, joiner)) result_.joined = true;
    const bool listed =
        std::any_of(status.brokers.begin(), status.brokers.end(),
                    [&](const auto& broker) { return broker.id == leaving; });
    const bool member = Lists(status.metadata.voters, leaving) ||
                        Lists(status.metadata.learners, leaving);
    if (decommission_requested_ >= 0 && !listed && !member && !departing.gone) {
      // It left: the operator stops it for good.
      Record(departing.index, "left", {});
      departing.gone = true;
      result_.left = true;
      if (departing.process.running()) BeginStop(departing);
    }
    // A request the node took but lost (it crashed before forwarding it):
    // the operator sees no progress and asks again.
    const bool marked = std::any_of(
        status.brokers.begin(), status.brokers.end(),
        [&](const auto& b) { return b.id == leaving && b.decommissioning; });
    if (listed && !marked && decommission_requested_ >= 0 &&
        now() - decommission_requested_ > 3 * kSecond) {
      decommission_requested_ = -1;
      RequestDecommission();
    }
  }
  if (MembershipProblem().empty()) {
    Finish();
    return;
  }
  scheduler_.After(kOperatorPoll, [this] { WatchMembership(); });
}

std::string BrokerWorld::MembershipProblem() const {
  if (!membership_.on) return "";
  if (!result_.joined) {
    return absl::StrCat("MEMBERSHIP: n", options_.nodes + 1,
                        " started with --join but no node lists it as a voter "
                        "of the metadata group");
  }
  if (!result_.left) {
    return absl::StrCat(
        "MEMBERSHIP: broker ", membership_.leaving + 1,
        decommission_requested_ >= 0
            ? " was decommissioned but never left the cluster"
            : " could not be decommissioned (every request was refused)");
  }
  return "";
}

}  // namespace chronik::sim
