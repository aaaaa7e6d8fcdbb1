// Compiled without ThreadSanitizer: see tbb_pool.hpp.

#include "tbb_pool.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>

namespace spindle::detail {

struct TbbPool::Impl {
  Impl(std::size_t thread_count, Body task_body, void* task_context)
      : threads(thread_count),
        body(task_body),
        context(task_context),
        // oneTBB creates at most (allowed parallelism - 1) workers process-wide; ask for
        // enough that this arena can have `threads` of them.
        parallelism(tbb::global_control::max_allowed_parallelism,
                    std::max(threads + 1,
                             tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism))),
        arena(static_cast<int>(threads), 0),
        groups(new tbb::task_group[threads + 1]) {
    arena.initialize();
  }

  const std::size_t threads;
  const Body body;
  void* const context;
  tbb::global_control parallelism;
  tbb::task_arena arena;
  // One group per arena slot (plus one for anything else), so the bookkeeping of local
  // spawns stays in that worker's cache line; and one for the shared queue.
  std::unique_ptr<tbb::task_group[]> groups;
  tbb::task_group shared;
  // Tasks created and not yet finished. One RMW pair per task (a run-next chain of many
  // actor runs is one task), which is small beside oneTBB's own cost per task.
  std::atomic<std::size_t> outstanding{0};

  void run(Actor* const* actors, std::size_t count, int origin) {
    body(context, actors, count, origin);
    outstanding.fetch_sub(1, std::memory_order_release);
  }
};

TbbPool::TbbPool(std::size_t threads, Body body, void* context)
    : impl_(std::make_unique<Impl>(threads, body, context)) {}

TbbPool::~TbbPool() { wait_until_idle(); }

void TbbPool::wait_until_idle() {
  Impl& p = *impl_;
  // A task in one group may start one in another after that group's wait returned, so
  // go round until nothing is outstanding. A task counts itself done at the end of its
  // body, while oneTBB still has to close it in its group: only a round of waits begun
  // after the count was seen at zero (when no task can start another) covers that, so
  // one always comes last. A group destroyed with a task still open in it throws
  // tbb::missing_wait, from a destructor: std::terminate.
  for (;;) {
    const bool idle = p.outstanding.load(std::memory_order_acquire) == 0;
    p.arena.execute([&p] {
      for (std::size_t i = 0; i <= p.threads; ++i) p.groups[i].wait();
      p.shared.wait();
    });
    if (idle) return;
  }
}

void TbbPool::spawn_local(std::size_t slot, const ActorBatch& batch) {
  Impl& p = *impl_;
  p.outstanding.fetch_add(1, std::memory_order_relaxed);
  p.groups[std::min(slot, p.threads)].run(
      [&p, batch, slot] { p.run(batch.actors.data(), batch.count, static_cast<int>(slot)); });
}

void TbbPool::enqueue(Actor* actor) {
  Impl& p = *impl_;
  p.outstanding.fetch_add(1, std::memory_order_relaxed);
  p.arena.enqueue(p.shared.defer([&p, actor] { p.run(&actor, 1, -1); }));
}

std::size_t TbbPool::outstanding() const noexcept { return impl_->outstanding.load(std::memory_order_relaxed); }

int TbbPool::current_slot() noexcept { return tbb::this_task_arena::current_thread_index(); }

}  // namespace spindle::detail
