#pragma once
// A map from 32-bit keys handed out in sequence to pointers: one slot per key, by its low
// bits.

#include <cstddef>
#include <cstdint>

#include "open_table.hpp"
#include "slot_array.hpp"

namespace spindle::detail {

/// Keys to non-null pointers, for keys that mostly arrive in sequence (pid numbers). A
/// key's slot is its low bits, so keys in sequence fill neighbouring slots: a spawn and an
/// exit touch the cache lines their neighbours just touched, where a hash would send each
/// one to a line of its own. A key whose slot is taken (by a key equal to it in those
/// bits, from a process that outlived many others) goes to an OpenTable beside the array.
/// A lookup reads one slot, and probes that table only when it holds keys; erasing never
/// walks a run. Allocates only to resize or to spill.
template <class T>
class DirectTable : public SlotArray<DirectTable<T>, T> {
  using Base = SlotArray<DirectTable<T>, T>;
  using Slot = typename Base::Slot;
  using Base::count_;
  using Base::mask_;
  using Base::slots_;

 public:
  using Base::capacity;

  /// How many keys found their slot taken and live in the table beside.
  std::size_t spilled() const noexcept { return spill_.size(); }

  /// The value under `key`, or null.
  T* find(std::uint32_t key) const noexcept {
    if (slots_ == nullptr) return nullptr;
    const Slot& s = slots_[key & mask_];
    if (s.value != nullptr && s.key == key) return s.value;
    return spill_.size() == 0 ? nullptr : spill_.find(key);
  }
  /// False (and nothing changed) if `key` is present already. May throw std::bad_alloc.
  bool insert(std::uint32_t key, T* value) {
    if (value != nullptr && find(key) != nullptr) return false;
    this->make_room_for_one(value);
    place(slots_, mask_, spill_, key, value);
    ++count_;
    return true;
  }
  /// Removes `key` if it maps to `value`; false if it does not.
  bool erase(std::uint32_t key, const T* value) noexcept {
    if (slots_ == nullptr) return false;
    Slot& s = slots_[key & mask_];
    if (s.value == value && s.key == key) {
      s = Slot{0, nullptr};
    } else if (spill_.size() == 0 || !spill_.erase(key, value)) {
      return false;
    }
    this->one_gone();
    return true;
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity(); ++i)
      if (slots_[i].value != nullptr) f(slots_[i].key, slots_[i].value);
    spill_.for_each(f);
  }

 private:
  friend Base;

  static void place(Slot* slots, std::size_t mask, OpenTable<T>& spill, std::uint32_t key, T* value) {
    Slot& s = slots[key & mask];
    if (s.value == nullptr) {
      s = Slot{key, value};
    } else {
      spill.insert(key, value);
    }
  }
  // Builds the new array and spill table aside, so a failed allocation leaves this one as
  // it was.
  void resize(std::size_t new_capacity) {
    Slot* const slots = Base::free_slots(new_capacity);
    OpenTable<T> spill;
    try {
      for_each([&](std::uint32_t key, T* value) { place(slots, new_capacity - 1, spill, key, value); });
    } catch (...) {
      deallocate(slots);
      throw;
    }
    this->adopt(slots, new_capacity);
    spill_.swap(spill);
  }

  OpenTable<T> spill_;
};

}  // namespace spindle::detail
