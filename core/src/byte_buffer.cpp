#include "spindle/byte_buffer.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace spindle {

ByteBuffer::ByteBuffer(ByteBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

ByteBuffer::~ByteBuffer() { std::free(data_); }

void ByteBuffer::reserve(std::size_t capacity) {
  if (capacity <= capacity_) return;
  auto* p = static_cast<std::uint8_t*>(std::realloc(data_, capacity));
  if (p == nullptr) throw std::bad_alloc();
  data_ = p;
  capacity_ = capacity;
}

void ByteBuffer::grow(std::size_t extra) { reserve(std::max({size_ + extra, capacity_ * 2, std::size_t{64}})); }

void ByteBuffer::append(const void* bytes, std::size_t n) {
  if (n != 0) std::memcpy(extend(n), bytes, n);
}

}  // namespace spindle
