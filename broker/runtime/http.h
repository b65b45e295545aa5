// The HTTP side of the runtime: a minimal HTTP/1.x request parser for the
// health, readiness and metrics endpoints, and the Prometheus text rendering
// of the node's metrics. Pure functions (no sockets), so they are unit tested
// directly; Server wires them to the event loop.
//
// Wire contract (what GET /health etc. accept): one request per connection,
// "METHOD SP PATH SP HTTP/1.x CRLF" then header lines up to an empty line; the
// body is ignored. The whole head is bounded by `max_request_bytes` (larger
// gets 431 and a close). Responses always carry Content-Length and
// "Connection: close".
#ifndef CHRONIK_BROKER_RUNTIME_HTTP_H_
#define CHRONIK_BROKER_RUNTIME_HTTP_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/server/broker.h"

namespace chronik::runtime {

struct HttpRequest {
  std::string method;
  std::string path;           // without the query string
  std::string authorization;  // the Authorization header's value, if any
};

enum class HttpParse {
  kIncomplete,  // need more bytes
  kComplete,
  kBad,       // malformed: answer 400
  kTooLarge,  // head longer than the bound: answer 431
};

// Parses the request head at the start of `input`.
HttpParse ParseHttpRequest(absl::string_view input, size_t max_request_bytes,
                           HttpRequest* request);

std::string HttpResponse(int status, absl::string_view content_type,
                         absl::string_view body);

// Whether `request` may be answered when the endpoints are protected by
// `token` (--http-token-file; empty: not protected): /health (liveness
// probes) always; every other path only with "Authorization: Bearer TOKEN".
// Compares in time independent of where the given token differs.
bool HttpAuthorized(const HttpRequest& request, absl::string_view token);

// The token in the file at `path` (surrounding whitespace removed); an error
// naming the file when it cannot be read or holds no token.
absl::StatusOr<std::string> ReadHttpToken(const std::string& path);

// The broker id of "/v1/brokers/{id}/decommission" (a Kafka broker id, 0 or
// more, decimal); nullopt for any other path.
std::optional<int32_t> DecommissionPath(absl::string_view path);

// Runtime-side figures added to the broker's own metrics.
struct RuntimeMetrics {
  bool ready = false;
  int64_t start_time_ms = 0;
  uint64_t http_requests = 0;
  uint64_t peer_messages_dropped = 0;
  uint64_t peer_peak_queued_messages = 0;  // PeerTransport::peak_queued
  uint64_t peer_slow_writes = 0;           // PeerTransport::slow_writes
  uint64_t peer_late_batches = 0;          // PeerTransport::late_batches
  uint64_t storage_flushes = 0;
  uint64_t storage_fsyncs = 0;
  uint64_t storage_filesystem_syncs = 0;  // syncfs calls (whole file system)
  uint64_t storage_page_cache_dropped_bytes = 0;  // PosixDisk drop-behind
  uint64_t storage_tail_log_frames = 0;           // StoreStats::wal_frames
  uint64_t storage_overlapped_flushes = 0;    // StoreStats::flushes_overlapped
  uint64_t storage_tail_log_checkpoints = 0;  // StoreStats::wal_checkpoints
  uint64_t storage_tail_log_idle_checkpoints = 0;  // ... wal_idle_checkpoints
  uint64_t storage_tail_log_buffered_bytes = 0;    // StoreStats, a gauge
  uint64_t storage_bytes = 0;
  // EventLoop::Stats of the node's loop thread.
  uint64_t loop_slow_iterations = 0;
  int64_t loop_longest_iteration_ms = 0;
  int64_t loop_longest_timer_lateness_ms = 0;
};

// Prometheus text exposition format (version 0.0.4). Every name starts with
// "chronik_". Latency histograms use the broker's bucket bounds (ms); the
// broker counts each request in one bucket, the output is cumulative as
// Prometheus requires.
std::string RenderMetrics(const broker::BrokerMetrics& metrics,
                          const RuntimeMetrics& runtime);

}  // namespace chronik::runtime

#endif  // CHRONIK_BROKER_RUNTIME_HTTP_H_
