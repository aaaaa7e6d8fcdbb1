#pragma once
// Registered names, looked up without a lock.

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "reader_pins.hpp"
#include "spindle/atom.hpp"

namespace spindle::detail {

/// A node's registered names: atom to process (`T`). A lookup (a send to a name, whereis)
/// takes no lock and never waits; registering and unregistering, which are rare, take a
/// mutex among themselves and may wait a moment for the lookups in flight.
///
/// Each name has an atomic pointer to its process and its own ReaderPins: a lookup pins
/// the name, uses the process, and unpins; `remove` clears the pointer and waits out the
/// lookups that may still hold it, so once it returns the process it removed may be
/// freed. Lookups of different names touch different cache lines.
///
/// Names live in a three-level array indexed by the atom's index, grown by writers and
/// kept until the registry is destroyed, so a lookup reads no memory a writer may free.
template <class T>
class NameRegistry {
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
    const Entry* entry = find_entry(name);
    if (entry == nullptr) return false;
    const ReaderPins::Pin pin(entry->pins);
    T* process = entry->process.load(std::memory_order_seq_cst);
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
      Entry& entry = registry_.make_entry(name);
      registry_.entries_.emplace(name, &process);
      entry.process.store(&process, std::memory_order_seq_cst);
    }
    /// Frees `name`; returns the process that held it, which no lookup uses any more,
    /// or null if the name was free.
    T* remove(Atom name) noexcept {
      auto it = registry_.entries_.find(name);
      if (it == registry_.entries_.end()) return nullptr;
      T* process = it->second;
      registry_.entries_.erase(it);
      Entry& entry = *registry_.find_entry(name);
      entry.process.store(nullptr, std::memory_order_seq_cst);
      entry.pins.wait_for_readers();
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
  struct Entry {
    std::atomic<T*> process{nullptr};
    ReaderPins pins;
  };

  // Atom indices are below 2^26 (the atom table's hard limit): 6 + 10 + 10 bits.
  static constexpr unsigned kLeafBits = 10;
  static constexpr unsigned kMidBits = 10;
  static constexpr unsigned kTopBits = 6;
  struct Leaf {
    std::array<Entry, std::size_t{1} << kLeafBits> entries;
  };
  struct Mid {
    std::array<std::atomic<Leaf*>, std::size_t{1} << kMidBits> leaves{};
  };

  Entry* find_entry(Atom name) const noexcept {
    const std::uint32_t i = name.index();
    if ((i >> (kLeafBits + kMidBits)) >= top_.size()) return nullptr;
    Mid* mid = top_[i >> (kLeafBits + kMidBits)].load(std::memory_order_acquire);
    if (mid == nullptr) return nullptr;
    Leaf* leaf = mid->leaves[(i >> kLeafBits) & ((1u << kMidBits) - 1)].load(std::memory_order_acquire);
    if (leaf == nullptr) return nullptr;
    return &leaf->entries[i & ((1u << kLeafBits) - 1)];
  }

  // Writers only.
  Entry& make_entry(Atom name) {
    const std::uint32_t i = name.index();
    if ((i >> (kLeafBits + kMidBits)) >= top_.size()) throw std::length_error("atom index beyond the name registry");
    std::atomic<Mid*>& mid_slot = top_[i >> (kLeafBits + kMidBits)];
    if (mid_slot.load(std::memory_order_relaxed) == nullptr) mid_slot.store(new Mid(), std::memory_order_release);
    std::atomic<Leaf*>& leaf_slot =
        mid_slot.load(std::memory_order_relaxed)->leaves[(i >> kLeafBits) & ((1u << kMidBits) - 1)];
    if (leaf_slot.load(std::memory_order_relaxed) == nullptr) leaf_slot.store(new Leaf(), std::memory_order_release);
    return leaf_slot.load(std::memory_order_relaxed)->entries[i & ((1u << kLeafBits) - 1)];
  }

  std::array<std::atomic<Mid*>, std::size_t{1} << kTopBits> top_{};
  mutable std::mutex writers_;
  std::unordered_map<Atom, T*> entries_;  // writers' copy, for listing; under writers_
};

}  // namespace spindle::detail
