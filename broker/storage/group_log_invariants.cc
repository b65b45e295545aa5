// GroupLog (group_log.h): the invariant checker, in TigerBeetle's spirit: the
// rules the rest of the log relies on, stated once, checked after every
// mutation in debug builds, each naming the rule and the file it guards.

#include <algorithm>

#include "base/check.h"
#include "broker/storage/group_log.h"
#include "broker/storage/group_log_internal.h"

namespace chronik::storage {

void GroupLog::DebugCheck() const {
#ifndef NDEBUG
  if (failed_.ok()) CheckInvariants();
#endif
}

void GroupLog::CheckInvariants() const {
  CHRONIK_CHECK(!segments_.empty()) << dir_ << ": a log has a segment";
  for (size_t i = 0; i < segments_.size(); ++i) {
    CheckSegment(*segments_[i], i + 1 == segments_.size());
    if (i > 0) CheckChain(*segments_[i - 1], *segments_[i]);
  }
  CHRONIK_CHECK_LE(first_index(), last_index() + 1) << dir_ << ": bounds";
  for (const Damage& d : damage_) {
    CHRONIK_CHECK_LE(d.first_index, d.last_index)
        << dir_ << ": damage range of " << d.file;
  }
  const Segment& last = active();
  if (!last.damaged_tail) {
    CHRONIK_CHECK_EQ(last.file->Size() + pending_.size(), last.end_position)
        << last.path << ": active segment size (file + write buffer)";
  }
}

bool GroupLog::HasDamageIn(const Segment& seg) const {
  return std::any_of(damage_.begin(), damage_.end(),
                     [&](const Damage& d) { return d.file == seg.path; });
}

// One segment: index bounds, sealed state, size, sparse index.
void GroupLog::CheckSegment(const Segment& seg, bool is_last) const {
  const uint64_t first = seg.header.first_index;
  CHRONIK_CHECK_GE(first, 1u) << seg.path << ": first index";
  CHRONIK_CHECK_EQ(seg.name, format::SegmentName(first))
      << seg.path << ": name and first index disagree";
  CHRONIK_CHECK_GE(seg.last_index + 1, first)
      << seg.path << ": segment ends before it starts";
  CHRONIK_CHECK_EQ(seg.sealed, !is_last)
      << seg.path << ": only the active (last) segment is unsealed";
  CHRONIK_CHECK_GE(seg.end_position, kSegmentHeaderBytes) << seg.path;
  if (!seg.header_ok) return;  // all of it is reported damage
  if (seg.sealed) {
    CHRONIK_CHECK_EQ(seg.file->Size(), seg.end_position)
        << seg.path << ": sealed segment size";
  }
  CHRONIK_CHECK_GE(seg.last_term, seg.header.prev_term)
      << seg.path << ": term decreases";
  CHRONIK_CHECK_GE(seg.next_offset, seg.header.first_offset)
      << seg.path << ": Kafka offsets decrease";
  const bool damaged = seg.damaged_tail || HasDamageIn(seg);
  const uint64_t entries = seg.last_index + 1 - first;
  if (!damaged) {
    CHRONIK_CHECK_GE(seg.end_position,
                     kSegmentHeaderBytes + entries * kRecordHeaderBytes)
        << seg.path << ": too small for its " << entries << " entries";
    CHRONIK_CHECK_EQ(seg.points.empty(), entries == 0)
        << seg.path << ": sparse index of " << entries << " entries";
  }
  if (seg.points.empty()) return;
  const GroupLog::IndexPoint& front = seg.points.front();
  CHRONIK_CHECK(damaged ||
                (front.index == first && front.position == kSegmentHeaderBytes))
      << seg.path << ": sparse index must start at the first record";
  CHRONIK_CHECK_GE(front.term, seg.header.prev_term) << seg.path;
  CHRONIK_CHECK_GE(front.offset, seg.header.first_offset) << seg.path;
  for (size_t i = 0; i < seg.points.size(); ++i) {
    const GroupLog::IndexPoint& p = seg.points[i];
    CHRONIK_CHECK(p.index >= first && p.index <= seg.last_index &&
                  p.position >= kSegmentHeaderBytes &&
                  p.position < seg.end_position && p.offset <= seg.next_offset)
        << seg.path << ": sparse index point " << i << " (index " << p.index
        << ", position " << p.position << ") outside its segment";
    if (i == 0) continue;
    const GroupLog::IndexPoint& q = seg.points[i - 1];
    CHRONIK_CHECK(q.index < p.index && q.position < p.position &&
                  q.term <= p.term && q.offset <= p.offset)
        << seg.path << ": sparse index out of order at point " << i;
  }
  CHRONIK_CHECK_LE(seg.points.back().term, seg.last_term)
      << seg.path << ": last term";
  if (!damaged) {
    CHRONIK_CHECK_EQ(seg.points.back().term, seg.last_term)
        << seg.path << ": a term change without an index point";
  }
}

// Two neighbouring segments: ordered and contiguous (a gap is reported as
// damage); terms and Kafka offsets carry over.
void GroupLog::CheckChain(const Segment& prev, const Segment& cur) const {
  CHRONIK_CHECK_GT(cur.header.first_index, prev.last_index)
      << cur.path << ": segments overlap (" << prev.path << " ends at "
      << prev.last_index << ")";
  if (cur.header.first_index > prev.last_index + 1) {
    CHRONIK_CHECK(DamageAt(prev.last_index + 1) != nullptr)
        << cur.path << ": entries " << prev.last_index + 1 << ".."
        << cur.header.first_index - 1
        << " missing between segments are not reported as damage";
    return;
  }
  if (!cur.header_ok || !prev.header_ok) return;
  CHRONIK_CHECK_GE(cur.header.prev_term, prev.last_term)
      << cur.path << ": term decreases across segments";
  CHRONIK_CHECK_GE(cur.header.first_offset, prev.next_offset)
      << cur.path << ": Kafka offsets decrease across segments";
  if (prev.damaged_tail || DamageAt(prev.last_index) != nullptr) return;
  CHRONIK_CHECK_EQ(cur.header.prev_term, prev.last_term)
      << cur.path << ": previous term does not chain";
  CHRONIK_CHECK_EQ(cur.header.first_offset, prev.next_offset)
      << cur.path << ": Kafka offsets do not chain";
}

}  // namespace chronik::storage
