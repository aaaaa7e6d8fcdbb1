#pragma once
// Live processes by pid number.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <oneapi/tbb/spin_mutex.h>

#include "pid_slots.hpp"
#include "spindle/term.hpp"

namespace spindle::detail {

struct ProcessControl;

/// Live processes by pid number, for resolving pids that carry no control block (built
/// from fields or decoded from the wire). Sharded by number modulo 64: numbers are handed
/// out in sequence, so a spawn and the exits of processes spawned just before it (on other
/// workers, when they live briefly) land on different shards and rarely wait for one
/// another. (A build with shards of 64-number blocks spawned 10-15% slower than the build
/// before it on 4 and 8 cores of a 16-core machine, though faster on 1 and 2: there the
/// spawner and the workers running its young processes met on one lock.)
/// Within a shard a number's slot is its low bits (PidSlots), so numbers in sequence sit
/// in neighbouring slots, and a spawn and an exit allocate nothing in the common case.
/// A lookup takes no lock: a message from another node to a local pid is delivered
/// without waiting for a spawn or an exit. The table holds a reference to each control
/// block. Each shard also sums the counters of the processes that left it, for the
/// node's statistics, so an exit touches no counter that every exit shares.
class ProcessTable {
 public:
  /// False if the number's slot in the table is taken (by a live process whose number
  /// equals it in its low bits): the caller takes the next number.
  bool insert(ProcessControl& control);
  /// Removes `control` (nothing if another process holds its number), adds its counters
  /// to the retired totals, and drops the table's reference.
  void erase(ProcessControl& control);
  /// The live process with this number, as a pid holding a reference; empty if none.
  /// Takes no lock.
  Pid find(std::uint32_t key) const;
  /// Every live process's pid.
  std::vector<Pid> all() const;

  /// What the processes that have exited did, summed.
  struct Retired {
    std::uint64_t handled = 0;
    std::uint64_t sent = 0;
    std::uint64_t mailbox_high_water = 0;  // the largest, not a sum
  };
  Retired retired() const;

 private:
  struct KeyInShard {
    std::uint32_t operator()(const ProcessControl& control) const noexcept;
  };
  // Writers (insert, erase) take a spin lock (it backs off, then yields): they hold it
  // for a few dozen instructions (a resize, which is rare, for longer), so a spawn and an
  // exit that meet on a shard are better served by waiting a moment than by a futex
  // sleep and wake-up. Lookups take none.
  struct alignas(64) Shard {
    mutable tbb::spin_mutex mutex;
    PidSlots<ProcessControl, KeyInShard> processes;  // by number / kShards
    Retired retired;
  };
  Shard& shard(std::uint32_t key) const noexcept { return shards_[key % kShards]; }
  static std::uint32_t key_in_shard(std::uint32_t key) noexcept { return key / kShards; }
  static constexpr std::size_t kShards = 64;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace spindle::detail
