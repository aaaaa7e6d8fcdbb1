// The process table's maps, DirectTable and the OpenTable it spills into: each checked
// against std::unordered_map through long random runs of inserts and erases, where
// deletions must leave every colliding key findable.

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

#include "direct_table.hpp"
#include "open_table.hpp"

namespace spindle::detail {
namespace {

struct Item {
  std::uint32_t key;
};

// Runs `steps` random operations over keys drawn by `draw`, checking every key of
// `universe` against the model every `check_every` steps.
template <class Table, class Draw>
void run_against_model(std::uint32_t seed, int steps, int check_every, const std::vector<std::uint32_t>& universe,
                       Draw&& draw) {
  std::mt19937 random(seed);
  Table table;
  std::unordered_map<std::uint32_t, Item*> model;
  std::vector<std::unique_ptr<Item>> items;
  for (int step = 1; step <= steps; ++step) {
    const std::uint32_t key = draw(random);
    auto it = model.find(key);
    if (it == model.end()) {
      items.push_back(std::make_unique<Item>(Item{key}));
      ASSERT_TRUE(table.insert(key, items.back().get()));
      model.emplace(key, items.back().get());
    } else {
      Item other{key};
      ASSERT_FALSE(table.insert(key, &other)) << "a key present is not inserted twice";
      ASSERT_FALSE(table.erase(key, &other)) << "erase asks for the value the key maps to";
      ASSERT_TRUE(table.erase(key, it->second));
      model.erase(it);
    }
    ASSERT_EQ(table.size(), model.size());
    ASSERT_LE(table.size() * 2, table.capacity());
    if (step % check_every == 0) {
      for (std::uint32_t k : universe) {
        auto m = model.find(k);
        ASSERT_EQ(table.find(k), m == model.end() ? nullptr : m->second) << "key " << k << " at step " << step;
      }
    }
  }
  std::size_t seen = 0;
  table.for_each([&](std::uint32_t key, Item* value) {
    ++seen;
    EXPECT_EQ(model.at(key), value);
  });
  EXPECT_EQ(seen, model.size());
}

std::vector<std::uint32_t> range(std::uint32_t from, std::uint32_t to) {
  std::vector<std::uint32_t> keys;
  for (std::uint32_t k = from; k < to; ++k) keys.push_back(k);
  return keys;
}

template <class Table>
class Tables : public ::testing::Test {};
using Both = ::testing::Types<OpenTable<Item>, DirectTable<Item>>;
TYPED_TEST_SUITE(Tables, Both);

TYPED_TEST(Tables, RandomChurnOverFewKeysMatchesAMap) {
  // ~150 keys live of 300: the table hovers at 256 and 512 slots, full of collisions.
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    run_against_model<TypeParam>(seed, 20000, 97, range(0, 300),
                                 [](std::mt19937& r) { return static_cast<std::uint32_t>(r() % 300); });
  }
}

TYPED_TEST(Tables, KeysSpreadOverTheirWholeRangeMatchAMap) {
  std::vector<std::uint32_t> universe;
  std::mt19937 pick(7);
  for (int i = 0; i < 400; ++i) universe.push_back(static_cast<std::uint32_t>(pick()));
  run_against_model<TypeParam>(3, 40000, 101, universe,
                               [&](std::mt19937& r) { return universe[r() % universe.size()]; });
}

TYPED_TEST(Tables, KeysThatShareTheirLowBitsMatchAMap) {
  // 40 keys, 4096 apart: in DirectTable all want one slot, whatever its size.
  std::vector<std::uint32_t> universe;
  for (std::uint32_t i = 0; i < 40; ++i) universe.push_back(5 + i * 4096);
  run_against_model<TypeParam>(5, 20000, 89, universe, [&](std::mt19937& r) { return universe[r() % universe.size()]; });
}

TYPED_TEST(Tables, KeysInSequenceComeAndGoInAnyOrder) {
  TypeParam table;
  std::vector<Item> items(100000);
  for (std::uint32_t k = 0; k < items.size(); ++k) {
    items[k].key = k;
    ASSERT_TRUE(table.insert(k, &items[k]));
  }
  // Every other from the front (the oldest first, as a thief finishes them), then the rest.
  for (std::uint32_t k = 0; k < items.size(); k += 2) ASSERT_TRUE(table.erase(k, &items[k]));
  for (std::uint32_t k = 0; k < items.size(); ++k) ASSERT_EQ(table.find(k), k % 2 ? &items[k] : nullptr);
  for (std::uint32_t k = 1; k < items.size(); k += 2) ASSERT_TRUE(table.erase(k, &items[k]));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.capacity(), 64u) << "shrinks back once the crowd has gone";
}

TYPED_TEST(Tables, ANullValueIsRefused) {
  TypeParam table;
  EXPECT_THROW(table.insert(1, nullptr), std::invalid_argument);
  EXPECT_EQ(table.size(), 0u);
}

TEST(DirectTable, KeysInSequenceTakeTheirOwnSlotsAndAnOldKeyInTheWaySpills) {
  DirectTable<Item> table;
  Item old{3};
  ASSERT_TRUE(table.insert(3, &old));  // a long-lived process
  std::vector<Item> items(1000);
  for (std::uint32_t k = 0; k < items.size(); ++k) {
    items[k].key = 100000 + k;
    ASSERT_TRUE(table.insert(items[k].key, &items[k]));
  }
  // 1001 keys in 2048 slots: of the new keys only 100355 has 3's low 11 bits, and 3 was
  // there first.
  EXPECT_EQ(table.capacity(), 2048u);
  EXPECT_EQ(table.spilled(), 1u);
  EXPECT_EQ(table.find(100355), &items[355]);
  for (auto& item : items) ASSERT_TRUE(table.erase(item.key, &item));
  EXPECT_EQ(table.find(3), &old);
  EXPECT_EQ(table.spilled(), 0u) << "a spilled key that leaves, leaves the table beside too";
  EXPECT_EQ(table.capacity(), 64u);
}

}  // namespace
}  // namespace spindle::detail
