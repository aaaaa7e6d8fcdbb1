#pragma once
// A map from 32-bit keys to pointers in one open-addressed array.

#include <bit>
#include <cstddef>
#include <cstdint>

#include "slot_array.hpp"

namespace spindle::detail {

/// Keys to non-null pointers, in one array probed linearly; deletion shifts later
/// entries back instead of leaving tombstones, so lookups stay short however many keys
/// come and go. A key's home slot is a Fibonacci hash of it, which spreads keys handed out
/// in sequence: laid out in sequence they would form one long run of occupied slots, which
/// every deletion would walk to its end. Allocates only to resize.
template <class T>
class OpenTable : public SlotArray<OpenTable<T>, T> {
  using Base = SlotArray<OpenTable<T>, T>;
  using Slot = typename Base::Slot;
  using Base::count_;
  using Base::mask_;
  using Base::slots_;

 public:
  using Base::capacity;

  /// The value under `key`, or null.
  T* find(std::uint32_t key) const noexcept {
    const std::size_t slot = slot_of(key);
    return slot == capacity() ? nullptr : slots_[slot].value;
  }
  /// False (and nothing changed) if `key` is present already. May throw std::bad_alloc.
  bool insert(std::uint32_t key, T* value) {
    if (value != nullptr && slot_of(key) != capacity()) return false;
    this->make_room_for_one(value);
    place(key, value);
    ++count_;
    return true;
  }
  /// Removes `key` if it maps to `value`; false if it does not.
  bool erase(std::uint32_t key, const T* value) noexcept {
    const std::size_t slot = slot_of(key);
    if (slot == capacity() || slots_[slot].value != value) return false;
    remove_at(slot);
    this->one_gone();
    return true;
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity(); ++i)
      if (slots_[i].value != nullptr) f(slots_[i].key, slots_[i].value);
  }
  void swap(OpenTable& other) noexcept {
    this->swap_slots(other);
    std::swap(shift_, other.shift_);
  }

 private:
  friend Base;

  std::size_t home(std::uint32_t key) const noexcept {
    return static_cast<std::size_t>((std::uint64_t{key} * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  std::size_t slot_of(std::uint32_t key) const noexcept {  // capacity() if absent
    if (slots_ == nullptr) return 0;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      if (slots_[i].value == nullptr) return capacity();
      if (slots_[i].key == key) return i;
    }
  }
  void place(std::uint32_t key, T* value) noexcept {  // into the first free slot from home
    std::size_t i = home(key);
    while (slots_[i].value != nullptr) i = (i + 1) & mask_;
    slots_[i] = Slot{key, value};
  }
  void remove_at(std::size_t hole) noexcept {
    // Every later entry of the run that the hole would cut off from its home moves into
    // the hole, which moves on to where that entry was, until the run ends.
    for (std::size_t next = (hole + 1) & mask_; slots_[next].value != nullptr; next = (next + 1) & mask_) {
      const std::size_t from_home = (next - home(slots_[next].key)) & mask_;
      if (from_home >= ((next - hole) & mask_)) {
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    slots_[hole] = Slot{0, nullptr};
  }
  void resize(std::size_t new_capacity) {
    Slot* const old = slots_;
    const std::size_t old_capacity = capacity();
    Slot* const fresh = Base::free_slots(new_capacity);  // the only step that can throw
    slots_ = fresh;
    mask_ = new_capacity - 1;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(new_capacity));
    for (std::size_t i = 0; i < old_capacity; ++i)
      if (old[i].value != nullptr) place(old[i].key, old[i].value);
    deallocate(old);
  }

  unsigned shift_ = 64;  // 64 - log2(capacity): home() keeps the hash's top bits
};

}  // namespace spindle::detail
