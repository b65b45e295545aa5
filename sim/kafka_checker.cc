#include "sim/kafka_checker.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace chronik::sim {

void KafkaChecker::OnSend(int partition, const std::string& value) {
  sends_.emplace(value, partition);
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

void KafkaChecker::OnReadDone(int partition, int64_t high_watermark) {
  read_done_[partition] = high_watermark;
}

std::optional<std::string> KafkaChecker::Check() const {
  if (!ack_conflicts_.empty()) return ack_conflicts_.front();
  // Where every value was read: value -> (partition, offset), first seen.
  std::map<std::string, std::pair<int, int64_t>> where;
  for (const auto& [partition, offsets] : read_) {
    for (const auto& [offset, value] : offsets) {
      auto [it, inserted] = where.emplace(value, std::pair(partition, offset));
      if (!inserted) {
        return absl::StrCat("DUPLICATE: partition ", partition, " offset ",
                            offset, " holds ", value, ", already at partition ",
                            it->second.first, " offset ", it->second.second);
      }
    }
  }
  for (const auto& [value, ack] : acks_) {
    auto it = where.find(value);
    if (it == where.end()) continue;
    if (it->second.first != ack.partition ||
        (ack.offset >= 0 && it->second.second != ack.offset)) {
      return absl::StrCat("INCONSISTENT OFFSET: partition ", ack.partition,
                          " value ", value, " acknowledged at offset ",
                          ack.offset, " but read at partition ",
                          it->second.first, " offset ", it->second.second);
    }
  }
  for (const auto& [value, ack] : acks_) {
    if (where.count(value) == 0) {
      return absl::StrCat("LOST: partition ", ack.partition, " offset ",
                          ack.offset, " value ", value,
                          " was acknowledged and never read");
    }
  }
  for (const auto& [value, at] : where) {
    if (sends_.count(value) == 0) {
      return absl::StrCat("UNEXPECTED: partition ", at.first, " offset ",
                          at.second, " holds ", value, ", never sent");
    }
  }
  for (const auto& [partition, high_watermark] : read_done_) {
    auto it = read_.find(partition);
    for (int64_t offset = 0; offset < high_watermark; ++offset) {
      if (it == read_.end() || it->second.count(offset) == 0) {
        return absl::StrCat("GAP: partition ", partition, " offset ", offset,
                            " below the high watermark ", high_watermark,
                            " was never read");
      }
    }
  }
  return std::nullopt;
}

}  // namespace chronik::sim
