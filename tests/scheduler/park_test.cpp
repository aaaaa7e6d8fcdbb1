// Scheduler::park: an actor that asks to wait runs again only once resumed, whatever
// mail arrives meanwhile (how a process sending to a busy connection is suspended).

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "spindle/scheduler.hpp"
#include "test_actors.hpp"

namespace spindle {
namespace {

using test_actors::Latch;
using test_actors::Note;
using test_actors::NoteActor;
using namespace std::chrono_literals;

// Handles notes in order; a negative note asks to park (its run then ends with Park).
// What it sees and the tickets it got are kept for the test.
class Parker : public NoteActor {
 public:
  explicit Parker(Latch& latch, Scheduler* resume_self_with = nullptr)
      : latch_(latch), resume_self_with_(resume_self_with) {}
  ~Parker() override {  // NoteActor drops what is still in the mailbox
    while (!pending_.empty()) delete static_cast<Note*>(pending_.pop_front());
  }

  std::atomic<bool> overlapped{false};
  std::atomic<int> runs{0};
  std::atomic<std::uint32_t> last_ticket{0};
  std::atomic<bool> second_ask_refused{true};
  std::vector<int> seen;  // touched only inside run, read once the actor is at rest

 protected:
  RunResult run(const RunLimits& limits) noexcept override {
    if (running_.exchange(true)) overlapped = true;
    runs.fetch_add(1);
    RunResult result = RunResult::Yield;
    for (std::size_t i = 0; i < limits.budget; ++i) {
      if (pending_.empty()) pending_ = mailbox().take_all();
      if (pending_.empty()) {
        result = RunResult::Idle;
        break;
      }
      auto* note = static_cast<Note*>(pending_.pop_front());
      const int value = note->value;
      delete note;
      seen.push_back(value);
      if (value < 0) {
        const std::optional<Scheduler::ParkTicket> ticket = Scheduler::park(*this);
        if (Scheduler::park(*this).has_value()) second_ask_refused = false;
        if (ticket) last_ticket = ticket->value;
        // A resume that comes before the run ends (here, from the run itself).
        if (resume_self_with_ != nullptr && ticket) resume_self_with_->resume(*this, *ticket);
      }
      latch_.add();  // after the ticket is published
      if (Scheduler::park_asked(*this)) {
        result = RunResult::Park;
        break;
      }
    }
    running_ = false;
    return result;
  }

 private:
  Latch& latch_;
  Scheduler* resume_self_with_;
  NodeList pending_;
  std::atomic<bool> running_{false};
};

Scheduler::ParkTicket ticket_of(const Parker& actor) { return {actor.last_ticket.load()}; }

// The mailbox stays claimed while parked, so "at rest" means the latch count is reached
// and the run has returned; a short pause after the latch covers the latter.
void settle() { std::this_thread::sleep_for(20ms); }

// Delivers `value` and waits until the actor has handled `total` notes and is at rest.
bool deliver_and_wait(Scheduler& scheduler, Parker& actor, Latch& latch, int value, int total) {
  scheduler.deliver(actor, new Note(value));
  if (!latch.wait_for(total)) return false;
  settle();
  return true;
}

TEST(Park, AParkedActorRunsAgainOnlyWhenResumed) {
  Latch latch;
  Parker actor(latch);
  Scheduler scheduler({.threads = 2});
  ASSERT_TRUE(deliver_and_wait(scheduler, actor, latch, -1, 1));
  scheduler.deliver(actor, new Note(2));
  scheduler.deliver(actor, new Note(3));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(actor.runs.load(), 1);  // mail does not wake a parked actor
  EXPECT_TRUE(actor.second_ask_refused.load());
  scheduler.resume(actor, ticket_of(actor));
  ASSERT_TRUE(latch.wait_for(3));
  settle();
  EXPECT_EQ(actor.seen, (std::vector<int>{-1, 2, 3}));
  EXPECT_TRUE(actor.mailbox().idle());
  EXPECT_FALSE(actor.overlapped.load());
}

TEST(Park, AStaleTicketDoesNothing) {
  Latch latch;
  Parker actor(latch);
  Scheduler scheduler({.threads = 2});
  ASSERT_TRUE(deliver_and_wait(scheduler, actor, latch, -1, 1));
  const Scheduler::ParkTicket first = ticket_of(actor);
  scheduler.resume(actor, first);
  scheduler.resume(actor, first);  // twice: still one resume
  ASSERT_TRUE(deliver_and_wait(scheduler, actor, latch, -2, 2));
  const Scheduler::ParkTicket second = ticket_of(actor);
  EXPECT_NE(first.value, second.value);
  scheduler.deliver(actor, new Note(3));
  scheduler.resume(actor, first);  // the old park's ticket: ignored
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(actor.seen, (std::vector<int>{-1, -2}));
  scheduler.resume(actor, second);
  ASSERT_TRUE(latch.wait_for(3));
  settle();
  EXPECT_EQ(actor.seen, (std::vector<int>{-1, -2, 3}));
}

TEST(Park, AResumeBeforeTheRunEndsMakesTheParkAYield) {
  Latch latch;
  auto scheduler = std::make_unique<Scheduler>(SchedulerOptions{.threads = 2});
  Parker actor(latch, scheduler.get());  // resumes itself right after asking
  ASSERT_TRUE(deliver_and_wait(*scheduler, actor, latch, -1, 1));
  ASSERT_TRUE(deliver_and_wait(*scheduler, actor, latch, 2, 2));  // no resume from outside
  EXPECT_EQ(actor.seen, (std::vector<int>{-1, 2}));
  EXPECT_TRUE(actor.mailbox().idle());
  scheduler.reset();  // before the actor goes: a worker may still hold a reference to it
}

TEST(Park, UnparkEndsAnyPark) {
  Latch latch;
  Parker actor(latch);
  Scheduler scheduler({.threads = 2});
  scheduler.unpark(actor);  // not parked: nothing happens
  ASSERT_TRUE(deliver_and_wait(scheduler, actor, latch, -1, 1));
  scheduler.deliver(actor, new Note(2));
  scheduler.unpark(actor);
  ASSERT_TRUE(latch.wait_for(2));
  settle();
  scheduler.resume(actor, ticket_of(actor));  // that park is over: nothing happens
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(actor.runs.load(), 2);
  EXPECT_EQ(actor.seen, (std::vector<int>{-1, 2}));
}

// Every note parks the actor; another thread resumes whatever ticket it last saw, as
// fast as it can, racing the runs that ask and the workers that settle the parks. Each
// note is handled once, in order, by one run at a time (run under TSan too).
TEST(Park, ResumesRacingParksLoseNothing) {
  constexpr int kNotes = 5000;
  Latch latch;
  Parker actor(latch);
  Scheduler scheduler({.threads = 2});
  std::atomic<bool> stop{false};
  std::thread resumer([&] {
    while (!stop.load()) scheduler.resume(actor, ticket_of(actor));
  });
  for (int i = 1; i <= kNotes; ++i) scheduler.deliver(actor, new Note(-i));
  const bool all = latch.wait_for(kNotes);
  stop = true;
  resumer.join();
  ASSERT_TRUE(all);
  settle();
  scheduler.resume(actor, ticket_of(actor));  // the last park
  settle();
  ASSERT_EQ(actor.seen.size(), static_cast<std::size_t>(kNotes));
  for (int i = 0; i < kNotes; ++i) ASSERT_EQ(actor.seen[i], -(i + 1));
  EXPECT_FALSE(actor.overlapped.load());
  EXPECT_TRUE(actor.mailbox().idle());
}

}  // namespace
}  // namespace spindle
