#include "broker/runtime/http.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/check.h"

namespace chronik::runtime {
namespace {

// Upper bounds (ms) of broker::ApiMetrics::latency_buckets, in order; the last
// bucket is +Inf.
constexpr const char* kBucketBounds[] = {"1",   "5",   "10",   "50",
                                         "100", "500", "1000", "+Inf"};

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 401:
      return "Unauthorized";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
  }
  return "Unknown";
}

void Metric(std::string* out, absl::string_view name, absl::string_view type,
            absl::string_view help, uint64_t value) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
                  "\n", name, " ", value, "\n");
}

void Header(std::string* out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
                  "\n");
}

}  // namespace

HttpParse ParseHttpRequest(absl::string_view input, size_t max_request_bytes,
                           HttpRequest* request) {
  const size_t end = input.find("\r\n\r\n");
  if (end == absl::string_view::npos) {
    return input.size() > max_request_bytes ? HttpParse::kTooLarge
                                            : HttpParse::kIncomplete;
  }
  if (end + 4 > max_request_bytes) return HttpParse::kTooLarge;
  const absl::string_view line = input.substr(0, input.find("\r\n"));
  const std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() ||
      parts[1][0] != '/' || !absl::StartsWith(parts[2], "HTTP/1.")) {
    return HttpParse::kBad;
  }
  request->method = std::string(parts[0]);
  const absl::string_view target = parts[1];
  request->path = std::string(target.substr(0, target.find('?')));
  request->authorization.clear();
  for (absl::string_view header :
       absl::StrSplit(input.substr(0, end), "\r\n")) {
    const size_t colon = header.find(':');
    if (colon != absl::string_view::npos &&
        absl::EqualsIgnoreCase(header.substr(0, colon), "authorization")) {
      request->authorization =
          std::string(absl::StripAsciiWhitespace(header.substr(colon + 1)));
    }
  }
  return HttpParse::kComplete;
}

absl::StatusOr<std::string> ReadHttpToken(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-token-file ", path, ": cannot be read"));
  }
  const std::string token(absl::StripAsciiWhitespace(text.str()));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-token-file ", path, ": holds no token"));
  }
  return token;
}

bool HttpAuthorized(const HttpRequest& request, absl::string_view token) {
  if (token.empty() || request.path == "/health") return true;
  const std::string expected = absl::StrCat("Bearer ", token);
  const std::string& given = request.authorization;
  unsigned char differ = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    differ |= static_cast<unsigned char>(expected[i] ^
                                         (i < given.size() ? given[i] : 0));
  }
  return differ == 0;
}

std::string HttpResponse(int status, absl::string_view content_type,
                         absl::string_view body) {
  return absl::StrCat("HTTP/1.1 ", status, " ", Reason(status),
                      "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n\r\n", body);
}

