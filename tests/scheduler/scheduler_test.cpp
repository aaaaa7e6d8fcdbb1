#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "spindle/scheduler.hpp"
#include "spindle/timer_queue.hpp"
#include "test_actors.hpp"

namespace spindle {
namespace {

using test_actors::Latch;
using test_actors::Note;
using test_actors::NoteActor;
using test_actors::Recorder;

using namespace std::chrono_literals;

TEST(Scheduler, RunsAnActorWhenMailArrivesAndNeverTwiceAtOnce) {
  Latch latch;
  Recorder actor(latch, 200);
  {
    Scheduler scheduler({.threads = 4, .budget = 16});
    std::vector<std::thread> senders;
    for (int t = 0; t < 4; ++t)
      senders.emplace_back([&, t] {
        for (int i = 0; i < 5000; ++i) scheduler.deliver(actor, new Note(t * 5000 + i));
      });
    for (auto& s : senders) s.join();
    ASSERT_TRUE(latch.wait_for(20000));
  }
  EXPECT_FALSE(actor.overlapped);
  EXPECT_EQ(actor.seen.size(), 20000u);
  EXPECT_LE(actor.longest_run, 16);  // the budget bounds a run
  std::set<int> distinct(actor.seen.begin(), actor.seen.end());
  EXPECT_EQ(distinct.size(), 20000u);
}

TEST(Scheduler, WakeRunsAnIdleActorOnce) {
  Latch latch;
  Recorder actor(latch);
  Scheduler scheduler({.threads = 2});
  EXPECT_TRUE(scheduler.wake(actor));
  for (int i = 0; i < 400 && !(actor.runs.load() >= 1 && actor.mailbox().idle()); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_GE(actor.runs.load(), 1);
  EXPECT_TRUE(actor.mailbox().idle());  // ran, found nothing, parked
  actor.mailbox().close();
  EXPECT_FALSE(scheduler.wake(actor));
  Note refused(1);
  EXPECT_FALSE(scheduler.deliver(actor, &refused));
}

TEST(Scheduler, QuietDeliveriesWaitUntilTooManyArePending) {
  Latch latch;
  Recorder actor(latch);
  Scheduler scheduler({.threads = 2});
  const int held = static_cast<int>(Mailbox::kHeldLimit);
  for (int i = 0; i < held; ++i) EXPECT_TRUE(scheduler.deliver_quietly(actor, new Note(i)));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(actor.runs.load(), 0);  // held, not run
  EXPECT_TRUE(scheduler.deliver_quietly(actor, new Note(held)));  // one too many: runs
  ASSERT_TRUE(latch.wait_for(held + 1));
  for (int i = 0; i < 400 && !actor.mailbox().idle(); ++i) std::this_thread::sleep_for(5ms);
  ASSERT_TRUE(actor.mailbox().idle());  // the run is over: `seen` is ours to read
  std::vector<int> in_order(held + 1);
  for (int i = 0; i <= held; ++i) in_order[i] = i;
  EXPECT_EQ(actor.seen, in_order);
  EXPECT_TRUE(scheduler.deliver_quietly(actor, new Note(10)));  // held again, until
  EXPECT_TRUE(scheduler.deliver(actor, new Note(11)));          // a plain delivery wakes it
  ASSERT_TRUE(latch.wait_for(held + 3));
}

// A worker that runs out of actors waits a little for one woken from outside (the I/O
// thread delivering the next request) and runs it without a sleeping thread being woken.
TEST(Scheduler, AWaitingWorkerCatchesActorsWokenFromOutside) {
  for (const auto busy_wait : {std::chrono::nanoseconds(50ms), std::chrono::nanoseconds(0)}) {
    Latch latch;
    Recorder actor(latch);
    Scheduler scheduler({.threads = 2, .busy_wait = busy_wait});
    constexpr int kNotes = 40;
    for (int i = 0; i < kNotes; ++i) {
      ASSERT_TRUE(scheduler.deliver(actor, new Note(i)));
      ASSERT_TRUE(latch.wait_for(i + 1));  // handled, so the next one finds it idle
      std::this_thread::sleep_for(1ms);
    }
    EXPECT_EQ(actor.seen.size(), static_cast<std::size_t>(kNotes));
    if (busy_wait.count() > 0) {
      EXPECT_GE(scheduler.stats().caught, kNotes / 2u);  // most went straight to the waiting worker
    } else {
      EXPECT_EQ(scheduler.stats().caught, 0u);
    }
  }
}

// Actors delivering to each other from workers: a long relay through many actors.
class Relay : public NoteActor {
 public:
  Relay(Scheduler& scheduler, Latch& done) : scheduler_(scheduler), done_(done) {}
  Relay* next = nullptr;
  static inline std::atomic<long> hops{0};

 protected:
  RunResult run(const RunLimits& limits) noexcept override {
    const std::size_t budget = limits.budget;
    for (std::size_t i = 0; i < budget; ++i) {
      NodeList batch = mailbox().take_all();
      if (batch.empty()) return RunResult::Idle;
      while (!batch.empty()) {
        auto* note = static_cast<Note*>(batch.pop_front());
        if (note->value == 0) {
          delete note;
          done_.add();
        } else {
          --note->value;
          hops.fetch_add(1, std::memory_order_relaxed);
          scheduler_.deliver(*next, note);
        }
      }
    }
    return RunResult::Yield;
  }

 private:
  Scheduler& scheduler_;
  Latch& done_;
};

TEST(Scheduler, ActorsWakeEachOtherThroughWorkers) {
  Latch done;
  std::vector<std::unique_ptr<Relay>> ring;  // actors outlive the scheduler that runs them
  Scheduler scheduler({.threads = 2});
  for (int i = 0; i < 100; ++i) ring.push_back(std::make_unique<Relay>(scheduler, done));
  for (std::size_t i = 0; i < ring.size(); ++i) ring[i]->next = ring[(i + 1) % ring.size()].get();
  for (int token = 0; token < 8; ++token) scheduler.deliver(*ring[token], new Note(100'000));
  ASSERT_TRUE(done.wait_for(8));
  EXPECT_EQ(Relay::hops.load(), 8 * 100'000);  // every token made every hop
  EXPECT_GT(scheduler.stats().handoffs, 0u);   // wake-ups ran through the run-next slot
}

// Hands every note it gets to its partner until `stop` is set, then drops it.
class Bouncer : public NoteActor {
 public:
  explicit Bouncer(const std::atomic<bool>& stop) : stop_(stop) {}
  Bouncer* partner = nullptr;
  Scheduler* scheduler = nullptr;  // the one running it, set before any delivery
  std::atomic<long> bounces{0};

 protected:
  RunResult run(const RunLimits&) noexcept override {
    NodeList batch = mailbox().take_all();
    while (!batch.empty()) {
      auto* note = static_cast<Note*>(batch.pop_front());
      if (stop_.load()) {
        delete note;
        continue;
      }
      bounces.fetch_add(1, std::memory_order_relaxed);
      scheduler->deliver(*partner, note);
    }
    return RunResult::Idle;
  }

 private:
  const std::atomic<bool>& stop_;
};

// Two actors passing one note back and forth wake each other through the run-next slot
// for ever; on a single worker, an actor woken from outside must still get its turn.
TEST(Scheduler, APairBouncingMailForEverDoesNotKeepOthersFromTheirTurn) {
  Latch latch;
  Recorder bystander(latch);
  std::atomic<bool> stop{false};
  Bouncer ping(stop), pong(stop);  // actors outlive the scheduler that runs them
  ping.partner = &pong;
  pong.partner = &ping;
  Scheduler scheduler({.threads = 1});
  ping.scheduler = pong.scheduler = &scheduler;
  scheduler.deliver(ping, new Note(0));
  while (pong.bounces.load() < 1000) std::this_thread::yield();
  scheduler.deliver(bystander, new Note(1));
  const bool bystander_ran = latch.wait_for(1, 10s);
  const long bounced_before = pong.bounces.load();
  stop = true;  // the note is dropped at its next bounce, and the scheduler can end
  EXPECT_TRUE(bystander_ran);
  EXPECT_GT(bounced_before, 1000);  // the pair was still at it when the bystander ran
}

// Keeps its unread mail in a plain member, as processes do, and passes every note on to
// `next`: from a worker, that wakes `next` in the same task, right after this run.
class Forwarder : public NoteActor {
 public:
  explicit Forwarder(Actor& next) : next_(next) {}
  std::atomic<int> forwarded{0};
  Scheduler* scheduler = nullptr;  // the one running it, set before any delivery

 protected:
  RunResult run(const RunLimits& limits) noexcept override {
    for (std::size_t i = 0; i < limits.budget; ++i) {
      if (pending_.empty()) pending_ = mailbox().take_all();
      if (pending_.empty()) return RunResult::Idle;
      scheduler->deliver(next_, pending_.pop_front());
      forwarded.fetch_add(1, std::memory_order_relaxed);
    }
    return RunResult::Yield;
  }

 private:
  Actor& next_;
  NodeList pending_;
};

// An actor that goes idle on one worker and is woken by an outside thread may run next
// on another worker while the first is still busy (here with the slow actor it woke).
// The new run must see what the last one left: ThreadSanitizer checks it, as a wake-up
// from outside once missed that edge (the push that found the mailbox idle did not
// acquire the state that the previous run released).
TEST(Scheduler, AnActorWokenOnAnotherWorkerSeesWhatItsLastRunLeft) {
  Latch latch;
  Recorder slow(latch, 100'000);
  Forwarder forwarder(slow);  // actors outlive the scheduler that runs them
  constexpr int kNotes = 300;
  {
    Scheduler scheduler({.threads = 2});
    forwarder.scheduler = &scheduler;
    for (int i = 0; i < kNotes; ++i) {
      scheduler.deliver(forwarder, new Note(i));
      std::this_thread::sleep_for(100us);  // long enough for the forwarder to go idle
    }
    ASSERT_TRUE(latch.wait_for(kNotes));
    EXPECT_EQ(forwarder.forwarded.load(), kNotes);
  }
  EXPECT_EQ(slow.seen.size(), static_cast<std::size_t>(kNotes));
}

// On its one note, wakes every actor it was given (a spawner, a broadcast).
class Broadcaster : public NoteActor {
 public:
  explicit Broadcaster(std::vector<Actor*> targets) : targets_(std::move(targets)) {}
  Scheduler* scheduler = nullptr;  // the one running it, set before any delivery

 protected:
  RunResult run(const RunLimits&) noexcept override {
    NodeList notes = mailbox().take_all();
    while (!notes.empty()) {
      delete static_cast<Note*>(notes.pop_front());
      for (std::size_t i = 0; i < targets_.size(); ++i) scheduler->deliver(*targets_[i], new Note(static_cast<int>(i)));
    }
    return RunResult::Idle;
  }

 private:
  std::vector<Actor*> targets_;
};

// Actors one run wakes go onto its worker's deque in batches; every one of them runs
// (the last, partial batch too), and an idle worker takes batches to run them alongside.
TEST(Scheduler, ActorsWokenTogetherAllRunAndIdleWorkersTakeTheirShare) {
  constexpr int kWoken = 21;  // two full batches of eight and a partial one, after run-next
  Latch latch;
  std::vector<std::unique_ptr<Recorder>> woken;  // actors outlive the scheduler that runs them
  std::vector<Actor*> targets;
  for (int i = 0; i < kWoken; ++i) {
    woken.push_back(std::make_unique<Recorder>(latch));
    woken.back()->linger = 20ms;  // enough for the idle worker to wake and take a batch
    targets.push_back(woken.back().get());
  }
  Broadcaster broadcaster(targets);
  std::set<std::thread::id> threads;
  {
    Scheduler scheduler({.threads = 2});
    broadcaster.scheduler = &scheduler;
    scheduler.deliver(broadcaster, new Note(0));
    ASSERT_TRUE(latch.wait_for(kWoken));
    EXPECT_GE(scheduler.stats().spawned, static_cast<std::uint64_t>(kWoken - 1));
    EXPECT_GT(scheduler.stats().steals, 0u);
  }
  for (const auto& r : woken) {
    ASSERT_EQ(r->seen.size(), 1u);
    threads.insert(r->run_threads.begin(), r->run_threads.end());
  }
  EXPECT_EQ(threads.size(), 2u) << "both workers ran some of them";
}

// Passes a countdown note to its partner until it reaches zero; counts the references
// the scheduler takes and drops.
class CountedVolley : public NoteActor {
 public:
  explicit CountedVolley(Latch& done) : done_(done) {}
  CountedVolley* partner = nullptr;
  Scheduler* scheduler = nullptr;  // the one running it, set before any delivery
  std::atomic<long> retains{0};
  std::atomic<long> releases{0};

 protected:
  RunResult run(const RunLimits&) noexcept override {
    NodeList notes = mailbox().take_all();
    while (!notes.empty()) {
      auto* note = static_cast<Note*>(notes.pop_front());
      if (note->value == 0) {
        delete note;
        done_.add();
        continue;
      }
      --note->value;
      scheduler->deliver(*partner, note);
    }
    return RunResult::Idle;
  }
  void retain() noexcept override { retains.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept override { releases.fetch_add(1, std::memory_order_relaxed); }

 private:
  Latch& done_;
};

// Every reference the scheduler takes to run an actor it gives back, by the time the
// scheduler is gone; a pair waking each other on one worker passes one reference back
// and forth instead of taking a new one per message.
TEST(Scheduler, ReferencesTakenForRunsAreAllGivenBack) {
  constexpr int kVolleys = 10'000;
  Latch done;
  CountedVolley a(done), b(done);  // actors outlive the scheduler that runs them
  a.partner = &b;
  b.partner = &a;
  {
    Scheduler scheduler({.threads = 1});
    a.scheduler = b.scheduler = &scheduler;
    scheduler.deliver(a, new Note(kVolleys));
    ASSERT_TRUE(done.wait_for(1));
    scheduler.deliver(b, new Note(0));  // from outside, after the volley
    ASSERT_TRUE(done.wait_for(2));
  }
  EXPECT_EQ(a.retains.load(), a.releases.load());
  EXPECT_EQ(b.retains.load(), b.releases.load());
  EXPECT_LT(a.retains.load() + b.retains.load(), kVolleys / 2);
}

// An actor that flags the end of each run, for a test thread spinning on it.
class FlagsItsRuns : public NoteActor {
 public:
  std::atomic<int> runs{0};

 protected:
  RunResult run(const RunLimits&) noexcept override {
    NodeList mail = mailbox().take_all();
    while (!mail.empty()) delete static_cast<Note*>(mail.pop_front());
    runs.fetch_add(1, std::memory_order_release);
    return RunResult::Idle;
  }
};

// A scheduler ended the moment its last task's actor has run (oneTBB may still be
// closing that task) waits for the task: it is not torn down under it.
TEST(Scheduler, EndingJustAsTheLastTaskFinishesWaitsForIt) {
  FlagsItsRuns actor;  // outlives every scheduler that runs it
  for (int round = 1; round <= 3000; ++round) {
    Scheduler scheduler({.threads = 1, .busy_wait = 0ns});
    scheduler.deliver(actor, new Note(round));
    while (actor.runs.load(std::memory_order_acquire) < round) std::this_thread::yield();
  }
  EXPECT_EQ(actor.runs.load(), 3000);
}

TEST(TimerQueue, FiresInDeadlineOrderAndCancels) {
  std::mutex mutex;
  std::vector<int> fired;
  Latch latch;
  TimerQueue timers;  // declared last: its thread stops before what the callbacks touch goes
  const auto record = [&](int v) {
    return [&, v] {
      {
        std::lock_guard lock(mutex);
        fired.push_back(v);
      }
      latch.add();
    };
  };
  timers.add(60ms, record(3));
  timers.add(20ms, record(1));
  const TimerQueue::Id cancelled = timers.add(40ms, record(99));
  timers.add(40ms, record(2));
  EXPECT_TRUE(timers.cancel(cancelled));
  EXPECT_FALSE(timers.cancel(cancelled));
  ASSERT_TRUE(latch.wait_for(3));
  std::lock_guard lock(mutex);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(TimerQueue, ThousandsOfTimersOnOneThread) {
  Latch latch;
  TimerQueue timers;  // declared last: its thread stops before the latch goes
  std::vector<TimerQueue::Id> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(timers.add(std::chrono::milliseconds(i % 50), [&] { latch.add(); }));
  int cancelled = 0;
  for (std::size_t i = 0; i < ids.size(); i += 2) cancelled += timers.cancel(ids[i]) ? 1 : 0;
  ASSERT_TRUE(latch.wait_for(20000 - cancelled));
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(TimerQueue, CancelledLongTimersDoNotAccumulate) {
  TimerQueue timers;
  for (int i = 0; i < 100000; ++i) timers.cancel(timers.add(std::chrono::hours(1), [] {}));
  EXPECT_EQ(timers.pending(), 0u);
}

}  // namespace
}  // namespace spindle
