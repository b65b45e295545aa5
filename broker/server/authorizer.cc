#include "broker/server/authorizer.h"

#include <algorithm>

#include "absl/strings/match.h"

namespace chronik::broker {
namespace {

// Every API that needs an operation on the cluster resource (Kafka's
// KafkaApis authorizeClusterOperation calls).
constexpr ApiAccess kApiAccess[] = {
    {29, acl::kDescribe},  // DescribeAcls
    {30, acl::kAlter},     // CreateAcls
    {31, acl::kAlter},     // DeleteAcls
    {50, acl::kDescribe},  // DescribeUserScramCredentials
    {51, acl::kAlter},     // AlterUserScramCredentials
    {45, acl::kAlter},     // AlterPartitionReassignments
    {46, acl::kDescribe},  // ListPartitionReassignments
    {43, acl::kAlter},     // ElectLeaders
    {35, acl::kDescribe},  // DescribeLogDirs
    // DescribeTransactions and ListTransactions: DESCRIBE on each
    // transactional id (handlers/transactions.cc), as Kafka.
};

bool ResourceMatches(const metapb::AclBinding& b, const Resource& r) {
  if (b.resource_type() != r.type) return false;
  if (b.pattern_type() == acl::kPrefixed) {
    return absl::StartsWith(r.name, b.resource_name());
  }
  return b.resource_name() == r.name || b.resource_name() == acl::kWildcard;
}

bool OperationCovers(int acl_op, int8_t wanted, bool allow) {
  if (acl_op == acl::kAll || acl_op == wanted) return true;
  if (!allow) return false;  // a DENY of READ does not deny DESCRIBE
  if (wanted == acl::kDescribe) {
    return acl_op == acl::kRead || acl_op == acl::kWrite ||
           acl_op == acl::kDelete || acl_op == acl::kAlter;
  }
  return wanted == acl::kDescribeConfigs && acl_op == acl::kAlterConfigs;
}

}  // namespace

std::optional<int8_t> ClusterOperationFor(int16_t api_key) {
  for (const ApiAccess& access : kApiAccess) {
    if (access.api_key == api_key) return access.operation;
  }
  return std::nullopt;
}

std::string HostOf(absl::string_view peer) {
  const size_t colon = peer.rfind(':');
  if (colon == absl::string_view::npos) return std::string(peer);
  absl::string_view host = peer.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::string(host);
}

bool Authorizer::IsSuperUser(absl::string_view principal) const {
  return std::find(super_users_.begin(), super_users_.end(), principal) !=
         super_users_.end();
}

bool Authorizer::Authorize(const metadata::SecurityState& acls,
                           absl::string_view principal, absl::string_view host,
                           int8_t operation, const Resource& resource) const {
  if (IsSuperUser(principal)) return true;
  bool any = false;
  bool allowed = false;
  for (const metapb::AclBinding* b : acls.Acls()) {
    if (!ResourceMatches(*b, resource)) continue;
    any = true;
    if (b->principal() != principal && b->principal() != "User:*") continue;
    if (b->host() != host && b->host() != acl::kWildcard) continue;
    const bool allow = b->permission_type() == acl::kAllow;
    if (!OperationCovers(b->operation(), operation, allow)) continue;
    if (!allow) return false;  // deny wins
    allowed = true;
  }
  return any ? allowed : allow_if_no_acl_;
}

}  // namespace chronik::broker
