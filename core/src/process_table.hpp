#pragma once
// Live processes by pid number.

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "direct_table.hpp"
#include "spindle/term.hpp"

namespace spindle::detail {

struct ProcessControl;

/// Live processes by pid number, for resolving pids that carry no control block (built
/// from fields or decoded from the wire). Sharded by blocks of numbers: a spawner hands
/// out numbers in sequence, so it stays on one shard (its lock and its slots in its own
/// cache) for a block, while exits, which come later and elsewhere, mostly work on an
/// older one. A shard is a DirectTable, so a spawn and an exit allocate nothing in the
/// common case. The table holds a reference to each control block. Each shard also sums
/// the counters of the processes that left it, for the node's statistics, so an exit
/// touches no counter that every exit shares.
class ProcessTable {
 public:
  /// False if the number is in use by another live process.
  bool insert(ProcessControl& control);
  /// Removes `control` (nothing if another process holds its number), adds its counters
  /// to the retired totals, and drops the table's reference.
  void erase(ProcessControl& control);
  /// The live process with this number, as a pid holding a reference; empty if none.
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
  // A plain mutex: lookups by number (pids from the wire, stop) are rare next to the
  // inserts and erases of spawn and exit, and each holds it for a few dozen instructions.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    DirectTable<ProcessControl> processes;  // by number with the shard bits taken out
    Retired retired;
  };
  static constexpr unsigned kBlockBits = 6;  // 64 numbers in sequence per shard
  static constexpr unsigned kShardBits = 6;  // 64 shards
  static constexpr std::uint32_t kBlockMask = (1u << kBlockBits) - 1;
  Shard& shard(std::uint32_t key) const noexcept { return shards_[(key >> kBlockBits) & ((1u << kShardBits) - 1)]; }
  static std::uint32_t key_in_shard(std::uint32_t key) noexcept {
    return ((key >> (kBlockBits + kShardBits)) << kBlockBits) | (key & kBlockMask);
  }
  mutable std::array<Shard, std::size_t{1} << kShardBits> shards_;
};

}  // namespace spindle::detail
