#include "sim/kafka_checker.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace chronik::sim {
namespace {

// Simulated nanoseconds as "12.345678s".
std::string At(int64_t nanos) {
  return absl::StrFormat("%.6fs", static_cast<double>(nanos) / 1e9);
}

}  // namespace

void KafkaChecker::OnSend(int partition, const std::string& value,
                          bool idempotent) {
  sends_.emplace(value, partition);
  if (!idempotent) plain_sends_.insert(value);
}

void KafkaChecker::OnAck(int partition, const std::string& value,
                         int64_t offset) {
  auto [it, inserted] = acks_.emplace(value, Ack{partition, offset});
  if (!inserted && offset >= 0 && it->second.offset >= 0 &&
      it->second.offset != offset) {
    ack_conflicts_.push_back(absl::StrCat(
        "INCONSISTENT OFFSET: partition ", partition, " value ", value,
        " acknowledged at offset ", it->second.offset, " and at ", offset));
  }
  if (it->second.offset < 0) it->second.offset = offset;
}

void KafkaChecker::OnRead(int partition, int64_t offset,
                          const std::string& value) {
  ++reads_;
  read_[partition][offset] = value;
}

void KafkaChecker::OnControl(int partition, int64_t first, int64_t last) {
  for (int64_t offset = first; offset <= last; ++offset) {
    control_[partition].insert(offset);
  }
}

void KafkaChecker::OnReadDone(int partition, int64_t high_watermark) {
  read_done_[partition] = high_watermark;
}

std::optional<std::string> KafkaChecker::Check() const {
  if (!ack_conflicts_.empty()) return ack_conflicts_.front();
  if (compaction_.anomaly().has_value()) return compaction_.anomaly();
  // Where every value was read: value -> (partition, offset), first seen.
  std::map<std::string, std::pair<int, int64_t>> where;
  for (const auto& [partition, offsets] : read_) {
    for (const auto& [offset, value] : offsets) {
      auto [it, inserted] = where.emplace(value, std::pair(partition, offset));
      if (!inserted && plain_sends_.count(value) == 0) {
        return absl::StrCat("DUPLICATE: partition ", partition, " offset ",
                            offset, " holds ", value, ", already at partition ",
                            it->second.first, " offset ", it->second.second);
      }
    }
  }
  for (const auto& [value, ack] : acks_) {
    auto it = where.find(value);
    if (it == where.end()) continue;
    if (plain_sends_.count(value) > 0) {
      // Possibly stored more than once: the acknowledged offset holds it.
      auto read = read_.find(ack.partition);
      if (ack.offset < 0 ||
          (read != read_.end() && read->second.count(ack.offset) > 0 &&
           read->second.at(ack.offset) == value)) {
        continue;
      }
    }
    if (it->second.first != ack.partition ||
        (ack.offset >= 0 && it->second.second != ack.offset)) {
      return absl::StrCat("INCONSISTENT OFFSET: partition ", ack.partition,
                          " value ", value, " acknowledged at offset ",
                          ack.offset, " but read at partition ",
                          it->second.first, " offset ", it->second.second);
    }
  }
  for (const auto& [value, ack] : acks_) {
    // Below the log start the final consumer read from, it was deleted.
    const int64_t from = ReadFrom(ack.partition);
    const bool removed = from > 0 && ack.offset < from;
    if (where.count(value) > 0 || removed ||
        compaction_.CompactedAway(ack.partition, ack.offset, value)) {
      continue;
    }
    if (compaction_.compacted()) {
      return absl::StrCat("COMPACTED LOST: partition ", ack.partition,
                          " offset ", ack.offset, " value ", value,
                          " was acknowledged and never read, and no later "
                          "record of its key was read");
    }
    return absl::StrCat(
        "LOST: partition ", ack.partition, " offset ", ack.offset, " value ",
        value, " was acknowledged and never read",
        from > 0 ? absl::StrCat(" (the log starts at ", from, ")") : "");
  }
  for (const auto& [value, at] : where) {
    if (sends_.count(value) == 0) {
      return absl::StrCat("UNEXPECTED: partition ", at.first, " offset ",
                          at.second, " holds ", value, ", never sent");
    }
  }
  for (const auto& [partition, high_watermark] : read_done_) {
    auto it = read_.find(partition);
    for (int64_t offset = ReadFrom(partition); offset < high_watermark;
         ++offset) {
      const bool control = control_.count(partition) > 0 &&
                           control_.at(partition).count(offset) > 0;
      if (!control && !compaction_.Covered(partition, offset) &&
          (it == read_.end() || it->second.count(offset) == 0)) {
        return absl::StrCat("GAP: partition ", partition, " offset ", offset,
                            " below the high watermark ", high_watermark,
                            " was never read");
      }
    }
  }
  if (group_anomaly_.has_value()) return group_anomaly_;
  return CheckGroupsAgainstLog();
}

// ---------------------------------------------------------------- groups

void KafkaChecker::GroupAnomaly(std::string text) {
  if (!group_anomaly_.has_value()) group_anomaly_ = std::move(text);
}

