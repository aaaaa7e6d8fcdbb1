#pragma once
/// @file
/// A work-stealing executor for actors on one oneTBB task arena.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "spindle/actor.hpp"

namespace spindle {

namespace detail {
// Actor::park_ holds the ticket of the actor's latest park above these two phase bits
// (scheduler.cpp, "parking", says what each phase means).
inline constexpr std::uint32_t kParkPhaseBits = 3;
enum ParkPhase : std::uint32_t { kParkFree = 0, kParkAsked = 1, kParked = 2, kParkResumedEarly = 3 };
}  // namespace detail

struct SchedulerOptions {
  /// Worker threads; 0 means one per hardware thread.
  std::size_t threads = 0;
  /// The most messages an actor handles per run before it yields to others.
  std::size_t budget = 16384;
  /// The time an actor may run before it yields (checked every few hundred messages).
  /// Actors that a worker runs back to back through its "run next" slot (each woken by
  /// the one before, as a ping-pong pair is) share one slice: past it, the next one goes
  /// to the back of the queue and the rest of the queue goes first.
  std::chrono::nanoseconds time_slice = std::chrono::milliseconds(1);
  /// How long a worker that has run out of actors waits for one woken from outside the
  /// workers (the distribution's I/O thread delivering the next request) before it goes
  /// back to oneTBB, which puts it to sleep. The actor it catches runs without a
  /// sleeping thread being woken. At most one worker waits at a time; zero: none does.
  std::chrono::nanoseconds busy_wait = std::chrono::microseconds(100);
};

/// Counters, summed over workers; read while running they are approximate.
struct SchedulerStats {
  std::uint64_t runs = 0;        ///< actor runs
  std::uint64_t handoffs = 0;    ///< runs started through a worker's run-next slot
  std::uint64_t spawned = 0;     ///< actors pushed onto a worker's own deque
  std::uint64_t enqueued = 0;    ///< actors put on the arena's shared queue (outside threads, yields)
  std::uint64_t steals = 0;      ///< tasks a worker took from another worker's deque
  std::uint64_t caught = 0;      ///< actors woken from outside that a waiting worker ran at once
  std::uint64_t outside_runs = 0;  ///< actor runs on the RunWokenHere thread (the I/O thread)
};

/// One worker's counters since the scheduler started; read while running they are
/// approximate. Utilisation is the growth of `busy` over the time between two reads.
struct WorkerStats {
  std::uint64_t runs = 0;            ///< actor runs
  std::uint64_t steals = 0;          ///< tasks it took from another worker's deque
  std::chrono::nanoseconds busy{0};  ///< time spent running actors
  /// Actors woken from outside the workers that it caught while waiting (busy_wait),
  /// rather than oneTBB waking a sleeping worker for them.
  std::uint64_t caught = 0;
};

/// Runs actors on a oneTBB task arena. Delivering to an idle actor from a worker keeps
/// the actor on that worker (its run-next slot, then its own deque) for cache locality;
/// idle workers steal; from outside threads actors go on the arena's shared queue.
/// No lock and no sleep on the delivery or run path; idle workers sleep in oneTBB.
class Scheduler {
 public:
  explicit Scheduler(SchedulerOptions options = {});
  /// Waits for every scheduled actor to finish its current run. Actors still holding
  /// mail are not run again: stop them first (the Node does).
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Puts `node` in `actor`'s mailbox and schedules the actor if it was idle.
  /// False if the mailbox is closed (the node was not taken).
  bool deliver(Actor& actor, MailboxNode* node) { return scheduled_if_woken(actor, actor.mailbox().push(node)); }
  /// `deliver` for a chain linked newest first (Mailbox::push_chain). False if the
  /// mailbox is closed (no node was taken).
  bool deliver_chain(Actor& actor, MailboxNode* top, MailboxNode* bottom) {
    return scheduled_if_woken(actor, actor.mailbox().push_chain(top, bottom));
  }

  /// Puts `node` in `actor`'s mailbox without waking an idle actor: it is handled, in
  /// arrival order, when something else wakes the actor. For signals that only change
  /// the actor's own bookkeeping; once `Mailbox::kHeldLimit` wait, the actor is woken
  /// after all. False if the mailbox is closed (the node was not taken).
  bool deliver_quietly(Actor& actor, MailboxNode* node) {
    return scheduled_if_woken(actor, actor.mailbox().push_quietly(node));
  }

  /// Schedules `actor` if its mailbox is idle (for an actor that must run without mail,
  /// such as a new one). False if it was already scheduled, running or closed.
  bool wake(Actor& actor);

  /// Names one park of an actor, for `resume`.
  struct ParkTicket {
    std::uint32_t value;
  };

