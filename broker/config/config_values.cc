#include "broker/config/config_values.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace chronik::config {

absl::Status ParseInt(absl::string_view text, int64_t min, int64_t max,
                      int64_t* out) {
  int64_t value;
  if (!absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not an integer"));
  }
  if (value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(value, " is out of range [", min, ", ", max, "]"));
  }
  *out = value;
  return absl::OkStatus();
}

absl::Status ParseBool(absl::string_view text, bool* out) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") {
    *out = true;
  } else if (lower == "false" || lower == "0" || lower == "no" ||
             lower == "off") {
    *out = false;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not true or false"));
  }
  return absl::OkStatus();
}

absl::Status CheckHost(absl::string_view host) {
  if (host.empty() || host.size() > 253 ||
      host.find_first_of(" /:\t") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", host, "' is not a host name or IPv4 address"));
  }
  return absl::OkStatus();
}

}  // namespace chronik::config
