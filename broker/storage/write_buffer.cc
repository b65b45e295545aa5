#include "broker/storage/write_buffer.h"

#include <utility>

#include "base/check.h"

namespace chronik::storage {

void WriteBuffer::Splice(SharedBytes keep_alive, absl::string_view part) {
  CHRONIK_CHECK(part.data() >= keep_alive.data() &&
                part.data() + part.size() <=
                    keep_alive.data() + keep_alive.size())
      << "a spliced part must lie within the buffer it keeps alive";
  if (part.empty()) return;
  spliced_bytes_ += part.size();
  spliced_.push_back(Spliced{
      .at = owned_.size(), .keep_alive = std::move(keep_alive), .part = part});
}

absl::Status WriteBuffer::WriteTo(env::File& file) {
  if (empty()) return absl::OkStatus();
  // Owned bytes alone go in one Append: no piece list to build.
  absl::Status written =
      spliced_.empty() ? file.Append(owned_) : file.AppendV(Pieces());
  if (!written.ok()) return written;
  Clear();
  return absl::OkStatus();
}

std::vector<absl::string_view> WriteBuffer::Pieces() const {
  std::vector<absl::string_view> pieces;
  pieces.reserve(2 * spliced_.size() + 1);
  const absl::string_view owned(owned_);
  size_t from = 0;
  for (const Spliced& spliced : spliced_) {
    CHRONIK_CHECK(spliced.at >= from && spliced.at <= owned_.size())
        << "the owned bytes shrank below a splice";
    pieces.push_back(owned.substr(from, spliced.at - from));
    pieces.push_back(spliced.part);
    from = spliced.at;
  }
  pieces.push_back(owned.substr(from));
  return pieces;
}

void WriteBuffer::Clear() {
  owned_.clear();
  spliced_.clear();
  spliced_bytes_ = 0;
}

}  // namespace chronik::storage
