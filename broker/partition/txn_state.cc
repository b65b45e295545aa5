#include "broker/partition/txn_state.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::partition {
namespace {

// Little-endian fixed-width fields of the encoded state.
void Put64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void Put32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
bool Get64(absl::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  *v = 0;
  for (int i = 0; i < 8; ++i) {
    *v |= uint64_t{static_cast<uint8_t>((*in)[i])} << (8 * i);
  }
  in->remove_prefix(8);
  return true;
}
bool Get32(absl::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) {
    *v |= uint32_t{static_cast<uint8_t>((*in)[i])} << (8 * i);
  }
  in->remove_prefix(4);
  return true;
}

}  // namespace

void TxnState::OnData(int64_t producer_id, int64_t offset) {
  CHRONIK_CHECK_GE(producer_id, 0);
  open_.emplace(producer_id, offset);  // keeps an open one's first offset
}

bool TxnState::OnMarker(int64_t producer_id, bool commit, int32_t txn_seq,
                        int64_t offset) {
  auto known = markers_.find(producer_id);
  if (known != markers_.end() && txn_seq <= known->second.txn_seq) {
    return false;
  }
  markers_[producer_id] = MarkerInfo{txn_seq, offset};
  auto it = open_.find(producer_id);
  if (it != open_.end()) {
    if (!commit) aborted_.push_back({producer_id, it->second, offset});
    open_.erase(it);
  }
  if (markers_.size() > kMaxMarkerProducers) {
    for (auto m = markers_.begin(); m != markers_.end(); ++m) {
      if (open_.count(m->first) == 0 && m->first != producer_id) {
        markers_.erase(m);
        break;
      }
    }
  }
  return true;
}

void TxnState::OnMarkerRemoved(int64_t producer_id) {
  CHRONIK_CHECK_GE(producer_id, 0);
  open_.erase(producer_id);
}

int32_t TxnState::LastMarkerSeq(int64_t producer_id) const {
  auto it = markers_.find(producer_id);
  return it == markers_.end() ? 0 : it->second.txn_seq;
}

std::optional<int64_t> TxnState::OpenFirstOffset(int64_t producer_id) const {
  auto it = open_.find(producer_id);
  if (it == open_.end()) return std::nullopt;
  return it->second;
}

int64_t TxnState::StableOffset(int64_t high_watermark) const {
  int64_t stable = high_watermark;
  for (const auto& [id, first] : open_) stable = std::min(stable, first);
  return stable;
}

std::vector<AbortedTxn> TxnState::AbortedIn(int64_t from, int64_t to) const {
  std::vector<AbortedTxn> found;
  auto it = std::lower_bound(
      aborted_.begin(), aborted_.end(), from,
      [](const AbortedTxn& a, int64_t o) { return a.last_offset < o; });
  for (; it != aborted_.end(); ++it) {
    if (it->first_offset < to) found.push_back(*it);
  }
  return found;
}

void TxnState::TrimBelow(int64_t log_start) {
  while (!aborted_.empty() && aborted_.front().last_offset < log_start) {
    aborted_.pop_front();
  }
}

void TxnState::EncodeAsOf(int64_t next_offset, std::string* out) const {
  std::map<int64_t, int64_t> open;
  for (const auto& [id, first] : open_) {
    if (first < next_offset) open[id] = first;
  }
  std::vector<AbortedTxn> aborted;
  for (const AbortedTxn& a : aborted_) {
    if (a.last_offset < next_offset) {
      aborted.push_back(a);
    } else if (a.first_offset < next_offset) {
      open[a.producer_id] = a.first_offset;  // open then, aborted later
    }
  }
  Put32(out, static_cast<uint32_t>(open.size()));
  for (const auto& [id, first] : open) {
    Put64(out, static_cast<uint64_t>(id));
    Put64(out, static_cast<uint64_t>(first));
  }
  Put32(out, static_cast<uint32_t>(markers_.size()));
  for (const auto& [id, marker] : markers_) {
    const bool before = marker.offset < next_offset;
    Put64(out, static_cast<uint64_t>(id));
    Put32(out, static_cast<uint32_t>(before ? marker.txn_seq : 0));
    Put64(out, static_cast<uint64_t>(before ? marker.offset : -1));
  }
  Put32(out, static_cast<uint32_t>(aborted.size()));
  for (const AbortedTxn& a : aborted) {
    Put64(out, static_cast<uint64_t>(a.producer_id));
    Put64(out, static_cast<uint64_t>(a.first_offset));
    Put64(out, static_cast<uint64_t>(a.last_offset));
  }
}

absl::Status TxnState::Decode(absl::string_view* in, TxnState* state) {
  const absl::Status bad = absl::DataLossError("transaction state truncated");
  *state = TxnState();
  uint32_t count = 0;
  if (!Get32(in, &count) || count > in->size() / 16) return bad;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t id = 0, first = 0;
    if (!Get64(in, &id) || !Get64(in, &first)) return bad;
    state->open_[static_cast<int64_t>(id)] = static_cast<int64_t>(first);
  }
  if (!Get32(in, &count) || count > in->size() / 20) return bad;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t id = 0, offset = 0;
    uint32_t seq = 0;
    if (!Get64(in, &id) || !Get32(in, &seq) || !Get64(in, &offset)) {
      return bad;
    }
    if (seq == 0) continue;  // its markers follow in the log
    state->markers_[static_cast<int64_t>(id)] =
        MarkerInfo{static_cast<int32_t>(seq), static_cast<int64_t>(offset)};
  }
  if (!Get32(in, &count) || count > in->size() / 24) return bad;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t id = 0, first = 0, last = 0;
    if (!Get64(in, &id) || !Get64(in, &first) || !Get64(in, &last)) {
      return bad;
    }
    state->aborted_.push_back({static_cast<int64_t>(id),
                               static_cast<int64_t>(first),
                               static_cast<int64_t>(last)});
  }
  return absl::OkStatus();
}

}  // namespace chronik::partition
