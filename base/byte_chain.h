// ByteChain: a sequence of SharedBytes parts read as one byte string.
//
// What it is for: bytes that are sent without being joined. A Fetch
// response's records are the stored batches, each a slice of the buffer
// storage read them into (kafka::Writer splices them into the encoded frame
// instead of copying them), and a response frame travels to the driver as the
// encoder's header bytes and those slices; the production driver writes the
// parts with one writev, the simulator and tests Flatten() them.
//
// Contract: parts are never empty (Append skips empty ones); the bytes are
// the parts' bytes in order. view() (and the conversion to
// absl::string_view) is only for a chain of at most one part, as every
// decoded value is: it CHECKs. Copying a chain copies its part handles, not
// the bytes. Thread-safety: a value, like SharedBytes.
#ifndef CHRONIK_BASE_BYTE_CHAIN_H_
#define CHRONIK_BASE_BYTE_CHAIN_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/check.h"
#include "base/shared_bytes.h"

namespace chronik {

class ByteChain {
 public:
  ByteChain() = default;
  ByteChain(SharedBytes part) {  // NOLINT: implicit on purpose
    Append(std::move(part));
  }
  // Compatibility with code that holds frames and records as std::string: a
  // moved string is taken over, an lvalue one (or a literal) copied.
  ByteChain(std::string&& data)  // NOLINT: implicit on purpose
      : ByteChain(SharedBytes::Own(std::move(data))) {}
  ByteChain(const std::string& data)  // NOLINT: implicit on purpose
      : ByteChain(SharedBytes::Copy(data)) {}
  ByteChain(const char* data)  // NOLINT: implicit on purpose
      : ByteChain(SharedBytes::Copy(data)) {}

  void Append(SharedBytes part) {
    if (part.empty()) return;
    size_ += part.size();
    parts_.push_back(std::move(part));
  }
  void Append(const ByteChain& other) {
    for (const SharedBytes& part : other.parts_) Append(part);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const std::vector<SharedBytes>& parts() const { return parts_; }

  // All the bytes in one string (a copy).
  std::string Flatten() const {
    std::string out;
    out.reserve(size_);
    for (const SharedBytes& part : parts_) out.append(part.data(), part.size());
    return out;
  }
  // The bytes of a chain of at most one part, without a copy.
  absl::string_view view() const {
    CHRONIK_CHECK_LE(parts_.size(), 1u)
        << "view() of a chain of several parts: Flatten() it";
    return parts_.empty() ? absl::string_view() : parts_[0].absl_view();
  }
  operator absl::string_view() const {  // NOLINT: implicit on purpose
    return view();
  }

  friend bool operator==(const ByteChain& a, const ByteChain& b) {
    if (a.size_ != b.size_) return false;
    if (a.parts_.size() <= 1 && b.parts_.size() <= 1) {
      return a.view() == b.view();
    }
    return a.Flatten() == b.Flatten();
  }
  friend bool operator==(const ByteChain& a, std::string_view b) {
    return a.size_ == b.size() &&
           (a.parts_.size() <= 1
                ? std::string_view(a.view().data(), a.view().size()) == b
                : a.Flatten() == b);
  }

 private:
  std::vector<SharedBytes> parts_;
  size_t size_ = 0;
};

}  // namespace chronik

#endif  // CHRONIK_BASE_BYTE_CHAIN_H_
