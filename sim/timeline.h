// The timeline of one broker-scenario run: a self-contained HTML page (inline
// CSS, JavaScript and SVG; nothing fetched) built from the run's trace events,
// as a Trace::Listener receives them. Nothing here looks at broker state: what
// the page shows is what the world recorded.
//
// The page has a lane per broker ("n1".."nN": up, crashed or stopped; crash,
// stop and start marks; pauses, isolation, partitions and clock faults as
// intervals; one row per Raft group with the node's role in it over time:
// leader, follower of a known leader, or candidate / no leader known), a lane
// of the world's faults (each with its description) and a lane per client
// (its requests from send to answer or give-up, acknowledgements, group
// events). The first anomaly (the run's failure) is marked across all lanes
// with its text. The lanes are drawn by the page's script when it loads
// (each an SVG group with a data-lane attribute), so a browser that shows
// them has run the script.
//
// Usage: a TimelineRecorder's Listener() goes into
// BrokerScenarioOptions::listener (the recorder must outlive the run); after
// the run, Html() gives the page. Not thread-safe; owned by the caller.
#ifndef CHRONIK_SIM_TIMELINE_H_
#define CHRONIK_SIM_TIMELINE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/time.h"
#include "sim/trace.h"

namespace chronik::sim {

// What the page says about the run beside its events.
struct TimelineInfo {
  std::string title;  // e.g. the command that replays the run
  bool passed = false;
  std::string failure;                  // the run's failure ("" when it passed)
  Nanos end = 0;                        // simulated time at the end of the run
  std::vector<std::string> fault_plan;  // readable, one line per fault
};

class TimelineRecorder {
 public:
  // An interval [start, end) with a kind ("up", "L", "Produce", "pause"...),
  // a text (tooltip) and, for roles, term and leader.
  struct Span {
    Nanos start = 0;
    Nanos end = -1;  // -1: still open
    std::string kind;
    std::string text;
    uint64_t term = 0;
    uint64_t leader = 0;
  };
  struct Mark {
    Nanos time = 0;
    std::string kind;
    std::string text;
  };
  struct BrokerLane {
    std::vector<Span> process;  // "up", "down", "stopped"
    std::vector<Mark> marks;    // crash, stop, start, start_failed
    std::vector<Span> faults;   // faults aimed at this node
    std::map<uint64_t, std::vector<Span>> roles;  // by Raft group id
  };
  struct ClientLane {
    std::string kind;            // admin, producer, member, consumer
    std::vector<Span> requests;  // kind: the API; text: outcome
    std::vector<Mark> marks;     // acks, retries, group events
  };

  explicit TimelineRecorder(int nodes);

  // Feeds OnEvent; `this` must outlive the run it listens to.
  Trace::Listener Listener();
  void OnEvent(const Trace::Event& event);

  const std::vector<BrokerLane>& brokers() const { return brokers_; }
  const std::vector<ClientLane>& clients() const { return clients_; }
  const std::vector<Span>& world_faults() const { return world_faults_; }
  const std::vector<Mark>& world_marks() const { return world_marks_; }
  Nanos failure_time() const { return failure_time_; }

  // The model as JSON (what the page's script draws), spans still open
  // closed at info.end.
  std::string ModelJson(const TimelineInfo& info) const;
  // The whole page.
  std::string Html(const TimelineInfo& info) const;

 private:
  void OnNodeEvent(const Trace::Event& event);
  void OnFault(const Trace::Event& event);
  void EndFaults(Nanos time);
  void OnClientEvent(const Trace::Event& event);
  ClientLane& Client(uint64_t index);
  void CloseRoles(BrokerLane& lane, Nanos time);

  std::vector<BrokerLane> brokers_;
  std::vector<ClientLane> clients_;
  std::vector<Span> world_faults_;
  std::vector<Mark> world_marks_;
  // The fault in effect that ends at the next fault_end (world lane index,
  // node, node lane index), or -1.
  int open_fault_ = -1;
  int open_fault_node_ = -1;
  int open_node_fault_ = -1;
  bool consumer_started_ = false;
  Nanos failure_time_ = -1;
};

// The HTML page around a model (sim/timeline_page.cc): the CSS and the script
// that draws the lanes.
std::string TimelinePage(const std::string& title,
                         const std::string& model_json);

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_TIMELINE_H_
