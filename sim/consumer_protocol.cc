#include "sim/consumer_protocol.h"

#include <algorithm>
#include <utility>

#include "broker/kafka/wire.h"

namespace chronik::sim {

// ConsumerProtocolSubscription v0: the topics, no user data.
std::string Subscription(absl::string_view topic) {
  kafka::Writer writer;
  writer.WriteInt16(0);
  writer.WriteArrayLength(1, /*compact=*/false);
  writer.WriteString(topic, /*compact=*/false);
  writer.WriteNullableBytes(std::nullopt, /*compact=*/false);
  return writer.Release();
}

// ConsumerProtocolAssignment v0 of `partitions` of the topic.
std::string EncodeAssignment(absl::string_view topic,
                             const std::vector<int>& partitions) {
  kafka::Writer writer;
  writer.WriteInt16(0);
  writer.WriteArrayLength(1, /*compact=*/false);
  writer.WriteString(topic, /*compact=*/false);
  writer.WriteArrayLength(static_cast<int64_t>(partitions.size()), false);
  for (int p : partitions) writer.WriteInt32(p);
  writer.WriteNullableBytes(std::nullopt, /*compact=*/false);
  return writer.Release();
}

absl::StatusOr<std::vector<int>> DecodeAssignment(absl::string_view bytes) {
  std::vector<int> partitions;
  if (bytes.empty()) return partitions;  // nothing assigned
  kafka::Reader reader(bytes);
  reader.ReadInt16();
  const int32_t topics = reader.ReadArrayLength(false);
  for (int32_t t = 0; t < topics && reader.ok(); ++t) {
    reader.ReadString(false);
    const int32_t count = reader.ReadArrayLength(false);
    for (int32_t i = 0; i < count && reader.ok(); ++i) {
      partitions.push_back(reader.ReadInt32());
    }
  }
  if (!reader.ok()) return reader.status();
  std::sort(partitions.begin(), partitions.end());
  return partitions;
}

// The range assignor: members sorted by id, each a contiguous run of
// partitions, the first (partitions % members) one more.
std::vector<std::pair<std::string, std::vector<int>>> RangeAssign(
    std::vector<std::string> members, int partitions) {
  std::sort(members.begin(), members.end());
  std::vector<std::pair<std::string, std::vector<int>>> out;
  const int n = static_cast<int>(members.size());
  int next = 0;
  for (int i = 0; i < n; ++i) {
    const int count = partitions / n + (i < partitions % n ? 1 : 0);
    std::vector<int> mine;
    for (int k = 0; k < count; ++k) mine.push_back(next++);
    out.emplace_back(members[i], std::move(mine));
  }
  return out;
}

}  // namespace chronik::sim
