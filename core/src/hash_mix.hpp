#pragma once
// Fast non-cryptographic hashing shared by the atom table and term hashing.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace spindle::detail {

/// A 64-bit finaliser with full avalanche (splitmix64's).
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

/// Hashes a byte string eight bytes at a time.
inline std::uint64_t hash_bytes(const void* data, std::size_t size, std::uint64_t seed = 0) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = seed ^ (size * 0x9E3779B97F4A7C15ull);
  while (size >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    h = mix64(h ^ word);
    p += 8;
    size -= 8;
  }
  std::uint64_t tail = 0;
  if (size != 0) std::memcpy(&tail, p, size);  // size < 8 here (an empty string may have no data at all)
  return mix64(h ^ tail ^ (std::uint64_t{size} << 59));
}

}  // namespace spindle::detail
