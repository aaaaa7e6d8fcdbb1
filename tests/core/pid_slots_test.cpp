// PidSlots, the process table's per-shard map: checked against std::unordered_map through
// long random runs of inserts and erases, and its lock-free lookups against a writer that
// inserts, erases and frees as they run (under ThreadSanitizer and AddressSanitizer in CI).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "pid_slots.hpp"

namespace spindle::detail {
namespace {

struct Item {
  explicit Item(std::uint32_t k) : key(k) {}
  std::uint32_t key;
  std::atomic<bool> in_table{false};
  std::atomic<std::uint64_t> visits{0};
};
struct KeyOfItem {
  std::uint32_t operator()(const Item& item) const noexcept { return item.key; }
};
using Slots = PidSlots<Item, KeyOfItem>;

Item* find(const Slots& slots, std::uint32_t key) {
  Item* found = nullptr;
  slots.visit(key, [&](Item& item) { found = &item; });
  return found;
}

// Runs `steps` random inserts and erases over keys drawn by `draw`, checking every key of
// `universe` against the model every `check_every` steps. An insert may be refused only
// when a key present shares the new key's slot.
template <class Draw>
void run_against_model(std::uint32_t seed, int steps, int check_every, const std::vector<std::uint32_t>& universe,
                       Draw&& draw) {
  std::mt19937 random(seed);
  Slots slots;
  std::unordered_map<std::uint32_t, std::unique_ptr<Item>> model;
  for (int step = 1; step <= steps; ++step) {
    const std::uint32_t key = draw(random);
    auto it = model.find(key);
    if (it == model.end()) {
      auto item = std::make_unique<Item>(key);
      if (slots.insert(*item)) {
        model.emplace(key, std::move(item));
      } else {
        const std::size_t mask = slots.capacity() - 1;
        bool taken = false;
        for (const auto& [k, v] : model) taken |= (k & mask) == (key & mask);
        ASSERT_TRUE(taken) << "key " << key << " refused with its slot free";
      }
    } else {
      Item other(key);
      ASSERT_FALSE(slots.insert(other)) << "a key present is not inserted twice";
      ASSERT_FALSE(slots.erase(other)) << "erase asks for the value the key maps to";
      ASSERT_TRUE(slots.erase(*it->second));
      model.erase(it);
    }
    ASSERT_EQ(slots.size(), model.size());
    ASSERT_LE(slots.size() * 2, slots.capacity());
    if (step % check_every == 0) {
      for (std::uint32_t k : universe) {
        auto m = model.find(k);
        ASSERT_EQ(find(slots, k), m == model.end() ? nullptr : m->second.get()) << "key " << k << " at step " << step;
      }
    }
  }
  std::size_t seen = 0;
  slots.for_each([&](Item& item) {
    ++seen;
    EXPECT_EQ(model.at(item.key).get(), &item);
  });
  EXPECT_EQ(seen, model.size());
}

TEST(PidSlots, RandomChurnOverFewKeysMatchesAMap) {
  // ~150 keys live of 300: the table hovers at 256 and 512 slots.
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    std::vector<std::uint32_t> universe(300);
    std::iota(universe.begin(), universe.end(), 0u);
    run_against_model(seed, 20000, 97, universe, [](std::mt19937& r) { return static_cast<std::uint32_t>(r() % 300); });
  }
}

TEST(PidSlots, KeysSpreadOverTheirWholeRangeMatchAMap) {
  std::vector<std::uint32_t> universe;
  std::mt19937 pick(7);
  for (int i = 0; i < 400; ++i) universe.push_back(static_cast<std::uint32_t>(pick()));
  run_against_model(3, 40000, 101, universe, [&](std::mt19937& r) { return universe[r() % universe.size()]; });
}

TEST(PidSlots, KeysThatShareTheirLowBitsAreRefusedNotLost) {
  // 40 keys, 4096 apart: all want one slot whatever the array's size, so one at a time.
  std::vector<std::uint32_t> universe;
  for (std::uint32_t i = 0; i < 40; ++i) universe.push_back(5 + i * 4096);
  run_against_model(5, 20000, 89, universe, [&](std::mt19937& r) { return universe[r() % universe.size()]; });
}

// Inserts keys 0 .. count-1 into `slots`, each into a free slot, keeping them in `items`.
void insert_in_sequence(Slots& slots, std::uint32_t count, std::vector<std::unique_ptr<Item>>& items) {
  for (std::uint32_t k = 0; k < count; ++k) {
    items.push_back(std::make_unique<Item>(k));
    ASSERT_TRUE(slots.insert(*items.back()));
  }
}

TEST(PidSlots, KeysInSequenceComeAndGoInAnyOrderAndTheArrayShrinksBack) {
  Slots slots;
  std::vector<std::unique_ptr<Item>> items;
  ASSERT_NO_FATAL_FAILURE(insert_in_sequence(slots, 100000, items));
  // Every other from the front (the oldest first, as a thief finishes them), then the rest.
  for (std::uint32_t k = 0; k < items.size(); k += 2) ASSERT_TRUE(slots.erase(*items[k]));
  for (std::uint32_t k = 0; k < items.size(); ++k) ASSERT_EQ(find(slots, k), k % 2 ? items[k].get() : nullptr);
  for (std::uint32_t k = 1; k < items.size(); k += 2) ASSERT_TRUE(slots.erase(*items[k]));
  EXPECT_EQ(slots.size(), 0u);
  EXPECT_EQ(slots.capacity(), 64u);
}

TEST(PidSlots, AnOldKeyInTheWayKeepsItsSlotAndBlocksOnlyItsOwnBits) {
  Slots slots;
  Item old(3);
  ASSERT_TRUE(slots.insert(old));  // a long-lived process
  std::vector<std::unique_ptr<Item>> items;
  int refused = 0;
  for (std::uint32_t k = 100000; k < 101000; ++k) {
    items.push_back(std::make_unique<Item>(k));
    if (!slots.insert(*items.back())) ++refused;
  }
  // Keys in sequence meet 3's slot at most once for each size the array passes (64 to 2048).
  EXPECT_LE(refused, 6);
  EXPECT_EQ(slots.size(), 1001u - static_cast<std::size_t>(refused));
  EXPECT_EQ(find(slots, 3), &old);
  // A shrink that would put two keys in one slot does not happen.
  for (auto& item : items) slots.erase(*item);
  EXPECT_EQ(find(slots, 3), &old);
  EXPECT_EQ(slots.size(), 1u);
}

TEST(PidSlots, AShrinkThatWouldPutTwoKeysInOneSlotWaitsUntilTheyPart) {
  Slots slots;
  std::vector<std::unique_ptr<Item>> items;
  ASSERT_NO_FATAL_FAILURE(insert_in_sequence(slots, 1100, items));
  ASSERT_EQ(slots.capacity(), 4096u);
  // 5 and 1029 share a slot at 1024 slots and below: the array keeps 2048.
  for (std::uint32_t k = 0; k < 1100; ++k) {
    if (k == 5 || k == 1029) continue;
    ASSERT_TRUE(slots.erase(*items[k]));
  }
  EXPECT_EQ(slots.capacity(), 2048u);
  EXPECT_EQ(find(slots, 5), items[5].get());
  EXPECT_EQ(find(slots, 1029), items[1029].get());
  // Once they no longer meet, churn elsewhere lets it shrink all the way.
  ASSERT_TRUE(slots.erase(*items[1029]));
  for (std::uint32_t k = 5000; k < 5600; ++k) {
    Item passing(k);
    if (!slots.insert(passing)) continue;  // its slot is 5's
    ASSERT_TRUE(slots.erase(passing));
  }
  EXPECT_EQ(slots.capacity(), 64u);
  EXPECT_EQ(find(slots, 5), items[5].get());
}

// Readers look keys up without pause while a writer erases each value, frees it and
// inserts a new one under the next key, growing and shrinking the array as it goes. Once
// `erase` has returned no reader may touch the value it erased: a reader that did would
// see `in_table` false (or, under ASan, read freed memory).
TEST(PidSlots, AnErasedValueIsNeverUsedAfterEraseReturns) {
  constexpr int kReaders = 2;
  constexpr std::uint32_t kLive = 200;
  constexpr int kChurn = 20000;
  Slots slots;
  std::vector<std::unique_ptr<Item>> live;
  std::uint32_t next_key = 0;
  const auto add = [&] {
    for (;;) {
      auto item = std::make_unique<Item>(next_key++);
      item->in_table = true;
      if (slots.insert(*item)) return live.push_back(std::move(item));
    }
  };
  for (std::uint32_t i = 0; i < kLive; ++i) add();
  std::atomic<bool> done{false};
  std::atomic<std::uint32_t> newest{next_key};
  std::atomic<std::uint64_t> found{0};
  std::atomic<std::uint64_t> used_after_erase{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937 random(r);
      while (!done.load(std::memory_order_relaxed)) {
        slots.visit(random() % newest.load(std::memory_order_relaxed), [&](Item& item) {
          if (!item.in_table.load(std::memory_order_relaxed)) used_after_erase.fetch_add(1);
          item.visits.fetch_add(1, std::memory_order_relaxed);
          found.fetch_add(1, std::memory_order_relaxed);
        });
      }
    });
  }
  std::uint64_t counted = 0;
  std::mt19937 random(99);
  for (int step = 0; step < kChurn || found.load(std::memory_order_relaxed) < kChurn; ++step) {
    // Between 100 and 300 live, so the array grows and shrinks.
    const bool grow = live.size() < 100 || (live.size() < 3 * kLive / 2 && random() % 2 == 0);
    if (grow) {
      add();
      newest.store(next_key, std::memory_order_relaxed);
    } else {
      const std::size_t victim = random() % live.size();
      ASSERT_TRUE(slots.erase(*live[victim]));
      live[victim]->in_table = false;
      counted += live[victim]->visits.load();
      live[victim] = std::move(live.back());  // frees the erased one
      live.pop_back();
    }
  }
  done = true;
  for (auto& t : readers) t.join();
  for (auto& item : live) counted += item->visits.load();
  EXPECT_EQ(used_after_erase.load(), 0u);
  EXPECT_EQ(counted, found.load());
}

}  // namespace
}  // namespace spindle::detail
