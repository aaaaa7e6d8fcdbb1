#pragma once
/// @file
/// Timers for a whole scheduler on one thread: `send_after`, receive timeouts, call
/// timeouts. Thousands of pending timers cost a heap entry each, not a thread.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace spindle {

class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using Id = std::uint64_t;

  TimerQueue();
  /// Stops the timer thread; timers that have not fired are dropped.
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  /// Runs `action` on the timer thread once `delay` has passed. Actions must be short
  /// (deliver a message, no more). Returns an id for `cancel` (never 0).
  Id add(Clock::duration delay, std::function<void()> action);
  Id add_at(Clock::time_point when, std::function<void()> action);

  /// True if the timer was still pending and will now never fire.
  bool cancel(Id id) noexcept;

  /// Timers that have neither fired nor been cancelled.
  std::size_t pending() const;

 private:
  struct Entry {
    Clock::time_point when;
    Id id;
    bool operator>(const Entry& other) const noexcept { return when > other.when; }
  };

  void loop();
  void compact();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Entry> heap_;  // min-heap by deadline; cancelled entries are skipped lazily
  std::unordered_map<Id, std::function<void()>> actions_;
  Id next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace spindle
