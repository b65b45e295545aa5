#include "base/input_buffer.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "base/check.h"

namespace chronik {

InputBuffer::InputBuffer(InputBuffer&& other) noexcept
    : bytes_(std::move(other.bytes_)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

InputBuffer& InputBuffer::operator=(InputBuffer&& other) noexcept {
  bytes_ = std::move(other.bytes_);
  size_ = std::exchange(other.size_, 0);
  capacity_ = std::exchange(other.capacity_, 0);
  return *this;
}

void InputBuffer::Reallocate(size_t capacity) {
  CHRONIK_CHECK_GE(capacity, size_);
  // make_unique_for_overwrite: the new room is not zero-filled.
  std::unique_ptr<char[]> bytes =
      std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ > 0) std::memcpy(bytes.get(), bytes_.get(), size_);
  bytes_ = std::move(bytes);
  capacity_ = capacity;
}

void InputBuffer::Reserve(size_t bytes) {
  if (bytes > capacity_) Reallocate(bytes);
}

void InputBuffer::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (bytes.size() > spare_bytes()) {
    Reallocate(std::max(size_ + bytes.size(), 2 * capacity_));
  }
  std::memcpy(spare_data(), bytes.data(), bytes.size());
  size_ += bytes.size();
}

void InputBuffer::Commit(size_t bytes) {
  CHRONIK_CHECK_LE(bytes, spare_bytes()) << "committed beyond the capacity";
  size_ += bytes;
}

void InputBuffer::Consume(size_t bytes) {
  CHRONIK_CHECK_LE(bytes, size_) << "consumed more than the content";
  if (bytes < size_) {
    std::memmove(bytes_.get(), bytes_.get() + bytes, size_ - bytes);
  }
  size_ -= bytes;
}

SharedBytes InputBuffer::Take() {
  const size_t size = std::exchange(size_, 0);
  capacity_ = 0;
  if (bytes_ == nullptr) return SharedBytes::Copy("");
  std::shared_ptr<const char[]> shared(std::move(bytes_));
  const std::string_view view(shared.get(), size);
  return SharedBytes::Owned(std::move(shared), view);
}

}  // namespace chronik
