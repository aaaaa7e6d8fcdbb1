#pragma once
// Registered names, looked up without a lock.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "spindle/atom.hpp"

namespace spindle::detail {

/// A node's registered names: atom to process (`T`). A lookup (a send to a name, whereis)
/// takes no lock and never waits; registering and unregistering, which are rare, take a
/// mutex among themselves and may wait a moment for the lookups in flight.
///
/// Each name has one atomic word: its process's address and, in the high bits, how many
/// lookups are using that process right now ("pins"). A lookup adds a pin, uses the
/// process, and takes its pin off again with a compare-and-swap, as long as the word
/// still names the process it pinned. A writer swaps a name's word whole, so the pins
/// in the old word are exactly the lookups that may still use the old process; each of
/// those, finding the word changed, counts itself out instead, and the writer waits for
/// that many before it returns. So once `remove` returns, no lookup touches the process
/// it removed, which may then be freed; and since one writer waits out its own lookups
/// before the next writer may change anything, a word never comes back to a process
/// while a lookup that pinned its earlier registration is still in flight (no ABA).
///
/// Words live in a three-level array indexed by the atom's index, grown by writers and
/// kept until the registry is destroyed, so a lookup reads no memory a writer may free.
template <class T>
class NameRegistry {
  static_assert(alignof(T) >= 64, "the low six bits of a process's address hold nothing");

 public:
  NameRegistry() = default;
  NameRegistry(const NameRegistry&) = delete;
  NameRegistry& operator=(const NameRegistry&) = delete;
  ~NameRegistry() {
    for (auto& mid : top_) {
      Mid* m = mid.load(std::memory_order_relaxed);
      if (m == nullptr) continue;
      for (auto& leaf : m->leaves) delete leaf.load(std::memory_order_relaxed);
      delete m;
    }
  }

  /// Calls `use(process)` with the process registered as `name`, which stays alive for
  /// the call; false (and no call) when the name is free. `use` must not register or
  /// unregister names.
  template <class Use>
  bool visit(Atom name, Use&& use) const {
    std::atomic<std::uint64_t>* word = find_word(name);
    if (word == nullptr) return false;
    const Pin pin{*this, *word, word->fetch_add(kPin, std::memory_order_acquire)};
    T* process = process_in(pin.pinned);
    if (process == nullptr) return false;
    std::forward<Use>(use)(*process);
    return true;
  }

  /// The writers' side: holds the writers' mutex for its life.
  class Writer {
   public:
    explicit Writer(NameRegistry& registry) : registry_(registry), lock_(registry.writers_) {}

    T* find(Atom name) const {
      auto it = registry_.entries_.find(name);
      return it == registry_.entries_.end() ? nullptr : it->second;
    }
    /// Registers `process` as `name`, which must be free. May throw std::bad_alloc.
    void add(Atom name, T& process) {
      const auto address = reinterpret_cast<std::uintptr_t>(&process);
      if (address >> kAddressBits != 0) throw std::runtime_error("process address beyond 48 bits");
      std::atomic<std::uint64_t>& word = registry_.make_word(name);
      registry_.entries_.emplace(name, &process);
      registry_.swap(word, address >> kAlignBits);
    }
    /// Frees `name`; returns the process that held it, which no lookup uses any more,
    /// or null if the name was free.
    T* remove(Atom name) noexcept {
      auto it = registry_.entries_.find(name);
      if (it == registry_.entries_.end()) return nullptr;
      T* process = it->second;
      registry_.entries_.erase(it);
      registry_.swap(*registry_.find_word(name), 0);
      return process;
    }

   private:
    NameRegistry& registry_;
    std::unique_lock<std::mutex> lock_;
  };
  Writer write() { return Writer(*this); }

  /// Every name and its process, as they stood at one moment.
  std::vector<std::pair<Atom, T*>> snapshot() const {
    std::lock_guard lock(writers_);
    return {entries_.begin(), entries_.end()};
  }

 private:
  // A word: the process's address shifted right by kAlignBits in the low bits, pins above.
  static constexpr unsigned kAlignBits = 6;
  static constexpr unsigned kAddressBits = 48;
  static constexpr unsigned kPinShift = kAddressBits - kAlignBits;  // 22 bits of pins: 4M lookups at once
  static constexpr std::uint64_t kPin = std::uint64_t{1} << kPinShift;
  static constexpr std::uint64_t kAddressMask = kPin - 1;

