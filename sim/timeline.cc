// The timeline's model: trace events of a broker-scenario run turned into
// lanes of intervals and marks (see timeline.h), and its JSON form.
#include "sim/timeline.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"

namespace chronik::sim {
namespace {

// Faults aimed at one node that show on its lane (the rest show on the
// world's lane only; crashes show as the node's down intervals).
bool NodeLaneFault(std::string_view kind) {
  static constexpr std::array<std::string_view, 12> kKinds = {
      "pause",      "isolate",     "partition_broker", "client_partition",
      "clock_jump", "clock_drift", "port_taken",       "one_way_partition",
      "clog",       "disk_errors", "disk_full",        "slow_fsync"};
  return std::find(kKinds.begin(), kKinds.end(), kind) != kKinds.end();
}

// The fault's kind name: the word after the time in its description
// ("1.200000s pause n2, for 1.000000s").
std::string FaultKind(std::string_view detail) {
  const size_t space = detail.find(' ');
  if (space == std::string_view::npos) return "fault";
  std::string_view rest = detail.substr(space + 1);
  rest = rest.substr(0, rest.find_first_of(" ,"));
  return rest.empty() ? "fault" : std::string(rest);
}

uint64_t Arg(const Trace::Event& event, size_t i) {
  return i < event.args.size() ? event.args.begin()[i] : 0;
}

void Close(std::vector<TimelineRecorder::Span>& spans, Nanos time) {
  if (!spans.empty() && spans.back().end < 0) spans.back().end = time;
}

void Open(std::vector<TimelineRecorder::Span>& spans, Nanos time,
          std::string kind, std::string text = {}) {
  Close(spans, time);
  TimelineRecorder::Span span;
  span.start = time;
  span.kind = std::move(kind);
  span.text = std::move(text);
  spans.push_back(std::move(span));
}

void AppendJsonString(std::string* out, std::string_view text) {
  out->push_back('"');
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20 || c == '<' || c == '>' || c == '&') {
      // \u escapes also keep "</script>" out of the inline script.
      static constexpr char kHex[] = "0123456789abcdef";
      absl::StrAppend(out, "\\u00", std::string(1, kHex[u >> 4]),
                      std::string(1, kHex[u & 15]));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

std::string Us(Nanos t) { return absl::StrCat(t / kMicrosecond); }

// [start_us, end_us, "kind", "text"(, term, leader)]
void AppendSpans(std::string* out,
                 const std::vector<TimelineRecorder::Span>& spans, Nanos end,
                 bool roles) {
  out->push_back('[');
  for (size_t i = 0; i < spans.size(); ++i) {
    const TimelineRecorder::Span& span = spans[i];
    if (i > 0) out->push_back(',');
    const Nanos stop = span.end < 0 ? end : std::min(span.end, end);
    absl::StrAppend(out, "[", Us(span.start), ",",
                    Us(std::max(stop, span.start)), ",");
    AppendJsonString(out, span.kind);
    out->push_back(',');
    AppendJsonString(out, span.text);
    if (roles) absl::StrAppend(out, ",", span.term, ",", span.leader);
    out->push_back(']');
  }
  out->push_back(']');
}

void AppendMarks(std::string* out,
                 const std::vector<TimelineRecorder::Mark>& marks) {
  out->push_back('[');
  for (size_t i = 0; i < marks.size(); ++i) {
    if (i > 0) out->push_back(',');
    absl::StrAppend(out, "[", Us(marks[i].time), ",");
    AppendJsonString(out, marks[i].kind);
    out->push_back(',');
    AppendJsonString(out, marks[i].text);
    out->push_back(']');
  }
  out->push_back(']');
}

}  // namespace

TimelineRecorder::TimelineRecorder(int nodes) : brokers_(nodes) {}

Trace::Listener TimelineRecorder::Listener() {
  return [this](const Trace::Event& event) { OnEvent(event); };
}

void TimelineRecorder::OnEvent(const Trace::Event& event) {
  const std::string_view kind = event.kind;
  if (kind == "log" || kind == "connect") return;
  if (event.node != Trace::kWorld) {
    if (event.node >= 0 && event.node < static_cast<int>(brokers_.size())) {
      OnNodeEvent(event);
    }
    return;
  }
  if (kind == "fault") {
    OnFault(event);
  } else if (kind == "fault_end") {
    EndFaults(event.time);
  } else if (kind == "heal") {
    EndFaults(event.time);
    for (Span& span : world_faults_) span.end = std::min(span.end, event.time);
    world_marks_.push_back({event.time, "heal", "every fault healed"});
  } else if (kind == "failure") {
    if (failure_time_ < 0) failure_time_ = event.time;
    world_marks_.push_back({event.time, "failure", std::string(event.detail)});
  } else if (kind == "producers_stop" || kind == "consumer_start" ||
             kind == "live" || kind == "passed" || kind == "leaders_agreed" ||
             kind == "partition_read" || kind == "create_topic" ||
             kind == "auto_created" || kind == "audit_retry") {
    if (kind == "consumer_start") consumer_started_ = true;
    std::string text(event.detail);
    if (kind == "partition_read") {
      text = absl::StrCat("partition ", Arg(event, 0), " read to offset ",
                          Arg(event, 1));
    }
    world_marks_.push_back({event.time, std::string(kind), std::move(text)});
  } else {
    OnClientEvent(event);
  }
}

void TimelineRecorder::OnNodeEvent(const Trace::Event& event) {
  BrokerLane& lane = brokers_[event.node];
  const std::string_view kind = event.kind;
  const Nanos t = event.time;
  if (kind == "start") {
    if (Arg(event, 1) != 0) Open(lane.process, t, "up");
    lane.marks.push_back(
        {t, "start", absl::StrCat("start (incarnation ", Arg(event, 0), ")")});
  } else if (kind == "start_failed") {
    lane.marks.push_back({t, "start_failed", std::string(event.detail)});
  } else if (kind == "crash" || kind == "stop") {
    Open(lane.process, t, kind == "crash" ? "down" : "stopped");
    CloseRoles(lane, t);
    lane.marks.push_back(
        {t, std::string(kind),
         kind == "crash" ? absl::StrCat("crash: ", std::string(event.detail))
                         : std::string("clean stop")});
  } else if (kind == "leader" || kind == "role") {
    const uint64_t group = Arg(event, 0);
    const uint64_t term = Arg(event, 1);
    const uint64_t leader = kind == "leader"
                                ? static_cast<uint64_t>(event.node) + 1
                                : Arg(event, 2);
    const std::string role = kind == "leader" ? "L" : leader != 0 ? "F" : "C";
    std::vector<Span>& spans = lane.roles[group];
    Open(spans, t, role);
    spans.back().term = term;
    spans.back().leader = leader;
  }
}

void TimelineRecorder::CloseRoles(BrokerLane& lane, Nanos time) {
  for (auto& [group, spans] : lane.roles) Close(spans, time);
}

void TimelineRecorder::OnFault(const Trace::Event& event) {
  EndFaults(event.time);
  Span span;
  span.start = event.time;
  span.end = event.time + static_cast<Nanos>(Arg(event, 2));
  span.kind = FaultKind(event.detail);
  span.text = std::string(event.detail);
  open_fault_ = static_cast<int>(world_faults_.size());
  open_fault_node_ = -1;
  open_node_fault_ = -1;
  const int node = static_cast<int>(Arg(event, 1));
  if (NodeLaneFault(span.kind) && node >= 0 &&
      node < static_cast<int>(brokers_.size())) {
    open_fault_node_ = node;
    open_node_fault_ = static_cast<int>(brokers_[node].faults.size());
    brokers_[node].faults.push_back(span);
  }
  world_faults_.push_back(std::move(span));
}

void TimelineRecorder::EndFaults(Nanos time) {
  if (open_fault_ >= 0) {
    Span& span = world_faults_[open_fault_];
    span.end = std::min(span.end, time);
  }
  if (open_node_fault_ >= 0) {
    Span& span = brokers_[open_fault_node_].faults[open_node_fault_];
    span.end = std::min(span.end, time);
  }
  open_fault_ = open_fault_node_ = open_node_fault_ = -1;
}

TimelineRecorder::ClientLane& TimelineRecorder::Client(uint64_t index) {
  const size_t i = std::min<uint64_t>(index, 1000);
  if (clients_.size() <= i) clients_.resize(i + 1);
  if (i == 0) clients_[0].kind = "admin";
  return clients_[i];
}

void TimelineRecorder::OnClientEvent(const Trace::Event& event) {
  const std::string_view kind = event.kind;
  const Nanos t = event.time;
  if (kind == "request") {
    ClientLane& client = Client(Arg(event, 0));
    if (consumer_started_ && client.kind.empty()) client.kind = "consumer";
    std::string api(event.detail);
    if (api.size() > 7 && api.ends_with("Request")) api.resize(api.size() - 7);
    Open(client.requests, t, std::move(api),
         absl::StrCat("to n", Arg(event, 2), " correlation ", Arg(event, 3)));
  } else if (kind == "response") {
    ClientLane& client = Client(Arg(event, 0));
    if (!client.requests.empty() && client.requests.back().end < 0) {
      client.requests.back().end = t;
      absl::StrAppend(&client.requests.back().text, ": answered");
    }
  } else if (kind == "client_retry") {
    ClientLane& client = Client(Arg(event, 0));
    if (!client.requests.empty() && client.requests.back().end < 0) {
      client.requests.back().end = t;
      absl::StrAppend(&client.requests.back().text, ": ",
                      std::string(event.detail));
      client.requests.back().kind += "!";  // given up on
    }
    client.marks.push_back({t, "retry", std::string(event.detail)});
  } else if (kind == "produced") {
    ClientLane& client = Client(Arg(event, 0));
    client.kind = "producer";
    client.marks.push_back({t, Arg(event, 2) == 0 ? "ack" : "produce_error",
                            std::string(event.detail)});
  } else if (kind == "init_producer_id") {
    ClientLane& client = Client(Arg(event, 0));
    client.kind = "producer";
    client.marks.push_back(
        {t, "init_producer_id",
         absl::StrCat("InitProducerId error ", Arg(event, 1), " id ",
                      static_cast<int64_t>(Arg(event, 2)))});
  } else if (kind.starts_with("group_") || kind == "response_lost") {
    ClientLane& client = Client(Arg(event, 0));
    if (kind != "response_lost") client.kind = "member";
    std::string text(event.detail);
    if (text.empty())
      text = absl::StrCat(std::string(kind), " ", Arg(event, 1));
    client.marks.push_back({t, std::string(kind), std::move(text)});
  }
}

std::string TimelineRecorder::ModelJson(const TimelineInfo& info) const {
  const Nanos end = std::max(info.end, Nanos{0});
  std::string out = "{\"title\":";
  AppendJsonString(&out, info.title);
  absl::StrAppend(&out, ",\"passed\":", info.passed ? "true" : "false",
                  ",\"failure\":");
  AppendJsonString(&out, info.failure);
  absl::StrAppend(&out, ",\"failure_us\":",
                  info.failure.empty() ? std::string("-1")
                  : failure_time_ >= 0 ? Us(failure_time_)
                                       : Us(end),
                  ",\"end_us\":", Us(end), ",\"plan\":[");
  for (size_t i = 0; i < info.fault_plan.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, info.fault_plan[i]);
  }
  out += "],\"world\":{\"faults\":";
  AppendSpans(&out, world_faults_, end, false);
  out += ",\"marks\":";
  AppendMarks(&out, world_marks_);
  out += "},\"brokers\":[";
  for (size_t n = 0; n < brokers_.size(); ++n) {
    const BrokerLane& lane = brokers_[n];
    if (n > 0) out.push_back(',');
    absl::StrAppend(&out, "{\"name\":\"n", n + 1, "\",\"process\":");
    AppendSpans(&out, lane.process, end, false);
    out += ",\"faults\":";
    AppendSpans(&out, lane.faults, end, false);
    out += ",\"marks\":";
    AppendMarks(&out, lane.marks);
    out += ",\"groups\":[";
    bool first = true;
    for (const auto& [group, spans] : lane.roles) {
      if (!first) out.push_back(',');
      first = false;
      absl::StrAppend(&out, "{\"group\":", group, ",\"roles\":");
      AppendSpans(&out, spans, end, true);
      out.push_back('}');
    }
    out += "]}";
  }
  out += "],\"clients\":[";
  for (size_t c = 0; c < clients_.size(); ++c) {
    if (c > 0) out.push_back(',');
    absl::StrAppend(&out, "{\"name\":\"c", c, "\",\"kind\":");
    AppendJsonString(&out, clients_[c].kind);
    out += ",\"requests\":";
    AppendSpans(&out, clients_[c].requests, end, false);
    out += ",\"marks\":";
    AppendMarks(&out, clients_[c].marks);
    out.push_back('}');
  }
  out += "]}";
  return out;
}

std::string TimelineRecorder::Html(const TimelineInfo& info) const {
  return TimelinePage(info.title, ModelJson(info));
}

}  // namespace chronik::sim
