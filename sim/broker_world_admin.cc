// The broker scenario's admin after it created the main topic: on churn seeds
// (stream "admin") it creates topics "x1", "x2", ... with 1..8 partitions and
// replication factor 1..N through the controller, waits until a broker's
// Metadata names a leader for every partition, deletes the topic, waits until
// a broker's Metadata no longer knows it, and goes on with the next one until
// the heal. After the heal it finishes the topic in hand: a creation or a
// deletion that never completes fails the run's liveness.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "broker/kafka/errors.h"
#include "broker/kafka/messages.h"
#include "sim/broker_world.h"
#include "sim/broker_world_call.h"

namespace chronik::sim {
namespace {

namespace error = kafka::error;

constexpr Nanos kAdminRetry = 100 * kMillisecond;
constexpr Nanos kMonitorPeriod = 500 * kMillisecond;
constexpr Nanos kAdminPause = 300 * kMillisecond;  // between topics
constexpr int kMaxChurnPartitions = 8;

std::string ChurnTopic(const SimClient& admin) {
  return absl::StrCat("x", admin.churn_round);
}

}  // namespace

void BrokerWorld::StartChurn(SimClient& admin) {
  CHRONIK_CHECK(admin.kind == ClientKind::kAdmin);
  if ((!churn_ && !reassign_) || healed_) {
    admin.done = true;
    Finish();  // the run may have waited for the admin alone
    return;
  }
  ++admin.churn_round;
  if (reassign_ && (!churn_ || admin.churn_round % 2 == 0)) {
    StartMove(admin);
    return;
  }
  admin.churn_partitions =
      static_cast<int>(workload_rng_.Between(1, kMaxChurnPartitions));
  // Within what stays placeable while the cluster changes (a joiner not
  // there yet, a founder leaving).
  admin.churn_replication = static_cast<int>(workload_rng_.Between(
      1, membership_.on ? options_.nodes - 1 : num_nodes()));
  admin.admin_stage = AdminStage::kCreate;
  ActLater(admin, kAdminPause);
}

void BrokerWorld::AdminAct(SimClient& admin) {
  switch (admin.admin_stage) {
    case AdminStage::kMainTopic:
      CreateTopic(admin);
      return;
    case AdminStage::kCreate:
      ChurnCreate(admin);
      return;
    case AdminStage::kAwaitLeaders:
    case AdminStage::kAwaitGone:
      ChurnLook(admin);
      return;
    case AdminStage::kDelete:
      ChurnDelete(admin);
      return;
    case AdminStage::kReassign:
      MoveAlter(admin);
      return;
    case AdminStage::kAwaitMoved:
      MoveList(admin);
      return;
    case AdminStage::kConfirmMoved:
      MoveConfirm(admin);
      return;
  }
}

void BrokerWorld::ChurnCreate(SimClient& admin) {
  kafka::CreateTopicsRequest request;
  request.topics.push_back({ChurnTopic(admin),
                            admin.churn_partitions,
                            static_cast<int16_t>(admin.churn_replication),
                            {},
                            {}});
  request.timeout_ms = 5000;
  Call<kafka::CreateTopicsResponse>(
      admin, admin.controller, 4, request,
      [this](SimClient& c, const kafka::CreateTopicsResponse& response) {
        const int16_t code = response.topics.empty()
                                 ? error::kUnknownTopicOrPartition
                                 : response.topics[0].error_code;
        Record(Trace::kWorld, "churn_create",
               {c.churn_round, static_cast<uint64_t>(code)});
        // A retry after a lost answer finds the topic already there.
        if (code == error::kNone || code == error::kTopicAlreadyExists) {
          c.admin_stage = AdminStage::kAwaitLeaders;
        } else {
          c.need_metadata = true;  // the controller may have moved
        }
        ActLater(c, kAdminRetry);
      });
}

void BrokerWorld::ChurnDelete(SimClient& admin) {
  kafka::DeleteTopicsRequest request;
  request.topic_names.push_back(ChurnTopic(admin));
  request.timeout_ms = 5000;
  Call<kafka::DeleteTopicsResponse>(
      admin, admin.controller, 4, request,
      [this](SimClient& c, const kafka::DeleteTopicsResponse& response) {
        const int16_t code = response.responses.empty()
                                 ? error::kRequestTimedOut
                                 : response.responses[0].error_code;
        Record(Trace::kWorld, "churn_delete",
               {c.churn_round, static_cast<uint64_t>(code)});
        // A retry after a lost answer finds the topic already gone.
        if (code == error::kNone || code == error::kUnknownTopicOrPartition) {
          c.admin_stage = AdminStage::kAwaitGone;
        } else {
          c.need_metadata = true;
        }
        ActLater(c, kAdminRetry);
      });
}

void BrokerWorld::ChurnLook(SimClient& admin) {
  kafka::MetadataRequest request;
  kafka::MetadataRequest::MetadataRequestTopic topic;
  topic.name = ChurnTopic(admin);
  request.topics = std::vector{topic};
  request.allow_auto_topic_creation = false;
  Call<kafka::MetadataResponse>(
      admin, AnyBroker(admin), 12, request,
      [this](SimClient& c, const kafka::MetadataResponse& response) {
        if (response.controller_id > 0) c.controller = response.controller_id;
        const std::string name = ChurnTopic(c);
        bool gone = true, led = false;
        for (const auto& t : response.topics) {
          if (t.name != name) continue;
          gone = t.error_code == error::kUnknownTopicOrPartition;
          led = t.error_code == error::kNone &&
                static_cast<int>(t.partitions.size()) == c.churn_partitions &&
                std::all_of(t.partitions.begin(), t.partitions.end(),
                            [](const auto& p) { return p.leader_id > 0; });
        }
        if (c.admin_stage == AdminStage::kAwaitLeaders && led) {
          Record(Trace::kWorld, "churn_led", {c.churn_round});
          c.admin_stage = AdminStage::kDelete;
        } else if (c.admin_stage == AdminStage::kAwaitGone && gone) {
          Record(Trace::kWorld, "churn_gone", {c.churn_round});
          StartChurn(c);
          return;
        }
        ActLater(c, kAdminRetry);  // AnyBroker asks the next broker
      });
}

void BrokerWorld::MonitorAct(SimClient& monitor) {
  if (now() >= options_.fault_phase) {
    monitor.done = true;  // all nodes run after the heal: nothing to judge
    return;
  }
  kafka::MetadataRequest request;
  kafka::MetadataRequest::MetadataRequestTopic topic;
  topic.name = std::string(kTopic);
  request.topics = std::vector{topic};
  request.allow_auto_topic_creation = false;
  // The controller it last heard of, else (at first, after a failed call)
  // any broker, to find it.
  const int asked = monitor.controller > 0 && !monitor.need_metadata
                        ? monitor.controller
                        : AnyBroker(monitor);
  monitor.need_metadata = false;
  Call<kafka::MetadataResponse>(
      monitor, asked, 12, request,
      [this, asked](SimClient& c, const kafka::MetadataResponse& response) {
        if (response.controller_id == asked) {
          ObserveControllerMetadata(response);
        }
        c.controller = response.controller_id;
        ActLater(c, kMonitorPeriod);
      });
}

std::string BrokerWorld::AdminLivenessProblem() const {
  const SimClient& admin = clients_.front();
  if (admin.done) return "";
  switch (admin.admin_stage) {
    case AdminStage::kMainTopic:
      return "LIVENESS: the admin never created the topic";
    case AdminStage::kCreate:
    case AdminStage::kAwaitLeaders:
      return absl::StrCat("LIVENESS: topic ", ChurnTopic(admin), " (",
                          admin.churn_partitions,
                          " partitions) never had a leader for every "
                          "partition after its creation");
    case AdminStage::kDelete:
    case AdminStage::kAwaitGone:
      return absl::StrCat("LIVENESS: topic ", ChurnTopic(admin),
                          " was never gone after its deletion");
    case AdminStage::kReassign:
    case AdminStage::kAwaitMoved:
    case AdminStage::kConfirmMoved:
      return MoveLivenessProblem(admin);
  }
  return "";
}

}  // namespace chronik::sim
