// Parsers of single configuration values shared by the flag table
// (server_config.cc) and the cluster file (cluster_file.cc). Pure functions;
// errors name the offending text.
#ifndef CHRONIK_BROKER_CONFIG_CONFIG_VALUES_H_
#define CHRONIK_BROKER_CONFIG_CONFIG_VALUES_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace chronik::config {

// An integer in [min, max].
absl::Status ParseInt(absl::string_view text, int64_t min, int64_t max,
                      int64_t* out);

// true/1/yes/on or false/0/no/off, in any case.
absl::Status ParseBool(absl::string_view text, bool* out);

// A host name or IPv4 address (no port, no spaces or slashes).
absl::Status CheckHost(absl::string_view host);

}  // namespace chronik::config

#endif  // CHRONIK_BROKER_CONFIG_CONFIG_VALUES_H_
