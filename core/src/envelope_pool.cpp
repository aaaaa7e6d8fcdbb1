#include "envelope_pool.hpp"

#include <mutex>
#include <new>
#include <utility>
#include <vector>

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
constexpr std::size_t kDepotMagazines = 64;  // full magazines kept for reuse

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

class Depot {
 public:
  bool take(Magazine& into) {
    std::lock_guard lock(mutex_);
    if (full_.empty()) return false;
    into = full_.back();
    full_.pop_back();
    return true;
  }
  void give(Magazine magazine) noexcept {
    {
      std::lock_guard lock(mutex_);
      if (full_.size() < kDepotMagazines) {
        full_.push_back(magazine);
        return;
      }
    }
    magazine.release_all();
  }
 private:
  std::mutex mutex_;
  std::vector<Magazine> full_;
};

// Never destroyed: oneTBB's worker threads may exit (and hand their magazines back)
// after static destructors have run.
Depot& depot() {
  static Depot* instance = new Depot;
  return *instance;
}

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
