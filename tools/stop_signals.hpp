#pragma once
// SIGINT and SIGTERM for programs that run a node until told to stop: blocked in every
// thread (construct this before the node starts its threads, which inherit the mask)
// and taken synchronously by the main thread, so no handler runs inside the runtime.

#include <cerrno>
#include <chrono>
#include <csignal>
#include <functional>

#include <pthread.h>

namespace spindle::tools {

class StopSignals {
 public:
  StopSignals() noexcept {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }

  /// Returns once SIGINT or SIGTERM arrives. With a nonzero `interval`, runs `tick`
  /// every time that much passes without one.
  void wait(std::chrono::seconds interval = std::chrono::seconds(0), const std::function<void()>& tick = {}) const {
    if (interval.count() == 0) {
      while (sigwaitinfo(&set_, nullptr) < 0) {
      }
      return;
    }
    const timespec timeout{static_cast<time_t>(interval.count()), 0};
    while (sigtimedwait(&set_, nullptr, &timeout) < 0)
      if (errno == EAGAIN && tick) tick();
  }

 private:
  sigset_t set_;
};

}  // namespace spindle::tools
