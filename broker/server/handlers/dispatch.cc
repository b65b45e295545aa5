#include <algorithm>
#include <utility>

#include "broker/server/handlers/handlers.h"

namespace chronik::broker {

void Dispatch(Services& s, const RequestContext& c,
              kafka::AnyRequest& request) {
  std::visit([&](auto& r) { Handle(s, c, r); }, request);
}

void Deadlines::Expire(int64_t now_ms) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now_ms) {
    std::function<void()> expire = std::move(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    expire();
  }
}

kafka::Uuid ToUuid(const std::string& bytes) {
  kafka::Uuid uuid{};
  if (bytes.size() == uuid.size()) {
    std::copy(bytes.begin(), bytes.end(), uuid.begin());
  }
  return uuid;
}

std::string FromUuid(const kafka::Uuid& uuid) {
  return std::string(uuid.begin(), uuid.end());
}

int64_t ClampTimeout(int64_t timeout_ms) {
  return std::clamp<int64_t>(timeout_ms, 0, kMaxRequestTimeoutMs);
}

}  // namespace chronik::broker
