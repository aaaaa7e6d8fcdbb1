// The name registry's lock-free lookups against writers that replace and free what a
// name points to; run under ThreadSanitizer and AddressSanitizer in CI.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "name_registry.hpp"
#include "spindle/term.hpp"

namespace spindle::detail {
namespace {

// Stands in for a process, and says whether it is still registered.
struct Holder {
  explicit Holder(int number) : id(number) {}
  int id;
  std::atomic<bool> registered{true};
  std::atomic<std::uint64_t> visits{0};
};

TEST(NameRegistry, AddVisitRemove) {
  NameRegistry<Holder> names;
  Holder a(1);
  int seen = 0;
  EXPECT_FALSE(names.visit(atom("registry_never_added"), [&](Holder& h) { seen = h.id; }));
  names.write().add(atom("registry_a"), a);
  EXPECT_TRUE(names.visit(atom("registry_a"), [&](Holder& h) { seen = h.id; }));
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(names.write().find(atom("registry_a")), &a);
  EXPECT_EQ(names.snapshot().size(), 1u);
  EXPECT_EQ(names.write().remove(atom("registry_a")), &a);
  EXPECT_EQ(names.write().remove(atom("registry_a")), nullptr);
  EXPECT_FALSE(names.visit(atom("registry_a"), [&](Holder&) { ADD_FAILURE() << "visited a free name"; }));
  EXPECT_TRUE(names.snapshot().empty());
}

TEST(NameRegistry, AtomsFarApartGetTheirOwnEntries) {
  NameRegistry<Holder> names;
  std::vector<std::unique_ptr<Holder>> holders;
  std::vector<Atom> keys;
  for (int i = 0; i < 3000; ++i) {  // more than one leaf of words
    keys.push_back(atom("registry_spread_" + std::to_string(i)));
    holders.push_back(std::make_unique<Holder>(i));
    if (i % 3 == 0) names.write().add(keys.back(), *holders.back());
  }
  for (int i = 0; i < 3000; ++i) {
    int seen = -1;
    EXPECT_EQ(names.visit(keys[i], [&](Holder& h) { seen = h.id; }), i % 3 == 0);
    EXPECT_EQ(seen, i % 3 == 0 ? i : -1);
  }
}

// Readers look names up without pause while a writer keeps moving each name to a new
// holder and freeing the old one. Once `remove` has returned no reader may touch the
// holder it removed: a reader that did would see `registered` false (or, under ASan,
// read freed memory). Every visit that found a holder is counted in that holder.
TEST(NameRegistry, RemovedHolderIsNeverUsedAfterRemoveReturns) {
  constexpr int kNames = 4;
  constexpr int kReaders = 2;
  constexpr int kMoves = 1000;
  NameRegistry<Holder> names;
  std::vector<Atom> keys;
  std::vector<std::unique_ptr<Holder>> current;
  for (int i = 0; i < kNames; ++i) {
    keys.push_back(atom("registry_stress_" + std::to_string(i)));
    current.push_back(std::make_unique<Holder>(i));
    names.write().add(keys[i], *current[i]);
  }
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> found{0};
  std::atomic<std::uint64_t> used_after_removal{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      for (unsigned i = r; !done.load(std::memory_order_relaxed); ++i) {
        names.visit(keys[i % kNames], [&](Holder& h) {
          if (!h.registered.load(std::memory_order_relaxed)) used_after_removal.fetch_add(1);
          h.visits.fetch_add(1, std::memory_order_relaxed);
          found.fetch_add(1, std::memory_order_relaxed);
        });
      }
    });
  }
  std::uint64_t counted = 0;
  // Moves go on until the readers have been at it a while, however late their threads start.
  for (int move = 0; move < kMoves || found.load(std::memory_order_relaxed) < kMoves * 200; ++move) {
    const int i = move % kNames;
    auto next = std::make_unique<Holder>(i);
    {
      auto writer = names.write();
      ASSERT_EQ(writer.remove(keys[i]), current[i].get());
      current[i]->registered.store(false, std::memory_order_relaxed);
      if (move % 2 == 0) writer.add(keys[i], *next);  // else the name stays free a while
    }
    counted += current[i]->visits.load();
    current[i] = std::move(next);  // frees the removed holder
    if (move % 2 != 0) names.write().add(keys[i], *current[i]);
  }
  done = true;
  for (auto& t : readers) t.join();
  for (auto& h : current) counted += h->visits.load();
  EXPECT_EQ(used_after_removal.load(), 0u);
  EXPECT_EQ(counted, found.load());  // no visit went to a holder we did not count
  EXPECT_GT(found.load(), 0u);
}

}  // namespace
}  // namespace spindle::detail
