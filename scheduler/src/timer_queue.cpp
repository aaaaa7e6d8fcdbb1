#include "spindle/timer_queue.hpp"

#include <algorithm>

namespace spindle {

TimerQueue::TimerQueue() : thread_([this] { loop(); }) {}

TimerQueue::~TimerQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

TimerQueue::Id TimerQueue::add(Clock::duration delay, std::function<void()> action) {
  return add_at(Clock::now() + delay, std::move(action));
}

TimerQueue::Id TimerQueue::add_at(Clock::time_point when, std::function<void()> action) {
  bool earliest;
  Id id;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    actions_.emplace(id, std::move(action));
    earliest = heap_.empty() || when < heap_.front().when;
    heap_.push_back({when, id});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  }
  if (earliest) changed_.notify_one();  // the thread may be sleeping until a later deadline
  return id;
}

bool TimerQueue::cancel(Id id) noexcept {
  std::lock_guard lock(mutex_);
  if (actions_.erase(id) == 0) return false;
  // Entries of cancelled timers stay in the heap until their deadline; rebuild it when
  // they outnumber the live ones, so cancelled long timeouts cannot pile up.
  if (heap_.size() > 64 && heap_.size() > 2 * actions_.size()) compact();
  return true;
}

std::size_t TimerQueue::pending() const {
  std::lock_guard lock(mutex_);
  return actions_.size();
}

void TimerQueue::compact() {
  std::erase_if(heap_, [this](const Entry& e) { return !actions_.contains(e.id); });
  std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
}

void TimerQueue::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (heap_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const Entry next = heap_.front();
    auto it = actions_.find(next.id);
    if (it == actions_.end()) {  // cancelled
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
      heap_.pop_back();
      continue;
    }
    if (Clock::now() < next.when) {
      changed_.wait_until(lock, next.when);
      continue;
    }
    std::function<void()> action = std::move(it->second);
    actions_.erase(it);
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.pop_back();
    lock.unlock();
    action();
    lock.lock();
  }
}

}  // namespace spindle
