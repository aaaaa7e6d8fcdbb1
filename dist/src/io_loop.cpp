#include "io_loop.hpp"

#include <thread>

namespace spindle::dist {

void run_io_loop(asio::io_context& io, std::chrono::microseconds busy_wait, const std::function<void()>& after_each) {
  auto work = asio::make_work_guard(io);
  using Clock = std::chrono::steady_clock;
  while (!io.stopped()) {
    io.run_one();  // sleeps until something happens
    after_each();
    Clock::time_point until = Clock::now() + busy_wait;
    while (!io.stopped()) {
      if (io.poll_one() > 0) {
        after_each();
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
