#pragma once
// Lock-free lookups into a structure whose writers free what they unlink.

#include <atomic>
#include <cstdint>
#include <thread>

namespace spindle::detail {

/// Lets lookups read a shared structure without a lock while writers unlink and free
/// parts of it. A lookup holds a Pin while it reads and uses what it found; a writer,
/// after unlinking something, calls `wait_for_readers()`, and once that returns no
/// lookup can still hold what was unlinked, which may then be freed. Lookups never wait.
/// Writers must be serialized among themselves (the caller's lock), and their unlinking
/// store and the lookups' loads of what they unlink must be sequentially consistent (the
/// default order): then a lookup pinned after the writer's check finds the structure
/// already changed.
///
/// One atomic word counts the lookups in flight ("pins", high half) of the current
/// era (low half). A writer that finds pins swaps the word for a new era with none, so
/// the count it took out is exactly the lookups that may still use the old state; each
/// of those, finding the era changed when it unpins, counts itself out instead, and the
/// writer waits for that many. The next writer cannot swap before this one is done, so
/// an era never comes back while a lookup pinned in it is still in flight.
class ReaderPins {
 public:
  /// A lookup in flight, from construction to destruction.
  class Pin {
   public:
    explicit Pin(const ReaderPins& pins) noexcept
        : pins_(pins), pinned_(pins.word_.fetch_add(kPin, std::memory_order_seq_cst)) {}
    ~Pin() {
      std::uint64_t now = pins_.word_.load(std::memory_order_relaxed);
      while (era(now) == era(pinned_))
        if (pins_.word_.compare_exchange_weak(now, now - kPin, std::memory_order_release, std::memory_order_relaxed))
          return;
      pins_.departed_.fetch_add(1, std::memory_order_release);  // the writer counted this one
    }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;

   private:
    const ReaderPins& pins_;
    std::uint64_t pinned_;
  };

  /// Writers only, after an unlinking store: returns once no lookup that might have
  /// loaded what was unlinked is still in flight. Waits only while lookups are.
  void wait_for_readers() noexcept {
    const std::uint64_t now = word_.load(std::memory_order_seq_cst);
    if (now >> kPinShift == 0) return;  // any lookup from here on sees the change
    const std::uint64_t replaced = word_.exchange((era(now) + 1) & kEraMask, std::memory_order_acq_rel);
    const std::uint64_t pins = replaced >> kPinShift;
    for (unsigned spins = 0; departed_.load(std::memory_order_acquire) != pins; ++spins) {
      if (spins >= 64) std::this_thread::yield();  // a pinned lookup's thread may need this core
    }
    departed_.store(0, std::memory_order_relaxed);  // no lookup departs so before the next swap
  }

 private:
  static constexpr unsigned kPinShift = 32;
  static constexpr std::uint64_t kPin = std::uint64_t{1} << kPinShift;
  static constexpr std::uint64_t kEraMask = kPin - 1;
  static std::uint64_t era(std::uint64_t word) noexcept { return word & kEraMask; }

  mutable std::atomic<std::uint64_t> word_{0};
  mutable std::atomic<std::uint64_t> departed_{0};
};

}  // namespace spindle::detail
