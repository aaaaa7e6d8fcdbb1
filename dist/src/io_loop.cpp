#include "io_loop.hpp"

#include <thread>

namespace spindle::dist {

void run_io_loop(asio::io_context& io, std::chrono::microseconds busy_wait, const std::function<bool()>& after_each) {
  auto work = asio::make_work_guard(io);
  using Clock = std::chrono::steady_clock;
  while (!io.stopped()) {
    io.run_one();  // sleeps until something happens
    if (!after_each()) continue;
    Clock::time_point until = Clock::now() + busy_wait;
    while (!io.stopped()) {
      if (io.poll_one() > 0) {
        if (!after_each()) break;
        until = Clock::now() + busy_wait;
      } else if (busy_wait.count() <= 0 || Clock::now() >= until) {
        break;
      } else {
        std::this_thread::yield();  // a core shared with the thread that will answer
      }
    }
  }
}

}  // namespace spindle::dist
