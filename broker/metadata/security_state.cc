#include "broker/metadata/security_state.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace chronik::metadata {
namespace acl {
namespace {

bool Between(int value, int lo, int hi) { return value >= lo && value <= hi; }

}  // namespace

absl::Status ValidateBinding(const metapb::AclBinding& b) {
  if (!Between(b.resource_type(), kTopic, kTransactionalId)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown resource type ", b.resource_type()));
  }
  if (!Between(b.pattern_type(), kLiteral, kPrefixed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pattern type ", b.pattern_type(),
                     " is not LITERAL (3) or PREFIXED (4)"));
  }
  if (!Between(b.operation(), kAll, kIdempotentWrite)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown operation ", b.operation()));
  }
  if (!Between(b.permission_type(), kDeny, kAllow)) {
    return absl::InvalidArgumentError(
        absl::StrCat("permission type ", b.permission_type(),
                     " is not DENY (2) or ALLOW (3)"));
  }
  if (b.resource_name().empty()) {
    return absl::InvalidArgumentError("empty resource name");
  }
  const size_t colon = b.principal().find(':');
  if (colon == std::string::npos || colon == 0 ||
      colon + 1 == b.principal().size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "principal '", b.principal(), "' is not of the form Type:name"));
  }
  if (b.host().empty()) return absl::InvalidArgumentError("empty host");
  if (b.resource_type() == kCluster && b.resource_name() != kClusterName) {
    return absl::InvalidArgumentError(
        absl::StrCat("the cluster resource is named '", kClusterName, "'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateFilter(const Filter& f) {
  if (!Between(f.resource_type, kResourceAny, kTransactionalId) ||
      !Between(f.pattern_type, kPatternAny, kPrefixed) ||
      !Between(f.operation, kOpAny, kIdempotentWrite) ||
      !Between(f.permission, kPermissionAny, kAllow)) {
    return absl::InvalidArgumentError("unknown enum value in an ACL filter");
  }
  return absl::OkStatus();
}

bool FilterMatches(const Filter& f, const metapb::AclBinding& b) {
  if (f.resource_type != kResourceAny && f.resource_type != b.resource_type()) {
    return false;
  }
  if (f.pattern_type != kPatternAny && f.pattern_type != kMatch &&
      f.pattern_type != b.pattern_type()) {
    return false;
  }
  if (f.resource_name.has_value()) {
    const std::string& name = *f.resource_name;
    if (f.pattern_type == kPatternAny || f.pattern_type == b.pattern_type()) {
      if (name != b.resource_name()) return false;
    } else if (b.pattern_type() == kLiteral) {  // MATCH
      if (name != b.resource_name() && b.resource_name() != kWildcard) {
        return false;
      }
    } else if (!absl::StartsWith(name, b.resource_name())) {
      return false;
    }
  }
  if (f.principal.has_value() && *f.principal != b.principal()) return false;
  if (f.host.has_value() && *f.host != b.host()) return false;
  if (f.operation != kOpAny && f.operation != b.operation()) return false;
  return f.permission == kPermissionAny || f.permission == b.permission_type();
}

}  // namespace acl

const char* ScramMechanismName(int mechanism) {
  switch (mechanism) {
    case static_cast<int>(ScramMechanism::kSha256):
      return "SCRAM-SHA-256";
    case static_cast<int>(ScramMechanism::kSha512):
      return "SCRAM-SHA-512";
    default:
      return "";
  }
}

SecurityState::AclKey SecurityState::KeyOf(const metapb::AclBinding& b) {
  return {b.resource_type(),  b.resource_name(), b.pattern_type(),
          b.principal(),      b.host(),          b.operation(),
          b.permission_type()};
}

void SecurityState::Apply(const metapb::AlterScramCredentials& command) {
  for (const auto& deletion : command.deletions()) {
    auto it = credentials_.find(std::make_pair(
        deletion.user(), static_cast<int>(deletion.mechanism())));
    if (it != credentials_.end()) credentials_.erase(it);
  }
  for (const metapb::ScramCredential& credential : command.upsertions()) {
    credentials_[{credential.user(), credential.mechanism()}] = credential;
  }
}

void SecurityState::Apply(const metapb::CreateAcls& command) {
  for (const metapb::AclBinding& binding : command.acls()) {
    acls_[KeyOf(binding)] = binding;
  }
}

void SecurityState::Apply(const metapb::DeleteAcls& command) {
  for (const metapb::AclBinding& binding : command.acls()) {
    acls_.erase(KeyOf(binding));
  }
}

const metapb::ScramCredential* SecurityState::FindCredential(
    absl::string_view user, int mechanism) const {
  auto it = credentials_.find(std::make_pair(std::string(user), mechanism));
  return it == credentials_.end() ? nullptr : &it->second;
}

std::vector<const metapb::ScramCredential*> SecurityState::Credentials() const {
  std::vector<const metapb::ScramCredential*> out;
  for (const auto& [key, credential] : credentials_) out.push_back(&credential);
  return out;
}

std::vector<const metapb::AclBinding*> SecurityState::Acls() const {
  std::vector<const metapb::AclBinding*> out;
  for (const auto& [key, binding] : acls_) out.push_back(&binding);
  return out;
}

void SecurityState::ToSnapshot(metapb::MetadataSnapshot* snapshot) const {
  for (const auto& [key, credential] : credentials_) {
    *snapshot->add_scram_credentials() = credential;
  }
  for (const auto& [key, binding] : acls_) *snapshot->add_acls() = binding;
}

absl::Status SecurityState::FromSnapshot(
    const metapb::MetadataSnapshot& snapshot) {
  for (const metapb::ScramCredential& credential :
       snapshot.scram_credentials()) {
    if (!credentials_
             .emplace(std::make_pair(credential.user(),
                                     static_cast<int>(credential.mechanism())),
                      credential)
             .second) {
      return absl::DataLossError(
          absl::StrCat("metadata snapshot lists a SCRAM credential of '",
                       credential.user(), "' twice"));
    }
  }
  for (const metapb::AclBinding& binding : snapshot.acls()) {
    if (!acls_.emplace(KeyOf(binding), binding).second) {
      return absl::DataLossError("metadata snapshot lists an ACL twice");
    }
  }
  return absl::OkStatus();
}

}  // namespace chronik::metadata