  static T* process_in(std::uint64_t word) noexcept {
    return reinterpret_cast<T*>(static_cast<std::uintptr_t>(word & kAddressMask) << kAlignBits);
  }

  // A lookup's pin, taken off when the lookup ends (also if `use` throws).
  struct Pin {
    const NameRegistry& registry;
    std::atomic<std::uint64_t>& word;
    std::uint64_t pinned;
    Pin(const NameRegistry& r, std::atomic<std::uint64_t>& w, std::uint64_t p) : registry(r), word(w), pinned(p) {}
    Pin(const Pin&) = delete;
    ~Pin() {
      std::uint64_t now = word.load(std::memory_order_relaxed);
      while ((now & kAddressMask) == (pinned & kAddressMask))
        if (word.compare_exchange_weak(now, now - kPin, std::memory_order_release, std::memory_order_relaxed)) return;
      registry.departed_.fetch_add(1, std::memory_order_release);  // the writer counted us
    }
  };

  // Atom indices are below 2^26 (the atom table's hard limit): 6 + 10 + 10 bits.
  static constexpr unsigned kLeafBits = 10;
  static constexpr unsigned kMidBits = 10;
  static constexpr unsigned kTopBits = 6;
  struct Leaf {
    std::array<std::atomic<std::uint64_t>, std::size_t{1} << kLeafBits> words{};
  };
  struct Mid {
    std::array<std::atomic<Leaf*>, std::size_t{1} << kMidBits> leaves{};
  };

  std::atomic<std::uint64_t>* find_word(Atom name) const noexcept {
    const std::uint32_t i = name.index();
    if ((i >> (kLeafBits + kMidBits)) >= top_.size()) return nullptr;
    Mid* mid = top_[i >> (kLeafBits + kMidBits)].load(std::memory_order_acquire);
    if (mid == nullptr) return nullptr;
    Leaf* leaf = mid->leaves[(i >> kLeafBits) & ((1u << kMidBits) - 1)].load(std::memory_order_acquire);
    if (leaf == nullptr) return nullptr;
    return &leaf->words[i & ((1u << kLeafBits) - 1)];
  }

  // Writers only.
  std::atomic<std::uint64_t>& make_word(Atom name) {
    const std::uint32_t i = name.index();
    if ((i >> (kLeafBits + kMidBits)) >= top_.size()) throw std::length_error("atom index beyond the name registry");
    std::atomic<Mid*>& mid_slot = top_[i >> (kLeafBits + kMidBits)];
    if (mid_slot.load(std::memory_order_relaxed) == nullptr) mid_slot.store(new Mid(), std::memory_order_release);
    std::atomic<Leaf*>& leaf_slot =
        mid_slot.load(std::memory_order_relaxed)->leaves[(i >> kLeafBits) & ((1u << kMidBits) - 1)];
    if (leaf_slot.load(std::memory_order_relaxed) == nullptr) leaf_slot.store(new Leaf(), std::memory_order_release);
    return leaf_slot.load(std::memory_order_relaxed)->words[i & ((1u << kLeafBits) - 1)];
  }

  // Installs `next` (an address word without pins) and waits until every lookup that
  // pinned the word it replaced has counted itself out.
  void swap(std::atomic<std::uint64_t>& word, std::uint64_t next) noexcept {
    const std::uint64_t replaced = word.exchange(next, std::memory_order_acq_rel);
    const std::uint64_t pins = replaced >> kPinShift;
    for (unsigned spins = 0; departed_.load(std::memory_order_acquire) != pins; ++spins) {
      if (spins >= 64) std::this_thread::yield();  // a lookup's thread may be waiting for this core
    }
    departed_.store(0, std::memory_order_relaxed);  // no other lookup departs before the next swap
  }

  std::array<std::atomic<Mid*>, std::size_t{1} << kTopBits> top_{};
  mutable std::atomic<std::uint64_t> departed_{0};
  mutable std::mutex writers_;
  std::unordered_map<Atom, T*> entries_;  // writers' copy, for listing; under writers_
};

}  // namespace spindle::detail
