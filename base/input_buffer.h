// InputBuffer: the bytes received on a connection and not yet consumed.
//
// What it is for: a driver reads socket bytes straight into its spare room
// (SpareRoom + Commit) without the zero-fill std::string::resize would do
// first, and the Kafka connection table takes its complete frames over as one
// shared buffer (Take) that decoded requests slice, without a copy.
//
// Contract: bytes [data(), data() + size()) are the content; the room
// [size(), capacity()) is uninitialized until written and committed. Growth
// (Append, Reserve) moves the content into a new allocation: pointers into
// it are invalidated then, as by std::string. Take() hands the allocation
// over and leaves the buffer empty with no capacity.
// Ownership: the buffer owns its allocation until Take(). Thread-safety: a
// value, like std::string; no synchronization.
#ifndef CHRONIK_BASE_INPUT_BUFFER_H_
#define CHRONIK_BASE_INPUT_BUFFER_H_

#include <cstddef>
#include <memory>
#include <string_view>

#include "base/shared_bytes.h"

namespace chronik {

class InputBuffer {
 public:
  InputBuffer() = default;
  explicit InputBuffer(std::string_view bytes) { Append(bytes); }
  InputBuffer(InputBuffer&& other) noexcept;
  InputBuffer& operator=(InputBuffer&& other) noexcept;
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  const char* data() const { return bytes_.get(); }
  std::string_view view() const { return std::string_view(data(), size_); }

  // Makes the capacity at least `bytes` (never shrinks).
  void Reserve(size_t bytes);
  // Appends a copy of `bytes`, growing geometrically when needed.
  void Append(std::string_view bytes);
  // The uninitialized room after the content: write up to spare_bytes()
  // bytes at spare_data(), then Commit how many were written.
  char* spare_data() { return bytes_.get() + size_; }
  size_t spare_bytes() const { return capacity_ - size_; }
  void Commit(size_t bytes);
  // Drops the first `bytes` (at most size()); the rest moves to the front.
  void Consume(size_t bytes);
  // Drops the content; keeps the capacity.
  void Clear() { size_ = 0; }
  // The content as one shared immutable buffer, without a copy (the shared
  // buffer keeps the whole allocation). The buffer is left empty, with no
  // capacity.
  SharedBytes Take();

 private:
  void Reallocate(size_t capacity);

  std::unique_ptr<char[]> bytes_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace chronik

#endif  // CHRONIK_BASE_INPUT_BUFFER_H_
