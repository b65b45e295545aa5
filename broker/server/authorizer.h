// Authorizer: Kafka's ACL authorizer (AclAuthorizer) over the replicated ACL
// bindings. Authorize(principal, host, operation, resource) says whether the
// principal may act: super users always; else an ACL matching the resource
// (literal name, literal "*", or a prefix) that denies the principal (or
// "User:*") from the host (or "*") the operation (or ALL) wins; else one that
// allows it (READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS
// implies DESCRIBE_CONFIGS); a resource no ACL names is allowed only with
// allow_everyone_if_no_acl_found. Pure.
//
// kApiAccess is the one table of what each API needs beyond its per-resource
// checks (the cluster operation an admin API needs); handlers acting on
// topics, groups and transactional ids check each one they touch.
#ifndef CHRONIK_BROKER_SERVER_AUTHORIZER_H_
#define CHRONIK_BROKER_SERVER_AUTHORIZER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "broker/metadata/security_state.h"

namespace chronik::broker {

namespace acl = metadata::acl;

inline constexpr char kAnonymous[] = "User:ANONYMOUS";

struct Resource {
  int8_t type = acl::kTopic;
  std::string name;
};

class Authorizer {
 public:
  Authorizer(std::vector<std::string> super_users, bool allow_if_no_acl)
      : super_users_(std::move(super_users)),
        allow_if_no_acl_(allow_if_no_acl) {}

  bool Authorize(const metadata::SecurityState& acls,
                 absl::string_view principal, absl::string_view host,
                 int8_t operation, const Resource& resource) const;
  bool IsSuperUser(absl::string_view principal) const;

 private:
  std::vector<std::string> super_users_;
  bool allow_if_no_acl_;
};

// What an API needs on the cluster resource before it acts (nullopt: only
// per-resource checks in its handler, or nothing: ApiVersions, SASL).
struct ApiAccess {
  int16_t api_key = 0;
  int8_t operation = acl::kDescribe;
};
std::optional<int8_t> ClusterOperationFor(int16_t api_key);

// The host part of "host:port" (ACL hosts name the address only).
std::string HostOf(absl::string_view peer);

}  // namespace chronik::broker

#endif  // CHRONIK_BROKER_SERVER_AUTHORIZER_H_
