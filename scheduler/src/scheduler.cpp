// The executor. Every oneTBB task runs a chain of actors:
//
//  - An actor woken by an actor running on this worker goes into the worker's run-next
//    slot and runs right after the current one, in the same task: no task is created,
//    and the pair stays in one core's cache (ping-pong, rings, request/reply). Actors
//    displaced from the slot go onto the worker's own deque, where idle workers can
//    steal them, in batches of up to eight per task (flushed when the run that woke
//    them ends). A task shares one time slice, as a single run does: past it, the next
//    actor of a chain goes to the back of the shared queue, so a busy pair cannot hold
//    a worker.
//  - Actors woken from outside threads, and actors that used up their budget, go on the
//    arena's shared FIFO queue, so a yield really lets the others go first.
//  - A worker whose chain ends waits up to `busy_wait` in the catcher slot before its
//    task returns: an actor woken from outside in that time is handed to it directly
//    (one CAS each side) instead of through the arena, where a sleeping thread would
//    have to be woken. That wake-up is most of a remote round trip's cost.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <utility>

#include "handoff.hpp"
#include "spindle/detail/counter.hpp"
#include "spindle/scheduler.hpp"
#include "tbb_pool.hpp"

#include <oneapi/tbb/info.h>

namespace spindle {
namespace {

// Each written by the slot's worker only.
struct alignas(64) SlotStats {
  detail::OwnedCounter runs;
  detail::OwnedCounter handoffs;
  detail::OwnedCounter spawned;
  detail::OwnedCounter steals;
  detail::OwnedCounter busy_ns;
  detail::OwnedCounter caught;
};

// The catcher slot: empty, a worker waiting, or the actor handed to it.
Actor* const kWaiting = reinterpret_cast<Actor*>(std::uintptr_t{1});

// What the calling thread is doing for which scheduler.
struct Worker {
  Scheduler* owner = nullptr;
  Actor* next = nullptr;  // the run-next slot
  std::size_t slot = 0;
  bool outside = false;   // a thread that runs what it wakes (RunWokenHere), not a worker
  detail::ActorBatch displaced;  // from the run-next slot, bound for the worker's deque
  // The scheduler's reference to the actor this worker last ran to idle, kept instead of
  // released: when that actor is woken from here again (a ping-pong partner, a reply),
  // the wake-up takes it over instead of taking a new one, which saves two atomic
  // read-modify-writes per message. Released when another takes its place or the task ends.
  Actor* held = nullptr;
};
thread_local Worker t_worker;

std::size_t resolve_threads(std::size_t requested) {
  if (requested != 0) return requested;
  return static_cast<std::size_t>(std::max(1, tbb::info::default_concurrency()));
}

}  // namespace

struct Scheduler::Impl {
  Impl(Scheduler& self, const SchedulerOptions& options)
      : owner(self),
        threads(resolve_threads(options.threads)),
        limits{std::max<std::size_t>(1, options.budget), options.time_slice},
        busy_wait(options.busy_wait),
        stats(new SlotStats[threads + 1]),
        pool(std::make_unique<detail::TbbPool>(threads, &Impl::task_body, this)) {}

  ~Impl() {
    // Wait while `pool` is still valid: running tasks read it to start others.
    pool->wait_until_idle();
    detail::handoff_acquire();  // makes the tasks' effects visible to what follows
  }

  static void task_body(void* impl, Actor* const* actors, std::size_t count, int origin) noexcept {
    static_cast<Impl*>(impl)->execute(actors, count, origin);
  }

  SlotStats& stats_of(const Worker& w) noexcept { return stats[std::min(w.slot, threads)]; }

  // The body of every task: runs each of `firsts` and whatever each chain lands in the
  // run-next slot, then what the catcher hands over. Two clock reads per chain (not per
  // actor run) give the busy time.
  void execute(Actor* const* firsts, std::size_t count, int origin) noexcept {
    detail::handoff_acquire();
    const auto started = std::chrono::steady_clock::now();
    Worker& w = t_worker;
    const Worker saved = w;
    w.owner = &owner;
    w.next = nullptr;
    w.displaced.count = 0;
    w.held = nullptr;
    const int index = detail::TbbPool::current_slot();
    w.slot = index < 0 ? threads : static_cast<std::size_t>(index);
    SlotStats& slot = stats_of(w);
    if (origin >= 0 && origin != index) slot.steals.add();
    auto busy_since = started;
    for (std::size_t i = 0; i < count; ++i) run_chain(firsts[i], w, slot, busy_since);
    for (;;) {
      // Time spent waiting in the catcher is not busy time.
      slot.busy_ns.add(static_cast<std::uint64_t>(std::chrono::nanoseconds(std::chrono::steady_clock::now() - busy_since).count()));
      Actor* caught = catch_one(slot);
      if (caught == nullptr) break;
      busy_since = std::chrono::steady_clock::now();
      run_chain(caught, w, slot, busy_since);
    }
    if (w.held != nullptr) Scheduler::release(*w.held);
    w = saved;
    detail::handoff_release();  // lets the pool's final wait see this task's effects
  }

