#pragma once
// LSD radix sort of (key, index) pairs by unsigned 64-bit key. Only the key bytes that
// differ somewhere are sorted on, so typical keys (small integers) take two passes.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace spindle::detail {

using KeyedIndex = std::pair<std::uint64_t, std::uint32_t>;

inline void radix_sort(std::vector<KeyedIndex>& items) {
  if (items.size() < 2) return;
  std::uint64_t differs = 0;
  for (const KeyedIndex& item : items) differs |= item.first ^ items.front().first;
  std::vector<KeyedIndex> scratch(items.size());
  for (unsigned shift = 0; shift < 64; shift += 8) {
    if (((differs >> shift) & 0xFF) == 0) continue;
    std::size_t counts[256] = {};
    for (const KeyedIndex& item : items) ++counts[(item.first >> shift) & 0xFF];
    std::size_t offset = 0;
    for (std::size_t& c : counts) offset += std::exchange(c, offset);
    for (const KeyedIndex& item : items) scratch[counts[(item.first >> shift) & 0xFF]++] = item;
    items.swap(scratch);
  }
}

}  // namespace spindle::detail
