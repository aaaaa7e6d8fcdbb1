#pragma once
// Bounds-checked big-endian reading and writing of protocol packets (handshake, EPMD,
// distribution headers). A short or malformed packet is a WireError naming what was
// being read and the byte offset, never an out-of-bounds read.

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "spindle/detail/big_endian.hpp"

namespace spindle::dist::detail {

class WireError : public std::runtime_error {
 public:
  WireError(const std::string& what, std::size_t offset)
      : std::runtime_error(what + " (at byte " + std::to_string(offset) + ")"), offset_(offset) {}
  std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

class WireReader {
 public:
  WireReader(std::span<const std::uint8_t> data, const char* what, std::size_t base_offset = 0) noexcept
      : data_(data), what_(what), base_(base_offset) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
  std::uint16_t u16() { return spindle::detail::load_be16(take(2)); }
  std::uint32_t u32() { return spindle::detail::load_be32(take(4)); }
  std::uint64_t u64() { return spindle::detail::load_be64(take(8)); }
  std::span<const std::uint8_t> bytes(std::size_t n) { return {take(n), n}; }
  std::string_view text(std::size_t n) { return {reinterpret_cast<const char*>(take(n)), n}; }
  std::string_view rest_as_text() { return text(remaining()); }
  std::span<const std::uint8_t> rest() { return bytes(remaining()); }
  void expect_end() const {
    if (pos_ != data_.size())
      throw WireError(std::string(what_) + ": " + std::to_string(data_.size() - pos_) + " unexpected trailing bytes",
                      base_ + pos_);
  }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  std::size_t position() const noexcept { return base_ + pos_; }

 private:
  const std::uint8_t* take(std::size_t n) {
    if (n > remaining())
      throw WireError(std::string(what_) + ": needs " + std::to_string(n) + " more bytes, " +
                          std::to_string(remaining()) + " left",
                      base_ + pos_);
    const std::uint8_t* p = data_.data() + pos_;
    pos_ += n;
    return p;
  }

  std::span<const std::uint8_t> data_;
  const char* what_;
  std::size_t base_;
  std::size_t pos_ = 0;
};

class WireWriter {
 public:
  explicit WireWriter(std::vector<std::uint8_t>& out) noexcept : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { spindle::detail::store_be16(grow(2), v); }
  void u32(std::uint32_t v) { spindle::detail::store_be32(grow(4), v); }
  void u64(std::uint64_t v) { spindle::detail::store_be64(grow(8), v); }
  void bytes(std::string_view s) { append(s.data(), s.size()); }
  void bytes(std::span<const std::uint8_t> s) { append(s.data(), s.size()); }
  std::size_t size() const noexcept { return out_.size(); }
  /// Overwrites two bytes written earlier (a length field reserved before its contents).
  void patch16(std::size_t at, std::uint16_t v) noexcept { spindle::detail::store_be16(out_.data() + at, v); }

 private:
  std::uint8_t* grow(std::size_t n) {
    const std::size_t at = out_.size();
    out_.resize(at + n);
    return out_.data() + at;
  }
  void append(const void* data, std::size_t n) {
    if (n == 0) return;
    const std::size_t at = out_.size();
    out_.resize(at + n);
    std::memcpy(out_.data() + at, data, n);
  }
  std::vector<std::uint8_t>& out_;
};

}  // namespace spindle::dist::detail