KafkaChecker::CommitAck KafkaChecker::CommittedBefore(int partition,
                                                      int64_t at) const {
  auto it = commit_acks_.find(partition);
  if (it == commit_acks_.end()) return CommitAck{};
  auto after = it->second.lower_bound(at);  // first ack at or after `at`
  if (after == it->second.begin()) return CommitAck{};
  return std::prev(after)->second;
}

void KafkaChecker::OnGroupOffsetFetched(int64_t sent_at, int64_t now,
                                        const std::string& member,
                                        int partition, int64_t committed) {
  const CommitAck floor = CommittedBefore(partition, sent_at);
  if (floor.offset >= 0 && committed < floor.offset) {
    GroupAnomaly(absl::StrCat(
        "COMMITTED OFFSET WENT BACK: at ", At(now), " member ", member,
        " was told committed offset ", committed, " of partition ", partition,
        " by an OffsetFetch sent at ", At(sent_at), ", but offset ",
        floor.offset, " had been committed (acknowledged to ", floor.member,
        " at ", At(floor.acked_at), ")"));
  }
  GroupSession session;
  session.id = next_session_++;
  session.started_at = now;
  session.start = std::max<int64_t>(committed, 0);
  session.position = session.start;
  session.floor = floor.offset;
  session.floor_acked_at = floor.acked_at;
  session.floor_member = floor.member;
  sessions_[{member, partition}] = session;
}

void KafkaChecker::OnGroupRevoked(const std::string& member, int partition) {
  sessions_.erase({member, partition});
}

void KafkaChecker::OnGroupRead(int64_t now, const std::string& member,
                               int partition, int64_t offset,
                               const std::string& value) {
  ++group_reads_;
  auto session_it = sessions_.find({member, partition});
  if (session_it == sessions_.end()) {
    GroupAnomaly(absl::StrCat("GROUP READ WITHOUT OFFSET FETCH: at ", At(now),
                              " member ", member, " read partition ", partition,
                              " offset ", offset));
    return;
  }
  GroupSession& session = session_it->second;
  if (offset > session.position) {
    skips_.push_back(
        {now, member, partition, session.position, offset, session.start});
  }
  session.position = std::max(session.position, offset + 1);
  auto [it, first] = delivered_[partition].emplace(
      offset, Delivery{session.id, member, now, value});
  if (first) return;
  const Delivery& before = it->second;
  if (before.value != value) {
    GroupAnomaly(absl::StrCat("INCONSISTENT OFFSET: at ", At(now), " member ",
                              member, " read partition ", partition, " offset ",
                              offset, " as ", value, ", member ", before.member,
                              " read it as ", before.value, " at ",
                              At(before.at)));
  } else if (before.session != session.id && offset < session.floor) {
    GroupAnomaly(absl::StrCat(
        "DUPLICATE DELIVERY: at ", At(now), " member ", member,
        " read partition ", partition, " offset ", offset, " (", value,
        "), delivered to member ", before.member, " at ", At(before.at),
        "; offset ", session.floor, " was committed (acknowledged to ",
        session.floor_member, " at ", At(session.floor_acked_at), ") before ",
        member, " fetched the group's offsets, which said ", session.start));
  }
}

void KafkaChecker::OnGroupCommitAcked(int64_t now, const std::string& member,
                                      int partition, int64_t offset) {
  std::map<int64_t, CommitAck>& acks = commit_acks_[partition];
  CommitAck running = acks.empty() ? CommitAck{} : acks.rbegin()->second;
  if (offset > running.offset) running = CommitAck{offset, member, now};
  acks[now] = running;
}

void KafkaChecker::OnGroupCommitRefusedRebalancing(int64_t now,
                                                   const std::string& member,
                                                   int32_t generation,
                                                   int partition,
                                                   int64_t offset) {
  GroupAnomaly(absl::StrCat(
      "COMMIT REFUSED: at ", At(now), " member ", member,
      "'s OffsetCommit of generation ", generation, " (partition ", partition,
      " offset ", offset,
      ") was answered REBALANCE_IN_PROGRESS before the member rejoined; "
      "Kafka accepts commits of the current generation while a rebalance is "
      "prepared, so the next owner re-reads what was consumed"));
}

std::optional<std::string> KafkaChecker::GroupLag() const {
  for (const auto& [partition, high_watermark] : read_done_) {
    auto it = commit_acks_.find(partition);
    const int64_t committed =
        it == commit_acks_.end() ? -1 : it->second.rbegin()->second.offset;
    if (high_watermark > 0 && committed < high_watermark) {
      return absl::StrCat("partition ", partition, ": the group committed ",
                          committed, " of the high watermark ", high_watermark);
    }
  }
  return std::nullopt;
}

