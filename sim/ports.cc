#include "sim/ports.h"

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::sim {

absl::Status PortTable::Bind(int host, uint16_t port, std::string owner) {
  CHRONIK_CHECK(!owner.empty());
  const auto key = std::make_pair(host, port);
  auto it = bound_.find(key);
  if (it != bound_.end()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "bind host", host, ":", port,
        ": EADDRINUSE (Address already in use; held by ", it->second, ")"));
  }
  CHRONIK_CHECK_LT(bound_.size(), kMaxBoundPorts);
  bound_.emplace(key, std::move(owner));
  return absl::OkStatus();
}

void PortTable::Release(int host, uint16_t port, const std::string& owner) {
  auto it = bound_.find(std::make_pair(host, port));
  CHRONIK_CHECK(it != bound_.end()) << "release of unbound port " << port;
  CHRONIK_CHECK_EQ(it->second, owner) << "release by a process not holding it";
  bound_.erase(it);
}

void PortTable::ReleaseAll(int host, const std::string& owner) {
  for (auto it = bound_.lower_bound(std::make_pair(host, uint16_t{0}));
       it != bound_.end() && it->first.first == host;) {
    if (it->second == owner) {
      it = bound_.erase(it);
    } else {
      ++it;
    }
  }
}

bool PortTable::IsBound(int host, uint16_t port) const {
  return bound_.contains(std::make_pair(host, port));
}

std::string PortTable::Owner(int host, uint16_t port) const {
  auto it = bound_.find(std::make_pair(host, port));
  return it == bound_.end() ? std::string() : it->second;
}

}  // namespace chronik::sim
