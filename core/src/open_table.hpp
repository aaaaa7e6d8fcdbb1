#pragma once
// A map from 32-bit keys to pointers in one open-addressed array.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "spindle/detail/memory.hpp"

namespace spindle::detail {

/// Keys to non-null pointers, in one array probed linearly; deletion shifts later
/// entries back instead of leaving tombstones, so lookups stay short however many keys
/// come and go. Kept at most half full; shrinks to half when an eighth full. A key's home
/// slot is a Fibonacci hash of it, which spreads keys handed out in sequence (pid
/// numbers): laid out in sequence they would form one long run of occupied slots, which
/// every deletion would walk to its end. Not thread-safe; allocates only to resize.
template <class T>
class OpenTable {
 public:
  OpenTable() = default;
  ~OpenTable() { deallocate(entries_); }
  OpenTable(const OpenTable&) = delete;
  OpenTable& operator=(const OpenTable&) = delete;

  std::size_t size() const noexcept { return count_; }
  std::size_t capacity() const noexcept { return entries_ == nullptr ? 0 : mask_ + 1; }

  /// The value under `key`, or null.
  T* find(std::uint32_t key) const noexcept {
    const std::size_t slot = slot_of(key);
    return slot == capacity() ? nullptr : entries_[slot].value;
  }
  /// False (and nothing changed) if `key` is present already. May throw std::bad_alloc.
  bool insert(std::uint32_t key, T* value) {
    if (value == nullptr) throw std::invalid_argument("OpenTable: null value");
    if (slot_of(key) != capacity()) return false;
    if ((count_ + 1) * 2 > capacity()) resize(capacity() == 0 ? kMinCapacity : capacity() * 2);
    place(key, value);
    ++count_;
    return true;
  }
  /// Removes `key` if it maps to `value`; false if it does not.
  bool erase(std::uint32_t key, const T* value) noexcept {
    const std::size_t slot = slot_of(key);
    if (slot == capacity() || entries_[slot].value != value) return false;
    remove_at(slot);
    --count_;
    if (capacity() > kMinCapacity && count_ * 8 < capacity()) {
      try {
        resize(capacity() / 2);
      } catch (...) {  // keeping the larger array is fine
      }
    }
    return true;
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity(); ++i)
      if (entries_[i].value != nullptr) f(entries_[i].key, entries_[i].value);
  }

 private:
  struct Entry {
    std::uint32_t key;
    T* value;  // null: a free slot
  };
  static constexpr std::size_t kMinCapacity = 64;

  std::size_t home(std::uint32_t key) const noexcept {
    return static_cast<std::size_t>((std::uint64_t{key} * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  std::size_t slot_of(std::uint32_t key) const noexcept {  // capacity() if absent
    if (entries_ == nullptr) return 0;
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      if (entries_[i].value == nullptr) return capacity();
      if (entries_[i].key == key) return i;
    }
  }
  void place(std::uint32_t key, T* value) noexcept {  // into the first free slot from home
    std::size_t i = home(key);
    while (entries_[i].value != nullptr) i = (i + 1) & mask_;
    entries_[i] = Entry{key, value};
  }
  void remove_at(std::size_t hole) noexcept {
    // Every later entry of the run that the hole would cut off from its home moves into
    // the hole, which moves on to where that entry was, until the run ends.
    for (std::size_t next = (hole + 1) & mask_; entries_[next].value != nullptr; next = (next + 1) & mask_) {
      const std::size_t from_home = (next - home(entries_[next].key)) & mask_;
      if (from_home >= ((next - hole) & mask_)) {
        entries_[hole] = entries_[next];
        hole = next;
      }
    }
    entries_[hole] = Entry{0, nullptr};
  }
  void resize(std::size_t new_capacity) {
    Entry* const old = entries_;
    const std::size_t old_capacity = capacity();
    entries_ = static_cast<Entry*>(allocate(new_capacity * sizeof(Entry)));
    mask_ = new_capacity - 1;
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(new_capacity));
    for (std::size_t i = 0; i < new_capacity; ++i) entries_[i] = Entry{0, nullptr};
    for (std::size_t i = 0; i < old_capacity; ++i)
      if (old[i].value != nullptr) place(old[i].key, old[i].value);
    deallocate(old);
  }

  Entry* entries_ = nullptr;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;  // 64 - log2(capacity): home() keeps the hash's top bits
  std::size_t count_ = 0;
};

}  // namespace spindle::detail
