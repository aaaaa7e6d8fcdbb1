// Core tests that exercise several threads at once; run under ThreadSanitizer in CI.

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "spindle/atom.hpp"
#include "spindle/term.hpp"

namespace spindle {
namespace {

TEST(Atom, ConcurrentInterningAgreesOnEveryIndex) {
  constexpr int kThreads = 4;
  constexpr int kNames = 20000;  // forces the index to grow while readers probe it
  std::vector<std::vector<Atom>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &seen] {
      for (int i = 0; i < kNames; ++i) {
        const int n = (i * 7 + t * 13) % kNames;  // each thread in a different order
        seen[t].push_back(atom("concurrent_" + std::to_string(n)));
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kNames; ++i) {
      const int n = (i * 7 + t * 13) % kNames;
      ASSERT_EQ(seen[t][i], atom("concurrent_" + std::to_string(n)));
      ASSERT_EQ(seen[t][i].text(), "concurrent_" + std::to_string(n));
    }
  }
}

TEST(Term, SharedAcrossThreads) {
  const Term shared = tuple(binary(std::string(1000, 'x')), list(1, 2, 3));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([shared] {
      for (int i = 0; i < 20000; ++i) {
        Term local = shared;
        Term element = local.as_tuple()[1];
        ASSERT_EQ(element.as_list().length(), 3u);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(shared.as_tuple()[0].as_binary().size(), 1000u);
}

}  // namespace
}  // namespace spindle
