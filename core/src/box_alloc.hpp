#pragma once
// Allocation of boxed terms: standalone boxes (one allocation, own reference count)
// and regions (one block holding every box of a decoded term, one shared count).

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

#include "spindle/detail/memory.hpp"
#include "spindle/term.hpp"

namespace spindle::detail {

/// Allocates a standalone box of type `B` followed by `trailing_bytes`, with one
/// reference (owned by the caller, who wraps it with `Term::adopt`).
template <class B>
B* new_box(BoxKind kind, std::size_t trailing_bytes = 0) {
  void* memory = allocate(sizeof(B) + trailing_bytes);
  B* box = new (memory) B;
  box->kind = kind;
  box->flags = 0;
  box->aux = 0;
  box->count = 0;
  box->refs = 1;
  return box;
}

/// The header at the start of a region's first chunk. Boxes in the region point at
/// `refs` (the first member), so the region's address is the counter's address.
struct Region {
  std::uint64_t refs;
  void* more_chunks;  // singly linked list of further chunks; each starts with its `next`
  Term keep_alive;    // bytes that sub-binaries in the region point into
};

/// Builds one region: bump allocation of boxes that will all be freed together.
/// Until `finish()`, destroying the builder frees everything it allocated.
class RegionBuilder {
 public:
  /// `expected_bytes` sizes the first chunk (a hint; more chunks follow as needed).
  explicit RegionBuilder(std::size_t expected_bytes);
  RegionBuilder(const RegionBuilder&) = delete;
  RegionBuilder& operator=(const RegionBuilder&) = delete;
  ~RegionBuilder();

  /// A box of type `B` followed by `trailing_bytes`, in the region. Members of `B`
  /// are default-initialised; boxes in a region are never destroyed one by one.
  template <class B>
  B* box(BoxKind kind, std::size_t trailing_bytes = 0) {
    B* b = new (allocate(sizeof(B) + trailing_bytes)) B;
    b->kind = kind;
    b->flags = kBoxInRegion;
    b->aux = 0;
    b->count = 0;
    b->region_refs = &region_->refs;
    return b;
  }

  /// Raw storage for `bytes` bytes (8-byte aligned).
  void* allocate(std::size_t bytes);

  /// Keeps `owner` alive as long as the region (sub-binaries point into its bytes).
  void keep_alive(const Term& owner) { region_->keep_alive = owner; }

  /// Hands the region over to `root` (the term that owns its one reference). A
  /// region that received no boxes is freed, and `root` returned as it is.
  Term finish(Term root) noexcept;

 private:
  void add_chunk(std::size_t min_bytes);

  Region* region_;
  std::byte* next_ = nullptr;
  std::size_t left_ = 0;
  std::size_t last_chunk_size_ = 0;
  bool used_ = false;
};

/// Frees a region once its last reference is gone.
void free_region(Region* region) noexcept;

}  // namespace spindle::detail
