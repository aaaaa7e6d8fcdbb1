#pragma once
// Processes by pid number: one slot per number, found without a lock.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "reader_pins.hpp"

namespace spindle::detail {

/// Values (`T`) by key (`KeyOf{}(value)`, a `std::uint32_t` fixed while the value is in
/// the table), in a power-of-two array where a key's slot is its low bits. Keys handed
/// out in sequence fill neighbouring slots, so a spawn and an exit touch the cache lines
/// their neighbours just touched. A key whose slot is taken is refused (the caller takes
/// another number), so every key sits in its own slot and a lookup reads one slot.
///
/// `visit` takes no lock and never waits (ReaderPins); `insert` and `erase` must be
/// serialized by the caller. The array doubles when half full, which keeps every key in
/// a slot of its own (keys apart in their low n bits are apart in n + 1), and halves when
/// an eighth full if no two keys then meet (if two would, it tries again later). An
/// erased value, and an array replaced, are out of every lookup's reach when `erase`
/// returns.
template <class T, class KeyOf>
class PidSlots {
 public:
  PidSlots() = default;
  PidSlots(const PidSlots&) = delete;
  PidSlots& operator=(const PidSlots&) = delete;
  ~PidSlots() { delete view_.load(std::memory_order_relaxed); }

  /// Calls `use(value)` with the value under `key`, alive for the call; false if none.
  template <class Use>
  bool visit(std::uint32_t key, Use&& use) const {
    const ReaderPins::Pin pin(pins_);
    const View* view = view_.load(std::memory_order_seq_cst);
    if (view == nullptr) return false;
    T* value = view->slots[key & view->mask].load(std::memory_order_seq_cst);
    if (value == nullptr || KeyOf{}(*value) != key) return false;
    std::forward<Use>(use)(*value);
    return true;
  }

  // ----- writers, serialized by the caller -----

  /// Puts `value` under its key; false if that key's slot is taken. May throw
  /// std::bad_alloc (growing).
  bool insert(T& value) {
    if ((count_ + 1) * 2 > capacity()) replace(grown());
    std::atomic<T*>& slot = slot_of(KeyOf{}(value));
    if (slot.load(std::memory_order_relaxed) != nullptr) return false;
    slot.store(&value, std::memory_order_release);
    ++count_;
    return true;
  }
  /// Removes `value` if it is what its key's slot holds; false if not. When it returns,
  /// no lookup holds `value`.
  bool erase(const T& value) noexcept {
    if (view_.load(std::memory_order_relaxed) == nullptr) return false;
    std::atomic<T*>& slot = slot_of(KeyOf{}(value));
    if (slot.load(std::memory_order_relaxed) != &value) return false;
    slot.store(nullptr, std::memory_order_seq_cst);
    --count_;
    pins_.wait_for_readers();
    if (capacity() > kMinCapacity && count_ * 8 < capacity()) {
      if (erases_before_shrinking_ > 0) {
        --erases_before_shrinking_;
      } else {
        try {
          if (View* smaller = shrunk()) {
            replace(smaller);
          } else {  // two keys would meet: try again after an eighth of the slots' worth of erases
            erases_before_shrinking_ = capacity() / 8;
          }
        } catch (...) {  // keeping the larger array is fine
        }
      }
    }
    return true;
  }
  template <class F>
  void for_each(F&& f) const {
    const View* view = view_.load(std::memory_order_relaxed);
    if (view == nullptr) return;
    for (std::size_t i = 0; i <= view->mask; ++i)
      if (T* value = view->slots[i].load(std::memory_order_relaxed)) f(*value);
  }
  std::size_t size() const noexcept { return count_; }
  std::size_t capacity() const noexcept {
    const View* view = view_.load(std::memory_order_relaxed);
    return view == nullptr ? 0 : view->mask + 1;
  }

 private:
  static constexpr std::size_t kMinCapacity = 64;

  struct View {
    explicit View(std::size_t capacity) : mask(capacity - 1), slots(new std::atomic<T*>[capacity]()) {}
    std::size_t mask;
    std::unique_ptr<std::atomic<T*>[]> slots;
  };

  std::atomic<T*>& slot_of(std::uint32_t key) noexcept {
    View* view = view_.load(std::memory_order_relaxed);
    return view->slots[key & view->mask];
  }
  // Moves every value of the current array into `next`; false at the first two that meet.
  bool move_into(View& next) const noexcept {
    bool fits = true;
    for_each([&](T& value) {
      std::atomic<T*>& slot = next.slots[KeyOf{}(value) & next.mask];
      if (slot.load(std::memory_order_relaxed) != nullptr) fits = false;
      slot.store(&value, std::memory_order_relaxed);
    });
    return fits;
  }
  View* grown() const {
    auto next = std::make_unique<View>(capacity() == 0 ? kMinCapacity : capacity() * 2);
    move_into(*next);  // doubling separates every pair
    return next.release();
  }
  View* shrunk() const {
    auto next = std::make_unique<View>(capacity() / 2);
    return move_into(*next) ? next.release() : nullptr;
  }
  // Publishes `next` and frees the array it replaces once no lookup reads it.
  void replace(View* next) noexcept {
    View* old = view_.exchange(next, std::memory_order_seq_cst);
    pins_.wait_for_readers();
    delete old;
  }

  std::atomic<View*> view_{nullptr};
  ReaderPins pins_;
  std::size_t count_ = 0;
  // A failed shrink reads every slot; waiting this many erases before the next keeps that
  // at a few slots per erase where live keys stay spread too wide for half the array.
  std::size_t erases_before_shrinking_ = 0;
};

}  // namespace spindle::detail
