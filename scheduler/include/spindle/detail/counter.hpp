#pragma once
/// @file
/// A statistics counter that one thread writes and any thread reads.

#include <atomic>
#include <cstdint>

namespace spindle::detail {

/// Written by one thread at a time (a worker, or a process's owner), read by anyone: a
/// plain load and store, no locked instruction, and still free of data races.
class OwnedCounter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  /// Raises the value to `n` if it is lower (a high-water mark).
  void raise_to(std::uint64_t n) noexcept {
    if (n > value_.load(std::memory_order_relaxed)) value_.store(n, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace spindle::detail
