#include "broker/env/disk.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace chronik::env {

absl::Status File::AppendV(absl::Span<const absl::string_view> pieces) {
  std::string joined;
  for (absl::string_view piece : pieces) {
    joined.append(piece.data(), piece.size());
  }
  return Append(joined);
}

std::string ParentDir(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return "";
  return std::string(path.substr(0, slash));
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  return absl::StrCat(dir, "/", name);
}

bool IsValidPath(absl::string_view path) {
  if (path.empty()) return true;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

}  // namespace chronik::env
