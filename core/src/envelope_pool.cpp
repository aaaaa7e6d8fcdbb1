#include "envelope_pool.hpp"

#include <array>
#include <atomic>
#include <new>
#include <utility>

#include "envelope.hpp"
#include "sanitizers.hpp"
#include "spindle/detail/memory.hpp"

namespace spindle::detail {

#if defined(SPINDLE_SANITIZED_HEAP)

void* allocate_envelope_block(std::size_t bytes) { return allocate(bytes); }
void free_envelope_block(void* block, std::size_t) noexcept { deallocate(block); }

#else

namespace {

constexpr std::size_t kBlock = sizeof(Envelope);
constexpr std::size_t kMagazine = 1024;      // blocks per magazine
constexpr std::size_t kDepotMagazines = 64;  // magazines kept for reuse

// A stack of free blocks, linked through their first word.
struct Magazine {
  void* top = nullptr;
  std::size_t count = 0;
  void push(void* block) noexcept {
    *static_cast<void**>(block) = top;
    top = block;
    ++count;
  }
  void* pop() noexcept {
    void* block = top;
    top = *static_cast<void**>(block);
    --count;
    return block;
  }
  void release_all() noexcept {
    while (count > 0) deallocate(pop());
  }
};

// Magazines traded between threads, without a lock: a row of slots, each empty or
// holding one magazine by its top block, whose second word holds the magazine's count.
// A thread claims a magazine by swapping its slot to empty with a compare-and-swap, and
// reads nothing of it until that succeeds; so a block that comes back in between as the
// top of another magazine in the same slot does no harm (whatever the slot holds when
// the swap succeeds is a whole magazine, and now the claimer's).
class Depot {
 public:
  bool take(Magazine& into) noexcept {
    for (auto& slot : slots_) {
      void* top = slot.load(std::memory_order_relaxed);
      if (top != nullptr &&
          slot.compare_exchange_strong(top, nullptr, std::memory_order_acquire, std::memory_order_relaxed)) {
        into = Magazine{top, static_cast<std::size_t*>(top)[1]};
        return true;
      }
    }
    return false;
  }
  void give(Magazine magazine) noexcept {
    if (magazine.top == nullptr) return;
    static_cast<std::size_t*>(magazine.top)[1] = magazine.count;
    for (auto& slot : slots_) {
      void* empty = nullptr;
      if (slot.load(std::memory_order_relaxed) == nullptr &&
          slot.compare_exchange_strong(empty, magazine.top, std::memory_order_release, std::memory_order_relaxed))
        return;
    }
    magazine.release_all();  // the depot is full: back to the heap
  }

 private:
  std::array<std::atomic<void*>, kDepotMagazines> slots_{};
};
static_assert(kBlock >= 2 * sizeof(void*), "a free block holds its link and, on top, its magazine's count");

// Trivially destructible, so threads that exit after static destructors have run (oneTBB's
// workers may) can still hand their magazines back.
constinit Depot the_depot;
Depot& depot() noexcept { return the_depot; }

// Each thread's magazine. Trivially destructible, so the fast paths read it without a
// check that it was set up. t_return hands it back when the thread exits; it is set up
// on the slow paths, and a thread takes one of them first: its magazine starts out
// empty and counted as full (kUnarmed), so its first allocation and its first free both
// go there.
constexpr Magazine kUnarmed{nullptr, kMagazine};
thread_local Magazine t_magazine = kUnarmed;
struct MagazineReturn {
  bool armed = false;
  ~MagazineReturn() {
    if (t_magazine.top != nullptr) depot().give(std::exchange(t_magazine, Magazine()));
  }
};
thread_local MagazineReturn t_return;

// Sets up the return of this thread's magazine; false if it was set up already.
bool arm() noexcept {
  if (t_return.armed) return false;
  t_return.armed = true;
  t_magazine = Magazine();
  return true;
}

// The slow paths, out of line: so the fast ones need no registers saved and restored.
[[gnu::noinline]] void* allocate_slowly() {
  arm();
  return depot().take(t_magazine) ? t_magazine.pop() : allocate(kBlock);
}

[[gnu::noinline]] void free_slowly(void* block) noexcept {
  if (!arm()) depot().give(std::exchange(t_magazine, Magazine()));  // full
  t_magazine.push(block);
}

}  // namespace

void* allocate_envelope_block(std::size_t bytes) {
  if (bytes != kBlock) return allocate(bytes);
  return t_magazine.top != nullptr ? t_magazine.pop() : allocate_slowly();
}

void free_envelope_block(void* block, std::size_t bytes) noexcept {
  if (bytes != kBlock) return deallocate(block);
  if (t_magazine.count == kMagazine) return free_slowly(block);  // full, or not yet armed
  t_magazine.push(block);
}

#endif

}  // namespace spindle::detail
