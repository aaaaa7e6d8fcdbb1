#pragma once
// Live processes by pid number.

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "open_table.hpp"
#include "spindle/term.hpp"

namespace spindle::detail {

struct ProcessControl;

/// Live processes by pid number, for resolving pids that carry no control block (built
/// from fields or decoded from the wire). Sharded by number, so spawns and exits on
/// different workers rarely meet; a shard is an OpenTable, so a spawn and an exit
/// allocate nothing in the common case. The table holds a reference to each control
/// block.
class ProcessTable {
 public:
  /// False if the number is in use by another live process.
  bool insert(ProcessControl& control);
  /// Removes `control` (nothing if another process holds its number) and drops the
  /// table's reference.
  void erase(ProcessControl& control);
  /// The live process with this number, as a pid holding a reference; empty if none.
  Pid find(std::uint32_t key) const;
  /// Every live process's pid.
  std::vector<Pid> all() const;

 private:
  // A plain mutex: lookups by number (pids from the wire, stop) are rare next to the
  // inserts and erases of spawn and exit, and each holds it for a few dozen instructions.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    OpenTable<ProcessControl> processes;  // by number / kShards
  };
  Shard& shard(std::uint32_t key) const noexcept { return shards_[key % kShards]; }
  static std::uint32_t key_in_shard(std::uint32_t key) noexcept { return key / kShards; }
  static constexpr std::size_t kShards = 64;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace spindle::detail
