// The trace of a simulation run: a hash folded from every event, and optionally
// a readable event log.
//
// Every event the world or a scenario records is encoded canonically as 64-bit
// words (time, node, the kind name's bytes 8 per word little-endian and
// zero-padded, its length, the argument count, the arguments) and folded into a
// 64-bit hash: FNV-1a with words as the unit. Two runs
// with the same seed and code give the same hash; any divergence in timing,
// ordering or content changes it. The readable detail text passed with an event
// is printed when a printer is set but never hashed, so tracing a run does not
// change its hash. A listener, when set, receives every recorded event as
// data (time, node, kind, arguments, detail) after it is folded; it only
// observes, so it does not change the hash either (sim/timeline.h builds a
// page from them).
//
// Not thread-safe; owned by the run.
#ifndef CHRONIK_SIM_TRACE_H_
#define CHRONIK_SIM_TRACE_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "sim/time.h"

namespace chronik::sim {

class Trace {
 public:
  // Node id used for events of the world itself (faults, network).
  static constexpr int kWorld = -1;

  using Printer = std::function<void(std::string_view line)>;

  // One recorded event as data; the views are valid during the call only.
  struct Event {
    Nanos time = 0;
    int node = kWorld;
    std::string_view kind;
    std::initializer_list<uint64_t> args;
    std::string_view detail;
  };
  using Listener = std::function<void(const Event& event)>;

  // Folds one event into the hash; prints it (with `detail`) when printing.
  void Record(Nanos time, int node, std::string_view kind,
              std::initializer_list<uint64_t> args = {},
              std::string_view detail = {});

  // Sets the sink for readable lines ("  12.000345s n2 vote_granted ... |
  // detail").
  void set_printer(Printer printer) { printer_ = std::move(printer); }
  bool printing() const { return static_cast<bool>(printer_); }
  // Sets the receiver of every event as data (the hash does not change).
  void set_listener(Listener listener) { listener_ = std::move(listener); }
  // True when a printer or a listener wants the events' detail text (which
  // recorders may skip building otherwise).
  bool wants_detail() const { return printer_ || listener_; }

  // Stops the run at the first event whose kind is `kind` or whose number
  // (1-based) equals `number` (0 = never); see stop_requested(). Events
  // recorded after it (the rest of its scheduler step) are ignored: the trace
  // ends at that event.
  void StopAt(std::string_view kind, uint64_t number) {
    stop_kind_ = std::string(kind);
    stop_number_ = number;
  }
  bool stop_requested() const { return stop_requested_; }

  // Folds a word into the hash without making it a readable event (the
  // scheduler folds each event's time and sequence number this way).
  void Fold(uint64_t word) { FoldWord(word); }

  uint64_t hash() const { return hash_; }
  uint64_t events() const { return events_; }

 private:
  void FoldWord(uint64_t word);

  uint64_t hash_ = 0xcbf29ce484222325ULL;
  uint64_t events_ = 0;
  Printer printer_;
  Listener listener_;
  std::string stop_kind_;
  uint64_t stop_number_ = 0;
  bool stop_requested_ = false;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_TRACE_H_
