// Scheduler::RunWokenHere: a thread outside the workers (the distribution's I/O thread)
// runs the actors its own deliveries wake, briefly, and hands the rest to the workers.

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "spindle/scheduler.hpp"
#include "test_actors.hpp"

namespace spindle {
namespace {

using test_actors::Latch;
using test_actors::Note;
using test_actors::Recorder;
using namespace std::chrono_literals;

// Waits until the actor's mailbox is idle (its last run is over, so its records may be read).
void wait_until_idle(Recorder& actor) {
  for (int i = 0; i < 2000 && !actor.mailbox().idle(); ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(actor.mailbox().idle());
}

TEST(RunWokenHere, TheThreadRunsTheActorItsDeliveryWoke) {
  Latch latch;
  Recorder actor(latch);
  Scheduler scheduler({.threads = 2});
  std::thread::id outside;
  std::thread([&] {
    outside = std::this_thread::get_id();
    Scheduler::RunWokenHere here(scheduler);
    EXPECT_EQ(Scheduler::current(), &scheduler);
    ASSERT_TRUE(scheduler.deliver(actor, new Note(1)));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(actor.runs.load(), 0);  // kept for this thread, not given to a worker
    EXPECT_FALSE(here.running());
    here.run();
    EXPECT_EQ(actor.runs.load(), 1);
  }).join();
  EXPECT_EQ(Scheduler::current(), nullptr);
  wait_until_idle(actor);
  ASSERT_EQ(actor.run_threads.size(), 1u);
  EXPECT_EQ(actor.run_threads[0], outside);
  EXPECT_EQ(actor.seen, std::vector<int>{1});
}

TEST(RunWokenHere, ASecondActorWokenSendsTheFirstToTheWorkers) {
  Latch latch;
  Recorder first(latch);
  Recorder second(latch);
  Scheduler scheduler({.threads = 2});
  std::thread::id outside;
  std::thread([&] {
    outside = std::this_thread::get_id();
    Scheduler::RunWokenHere here(scheduler);
    scheduler.deliver(first, new Note(1));
    scheduler.deliver(second, new Note(2));  // displaces `first` from the run-next slot
    ASSERT_TRUE(latch.wait_for(1));           // `first` ran without run(): on a worker
    here.run();
  }).join();
  ASSERT_TRUE(latch.wait_for(2));
  wait_until_idle(first);
  wait_until_idle(second);
  EXPECT_NE(first.run_threads.at(0), outside);
  EXPECT_EQ(second.run_threads.at(0), outside);
}

TEST(RunWokenHere, ABusyActorGetsASmallBudgetThenTheWorkersFinish) {
  Latch latch;
  Recorder actor(latch);
  constexpr int kNotes = 1000;
  Scheduler scheduler({.threads = 2});
  std::thread::id outside;
  std::thread([&] {
    outside = std::this_thread::get_id();
    Scheduler::RunWokenHere here(scheduler);
    for (int i = 0; i < kNotes; ++i) scheduler.deliver(actor, new Note(i));
    here.run();
  }).join();
  ASSERT_TRUE(latch.wait_for(kNotes));
  wait_until_idle(actor);
  ASSERT_GE(actor.run_threads.size(), 2u);  // not all of it on the outside thread
  EXPECT_EQ(actor.run_threads[0], outside);
  EXPECT_EQ(actor.run_sizes[0], 64);
  std::vector<int> in_order(kNotes);
  for (int i = 0; i < kNotes; ++i) in_order[i] = i;
  EXPECT_EQ(actor.seen, in_order);
}

// One handler call cannot be cut short: an actor whose run held the thread too long
// runs on the workers for its next two wake-ups (twice as many for each such run in a
// row), then gets another chance.
TEST(RunWokenHere, AnActorThatRanLongHereRunsOnTheWorkersForAWhile) {
  Latch latch;
  Recorder actor(latch);
  actor.linger = 2ms;
  Scheduler scheduler({.threads = 2});
  std::thread::id outside;
  std::thread([&] {
    outside = std::this_thread::get_id();
    Scheduler::RunWokenHere here(scheduler);
    for (int i = 1; i <= 4; ++i) {
      scheduler.deliver(actor, new Note(i));
      here.run();
      ASSERT_TRUE(latch.wait_for(i));
      wait_until_idle(actor);
      actor.linger = 0ms;  // quick from now on
    }
  }).join();
  ASSERT_EQ(actor.run_threads.size(), 4u);
  EXPECT_EQ(actor.run_threads[0], outside);  // too long: strike one
  EXPECT_NE(actor.run_threads[1], outside);
  EXPECT_NE(actor.run_threads[2], outside);
  EXPECT_EQ(actor.run_threads[3], outside);  // back
  EXPECT_EQ(actor.seen, (std::vector<int>{1, 2, 3, 4}));
}

TEST(RunWokenHere, AsideTheThreadDeliversToTheWorkers) {
  Latch latch;
  Recorder actor(latch);
  Scheduler scheduler({.threads = 2});
  std::thread::id outside;
  std::thread([&] {
    outside = std::this_thread::get_id();
    Scheduler::RunWokenHere here(scheduler);
    here.aside([&] {
      EXPECT_EQ(Scheduler::current(), nullptr);
      scheduler.deliver(actor, new Note(1));
    });
    ASSERT_TRUE(latch.wait_for(1));  // ran without run()
  }).join();
  wait_until_idle(actor);
  EXPECT_NE(actor.run_threads.at(0), outside);
}

TEST(RunWokenHere, OneThreadForOneScheduler) {
  Scheduler scheduler({.threads = 1});
  Scheduler other({.threads = 1});
  std::thread([&] {
    Scheduler::RunWokenHere here(scheduler);
    EXPECT_THROW(Scheduler::RunWokenHere again(other), std::logic_error);
    std::thread([&] { EXPECT_THROW(Scheduler::RunWokenHere second(scheduler), std::logic_error); }).join();
  }).join();
  std::thread([&] { Scheduler::RunWokenHere later(scheduler); }).join();  // free again
}

}  // namespace
}  // namespace spindle
