#pragma once
// Helpers shared by the fuzz targets: splitting an input into the length-prefixed
// packets of a byte stream, and checks that report a broken invariant as a crash.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

namespace spindle::fuzz {

/// A broken invariant: prints it and aborts, which libFuzzer reports as a crash.
[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz check failed at %s:%d: %s\n", file, line, what);
  std::abort();
}

#define SPINDLE_FUZZ_CHECK(condition) \
  ((condition) ? void() : ::spindle::fuzz::fail(#condition, __FILE__, __LINE__))

/// Reads the packets of a stream in which each has a big-endian length of `prefix`
/// bytes (2 for the handshake, 4 for distribution frames), as they come off a socket.
/// A length past the end of the input takes what is left.
class PacketStream {
 public:
  PacketStream(std::span<const std::uint8_t> data, std::size_t prefix) noexcept : data_(data), prefix_(prefix) {}

  /// The next packet, or false at the end of the input.
  bool next(std::span<const std::uint8_t>& packet) noexcept {
    if (data_.size() - pos_ < prefix_) return false;
    std::size_t length = 0;
    for (std::size_t i = 0; i < prefix_; ++i) length = (length << 8) | data_[pos_ + i];
    pos_ += prefix_;
    if (length > data_.size() - pos_) length = data_.size() - pos_;
    packet = data_.subspan(pos_, length);
    pos_ += length;
    return true;
  }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t prefix_;
  std::size_t pos_ = 0;
};

}  // namespace spindle::fuzz
