#pragma once
// The oneTBB side of the scheduler: one arena, a task_group per arena slot, and the two
// ways a task gets onto the arena.
//
// This file's .cpp is compiled without ThreadSanitizer. Debian's libtbb is not
// instrumented, so TSan would see only half of each synchronisation inside oneTBB
// (task objects built on one thread, run and recycled on another) and report races
// that are not there. Keeping all oneTBB code in one uninstrumented unit avoids that
// without hiding anything else; the scheduler restates the hand-off edge with TSan
// annotations (see handoff.hpp).

#include <array>
#include <cstddef>
#include <memory>

namespace spindle {

class Actor;

namespace detail {

/// Actors that go onto a worker's deque as one task: a worker that wakes many at once
/// (a spawner, a broadcast) pays oneTBB's cost per task once per batch, and a thief takes
/// a batch at a time.
struct ActorBatch {
  static constexpr std::size_t kCapacity = 8;
  std::array<Actor*, kCapacity> actors;
  std::size_t count = 0;

  bool full() const noexcept { return count == kCapacity; }
  void add(Actor* actor) noexcept { actors[count++] = actor; }
};

class TbbPool {
 public:
  /// What every task runs: `count` actors, one after another. `origin`: the slot whose
  /// deque the task was spawned on, or -1 for the shared queue (a task run on another
  /// slot than its origin was stolen).
  using Body = void (*)(void* context, Actor* const* actors, std::size_t count, int origin) noexcept;

  TbbPool(std::size_t threads, Body body, void* context);
  /// Waits until every task has run.
  ~TbbPool();
  /// Returns once no task is queued or running. Tasks may start others, in any group,
  /// so this waits until a count of outstanding tasks reaches zero; the caller must
  /// have stopped adding work from outside.
  void wait_until_idle();
  TbbPool(const TbbPool&) = delete;
  TbbPool& operator=(const TbbPool&) = delete;

  /// Onto the calling worker's own deque (`slot` is its arena slot), as one task.
  void spawn_local(std::size_t slot, const ActorBatch& batch);
  /// Onto the arena's shared FIFO queue.
  void enqueue(Actor* actor);

  /// Tasks queued or running, the caller's own included (a snapshot).
  std::size_t outstanding() const noexcept;

  /// The calling thread's slot in its current arena, or -1.
  static int current_slot() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace detail
}  // namespace spindle
