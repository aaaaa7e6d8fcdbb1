#include "spindle/detail/memory.hpp"

#include "sanitizers.hpp"

#if !defined(SPINDLE_SANITIZED_HEAP)
#define SPINDLE_SCALABLE_ALLOCATOR 1
#include <oneapi/tbb/scalable_allocator.h>
#endif

namespace spindle::detail {

void* allocate(std::size_t bytes) {
#ifdef SPINDLE_SCALABLE_ALLOCATOR
  void* p = scalable_malloc(bytes);
  if (p == nullptr) throw std::bad_alloc();
  return p;
#else
  return ::operator new(bytes);
#endif
}

void deallocate(void* p) noexcept {
#ifdef SPINDLE_SCALABLE_ALLOCATOR
  scalable_free(p);
#else
  ::operator delete(p);
#endif
}

void* allocate_aligned(std::size_t bytes, std::size_t alignment) {
#ifdef SPINDLE_SCALABLE_ALLOCATOR
  void* p = scalable_aligned_malloc(bytes, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
#else
  return ::operator new(bytes, std::align_val_t(alignment));
#endif
}

void deallocate_aligned(void* p, [[maybe_unused]] std::size_t alignment) noexcept {
#ifdef SPINDLE_SCALABLE_ALLOCATOR
  scalable_aligned_free(p);
#else
  ::operator delete(p, std::align_val_t(alignment));
#endif
}

}  // namespace spindle::detail
