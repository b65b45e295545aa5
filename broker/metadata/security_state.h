// SecurityState: the replicated security part of the metadata state: SCRAM
// credentials (salted: salt, iterations, stored key, server key; never the
// password; KIP-554) and ACL bindings (Kafka's resource types, pattern types,
// operations, permission types). Applied by MetadataState like every
// command; pure and deterministic (sorted containers).
#ifndef CHRONIK_BROKER_METADATA_SECURITY_STATE_H_
#define CHRONIK_BROKER_METADATA_SECURITY_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/metadata.pb.h"

namespace chronik::metadata {

// Kafka's enum values (org.apache.kafka.common.{resource,acl}).
namespace acl {
enum ResourceType : int8_t {
  kResourceAny = 1,
  kTopic = 2,
  kGroup = 3,
  kCluster = 4,
  kTransactionalId = 5,
};
enum PatternType : int8_t {
  kPatternAny = 1,
  kMatch = 2,
  kLiteral = 3,
  kPrefixed = 4,
};
enum Operation : int8_t {
  kOpAny = 1,
  kAll = 2,
  kRead = 3,
  kWrite = 4,
  kCreate = 5,
  kDelete = 6,
  kAlter = 7,
  kDescribe = 8,
  kClusterAction = 9,
  kDescribeConfigs = 10,
  kAlterConfigs = 11,
  kIdempotentWrite = 12,
};
enum Permission : int8_t {
  kPermissionAny = 1,
  kDeny = 2,
  kAllow = 3,
};
inline constexpr char kWildcard[] = "*";
inline constexpr char kClusterName[] = "kafka-cluster";

// A DescribeAcls/DeleteAcls filter: nullopt names match everything.
struct Filter {
  int8_t resource_type = kResourceAny;
  std::optional<std::string> resource_name = {};
  int8_t pattern_type = kLiteral;
  std::optional<std::string> principal = {};
  std::optional<std::string> host = {};
  int8_t operation = kOpAny;
  int8_t permission = kPermissionAny;
};

// Whether a binding is one CreateAcls may store: known, concrete enum values
// (no ANY/MATCH), a principal "Type:name", a non-empty resource name, the
// cluster resource named kClusterName. InvalidArgument naming why not.
absl::Status ValidateBinding(const metapb::AclBinding& binding);
// Whether a filter is valid (INVALID_REQUEST otherwise).
absl::Status ValidateFilter(const Filter& filter);
// Kafka's AclBindingFilter.matches.
bool FilterMatches(const Filter& filter, const metapb::AclBinding& binding);
}  // namespace acl

// SCRAM mechanisms as Kafka numbers them (ScramMechanism).
enum class ScramMechanism : int8_t { kSha256 = 1, kSha512 = 2 };
inline constexpr int kMinScramIterations = 4096;
inline constexpr int kMaxScramIterations = 16384;
const char* ScramMechanismName(int mechanism);  // "SCRAM-SHA-256", or ""

class SecurityState {
 public:
  void Apply(const metapb::AlterScramCredentials& command);
  void Apply(const metapb::CreateAcls& command);
  void Apply(const metapb::DeleteAcls& command);

  const metapb::ScramCredential* FindCredential(absl::string_view user,
                                                int mechanism) const;
  // Every credential, sorted by (user, mechanism).
  std::vector<const metapb::ScramCredential*> Credentials() const;
  // Every ACL binding, sorted.
  std::vector<const metapb::AclBinding*> Acls() const;
  size_t acl_count() const { return acls_.size(); }

  void ToSnapshot(metapb::MetadataSnapshot* snapshot) const;
  absl::Status FromSnapshot(const metapb::MetadataSnapshot& snapshot);

 private:
  using AclKey =
      std::tuple<int, std::string, int, std::string, std::string, int, int>;
  static AclKey KeyOf(const metapb::AclBinding& binding);

  std::map<std::pair<std::string, int>, metapb::ScramCredential, std::less<>>
      credentials_;
  std::map<AclKey, metapb::AclBinding> acls_;
};

}  // namespace chronik::metadata

#endif  // CHRONIK_BROKER_METADATA_SECURITY_STATE_H_
