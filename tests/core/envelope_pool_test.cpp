// The pool that mailbox envelopes come from (core/src/envelope_pool.hpp): per-thread
// magazines of free blocks, and a depot where threads trade full ones. Sanitizer builds
// bypass the pool (the sanitizer must see every block), so there these tests check only
// that blocks come and go.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "envelope.hpp"
#include "envelope_pool.hpp"
#include "sanitizers.hpp"

namespace spindle::detail {
namespace {

constexpr std::size_t kBlock = sizeof(Envelope);

#if defined(SPINDLE_SANITIZED_HEAP)
constexpr bool kPooled = false;
#else
constexpr bool kPooled = true;
#endif

std::vector<void*> allocate_blocks(std::size_t n) {
  std::vector<void*> blocks(n);
  for (void*& b : blocks) b = allocate_envelope_block(kBlock);
  return blocks;
}

void free_blocks(const std::vector<void*>& blocks) {
  for (void* b : blocks) free_envelope_block(b, kBlock);
}

// Runs `body` on a thread of its own, to its end (and the thread's exit).
template <class Body>
void on_a_new_thread(Body body) {
  std::thread(body).join();
}

TEST(EnvelopePool, AFreedBlockIsTheNextOneItsThreadAllocates) {
  on_a_new_thread([] {
    void* a = allocate_envelope_block(kBlock);
    free_envelope_block(a, kBlock);
    void* b = allocate_envelope_block(kBlock);
    if (kPooled) {
      EXPECT_EQ(a, b);
    }
    free_envelope_block(b, kBlock);
  });
}

// A receiver frees what senders allocated: what it holds when it exits, and the full
// magazines it handed over before, go to the threads that allocate next.
TEST(EnvelopePool, AThreadThatOnlyFreesHandsItsBlocksOnWhenItExits) {
  for (const std::size_t n : {std::size_t{10}, std::size_t{3000}}) {
    SCOPED_TRACE(std::to_string(n) + " blocks");
    std::vector<void*> sent;
    on_a_new_thread([&] { sent = allocate_blocks(n); });
    on_a_new_thread([&] { free_blocks(sent); });
    std::vector<void*> again;
    on_a_new_thread([&] {
      again = allocate_blocks(n);
      free_blocks(again);
    });
    if (!kPooled) continue;
    const std::set<void*> freed(sent.begin(), sent.end());
    EXPECT_TRUE(std::all_of(again.begin(), again.end(), [&](void* b) { return freed.contains(b); }));
  }
}

TEST(EnvelopePool, OtherSizesComeFromTheHeap) {
  void* big = allocate_envelope_block(kBlock * 4);
  ASSERT_NE(big, nullptr);
  free_envelope_block(big, kBlock * 4);
}

}  // namespace
}  // namespace spindle::detail