std::string RenderMetrics(const broker::BrokerMetrics& metrics,
                          const RuntimeMetrics& runtime) {
  std::string out;
  Header(&out, "chronik_requests_total", "counter",
         "Kafka requests handled, by API.");
  for (const auto& [api, m] : metrics.apis) {
    absl::StrAppend(&out, "chronik_requests_total{api=\"", api, "\"} ",
                    m.requests, "\n");
  }
  Header(&out, "chronik_request_errors_total", "counter",
         "Kafka responses carrying an error code, by API.");
  for (const auto& [api, m] : metrics.apis) {
    absl::StrAppend(&out, "chronik_request_errors_total{api=\"", api, "\"} ",
                    m.errors, "\n");
  }
  Header(&out, "chronik_request_latency_ms", "histogram",
         "Kafka request latency from complete request to response, ms.");
  for (const auto& [api, m] : metrics.apis) {
    CHRONIK_CHECK_EQ(m.latency_buckets.size(), std::size(kBucketBounds));
    uint64_t cumulative = 0;
    for (size_t i = 0; i < m.latency_buckets.size(); ++i) {
      cumulative += m.latency_buckets[i];
      absl::StrAppend(&out, "chronik_request_latency_ms_bucket{api=\"", api,
                      "\",le=\"", kBucketBounds[i], "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "chronik_request_latency_ms_sum{api=\"", api, "\"} ",
                    m.latency_ms_sum, "\n");
    absl::StrAppend(&out, "chronik_request_latency_ms_count{api=\"", api,
                    "\"} ", cumulative, "\n");
  }
  Metric(&out, "chronik_bytes_in_total", "counter",
         "Kafka request bytes received.", metrics.bytes_in);
  Metric(&out, "chronik_bytes_out_total", "counter",
         "Kafka response bytes sent.", metrics.bytes_out);
  Metric(&out, "chronik_connections", "gauge", "Open Kafka connections.",
         metrics.connections);
  Metric(&out, "chronik_partitions", "gauge",
         "Partition replicas hosted by this node.", metrics.partitions);
  Metric(&out, "chronik_partitions_led", "gauge",
         "Partition replicas this node leads.", metrics.partitions_led);
  Metric(&out, "chronik_under_replicated_partitions", "gauge",
         "Partitions this node leads with fewer in-sync replicas than "
         "replicas.",
         metrics.under_replicated_partitions);
  Metric(&out, "chronik_offline_partitions", "gauge",
         "Partitions without a live leader (reported by the controller only).",
         metrics.offline_partitions);
  Metric(&out, "chronik_leader_balance_requests_total", "counter",
         "Requests of the leader balancer for this node's preferred "
         "partitions.",
         metrics.leader_balance_requests);
  Metric(&out, "chronik_preferred_leader_transfers_total", "counter",
         "Leadership transfers to preferred replicas this node started.",
         metrics.preferred_leader_transfers);
  Metric(&out, "chronik_log_bytes", "gauge",
         "On-disk size of all partition logs, bytes.", metrics.log_bytes);
  Metric(&out, "chronik_compaction_passes_total", "counter",
         "Log compaction passes over this node's partition replicas.",
         metrics.compaction_passes);
  Metric(&out, "chronik_compaction_records_removed_total", "counter",
         "Records log compaction removed (older versions of their key, "
         "expired tombstones, aborted transactions).",
         metrics.compaction_records_removed);
  Metric(&out, "chronik_compaction_markers_removed_total", "counter",
         "Transaction markers log compaction removed.",
         metrics.compaction_markers_removed);
  Metric(&out, "chronik_raft_groups", "gauge",
         "Raft groups on this node (metadata and partition replicas).",
         metrics.raft_groups);
  Metric(&out, "chronik_raft_groups_led", "gauge",
         "Raft groups this node leads.", metrics.raft_groups_led);
  Metric(&out, "chronik_raft_groups_quiesced", "gauge",
         "Raft groups of this node that are quiesced (idle, no heartbeats).",
         metrics.raft_groups_quiesced);
  Metric(&out, "chronik_isr_held_partitions", "gauge",
         "Partitions this node leads whose ISR sample holds (idle groups, "
         "not sampled at each tick).",
         metrics.isr_held_partitions);
  Metric(&out, "chronik_raft_max_term", "gauge",
         "Highest current Raft term among this node's groups.",
         metrics.raft_max_term);
  Metric(&out, "chronik_raft_commit_lag_entries", "gauge",
         "Log entries on this node not committed yet, summed over its groups.",
         metrics.raft_commit_lag_entries);
  Metric(&out, "chronik_raft_max_follower_lag_entries", "gauge",
         "Most entries a voter lacks, over the groups this node leads.",
         metrics.raft_max_follower_lag_entries);
  Metric(&out, "chronik_raft_election_timeouts_total", "counter",
         "Campaigns this node's groups began because their leader was silent "
         "for an election timeout (summed over its current groups).",
         metrics.raft_election_timeouts);
  Metric(&out, "chronik_raft_quorum_step_downs_total", "counter",
         "Leaders of this node that stepped down because no quorum was "
         "active (CheckQuorum; summed over its current groups).",
         metrics.raft_quorum_step_downs);
  Metric(&out, "chronik_shutting_down", "gauge",
         "1 while a controlled shutdown hands over leadership.",
         metrics.shutting_down ? 1 : 0);
  Metric(&out, "chronik_malformed_requests_total", "counter",
         "Kafka requests that closed their connection as malformed.",
         metrics.malformed_requests);
  Metric(&out, "chronik_ready", "gauge", "1 when the node serves (/ready).",
         runtime.ready ? 1 : 0);
  Metric(&out, "chronik_start_time_seconds", "gauge",
         "Unix time the process started.",
         static_cast<uint64_t>(runtime.start_time_ms / 1000));
  Metric(&out, "chronik_http_requests_total", "counter",
         "HTTP requests answered (health, ready, metrics).",
         runtime.http_requests);
  Metric(&out, "chronik_peer_messages_dropped_total", "counter",
         "Raft messages for peers with no transport (standalone).",
         runtime.peer_messages_dropped);
  Metric(&out, "chronik_peer_queue_peak_messages", "gauge",
         "Most Raft messages one peer's send queue held since start.",
         runtime.peer_peak_queued_messages);
  Metric(&out, "chronik_peer_slow_writes_total", "counter",
         "Raft stream writes to a peer that blocked over 100 ms (the peer "
         "reads slower than this node sends).",
         runtime.peer_slow_writes);
  Metric(&out, "chronik_peer_late_batches_total", "counter",
         "Raft message batches whose oldest message had waited in its peer "
         "queue over 100 ms (the sender thread behind).",
         runtime.peer_late_batches);
  Metric(&out, "chronik_storage_flushes_total", "counter",
         "Group-commit flushes of the log store.", runtime.storage_flushes);
  Metric(&out, "chronik_storage_fsyncs_total", "counter",
         "fsyncs of log segment and index files.", runtime.storage_fsyncs);
  Metric(&out, "chronik_storage_filesystem_syncs_total", "counter",
         "syncfs calls: flushes of many files (--flush-syncfs-min-files) and "
         "the one at start.",
         runtime.storage_filesystem_syncs);
  Metric(&out, "chronik_storage_page_cache_dropped_bytes_total", "counter",
         "Synced partition log bytes dropped from the page cache "
         "(--page-cache-drop-behind-mib).",
         runtime.storage_page_cache_dropped_bytes);
  Metric(&out, "chronik_storage_tail_log_frames_total", "counter",
         "Flushes made durable by one fsync of the tail log (--tail-log-mib).",
         runtime.storage_tail_log_frames);
  Metric(&out, "chronik_storage_overlapped_flushes_total", "counter",
         "Flushes begun while the one before synced (appends the tail log "
         "covers, applied during its fsync).",
         runtime.storage_overlapped_flushes);
  Metric(&out, "chronik_storage_tail_log_checkpoints_total", "counter",
         "Tail log checkpoints: every segment it covered synced, restarted.",
         runtime.storage_tail_log_checkpoints);
  Metric(&out, "chronik_storage_tail_log_idle_checkpoints_total", "counter",
         "Of them: begun by an idle node (no flush for a second), not by a "
         "full log.",
         runtime.storage_tail_log_idle_checkpoints);
  Metric(&out, "chronik_storage_tail_log_buffered_bytes", "gauge",
         "Appends the tail log holds that wait in memory for their segments "
         "(an upper bound; written out at 8 MiB).",
         runtime.storage_tail_log_buffered_bytes);
  Metric(&out, "chronik_storage_written_bytes_total", "counter",
         "Bytes of Raft entries written to the log store.",
         runtime.storage_bytes);
  Metric(&out, "chronik_event_loop_slow_iterations_total", "counter",
         "Event loop iterations that kept the loop thread from its timers "
         "(the tick) for more than 100 ms.",
         runtime.loop_slow_iterations);
  Metric(&out, "chronik_event_loop_longest_iteration_ms", "gauge",
         "Longest event loop iteration since start, ms (wall time).",
         static_cast<uint64_t>(runtime.loop_longest_iteration_ms));
  Metric(&out, "chronik_event_loop_longest_timer_lateness_ms", "gauge",
         "Most a timer (the tick) ran past its due time since start, ms.",
         static_cast<uint64_t>(runtime.loop_longest_timer_lateness_ms));
  return out;
}

std::optional<int32_t> DecommissionPath(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, "/v1/brokers/") ||
      !absl::ConsumeSuffix(&path, "/decommission") || path.empty() ||
      path.size() > 10) {
    return std::nullopt;
  }
  for (const char c : path) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int32_t id = 0;
  if (!absl::SimpleAtoi(path, &id) || id < 0) return std::nullopt;
  return id;
}

}  // namespace chronik::runtime