  // Runs `actor`, then whatever lands in the run-next slot, until the slot stays empty or
  // the task's time slice (from `busy_since`) is over.
  void run_chain(Actor* actor, Worker& w, SlotStats& slot, std::chrono::steady_clock::time_point busy_since) noexcept {
    for (std::size_t chain = 1;; ++chain) {
      run_one(*actor, slot);
      if (w.displaced.count != 0) flush_displaced(w);
      actor = std::exchange(w.next, nullptr);
      if (actor == nullptr) return;
      if (chain % kHandoffsPerClockRead == 0 && std::chrono::steady_clock::now() - busy_since >= limits.slice)
        return enqueue(actor);
      slot.handoffs.add();
    }
  }

  // The displaced actors gathered so far, onto the worker's deque as one task.
  void flush_displaced(Worker& w) {
    stats_of(w).spawned.add(w.displaced.count);
    detail::handoff_release();
    pool->spawn_local(w.slot, w.displaced);
    w.displaced.count = 0;
  }

  // Waits up to `busy_wait` for an actor woken from outside; null when none came. Only
  // the last task running waits: with others queued or running (a yield, a spawn), this
  // worker is better given back to oneTBB, and another worker may already be waiting.
  Actor* catch_one(SlotStats& slot) noexcept {
    if (busy_wait.count() <= 0 || pool->outstanding() != 1) return nullptr;
    Actor* expected = nullptr;
    if (!catcher.compare_exchange_strong(expected, kWaiting, std::memory_order_relaxed)) return nullptr;
    const auto until = std::chrono::steady_clock::now() + busy_wait;
    for (;;) {
      Actor* caught = catcher.load(std::memory_order_acquire);
      if (caught == kWaiting && std::chrono::steady_clock::now() >= until) {
        if (catcher.compare_exchange_strong(caught, nullptr, std::memory_order_acquire)) return nullptr;
      }
      if (caught != kWaiting) {  // handed over: the slot is ours to empty
        catcher.store(nullptr, std::memory_order_relaxed);
        slot.caught.add();
        return caught;
      }
      std::this_thread::yield();  // the core may be the one the waker needs
    }
  }

  // From outside the workers: to a waiting worker if there is one.
  bool hand_to_catcher(Actor* actor) noexcept {
    Actor* expected = kWaiting;
    return catcher.compare_exchange_strong(expected, actor, std::memory_order_release, std::memory_order_relaxed);
  }

  // Runs what the calling outside thread's deliveries woke, a short chain of it under
  // `outside_limits`; the rest goes to the workers, and so, for a while, does an actor
  // whose run here went on longer than kOutsideTooLong (one handler call cannot be cut
  // short; see Actor::outside_skips_).
  void run_woken_here() noexcept {
    Worker& w = t_worker;
    if (!w.outside) return;  // inside RunWokenHere::aside
    SlotStats& slot = stats[threads];
    for (std::size_t chain = 0; w.next != nullptr; ++chain) {
      Actor* actor = std::exchange(w.next, nullptr);
      if (chain >= kOutsideChain || Scheduler::skips_outside(*actor)) {
        enqueue(actor);
        continue;
      }
      Scheduler::retain(*actor);  // to mark it after the run, which may end it
      const auto started = std::chrono::steady_clock::now();
      running_outside = true;
      run_one(*actor, slot, outside_limits);
      running_outside = false;
      Scheduler::ran_outside(*actor, std::chrono::steady_clock::now() - started > kOutsideTooLong);
      Scheduler::release(*actor);
    }
  }

  void run_one(Actor& actor, SlotStats& slot) noexcept { run_one(actor, slot, limits); }
  void run_one(Actor& actor, SlotStats& slot, const RunLimits& run_limits) noexcept {
    for (int attempt = 0;; ++attempt) {
      slot.runs.add();
      switch (Scheduler::run(actor, run_limits)) {
        case Actor::RunResult::Idle:
          if (actor.mailbox().try_idle() || actor.mailbox().closed()) return release_after_run(actor);
          if (attempt < 4) continue;  // mail arrived just now: keep going
          return enqueue(&actor);
        case Actor::RunResult::Yield:
          return enqueue(&actor);
        case Actor::RunResult::Done:
          return Scheduler::release(actor);
        case Actor::RunResult::Park:
          if (Scheduler::settle_park(actor)) return;  // the park holds the reference
          return enqueue(&actor);
      }
    }
  }

