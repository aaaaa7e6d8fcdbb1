#include "envelope_pool.hpp"

#include <mutex>
#include <new>
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

struct ThreadCache {
  Magazine magazine;
  ~ThreadCache() {
    if (magazine.count > 0) depot().give(magazine);
  }
};

thread_local ThreadCache t_cache;

}  // namespace

void* allocate_envelope_block(std::size_t bytes) {
  if (bytes != kBlock) return allocate(bytes);
  Magazine& m = t_cache.magazine;
  if (m.count == 0 && !depot().take(m)) return allocate(kBlock);
  return m.pop();
}

void free_envelope_block(void* block, std::size_t bytes) noexcept {
  if (bytes != kBlock) return deallocate(block);
  Magazine& m = t_cache.magazine;
  if (m.count == kMagazine) {
    depot().give(m);
    m = Magazine();
  }
  m.push(block);
}

#endif

}  // namespace spindle::detail
