#include "sim/timeline.h"

#include <string>

#include "gtest/gtest.h"
#include "sim/broker_scenario.h"
#include "sim/trace.h"

namespace chronik::sim {
namespace {

using Span = TimelineRecorder::Span;

// Events go through a Trace with the recorder as its listener, as in a run.
class TimelineTest : public ::testing::Test {
 protected:
  TimelineTest() : recorder_(3) { trace_.set_listener(recorder_.Listener()); }
  Trace trace_;
  TimelineRecorder recorder_;
};

TEST_F(TimelineTest, RolesEndWhenTheNodeCrashesAndProcessStatesFollowIt) {
  trace_.Record(0, 0, "start", {1, 1});
  trace_.Record(1 * kSecond, 0, "role", {0, 1, 0});
  trace_.Record(2 * kSecond, 0, "leader", {0, 1});
  trace_.Record(3 * kSecond, 0, "role", {4, 1, 2});
  trace_.Record(5 * kSecond, 0, "crash", {1}, "crash_metadata_leader");
  trace_.Record(6 * kSecond, 0, "start", {2, 1});

  const TimelineRecorder::BrokerLane& lane = recorder_.brokers()[0];
  ASSERT_EQ(lane.roles.count(0), 1u);
  const std::vector<Span>& meta = lane.roles.at(0);
  ASSERT_EQ(meta.size(), 2u);
  EXPECT_EQ(meta[0].kind, "C");
  EXPECT_EQ(meta[0].start, 1 * kSecond);
  EXPECT_EQ(meta[0].end, 2 * kSecond);
  EXPECT_EQ(meta[1].kind, "L");
  EXPECT_EQ(meta[1].leader, 1u);  // node index 0 is node id 1
  EXPECT_EQ(meta[1].end, 5 * kSecond);
  ASSERT_EQ(lane.roles.at(4).size(), 1u);
  EXPECT_EQ(lane.roles.at(4)[0].kind, "F");
  EXPECT_EQ(lane.roles.at(4)[0].leader, 2u);
  EXPECT_EQ(lane.roles.at(4)[0].end, 5 * kSecond);

  ASSERT_EQ(lane.process.size(), 3u);
  EXPECT_EQ(lane.process[0].kind, "up");
  EXPECT_EQ(lane.process[0].end, 5 * kSecond);
  EXPECT_EQ(lane.process[1].kind, "down");
  EXPECT_EQ(lane.process[1].end, 6 * kSecond);
  EXPECT_EQ(lane.process[2].kind, "up");
  EXPECT_EQ(lane.process[2].end, -1);
  EXPECT_TRUE(recorder_.brokers()[1].process.empty());
}

TEST_F(TimelineTest, FaultsEndAtFaultEndOrTheHeal) {
  trace_.Record(10 * kSecond, Trace::kWorld, "fault", {9, 1, 3 * kSecond},
                "10.000000s pause n2, for 3.000000s");
  trace_.Record(12 * kSecond, Trace::kWorld, "fault_end", {});
  trace_.Record(14 * kSecond, Trace::kWorld, "fault", {1, 0, 1 * kSecond},
                "14.000000s crash_metadata_leader, restart after 1.000000s");
  trace_.Record(14 * kSecond + 500 * kMillisecond, Trace::kWorld, "heal", {});

  ASSERT_EQ(recorder_.world_faults().size(), 2u);
  EXPECT_EQ(recorder_.world_faults()[0].kind, "pause");
  EXPECT_EQ(recorder_.world_faults()[0].end, 12 * kSecond);
  EXPECT_EQ(recorder_.world_faults()[1].kind, "crash_metadata_leader");
  EXPECT_EQ(recorder_.world_faults()[1].end, 14 * kSecond + 500 * kMillisecond);
  // The pause shows on n2's lane; the crash of "the metadata leader" names
  // no lane (the crashed node's lane shows it going down).
  ASSERT_EQ(recorder_.brokers()[1].faults.size(), 1u);
  EXPECT_EQ(recorder_.brokers()[1].faults[0].end, 12 * kSecond);
  EXPECT_TRUE(recorder_.brokers()[0].faults.empty());
}

TEST_F(TimelineTest, ClientRequestsLastUntilAnsweredOrGivenUp) {
  trace_.Record(1 * kSecond, Trace::kWorld, "request", {1, 0, 2, 7},
                "ProduceRequest");
  trace_.Record(1 * kSecond + 10 * kMillisecond, Trace::kWorld, "response",
                {1, 7});
  trace_.Record(1 * kSecond + 10 * kMillisecond, Trace::kWorld, "produced",
                {1, 0, 0, 42}, "p1-1 -> partition 0 NONE offset 42");
  trace_.Record(2 * kSecond, Trace::kWorld, "request", {1, 0, 3, 8},
                "ProduceRequest");
  trace_.Record(5 * kSecond, Trace::kWorld, "client_retry", {1, 2},
                "request timeout");

  ASSERT_EQ(recorder_.clients().size(), 2u);
  const TimelineRecorder::ClientLane& client = recorder_.clients()[1];
  EXPECT_EQ(client.kind, "producer");
  ASSERT_EQ(client.requests.size(), 2u);
  EXPECT_EQ(client.requests[0].kind, "Produce");
  EXPECT_EQ(client.requests[0].end, 1 * kSecond + 10 * kMillisecond);
  EXPECT_EQ(client.requests[1].kind, "Produce!");
  EXPECT_EQ(client.requests[1].end, 5 * kSecond);
  ASSERT_EQ(client.marks.size(), 2u);
  EXPECT_EQ(client.marks[0].kind, "ack");
  EXPECT_EQ(client.marks[1].kind, "retry");
}

TEST_F(TimelineTest, PageCarriesTheFirstAnomalyAndDrawsLanesByScript) {
  trace_.Record(0, 1, "start", {1, 1});
  trace_.Record(20 * kSecond, Trace::kWorld, "failure", {1},
                "LOST: offset 3 </script><b>");
  trace_.Record(21 * kSecond, Trace::kWorld, "failure", {2}, "second");
  EXPECT_EQ(recorder_.failure_time(), 20 * kSecond);
  TimelineInfo info;
  info.title = "seed <1>";
  info.failure = "LOST: offset 3 </script><b>";
  info.end = 30 * kSecond;
  const std::string json = recorder_.ModelJson(info);
  EXPECT_NE(json.find("\"failure_us\":20000000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"end_us\":30000000"), std::string::npos);
  // n2 is up from 0 to the end of the run.
  EXPECT_NE(json.find("{\"name\":\"n2\",\"process\":[[0,30000000,\"up\""),
            std::string::npos)
      << json;
  const std::string html = recorder_.Html(info);
  EXPECT_NE(html.find("seed &lt;1&gt;"), std::string::npos);
  // The failure text cannot end the inline script early.
  size_t closes = 0;
  for (size_t at = html.find("</script>"); at != std::string::npos;
       at = html.find("</script>", at + 1)) {
    ++closes;
  }
  EXPECT_EQ(closes, 2u);
  // Lanes exist only once the script has run.
  EXPECT_EQ(html.find("data-lane=\""), std::string::npos);
  EXPECT_NE(html.find("setAttribute(\"data-lane\""), std::string::npos);
}

TEST(TimelineScenarioTest, ListeningKeepsTheHashAndSeesEveryBroker) {
  BrokerScenarioOptions options;
  options.seed = 3;
  const BrokerScenarioResult plain = RunBrokerScenario(options);
  TimelineRecorder recorder(options.nodes);
  options.listener = recorder.Listener();
  const BrokerScenarioResult listened = RunBrokerScenario(options);
  EXPECT_EQ(plain.trace_hash, listened.trace_hash);
  EXPECT_EQ(plain.passed, listened.passed);
  int leaders = 0;
  for (const TimelineRecorder::BrokerLane& lane : recorder.brokers()) {
    EXPECT_FALSE(lane.process.empty());
    for (const auto& [group, spans] : lane.roles) {
      for (const Span& span : spans) leaders += span.kind == "L";
    }
  }
  EXPECT_GT(leaders, 0);
  EXPECT_FALSE(recorder.clients().empty());
  EXPECT_EQ(recorder.world_faults().size(), listened.fault_plan.size());
}

}  // namespace
}  // namespace chronik::sim