  // The scheduler's reference to `actor`, whose run has ended with its mailbox idle (or
  // closed): a worker keeps it as its held actor, unless the actor is gone.
  static void release_after_run(Actor& actor) noexcept {
    Worker& w = t_worker;
    if (w.outside || actor.mailbox().closed()) return Scheduler::release(actor);
    if (Actor* previous = std::exchange(w.held, &actor)) Scheduler::release(*previous);
  }

  // `actor` is retained for the run to come.
  void schedule(Actor* actor) {
    Worker& w = t_worker;
    if (w.owner != &owner) return hand_to_catcher(actor) ? void() : enqueue(actor);
    if (Actor* displaced = std::exchange(w.next, actor)) {
      if (w.outside) return enqueue(displaced);  // it has no deque of its own
      w.displaced.add(displaced);
      if (w.displaced.full()) flush_displaced(w);
    }
  }

  void enqueue(Actor* actor) {
    enqueued.fetch_add(1, std::memory_order_relaxed);
    detail::handoff_release();
    pool->enqueue(actor);
  }

  // A chain of handoffs shares one time slice; the clock is read once per this many
  // handoffs, which keeps it off the per-message path.
  static constexpr std::size_t kHandoffsPerClockRead = 32;

  // An outside thread has its own work to get back to: it runs at most this many actors
  // in a row, each for at most `outside_limits`, and hands the rest to the workers.
  static constexpr std::size_t kOutsideChain = 4;
  static constexpr std::chrono::microseconds kOutsideTooLong{500};

  Scheduler& owner;
  const std::size_t threads;
  const RunLimits limits;
  const RunLimits outside_limits{std::min<std::size_t>(limits.budget, 64),
                                 std::min<std::chrono::nanoseconds>(limits.slice, std::chrono::microseconds(50))};
  const std::chrono::nanoseconds busy_wait;
  std::atomic<Actor*> catcher{nullptr};
  // At most one RunWokenHere thread, which alone uses the outside slot's counters,
  // `running_outside` and the actors' outside_skips_ and outside_strikes_.
  std::atomic<bool> outside_taken{false};
  bool running_outside = false;
  std::unique_ptr<SlotStats[]> stats;  // one per arena slot, plus one for anything else
  std::atomic<std::uint64_t> enqueued{0};
  std::unique_ptr<detail::TbbPool> pool;
};

Scheduler::Scheduler(SchedulerOptions options) : impl_(std::make_unique<Impl>(*this, options)) {}

Scheduler::~Scheduler() = default;

void Scheduler::schedule_retained(Actor& actor) {
  take_reference(actor);
  impl_->schedule(&actor);
}

bool Scheduler::wake(Actor& actor) {
  if (!actor.mailbox().try_claim()) return false;
  take_reference(actor);
  impl_->schedule(&actor);
  return true;
}

void Scheduler::take_reference(Actor& actor) noexcept {
  Worker& w = t_worker;
  if (w.held == &actor) {
    w.held = nullptr;  // the worker's held reference becomes this one
  } else {
    retain(actor);
  }
}

// ----- parking -----
//
// An actor's park_ word holds the ticket of its latest park above two phase bits:
// free (not parked), asked (its run asked to park and has not ended), parked (waiting
// for a resume; the scheduler's reference to the actor waits with it), and resumed
// early (a resume came while the asking run was still going on). The running actor
// moves free -> asked and the worker asked -> parked; any thread's resume moves asked ->
// resumed early (the worker then runs the actor again) or parked -> free, and whoever
// makes that last move schedules the actor, so it runs once per resume however many
// come.
namespace {
using detail::kParkAsked;
using detail::kParked;
using detail::kParkFree;
using detail::kParkPhaseBits;
using detail::kParkResumedEarly;
constexpr std::uint32_t phase(std::uint32_t word) { return word & kParkPhaseBits; }
constexpr std::uint32_t with_phase(std::uint32_t word, std::uint32_t p) { return (word & ~kParkPhaseBits) | p; }
}  // namespace

std::optional<Scheduler::ParkTicket> Scheduler::park(Actor& actor) noexcept {
  const std::uint32_t word = actor.park_.load(std::memory_order_relaxed);
  if (phase(word) == kParkAsked) return std::nullopt;
  const std::uint32_t asked = ((word & ~kParkPhaseBits) + (kParkPhaseBits + 1)) | kParkAsked;  // the next ticket
  actor.park_.store(asked, std::memory_order_seq_cst);
  // Pairs with the fence in unpark: an exit signal pushed before this point is seen by
  // the actor's own check of its mailbox before it parks, or its unpark sees `asked`.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return ParkTicket{asked & ~kParkPhaseBits};
}

bool Scheduler::settle_park(Actor& actor) noexcept {
  std::uint32_t word = actor.park_.load(std::memory_order_relaxed);
  if (phase(word) == kParkAsked &&
      actor.park_.compare_exchange_strong(word, with_phase(word, kParked), std::memory_order_acq_rel))
    return true;
  // Resumed early (or the actor returned Park without asking): run it again.
  actor.park_.store(with_phase(word, kParkFree), std::memory_order_release);
  return false;
}

template <class Matches>
void Scheduler::end_park(Actor& actor, Matches&& matches) noexcept {
  std::uint32_t word = actor.park_.load(std::memory_order_acquire);
  for (;;) {
    if (!matches(word)) return;
    const std::uint32_t p = phase(word);
    if (p != kParkAsked && p != kParked) return;
    const std::uint32_t next = with_phase(word, p == kParkAsked ? kParkResumedEarly : kParkFree);
    if (actor.park_.compare_exchange_weak(word, next, std::memory_order_acq_rel, std::memory_order_acquire)) {
      if (p == kParked) impl_->enqueue(&actor);  // with the reference the park held
      return;
    }
  }
}

void Scheduler::resume(Actor& actor, ParkTicket ticket) noexcept {
  end_park(actor, [ticket](std::uint32_t word) { return (word & ~kParkPhaseBits) == ticket.value; });
}

void Scheduler::unpark(Actor& actor) noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);  // see park
  end_park(actor, [](std::uint32_t) { return true; });
}