  /// From inside a run of `actor` (its own code): asks that, once this run ends, the
  /// actor waits, mail or not, until `resume` with the ticket returned (or `unpark`).
  /// The actor should end the run soon with RunResult::Park (`park_asked` tells its run
  /// loop). Erlang suspends a process that sends to a busy distribution connection
  /// this way. nullopt if this run already asked: that ticket stands.
  static std::optional<ParkTicket> park(Actor& actor) noexcept;
  /// True while a park asked for in the actor's current run is pending. Inline: a
  /// process's run loop asks after every message.
  static bool park_asked(const Actor& actor) noexcept {
    return (actor.park_.load(std::memory_order_relaxed) & detail::kParkPhaseBits) == detail::kParkAsked;
  }
  /// Any thread: ends the park `ticket` names and schedules the actor. Nothing if that
  /// park has ended already (a stale ticket); a resume that comes while the asking run
  /// is still going on makes the run's Park act as a Yield.
  void resume(Actor& actor, ParkTicket ticket) noexcept;
  /// Any thread: ends whatever park `actor` is in, as `resume` would (for a signal that
  /// must not wait, such as an exit signal).
  void unpark(Actor& actor) noexcept;

  std::size_t threads() const noexcept;
  std::size_t budget() const noexcept;
  SchedulerStats stats() const noexcept;
  /// Per worker, in arena slot order.
  std::vector<WorkerStats> worker_stats() const;

  /// The scheduler whose worker is running the calling thread, or null.
  static Scheduler* current() noexcept;

  /// Makes the calling thread, which is not a worker, run the actors its own deliveries
  /// wake, for as long as the object lives: the distribution's I/O thread, so that a
  /// request read from a socket is handled and answered on the thread that read it,
  /// with no other thread woken (what BEAM's schedulers do when they poll). A delivery
  /// keeps the actor it wakes in the thread's run-next slot (one that it displaces goes
  /// to the workers); `run()` runs it, and what it wakes in turn, for a short chain and
  /// a small budget (64 messages, 50 us), after which the workers take over; an actor
  /// whose run here took over 500 us runs on the workers for its next few wake-ups. The thread
  /// must call `run()` after each piece of its own work that may deliver (an actor left
  /// in the slot runs only then). Actors so run must not block: the thread's own work
  /// waits meanwhile. At most one thread per scheduler (a second throws std::logic_error).
  class RunWokenHere {
   public:
    explicit RunWokenHere(Scheduler& scheduler);
    /// Runs what is still waiting, then makes the thread an outside thread again.
    ~RunWokenHere();
    RunWokenHere(const RunWokenHere&) = delete;
    RunWokenHere& operator=(const RunWokenHere&) = delete;
    void run() noexcept;
    /// True while `run()` is running an actor (so the caller is that actor's code).
    bool running() const noexcept;
    /// True when a delivery kept an actor for the next `run()`.
    bool pending() const noexcept;
    /// Calls `f` with this thread delivering like any thread outside the scheduler (to
    /// the workers): for the thread's own work done in the middle of an actor's run,
    /// such as the distribution's I/O thread writing what a long handler sends.
    template <class F>
    void aside(F&& f) {
      set_aside(true);
      struct Restore {
        RunWokenHere& here;
        ~Restore() { here.set_aside(false); }
      } restore{*this};
      f();
    }

   private:
    void set_aside(bool aside) noexcept;
    Scheduler& scheduler_;
  };

 private:
  struct Impl;
  /// Retains `actor` and schedules it (its mailbox just left the idle state).
  void schedule_retained(Actor& actor);
  /// A reference to `actor` for the run to come: a new one, or the calling worker's held one.
  static void take_reference(Actor& actor) noexcept;
  /// After a push into `actor`'s mailbox: schedules the actor if the push woke it; false
  /// if the mailbox was closed.
  bool scheduled_if_woken(Actor& actor, Mailbox::Push pushed) {
    if (pushed == Mailbox::Push::QueuedWasIdle) schedule_retained(actor);
    return pushed != Mailbox::Push::Closed;
  }
  // Impl reaches Actor's protected interface through Scheduler, Actor's friend.
  static Actor::RunResult run(Actor& actor, const RunLimits& limits) noexcept { return actor.run(limits); }
  static void retain(Actor& actor) noexcept { actor.retain(); }
  static void release(Actor& actor) noexcept { actor.release(); }
  /// After a run that returned Park: true if the actor is now parked (its reference
  /// goes with the park), false if a resume came first (run it again).
  static bool settle_park(Actor& actor) noexcept;
  /// Ends a park in `actor` whose ticket `matches`; schedules the actor when it was parked.
  template <class Matches>
  void end_park(Actor& actor, Matches&& matches) noexcept;
  /// For the RunWokenHere thread: true if `actor`, woken by it, goes to the workers this
  /// time (it ran too long there lately).
  static bool skips_outside(Actor& actor) noexcept {
    if (actor.outside_skips_ == 0) return false;
    --actor.outside_skips_;
    return true;
  }
  /// For the RunWokenHere thread: how a run of `actor` there went.
  static void ran_outside(Actor& actor, bool too_long) noexcept {
    constexpr std::uint8_t kMostStrikes = 10;  // at most 1024 wake-ups skipped
    if (too_long) {
      if (actor.outside_strikes_ < kMostStrikes) ++actor.outside_strikes_;
      actor.outside_skips_ = static_cast<std::uint16_t>(1u << actor.outside_strikes_);
    } else if (actor.outside_strikes_ > 0) {
      --actor.outside_strikes_;
    }
  }

  std::unique_ptr<Impl> impl_;
};

}  // namespace spindle
