#include "broker/runtime/http.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace chronik::runtime {
namespace {

using ::testing::HasSubstr;

TEST(ParseHttpRequestTest, CompleteRequest) {
  HttpRequest request;
  EXPECT_EQ(ParseHttpRequest("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
                             1024, &request),
            HttpParse::kComplete);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/metrics");
}

TEST(ParseHttpRequestTest, IncompleteUntilTheEmptyLine) {
  HttpRequest request;
  EXPECT_EQ(
      ParseHttpRequest("GET /health HTTP/1.1\r\nHost: a\r\n", 1024, &request),
      HttpParse::kIncomplete);
}

TEST(ParseHttpRequestTest, MalformedRequestLine) {
  HttpRequest request;
  EXPECT_EQ(ParseHttpRequest("hello\r\n\r\n", 1024, &request), HttpParse::kBad);
  EXPECT_EQ(ParseHttpRequest("GET health HTTP/1.1\r\n\r\n", 1024, &request),
            HttpParse::kBad);
  EXPECT_EQ(ParseHttpRequest("GET /health SPDY\r\n\r\n", 1024, &request),
            HttpParse::kBad);
}

TEST(ParseHttpRequestTest, BoundedHead) {
  HttpRequest request;
  const std::string endless = "GET /" + std::string(100, 'a');
  EXPECT_EQ(ParseHttpRequest(endless, 64, &request), HttpParse::kTooLarge);
  const std::string big =
      "GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
  EXPECT_EQ(ParseHttpRequest(big, 64, &request), HttpParse::kTooLarge);
  EXPECT_EQ(ParseHttpRequest(big, 1024, &request), HttpParse::kComplete);
}

TEST(HttpResponseTest, HasLengthAndClose) {
  EXPECT_EQ(HttpResponse(503, "text/plain", "no\n"),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
            "Content-Length: 3\r\nConnection: close\r\n\r\nno\n");
}

TEST(RenderMetricsTest, PrometheusTextWithCumulativeBuckets) {
  broker::BrokerMetrics metrics;
  broker::ApiMetrics produce;
  produce.requests = 6;
  produce.errors = 1;
  produce.latency_ms_sum = 40;
  produce.latency_buckets = {3, 2, 0, 1, 0, 0, 0, 0};
  metrics.apis["Produce"] = produce;
  metrics.bytes_in = 1000;
  metrics.bytes_out = 200;
  metrics.connections = 2;
  metrics.partitions = 3;
  metrics.log_bytes = 4096;
  metrics.under_replicated_partitions = 2;
  metrics.offline_partitions = 1;
  metrics.raft_election_timeouts = 7;
  metrics.raft_quorum_step_downs = 2;
  RuntimeMetrics runtime;
  runtime.ready = true;
  runtime.loop_slow_iterations = 4;
  runtime.peer_peak_queued_messages = 2041;
  runtime.peer_slow_writes = 3;
  runtime.peer_late_batches = 5;
  runtime.loop_longest_iteration_ms = 640;
  runtime.loop_longest_timer_lateness_ms = 590;
  const std::string text = RenderMetrics(metrics, runtime);
  EXPECT_THAT(text, HasSubstr("chronik_raft_election_timeouts_total 7\n"));
  EXPECT_THAT(text, HasSubstr("chronik_raft_quorum_step_downs_total 2\n"));
  EXPECT_THAT(text, HasSubstr("chronik_event_loop_slow_iterations_total 4\n"));
  EXPECT_THAT(text, HasSubstr("chronik_peer_queue_peak_messages 2041\n"));
  EXPECT_THAT(text, HasSubstr("chronik_peer_slow_writes_total 3\n"));
  EXPECT_THAT(text, HasSubstr("chronik_peer_late_batches_total 5\n"));
  EXPECT_THAT(text, HasSubstr("chronik_event_loop_longest_iteration_ms 640\n"));
  EXPECT_THAT(text,
              HasSubstr("chronik_event_loop_longest_timer_lateness_ms 590\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE chronik_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("chronik_requests_total{api=\"Produce\"} 6\n"));
  EXPECT_THAT(text,
              HasSubstr("chronik_request_errors_total{api=\"Produce\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("chronik_request_latency_ms_bucket{api=\"Produce"
                              "\",le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("chronik_request_latency_ms_bucket{api=\"Produce"
                              "\",le=\"5\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("chronik_request_latency_ms_bucket{api=\"Produce"
                              "\",le=\"+Inf\"} 6\n"));
  EXPECT_THAT(
      text, HasSubstr("chronik_request_latency_ms_sum{api=\"Produce\"} 40\n"));
  EXPECT_THAT(text, HasSubstr("chronik_request_latency_ms_count{api=\"Produce"
                              "\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("chronik_bytes_in_total 1000\n"));
  EXPECT_THAT(text, HasSubstr("chronik_bytes_out_total 200\n"));
  EXPECT_THAT(text, HasSubstr("chronik_connections 2\n"));
  EXPECT_THAT(text, HasSubstr("chronik_partitions 3\n"));
  EXPECT_THAT(text, HasSubstr("chronik_log_bytes 4096\n"));
  EXPECT_THAT(text, HasSubstr("chronik_under_replicated_partitions 2\n"));
  EXPECT_THAT(text, HasSubstr("chronik_offline_partitions 1\n"));
  EXPECT_THAT(text, HasSubstr("chronik_ready 1\n"));
  // Every sample line's name carries the prefix.
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (line[0] != '#') {
      EXPECT_EQ(line.rfind("chronik_", 0), 0u) << line;
    }
    start = end + 1;
  }
}

TEST(HttpAuthorizedTest, OnlyTheTokenOpensAnythingButHealth) {
  HttpRequest request;
  ASSERT_EQ(ParseHttpRequest("GET /metrics HTTP/1.1\r\nHost: a\r\n"
                             "authorization:  Bearer t0ken \r\n\r\n",
                             1024, &request),
            HttpParse::kComplete);
  EXPECT_EQ(request.authorization, "Bearer t0ken");
  EXPECT_TRUE(HttpAuthorized(request, "t0ken"));
  EXPECT_TRUE(HttpAuthorized(request, ""));  // no token configured
  EXPECT_FALSE(HttpAuthorized(request, "t0ke"));
  EXPECT_FALSE(HttpAuthorized(request, "t0kenX"));
  EXPECT_FALSE(HttpAuthorized(request, "other"));
  ASSERT_EQ(ParseHttpRequest("GET /metrics HTTP/1.1\r\n\r\n", 1024, &request),
            HttpParse::kComplete);
  EXPECT_EQ(request.authorization, "");
  EXPECT_FALSE(HttpAuthorized(request, "t0ken"));
  ASSERT_EQ(ParseHttpRequest("GET /health HTTP/1.1\r\n\r\n", 1024, &request),
            HttpParse::kComplete);
  EXPECT_TRUE(HttpAuthorized(request, "t0ken"));  // liveness probes
}

TEST(DecommissionPathTest, ParsesTheBrokerId) {
  EXPECT_EQ(DecommissionPath("/v1/brokers/0/decommission"), 0);
  EXPECT_EQ(DecommissionPath("/v1/brokers/42/decommission"), 42);
  EXPECT_EQ(DecommissionPath("/v1/brokers//decommission"), std::nullopt);
  EXPECT_EQ(DecommissionPath("/v1/brokers/-1/decommission"), std::nullopt);
  EXPECT_EQ(DecommissionPath("/v1/brokers/1x/decommission"), std::nullopt);
  EXPECT_EQ(DecommissionPath("/v1/brokers/99999999999/decommission"),
            std::nullopt);
  EXPECT_EQ(DecommissionPath("/v1/brokers/1"), std::nullopt);
  EXPECT_EQ(DecommissionPath("/v1/cluster"), std::nullopt);
}

}  // namespace
}  // namespace chronik::runtime
