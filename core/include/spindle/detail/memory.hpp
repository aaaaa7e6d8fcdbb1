#pragma once
// Memory for the runtime's small objects: term boxes and regions, process control
// blocks, mailbox envelopes. They are usually allocated on one thread and freed on
// another (a message is built by its sender and freed by its receiver), which oneTBB's
// scalable allocator handles without a shared lock. Sanitizer builds use the global
// heap instead, so that ASan and TSan see every allocation.

#include <cstddef>
#include <new>

namespace spindle::detail {

void* allocate(std::size_t bytes);
void deallocate(void* p) noexcept;
void* allocate_aligned(std::size_t bytes, std::size_t alignment);
void deallocate_aligned(void* p, std::size_t alignment) noexcept;

/// A standard allocator over allocate/deallocate, for the runtime's containers.
template <class T>
struct RuntimeAllocator {
  using value_type = T;
  RuntimeAllocator() noexcept = default;
  template <class U>
  RuntimeAllocator(const RuntimeAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(detail::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { detail::deallocate(p); }
  template <class U>
  bool operator==(const RuntimeAllocator<U>&) const noexcept {
    return true;
  }
};

/// Gives a class allocate/deallocate as its operator new and delete.
struct RuntimeAllocated {
  static void* operator new(std::size_t bytes) { return allocate(bytes); }
  static void operator delete(void* p) noexcept { deallocate(p); }
  static void* operator new(std::size_t bytes, std::align_val_t alignment) {
    return allocate_aligned(bytes, static_cast<std::size_t>(alignment));
  }
  static void operator delete(void* p, std::align_val_t alignment) noexcept {
    deallocate_aligned(p, static_cast<std::size_t>(alignment));
  }
  // A class's own operator new hides the global placement form; this brings it back.
  static void* operator new(std::size_t, void* place) noexcept { return place; }
  static void operator delete(void*, void*) noexcept {}
};

}  // namespace spindle::detail
