#pragma once
/// @file
/// The scheduler's unit of work: something with a mailbox that runs when it has mail.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "spindle/mailbox.hpp"

namespace spindle {

class Scheduler;

/// How long one run of an actor may go on: at most `budget` messages, and about `slice`
/// of time (checked now and then), whichever ends first. Like BEAM's reductions, this
/// lets a busy actor drain a deep mailbox without holding a worker for long.
struct RunLimits {
  std::size_t budget;
  std::chrono::nanoseconds slice;
};

/// Derive from Actor to be run by a `Scheduler`. The scheduler guarantees that at most
/// one worker runs a given actor at any moment, and that an actor is scheduled exactly
/// when its mailbox goes from idle to non-empty (or when it is woken explicitly).
class Actor {
 public:
  /// What a run left behind.
  enum class RunResult {
    Idle,   ///< the mailbox is empty: park until the next message
    Yield,  ///< more to do (budget spent, or an active actor): run again later
    Done,   ///< finished for good; the mailbox is closed
    Park,   ///< asked to wait (Scheduler::park): run again only once resumed
  };

  Actor() noexcept = default;
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;

  Mailbox& mailbox() noexcept { return mailbox_; }

 protected:
  virtual ~Actor() = default;

  /// Handles messages within `limits`. Called on a worker, never concurrently.
  virtual RunResult run(const RunLimits& limits) noexcept = 0;
  /// Reference counting that keeps the actor alive while it is scheduled.
  virtual void retain() noexcept = 0;
  virtual void release() noexcept = 0;

 private:
  friend class Scheduler;
  Mailbox mailbox_;
  // Kept by the scheduler's RunWokenHere thread alone (a scheduler has at most one):
  // after a run there went on too long, the actor's next wake-ups from that thread go to
  // the workers; each such run in a row doubles how many (`outside_strikes_`), a short
  // one takes a strike back. One run seen long because the OS preempted the thread
  // costs a few wake-ups; a handler that is always slow ends up there once in 1024.
  std::uint16_t outside_skips_ = 0;
  std::uint8_t outside_strikes_ = 0;
  // Scheduler::park's state: the current park's ticket in the high bits, its phase in
  // the low two (detail::ParkPhase in scheduler.hpp). Fits the padding after the fields above.
  std::atomic<std::uint32_t> park_{0};
};

}  // namespace spindle
