// The pool that mailbox envelopes come from (core/src/envelope_pool.hpp): per-thread
// magazines of free blocks, and a depot where threads trade full ones. Sanitizer builds
// bypass the pool (the sanitizer must see every block), so there these tests check only
// that blocks come and go.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
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

// Senders allocate on their threads and receivers free on theirs, so blocks go round
// through the depot all the time. A block handed to two owners at once would have its
// stamp overwritten while the first still holds it.
TEST(EnvelopePool, BlocksGoingRoundManyThreadsHaveOneOwnerAtATime) {
  constexpr int kSenders = 4;
  constexpr int kReceivers = 2;
  constexpr std::uint64_t kPerSender = 200000;
  struct Stamp {
    std::uint64_t owner;
    std::uint64_t serial;
  };
  std::mutex mutex;
  std::condition_variable arrived;
  std::deque<void*> in_flight;
  int senders_left = kSenders;
  std::atomic<std::uint64_t> mismatches{0};
  std::atomic<std::uint64_t> received{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kSenders; ++t) {
    threads.emplace_back([&, t] {
      std::vector<void*> batch;
      for (std::uint64_t i = 0; i < kPerSender; ++i) {
        auto* stamp = static_cast<Stamp*>(allocate_envelope_block(kBlock));
        *stamp = {static_cast<std::uint64_t>(t), i};
        batch.push_back(stamp);
        if (batch.size() == 64 || i + 1 == kPerSender) {
          const std::uint64_t first = i + 1 - batch.size();
          for (std::size_t j = 0; j < batch.size(); ++j) {  // still ours: nobody else wrote them
            const auto* s = static_cast<const Stamp*>(batch[j]);
            if (s->owner != static_cast<std::uint64_t>(t) || s->serial != first + j) mismatches.fetch_add(1);
          }
          {
            std::lock_guard lock(mutex);
            in_flight.insert(in_flight.end(), batch.begin(), batch.end());
          }
          arrived.notify_one();
          batch.clear();
        }
      }
      std::lock_guard lock(mutex);
      if (--senders_left == 0) arrived.notify_all();
    });
  }
  for (int r = 0; r < kReceivers; ++r) {
    threads.emplace_back([&] {
      for (;;) {
        void* b = nullptr;
        {
          std::unique_lock lock(mutex);
          arrived.wait(lock, [&] { return !in_flight.empty() || senders_left == 0; });
          if (in_flight.empty()) return;
          b = in_flight.front();
          in_flight.pop_front();
        }
        const auto* s = static_cast<const Stamp*>(b);
        if (s->owner >= kSenders || s->serial >= kPerSender) mismatches.fetch_add(1);
        free_envelope_block(b, kBlock);
        received.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0u);
  EXPECT_EQ(received.load(), kSenders * kPerSender);
}

TEST(EnvelopePool, OtherSizesComeFromTheHeap) {
  void* big = allocate_envelope_block(kBlock * 4);
  ASSERT_NE(big, nullptr);
  free_envelope_block(big, kBlock * 4);
}

}  // namespace
}  // namespace spindle::detail
