// The simulated port table: which (host, port) pairs are bound and by whom.
//
// Binding a port that is already bound fails the way the OS does (EADDRINUSE),
// as an absl::Status the node must handle: it is an environment error, not a
// bug. Faults use the same table: a "squatter" (another process) may hold a
// node's port when the node starts, or grab it between a crash and the restart.
// Ordered containers only, so nothing here depends on hash order. Not
// thread-safe.
#ifndef CHRONIK_SIM_PORTS_H_
#define CHRONIK_SIM_PORTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"

namespace chronik::sim {

class PortTable {
 public:
  // Upper bound on bound ports per run, so a leaking scenario fails loudly.
  static constexpr size_t kMaxBoundPorts = 4096;

  // Binds (host, port) for `owner`. AlreadyExists with "EADDRINUSE" in the
  // message when the port is held (by anyone, including `owner`).
  absl::Status Bind(int host, uint16_t port, std::string owner);
  // Releases a bound port; releasing a port held by someone else is a bug.
  void Release(int host, uint16_t port, const std::string& owner);
  // Releases every port `owner` holds on `host` (a process exits or crashes).
  void ReleaseAll(int host, const std::string& owner);

  bool IsBound(int host, uint16_t port) const;
  // The holder of a bound port ("" when free).
  std::string Owner(int host, uint16_t port) const;
  size_t bound() const { return bound_.size(); }

 private:
  std::map<std::pair<int, uint16_t>, std::string> bound_;
};

}  // namespace chronik::sim

#endif  // CHRONIK_SIM_PORTS_H_
