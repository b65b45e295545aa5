#include "sim/trace.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace chronik::sim {

std::string FormatTime(Nanos t) {
  const char* sign = t < 0 ? "-" : "";
  const uint64_t magnitude =
      t < 0 ? static_cast<uint64_t>(-(t + 1)) + 1 : static_cast<uint64_t>(t);
  return absl::StrFormat("%s%d.%06ds", sign, magnitude / kSecond,
                         (magnitude % kSecond) / kMicrosecond);
}

void Trace::FoldWord(uint64_t word) {
  // FNV-1a with 64-bit words as the unit (one multiply per word, not per byte);
  // the xor-shift spreads high bits into the low ones the multiply carries up.
  hash_ ^= word ^ (word >> 29);
  hash_ *= 0x100000001b3ULL;
}

void Trace::Record(Nanos time, int node, std::string_view kind,
                   std::initializer_list<uint64_t> args,
                   std::string_view detail) {
  if (stop_requested_) return;  // the trace ended at the stop event
  ++events_;
  FoldWord(static_cast<uint64_t>(time));
  FoldWord(static_cast<uint64_t>(static_cast<int64_t>(node)));
  // The kind's bytes, 8 at a time, little-endian, zero-padded; then its length.
  for (size_t i = 0; i < kind.size(); i += 8) {
    uint64_t word = 0;
    for (size_t b = 0; b < 8 && i + b < kind.size(); ++b) {
      word |= static_cast<uint64_t>(static_cast<unsigned char>(kind[i + b]))
              << (8 * b);
    }
    FoldWord(word);
  }
  FoldWord(kind.size());
  FoldWord(args.size());
  for (uint64_t arg : args) FoldWord(arg);
  if (printer_) {
    std::string line = absl::StrFormat(
        "%8d %14s %-5s %-22s", events_, FormatTime(time),
        node == kWorld ? std::string("world") : absl::StrCat("n", node),
        std::string(kind));
    for (uint64_t arg : args) absl::StrAppend(&line, " ", arg);
    if (!detail.empty()) absl::StrAppend(&line, "  | ", std::string(detail));
    printer_(line);
  }
  if (listener_) listener_(Event{time, node, kind, args, detail});
  if ((stop_number_ != 0 && events_ == stop_number_) ||
      (!stop_kind_.empty() && kind == stop_kind_)) {
    stop_requested_ = true;
  }
}

}  // namespace chronik::sim
