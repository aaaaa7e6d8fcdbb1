#pragma once
// A stack that keeps its first N entries inline, so shallow traversals (almost all
// messages) never allocate for their bookkeeping. The inline slots are left
// uninitialised until pushed, so an unused stack costs nothing to create.

#include <cstddef>
#include <new>
#include <type_traits>
#include <vector>

namespace spindle::detail {

template <class T, std::size_t N>
class SmallStack {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  SmallStack() noexcept {}  // NOLINT: deliberately leaves `inline_` uninitialised
  SmallStack(const SmallStack&) = delete;
  SmallStack& operator=(const SmallStack&) = delete;

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  T& back() noexcept { return size_ <= N ? inline_[size_ - 1] : spill_[size_ - 1 - N]; }
  void push_back(const T& value) {
    if (size_ < N) {
      new (&inline_[size_]) T(value);
    } else {
      spill_.push_back(value);
    }
    ++size_;
  }
  void pop_back() noexcept {
    if (size_ > N) spill_.pop_back();
    --size_;
  }

 private:
  union {
    T inline_[N];
  };
  std::vector<T> spill_;
  std::size_t size_ = 0;
};

}  // namespace spindle::detail