std::optional<std::string> KafkaChecker::CheckGroupsAgainstLog() const {
  for (const auto& [partition, offsets] : delivered_) {
    auto log = read_.find(partition);
    for (const auto& [offset, delivery] : offsets) {
      if (log == read_.end()) break;  // the final consumer never read it
      auto stored = log->second.find(offset);
      if (stored == log->second.end() &&
          (offset < ReadFrom(partition) ||
           compaction_.CompactedAway(partition, offset, delivery.value))) {
        continue;  // deleted or compacted away since
      }
      if (stored == log->second.end() || stored->second != delivery.value) {
        return absl::StrCat("INCONSISTENT OFFSET: at ", At(delivery.at),
                            " member ", delivery.member, " read partition ",
                            partition, " offset ", offset, " as ",
                            delivery.value, ", the final log holds ",
                            stored == log->second.end() ? std::string("nothing")
                                                        : stored->second);
      }
    }
  }
  for (const Skip& skip : skips_) {
    auto log = read_.find(skip.partition);
    if (log == read_.end()) continue;
    // A record a replica may have compacted away by then is no skip.
    auto present = log->second.lower_bound(skip.from);
    while (present != log->second.end() && present->first < skip.to &&
           compaction_.CompactedAway(skip.partition, present->first,
                                     present->second)) {
      ++present;
    }
    if (present == log->second.end() || present->first >= skip.to) continue;
    return absl::StrCat("POLL SKIP: at ", At(skip.at), " member ", skip.member,
                        " read partition ", skip.partition, " offset ", skip.to,
                        " at position ", skip.from,
                        " (its session started at committed "
                        "offset ",
                        skip.session_start, "), skipping offset ",
                        present->first, " (", present->second, ") of the log");
  }
  return std::nullopt;
}

// ------------------------------------------------------------- log starts

void KafkaChecker::LogStartAnomaly(std::string text) {
  if (!log_start_anomaly_.has_value()) log_start_anomaly_ = std::move(text);
}

int64_t KafkaChecker::DeletedBefore(int partition, int64_t at) const {
  auto it = log_starts_.find(partition);
  if (it == log_starts_.end()) return 0;
  auto after = it->second.acked.lower_bound(at);  // first ack at or after
  if (after == it->second.acked.begin()) return 0;
  return std::prev(after)->second;
}

int64_t KafkaChecker::ReadFrom(int partition) const {
  auto it = read_from_.find(partition);
  return it == read_from_.end() ? 0 : it->second;
}

void KafkaChecker::OnDeleteRecordsSent(int partition, int64_t offset) {
  LogStarts& starts = log_starts_[partition];
  if (offset < 0) {
    starts.unbounded = true;
  } else {
    starts.max_requested = std::max(starts.max_requested, offset);
  }
}

void KafkaChecker::OnDeleteRecordsAcked(int64_t sent_at, int64_t now,
                                        int partition, int64_t offset,
                                        int64_t low_watermark) {
  OnLogStartSeen(sent_at, now, partition, low_watermark, "DeleteRecords");
  if (offset >= 0 && low_watermark < offset) {
    LogStartAnomaly(
        absl::StrCat("LOG START WENT BACK: at ", At(now), " DeleteRecords(",
                     offset, ") of partition ", partition,
                     " was acknowledged with low watermark ", low_watermark));
  }
  if (offset < 0) return;
  std::map<int64_t, int64_t>& acked = log_starts_[partition].acked;
  const int64_t running =
      std::max(acked.empty() ? 0 : acked.rbegin()->second, offset);
  acked[now] = running;
}

void KafkaChecker::OnLogStartSeen(int64_t sent_at, int64_t now, int partition,
                                  int64_t log_start, const std::string& how) {
  LogStarts& starts = log_starts_[partition];
  starts.highest_seen = std::max(starts.highest_seen, log_start);
  if (delete_records_only_ && !starts.unbounded &&
      log_start > starts.max_requested) {
    LogStartAnomaly(absl::StrCat(
        "LOG START BEYOND REQUEST: at ", At(now), " ", how,
        " reported log start ", log_start, " of partition ", partition,
        ", but DeleteRecords was asked for offset ", starts.max_requested,
        " at most (and nothing else trims the topic)"));
  }
  const int64_t deleted = sent_at >= 0 ? DeletedBefore(partition, sent_at) : 0;
  if (log_start < deleted) {
    LogStartAnomaly(absl::StrCat(
        "LOG START WENT BACK: at ", At(now), " ", how, " (sent at ",
        At(sent_at), ") reported log start ", log_start, " of partition ",
        partition, ", but DeleteRecords(", deleted,
        ") had been acknowledged before"));
  }
}

int64_t KafkaChecker::HighestLogStartSeen(int partition) const {
  auto it = log_starts_.find(partition);
  return it == log_starts_.end() ? 0 : it->second.highest_seen;
}

void KafkaChecker::OnReadFrom(int partition, int64_t offset) {
  int64_t& from = read_from_[partition];
  from = std::max(from, offset);
}

void KafkaChecker::OnGroupReset(int64_t /*now*/, const std::string& member,
                                int partition, int64_t offset) {
  auto it = sessions_.find({member, partition});
  if (it == sessions_.end()) return;
  it->second.position = std::max(it->second.position, offset);
}

}  // namespace chronik::sim
