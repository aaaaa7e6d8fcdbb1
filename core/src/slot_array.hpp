#pragma once
// The array of {key, pointer} slots under OpenTable and DirectTable, and the sizing policy
// they share.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include "spindle/detail/memory.hpp"

namespace spindle::detail {

/// A power-of-two array of slots, a null value marking a free one, kept at most half full
/// and shrunk to half when an eighth full. `Table` (the class deriving from this) places
/// keys: it provides `void resize(std::size_t capacity)`, which may throw std::bad_alloc
/// and must then leave the table as it was. Not thread-safe.
template <class Table, class T>
class SlotArray {
 public:
  SlotArray() = default;
  ~SlotArray() { deallocate(slots_); }
  SlotArray(const SlotArray&) = delete;
  SlotArray& operator=(const SlotArray&) = delete;

  std::size_t size() const noexcept { return count_; }
  std::size_t capacity() const noexcept { return slots_ == nullptr ? 0 : mask_ + 1; }

 protected:
  struct Slot {
    std::uint32_t key;
    T* value;  // null: free
  };
  static constexpr std::size_t kMinCapacity = 64;

  /// Before an insert: refuses a null value, and grows so one more key keeps the table at
  /// most half full.
  void make_room_for_one(const T* value) {
    if (value == nullptr) throw std::invalid_argument("process table: null value");
    if ((count_ + 1) * 2 > capacity()) table().resize(capacity() == 0 ? kMinCapacity : capacity() * 2);
  }
  /// After an erase: one fewer, and half the slots once an eighth are in use.
  void one_gone() noexcept {
    --count_;
    if (capacity() > kMinCapacity && count_ * 8 < capacity()) {
      try {
        table().resize(capacity() / 2);
      } catch (...) {  // keeping the larger array is fine
      }
    }
  }
  /// A new array of `capacity` free slots.
  static Slot* free_slots(std::size_t capacity) {
    Slot* slots = static_cast<Slot*>(allocate(capacity * sizeof(Slot)));
    for (std::size_t i = 0; i < capacity; ++i) slots[i] = Slot{0, nullptr};
    return slots;
  }
  /// Makes `slots` (of `capacity`) the array, freeing the old one.
  void adopt(Slot* slots, std::size_t capacity) noexcept {
    deallocate(slots_);
    slots_ = slots;
    mask_ = capacity - 1;
  }
  void swap_slots(SlotArray& other) noexcept {
    std::swap(slots_, other.slots_);
    std::swap(mask_, other.mask_);
    std::swap(count_, other.count_);
  }

  Slot* slots_ = nullptr;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;

 private:
  Table& table() noexcept { return static_cast<Table&>(*this); }
};

}  // namespace spindle::detail
