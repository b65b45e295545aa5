#include "broker/group/consumer_subscription.h"

#include "absl/strings/str_cat.h"
#include "broker/kafka/wire.h"

namespace chronik::group {

absl::StatusOr<std::vector<std::string>> SubscribedTopics(
    absl::string_view metadata) {
  kafka::Reader reader(metadata);
  reader.Field("version");
  const int16_t version = reader.ReadInt16();
  reader.Field("topics");
  const int32_t count = reader.ReadArrayLength(/*compact=*/false);
  std::vector<std::string> topics;
  for (int32_t i = 0; i < count && reader.ok(); ++i) {
    topics.push_back(reader.ReadString(/*compact=*/false));
  }
  if (!reader.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a consumer subscription: ", reader.status().message()));
  }
  if (version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer subscription version ", version));
  }
  return topics;
}

}  // namespace chronik::group
