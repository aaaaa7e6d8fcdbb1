#pragma once
// A stack that keeps its first N entries inline, so shallow traversals (almost all
// messages) never allocate for their bookkeeping.

#include <array>
#include <cstddef>
#include <vector>

namespace spindle::detail {

template <class T, std::size_t N>
class SmallStack {
 public:
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  T& back() noexcept { return size_ <= N ? inline_[size_ - 1] : spill_[size_ - 1 - N]; }
  void push_back(const T& value) {
    if (size_ < N) {
      inline_[size_] = value;
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
  std::array<T, N> inline_{};
  std::vector<T> spill_;
  std::size_t size_ = 0;
};

}  // namespace spindle::detail
