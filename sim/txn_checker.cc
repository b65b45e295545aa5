#include "sim/txn_checker.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace chronik::sim {

void TxnChecker::OnRecordSent(const std::string& txn, int partition,
                              const std::string& value) {
  txns_[txn].values.push_back(value);
  records_[value] = Record{txn, partition, -1};
}

void TxnChecker::OnRecordAcked(const std::string& value, int64_t offset) {
  auto it = records_.find(value);
  if (it != records_.end()) it->second.offset = offset;
}

void TxnChecker::OnEndSent(const std::string& txn, bool commit) {
  if (commit) txns_[txn].commit_sent = true;
}

void TxnChecker::OnOutcome(const std::string& txn, Outcome outcome) {
  txns_[txn].outcome = outcome;
}

void TxnChecker::OnLogRecord(int partition, int64_t offset, int64_t producer_id,
                             const std::string& value) {
  log_[partition][offset] = LogRecord{producer_id, value};
}

void TxnChecker::OnMarker(int partition, int64_t offset, int64_t producer_id,
                          bool commit) {
  markers_[partition][offset] = {producer_id, commit};
}

void TxnChecker::OnDelivered(int partition, int64_t offset,
                             const std::string& value) {
  auto [it, inserted] = delivered_.emplace(value, std::pair(partition, offset));
  if (auto earlier = earlier_delivered_.find(value);
      inserted && earlier != earlier_delivered_.end()) {
    it = earlier;  // the same record again, or a DUPLICATE
  }
  if (it->second != std::pair(partition, offset)) {
    duplicates_.push_back(absl::StrCat(
        "DUPLICATE: read_committed delivered ", value, " at partition ",
        partition, " offset ", offset, " and at partition ", it->second.first,
        " offset ", it->second.second));
  }
}

void TxnChecker::OnLogStart(int partition, int64_t offset) {
  int64_t& start = log_starts_[partition];
  start = std::max(start, offset);
}

void TxnChecker::StartFinalRead() {
  for (auto& [value, at] : delivered_) earlier_delivered_.emplace(value, at);
  delivered_.clear();
}

uint64_t TxnChecker::committed() const {
  return std::count_if(txns_.begin(), txns_.end(), [](const auto& entry) {
    return entry.second.outcome == Outcome::kCommitted;
  });
}

int TxnChecker::NextMarker(int partition, int64_t offset,
                           int64_t producer_id) const {
  auto markers = markers_.find(partition);
  if (markers == markers_.end()) return -1;
  for (auto it = markers->second.upper_bound(offset);
       it != markers->second.end(); ++it) {
    if (it->second.first == producer_id) return it->second.second ? 1 : 0;
  }
  return -1;
}

bool TxnChecker::Gone(const Record& record) const {
  auto start = log_starts_.find(record.partition);
  return start != log_starts_.end() && record.offset >= 0 &&
         record.offset < start->second;
}

std::optional<std::string> TxnChecker::CheckAborted() const {
  for (const auto* deliveries : {&earlier_delivered_, &delivered_}) {
    if (std::optional<std::string> found = CheckAborted(*deliveries)) {
      return found;
    }
  }
  return std::nullopt;
}

std::optional<std::string> TxnChecker::CheckAborted(
    const std::map<std::string, std::pair<int, int64_t>>& deliveries) const {
  for (const auto& [value, at] : deliveries) {
    auto record = records_.find(value);
    if (record == records_.end()) continue;  // not transactional
    const Txn& txn = txns_.at(record->second.txn);
    if (!txn.commit_sent || txn.outcome == Outcome::kAborted) {
      return absl::StrCat("ABORTED READ: partition ", at.first, " offset ",
                          at.second, ": ", value, " of transaction ",
                          record->second.txn, " (",
                          txn.commit_sent ? "aborted" : "abort decided",
                          " by its client) was delivered to read_committed");
    }
    auto partition = log_.find(at.first);
    if (partition == log_.end()) continue;
    auto logged = partition->second.find(at.second);
    if (logged == partition->second.end()) continue;
    if (NextMarker(at.first, at.second, logged->second.producer_id) == 0) {
      return absl::StrCat("ABORTED READ: partition ", at.first, " offset ",
                          at.second, ": ", value, " of transaction ",
                          record->second.txn,
                          " is followed by its producer's abort marker but "
                          "was delivered to read_committed");
    }
  }
  return std::nullopt;
}

std::optional<std::string> TxnChecker::CheckTorn() const {
  for (const auto& [name, txn] : txns_) {
    std::vector<std::string> delivered, missing;
    for (const std::string& value : txn.values) {
      const Record& record = records_.at(value);
      if (Gone(record)) continue;
      (delivered_.count(value) > 0 ? delivered : missing).push_back(value);
    }
    if (missing.empty()) continue;
    const Record& first_missing = records_.at(missing.front());
    bool commit_marker = false;
    if (auto p = log_.find(first_missing.partition);
        first_missing.offset >= 0 && p != log_.end()) {
      auto logged = p->second.find(first_missing.offset);
      commit_marker = logged != p->second.end() &&
                      NextMarker(first_missing.partition, first_missing.offset,
                                 logged->second.producer_id) == 1;
    }
    const bool torn = txn.commit_sent && txn.outcome == Outcome::kUnknown &&
                      !delivered.empty();
    if (txn.outcome == Outcome::kCommitted || commit_marker || torn) {
      return absl::StrCat(
          "TORN TXN: transaction ", name, " (",
          txn.outcome == Outcome::kCommitted ? "committed"
          : commit_marker                    ? "commit marker in the log"
                                             : "outcome unknown",
          "): ", delivered.size(), " of ", delivered.size() + missing.size(),
          " records delivered to read_committed; missing ", missing.front(),
          " (partition ", first_missing.partition, " offset ",
          first_missing.offset, ")");
    }
  }
  return std::nullopt;
}

std::optional<std::string> TxnChecker::Check() const {
  if (!duplicates_.empty()) return duplicates_.front();
  if (std::optional<std::string> aborted = CheckAborted()) return aborted;
  return CheckTorn();
}

}  // namespace chronik::sim
