#pragma once
/// @file
/// A growable byte array that does not zero what it grows into.

#include <cstddef>
#include <cstdint>
#include <span>

namespace spindle {

/// Bytes being written: an encoder's output or an I/O buffer. Move-only.
class ByteBuffer {
 public:
  ByteBuffer() noexcept = default;
  explicit ByteBuffer(std::size_t capacity) { reserve(capacity); }
  ByteBuffer(ByteBuffer&& other) noexcept;
  ByteBuffer& operator=(ByteBuffer&& other) noexcept;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ~ByteBuffer();

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool empty() const noexcept { return size_ == 0; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  std::uint8_t& operator[](std::size_t i) noexcept { return data_[i]; }
  std::uint8_t operator[](std::size_t i) const noexcept { return data_[i]; }

  void clear() noexcept { size_ = 0; }
  void reserve(std::size_t capacity);
  /// Grows or shrinks to `size` bytes; new bytes are uninitialised.
  void resize(std::size_t size) {
    reserve(size);
    size_ = size;
  }
  /// Appends `n` uninitialised bytes and returns where they start.
  std::uint8_t* extend(std::size_t n) {
    if (capacity_ - size_ < n) grow(n);
    std::uint8_t* p = data_ + size_;
    size_ += n;
    return p;
  }
  void append(const void* bytes, std::size_t n);
  void append(std::span<const std::uint8_t> bytes) { append(bytes.data(), bytes.size()); }
  void push_back(std::uint8_t byte) { *extend(1) = byte; }

 private:
  void grow(std::size_t extra);

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace spindle
