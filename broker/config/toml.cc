#include "broker/config/toml.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace chronik::config {
namespace {

constexpr size_t kMaxLineBytes = 4096;
constexpr size_t kMaxLines = 100'000;

bool IsBareKey(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

// Removes a trailing comment that is not inside a string.
absl::string_view StripComment(absl::string_view line) {
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && in_string) {
      ++i;
    } else if (line[i] == '"') {
      in_string = !in_string;
    } else if (line[i] == '#' && !in_string) {
      return line.substr(0, i);
    }
  }
  return line;
}

absl::StatusOr<std::string> ParseString(absl::string_view text) {
  // `text` starts and ends with '"'.
  std::string out;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    char c = text[i];
    if (c == '"')
      return absl::InvalidArgumentError("unescaped quote in string");
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= text.size()) {
      return absl::InvalidArgumentError("string ends in a backslash");
    }
    switch (text[++i]) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported escape \\", text.substr(i, 1)));
    }
  }
  return out;
}

absl::StatusOr<TomlValue> ParseValue(absl::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    absl::StatusOr<std::string> s = ParseString(text);
    if (!s.ok()) return s.status();
    return TomlValue(*s);
  }
  if (text == "true") return TomlValue(true);
  if (text == "false") return TomlValue(false);
  int64_t number;
  std::string digits(text);
  digits.erase(std::remove(digits.begin(), digits.end(), '_'), digits.end());
  if (!digits.empty() && absl::SimpleAtoi(digits, &number)) {
    return TomlValue(number);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "value '", text, "' is not a quoted string, integer or boolean"));
}

}  // namespace

absl::StatusOr<TomlDocument> ParseToml(absl::string_view text,
                                       absl::string_view source_name) {
  TomlDocument document;
  TomlTable* current = &document.root;
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() > kMaxLines) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_name, ": more than ", kMaxLines, " lines"));
  }
  for (size_t index = 0; index < lines.size(); ++index) {
    const int number = static_cast<int>(index) + 1;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_name, ":", number, ": ", what));
    };
    if (lines[index].size() > kMaxLineBytes) return error("line too long");
    absl::string_view line =
        absl::StripAsciiWhitespace(StripComment(lines[index]));
    if (line.empty()) continue;
    if (absl::ConsumePrefix(&line, "[[")) {
      if (!absl::ConsumeSuffix(&line, "]]") || !IsBareKey(line)) {
        return error("expected [[name]]");
      }
      auto& array = document.arrays[std::string(line)];
      array.emplace_back();
      array.back().line = number;
      current = &array.back();
      continue;
    }
    if (absl::ConsumePrefix(&line, "[")) {
      if (!absl::ConsumeSuffix(&line, "]")) return error("expected [name]");
      if (absl::StartsWith(line, "/")) {
        return error(absl::StrCat(
            "'[", line, "]' is not a TOML table header; did you mean '[",
            line.substr(1), "]'?"));
      }
      if (!IsBareKey(line)) return error("expected [name]");
      auto [it, inserted] = document.tables.try_emplace(std::string(line));
      if (!inserted)
        return error(absl::StrCat("table [", line, "] defined twice"));
      it->second.line = number;
      current = &it->second;
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) return error("expected key = value");
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, equals));
    absl::string_view value_text =
        absl::StripAsciiWhitespace(line.substr(equals + 1));
    if (!IsBareKey(key)) return error(absl::StrCat("bad key '", key, "'"));
    absl::StatusOr<TomlValue> value = ParseValue(value_text);
    if (!value.ok()) return error(value.status().message());
    if (!current->values.emplace(std::string(key), *value).second) {
      return error(absl::StrCat("key '", key, "' defined twice"));
    }
    current->lines[std::string(key)] = number;
  }
  return document;
}

}  // namespace chronik::config