std::size_t Scheduler::threads() const noexcept { return impl_->threads; }
std::size_t Scheduler::budget() const noexcept { return impl_->limits.budget; }

SchedulerStats Scheduler::stats() const noexcept {
  SchedulerStats s;
  for (std::size_t i = 0; i <= impl_->threads; ++i) {
    s.runs += impl_->stats[i].runs.get();
    s.handoffs += impl_->stats[i].handoffs.get();
    s.spawned += impl_->stats[i].spawned.get();
    s.steals += impl_->stats[i].steals.get();
    s.caught += impl_->stats[i].caught.get();
  }
  s.enqueued = impl_->enqueued.load(std::memory_order_relaxed);
  s.outside_runs = impl_->stats[impl_->threads].runs.get();
  return s;
}

std::vector<WorkerStats> Scheduler::worker_stats() const {
  std::vector<WorkerStats> workers(impl_->threads);
  for (std::size_t i = 0; i < impl_->threads; ++i) {
    const SlotStats& slot = impl_->stats[i];
    workers[i] = {slot.runs.get(), slot.steals.get(), std::chrono::nanoseconds(slot.busy_ns.get()), slot.caught.get()};
  }
  return workers;
}

Scheduler* Scheduler::current() noexcept { return t_worker.owner; }

Scheduler::RunWokenHere::RunWokenHere(Scheduler& scheduler) : scheduler_(scheduler) {
  Worker& w = t_worker;
  if (w.owner != nullptr) throw std::logic_error("RunWokenHere: the thread already runs actors for a scheduler");
  if (scheduler.impl_->outside_taken.exchange(true, std::memory_order_acq_rel))
    throw std::logic_error("RunWokenHere: another thread already runs woken actors for this scheduler");
  w.owner = &scheduler;
  w.next = nullptr;
  w.slot = scheduler.impl_->threads;
  w.outside = true;
}

Scheduler::RunWokenHere::~RunWokenHere() {
  run();
  t_worker = Worker{};
  scheduler_.impl_->outside_taken.store(false, std::memory_order_release);
}

void Scheduler::RunWokenHere::run() noexcept { scheduler_.impl_->run_woken_here(); }

bool Scheduler::RunWokenHere::running() const noexcept { return scheduler_.impl_->running_outside && t_worker.outside; }

bool Scheduler::RunWokenHere::pending() const noexcept { return t_worker.outside && t_worker.next != nullptr; }

void Scheduler::RunWokenHere::set_aside(bool aside) noexcept {
  Worker& w = t_worker;
  // Aside, the thread delivers like any outside thread; what it kept waits for run().
  w.owner = aside ? nullptr : &scheduler_;
  w.outside = !aside;
}

}  // namespace spindle
