// A small TOML subset reader for chronik's cluster config files.
//
// Supported: `key = value` with values that are basic strings ("..." with \"
// \\ \n \t escapes), integers, and booleans; `[table]`; `[[array.of.tables]]`
// (one level); `#` comments; blank lines. Keys are bare (A-Za-z0-9_-). That is
// everything the seed's cluster file format uses; anything else is an error
// naming the line, never silently ignored.
//
// Pure function of its input; thread-compatible.
#ifndef CHRONIK_BROKER_CONFIG_TOML_H_
#define CHRONIK_BROKER_CONFIG_TOML_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace chronik::config {

using TomlValue = std::variant<std::string, int64_t, bool>;

struct TomlTable {
  std::map<std::string, TomlValue> values;
  std::map<std::string, int> lines;  // key -> line it was defined on
  int line = 0;                      // line of the [header], 0 for the root
};

struct TomlDocument {
  TomlTable root;
  std::map<std::string, TomlTable> tables;               // [name]
  std::map<std::string, std::vector<TomlTable>> arrays;  // [[name]]
};

// `source_name` is used in error messages ("node1.toml:7: ...").
absl::StatusOr<TomlDocument> ParseToml(absl::string_view text,
                                       absl::string_view source_name);

}  // namespace chronik::config

#endif  // CHRONIK_BROKER_CONFIG_TOML_H_
