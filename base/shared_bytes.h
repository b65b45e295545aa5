// SharedBytes: an immutable, reference-counted byte buffer, or a part of one.
//
// What it is for: bytes that travel far without being copied. A Kafka
// request's record batches are parts (slices) of the request frame the codec
// decoded (kafka::Reader with an owner), a Raft proposal's payload is that
// slice, and the leader's log, every append message to every follower and
// storage's queue share it. Copying a SharedBytes copies a pointer and a view.
//
// Contract: the bytes never change while any SharedBytes refers to them; a
// slice keeps its whole buffer alive (a request's slices together hold about
// the request). Thread-safety: values; the bytes may be read from several
// threads at once, the object itself carries no synchronization.
#ifndef CHRONIK_BASE_SHARED_BYTES_H_
#define CHRONIK_BASE_SHARED_BYTES_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/string_view.h"
#include "base/check.h"

namespace chronik {

class SharedBytes {
 public:
  SharedBytes() = default;
  static SharedBytes Copy(std::string_view data) {
    return Own(std::string(data));
  }
  static SharedBytes Own(std::string&& data) {
    auto buffer = std::make_shared<const std::string>(std::move(data));
    const std::string_view view(*buffer);
    return SharedBytes(std::move(buffer), view);
  }
  // The part `part` of `buffer` (which must contain it), sharing it.
  static SharedBytes Slice(std::shared_ptr<const std::string> buffer,
                           std::string_view part) {
    CHRONIK_CHECK(buffer != nullptr);
    CHRONIK_CHECK(part.empty() || (part.data() >= buffer->data() &&
                                   part.data() + part.size() <=
                                       buffer->data() + buffer->size()))
        << "a slice must lie within its buffer";
    return SharedBytes(std::move(buffer), part);
  }
  // `part` of memory `owner` keeps alive (an uninitialized read buffer,
  // storage's: no std::string to zero-fill first). The caller vouches that
  // `owner` holds `part`.
  static SharedBytes Owned(std::shared_ptr<const void> owner,
                           std::string_view part) {
    CHRONIK_CHECK(owner != nullptr);
    return SharedBytes(std::move(owner), part);
  }
  // Compatibility for code written when payloads and record fields were
  // std::string: owning a SharedBytes shares it; a moved std::string is taken
  // over, an lvalue one (or a literal) copied.
  static SharedBytes Own(SharedBytes data) { return data; }
  static SharedBytes Own(const char* data) { return Copy(data); }
  SharedBytes(std::string&& data)  // NOLINT: implicit on purpose
      : SharedBytes(Own(std::move(data))) {}
  SharedBytes(const std::string& data)  // NOLINT: implicit on purpose
      : SharedBytes(Copy(data)) {}
  SharedBytes(const char* data)  // NOLINT: implicit on purpose
      : SharedBytes(Copy(data)) {}

  size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }
  std::string_view view() const { return view_; }
  absl::string_view absl_view() const {
    return absl::string_view(view_.data(), view_.size());
  }
  const char* data() const { return view_.data(); }
  // As the views the codec and handlers take (like a std::string's).
  operator absl::string_view() const {  // NOLINT: implicit on purpose
    return absl_view();
  }
  // The memory keeping these bytes alive (null for an empty default value),
  // for codecs that hand out parts of it (kafka::Reader's owner).
  const std::shared_ptr<const void>& owner() const { return buffer_; }
  // True when both share one buffer (tests use it to prove no copy was made).
  bool SharesBufferWith(const SharedBytes& other) const {
    return buffer_ != nullptr && buffer_ == other.buffer_;
  }
  friend bool operator==(const SharedBytes& a, const SharedBytes& b) {
    return a.view_ == b.view_;
  }
  friend bool operator==(const SharedBytes& a, std::string_view b) {
    return a.view_ == b;
  }

 private:
  SharedBytes(std::shared_ptr<const void> buffer, std::string_view view)
      : buffer_(std::move(buffer)), view_(view) {}
  std::shared_ptr<const void> buffer_;
  std::string_view view_;
};

}  // namespace chronik

#endif  // CHRONIK_BASE_SHARED_BYTES_H_
