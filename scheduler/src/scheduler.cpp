// The executor. Every oneTBB task runs a chain of actors:
//
//  - An actor woken by an actor running on this worker goes into the worker's run-next
//    slot and runs right after the current one, in the same task: no task is created,
//    and the pair stays in one core's cache (ping-pong, rings, request/reply). An actor
//    displaced from the slot goes onto the worker's own deque, where idle workers can
//    steal it. Chains are capped (`handoff_limit`) so a busy pair cannot hold a worker.
//  - Actors woken from outside threads, and actors that used up their budget, go on the
//    arena's shared FIFO queue, so a yield really lets the others go first.
//
// Each arena slot has its own task_group, so the bookkeeping of local spawns stays in
// that worker's cache line instead of one counter shared by all workers.

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <utility>

#include "spindle/scheduler.hpp"

namespace spindle {
namespace {

// A counter written by one thread at a time and read by anyone: a plain load and
// store (no locked instruction), still free of data races.
struct Counter {
  std::atomic<std::uint64_t> value{0};
  void bump() noexcept { value.store(value.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

struct alignas(64) Slot {
  tbb::task_group group;
  Counter runs;
  Counter handoffs;
  Counter spawned;
};

// What the calling thread is doing for which scheduler.
struct Worker {
  Scheduler* owner = nullptr;
  Actor* next = nullptr;  // the run-next slot
  std::size_t slot = 0;
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
        budget(std::max<std::size_t>(1, options.budget)),
        handoff_limit(std::max<std::size_t>(1, options.handoff_limit)),
        // oneTBB creates at most (allowed parallelism - 1) workers process-wide; ask for
        // enough that this arena can have `threads` of them.
        parallelism(tbb::global_control::max_allowed_parallelism,
                    std::max(threads + 1, tbb::global_control::active_value(
                                              tbb::global_control::max_allowed_parallelism))),
        arena(static_cast<int>(threads), 0),
        slots(new Slot[threads + 1]) {
    arena.initialize();
  }

  ~Impl() {
    // Let every task already queued finish. Tasks may spawn others, so go round twice;
    // by now nothing outside starts new work (the Node closed its actors first).
    arena.execute([this] {
      for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i <= threads; ++i) slots[i].group.wait();
        shared.wait();
      }
    });
  }

  Slot& slot_of(const Worker& w) noexcept { return slots[std::min(w.slot, threads)]; }

  // The body of every task: runs `first`, then whatever lands in the run-next slot.
  void execute(Actor* first) noexcept {
    Worker& w = t_worker;
    const Worker saved = w;
    w.owner = &owner;
    w.next = nullptr;
    const int index = tbb::this_task_arena::current_thread_index();
    w.slot = index < 0 ? threads : static_cast<std::size_t>(index);
    Slot& slot = slot_of(w);
    Actor* actor = first;
    for (std::size_t chain = 1; actor != nullptr; ++chain) {
      run_one(*actor, slot);
      actor = std::exchange(w.next, nullptr);
      if (actor == nullptr) break;
      if (chain >= handoff_limit) {
        enqueue(actor);
        break;
      }
      slot.handoffs.bump();
    }
    w = saved;
  }

  void run_one(Actor& actor, Slot& slot) noexcept {
    for (int attempt = 0;; ++attempt) {
      slot.runs.bump();
      switch (Scheduler::run(actor, budget)) {
        case Actor::RunResult::Idle:
          if (actor.mailbox().try_idle() || actor.mailbox().closed()) return Scheduler::release(actor);
          if (attempt < 4) continue;  // mail arrived just now: keep going
          return enqueue(&actor);
        case Actor::RunResult::Yield:
          return enqueue(&actor);
        case Actor::RunResult::Done:
          return Scheduler::release(actor);
      }
    }
  }

  // `actor` is retained for the run to come.
  void schedule(Actor* actor) {
    Worker& w = t_worker;
    if (w.owner != &owner) return enqueue(actor);
    if (Actor* displaced = std::exchange(w.next, actor)) {
      Slot& slot = slot_of(w);
      slot.spawned.bump();
      slot.group.run([this, displaced] { execute(displaced); });
    }
  }

  void enqueue(Actor* actor) {
    enqueued.fetch_add(1, std::memory_order_relaxed);
    arena.enqueue(shared.defer([this, actor] { execute(actor); }));
  }

  Scheduler& owner;
  const std::size_t threads;
  const std::size_t budget;
  const std::size_t handoff_limit;
  tbb::global_control parallelism;
  tbb::task_arena arena;
  std::unique_ptr<Slot[]> slots;  // one per arena slot, plus one for anything else
  tbb::task_group shared;         // tasks on the arena's shared queue
  std::atomic<std::uint64_t> enqueued{0};
};

Scheduler::Scheduler(SchedulerOptions options) : impl_(std::make_unique<Impl>(*this, options)) {}

Scheduler::~Scheduler() = default;

bool Scheduler::deliver(Actor& actor, MailboxNode* node) {
  switch (actor.mailbox().push(node)) {
    case Mailbox::Push::Closed:
      return false;
    case Mailbox::Push::Queued:
      return true;
    case Mailbox::Push::QueuedWasIdle:
      retain(actor);
      impl_->schedule(&actor);
      return true;
  }
  return true;
}

bool Scheduler::wake(Actor& actor) {
  if (!actor.mailbox().try_claim()) return false;
  retain(actor);
  impl_->schedule(&actor);
  return true;
}

std::size_t Scheduler::threads() const noexcept { return impl_->threads; }
std::size_t Scheduler::budget() const noexcept { return impl_->budget; }

SchedulerStats Scheduler::stats() const noexcept {
  SchedulerStats s;
  for (std::size_t i = 0; i <= impl_->threads; ++i) {
    s.runs += impl_->slots[i].runs.get();
    s.handoffs += impl_->slots[i].handoffs.get();
    s.spawned += impl_->slots[i].spawned.get();
  }
  s.enqueued = impl_->enqueued.load(std::memory_order_relaxed);
  return s;
}

Scheduler* Scheduler::current() noexcept { return t_worker.owner; }

}  // namespace spindle
