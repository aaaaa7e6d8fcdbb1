#pragma once
// Actors and helpers the scheduler tests share.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "spindle/actor.hpp"

namespace spindle::test_actors {

using namespace std::chrono_literals;

struct Note : MailboxNode {
  explicit Note(int v) : value(v) {}
  int value;
};

// Waits until a counter reaches a target, with a deadline.
class Latch {
 public:
  void add(int n = 1) {
    {
      std::lock_guard lock(mutex_);
      count_ += n;
    }
    changed_.notify_all();
  }
  bool wait_for(int target, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return count_ >= target; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;
};

// An actor whose mail is Notes and whose lifetime the test owns (it outlives the
// scheduler): what is left in its mailbox goes with it, and the scheduler's references
// are not counted.
class NoteActor : public Actor {
 public:
  ~NoteActor() override {
    NodeList rest = mailbox().close();
    while (!rest.empty()) delete static_cast<Note*>(rest.pop_front());
  }

 protected:
  void retain() noexcept override {}
  void release() noexcept override {}
};

// An actor that records what it sees and flags any overlap of two runs.
class Recorder : public NoteActor {
 public:
  explicit Recorder(Latch& latch, std::size_t work_per_message = 0) : latch_(latch), work_(work_per_message) {}

  std::atomic<bool> overlapped{false};
  std::atomic<int> runs{0};
  std::atomic<int> longest_run{0};
  std::vector<int> seen;                      // touched only inside run
  std::vector<std::thread::id> run_threads;   // the thread of every run; likewise
  std::vector<int> run_sizes;                 // the notes every run handled; likewise
  std::atomic<std::chrono::microseconds> linger{0us};  // each run sleeps this long

 protected:
  RunResult run(const RunLimits& limits) noexcept override {
    const std::size_t budget = limits.budget;
    if (running_.exchange(true)) overlapped = true;
    runs.fetch_add(1);
    run_threads.push_back(std::this_thread::get_id());
    if (const auto pause = linger.load(); pause.count() > 0) std::this_thread::sleep_for(pause);
    int handled = 0;
    RunResult result = RunResult::Yield;
    for (std::size_t i = 0; i < budget; ++i) {
      if (pending_.empty()) pending_ = mailbox().take_all();
      if (pending_.empty()) {
        result = RunResult::Idle;
        break;
      }
      auto* note = static_cast<Note*>(pending_.pop_front());
      seen.push_back(note->value);
      delete note;
      std::size_t sink = 0;
      for (std::size_t spin = 0; spin < work_; ++spin) sink += spin;
      busywork_.store(sink, std::memory_order_relaxed);
      ++handled;
    }
    if (handled > longest_run.load()) longest_run = handled;
    run_sizes.push_back(handled);
    running_ = false;
    latch_.add(handled);
    return result;
  }

 private:
  Latch& latch_;
  std::size_t work_;
  NodeList pending_;
  std::atomic<bool> running_{false};
  std::atomic<std::size_t> busywork_{0};  // keeps the simulated work from being optimised away
};

}  // namespace spindle::test_actors
