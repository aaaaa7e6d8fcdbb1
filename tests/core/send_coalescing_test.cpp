// A process's consecutive messages to one receiver go into its mailbox as one chain
// (core/src/send_coalescer.hpp). What a user relies on must not change: each sender's
// messages and signals arrive in the order it sent them, whatever it does in between,
// and messages for a process that is gone are dropped without a leak. Run under
// ThreadSanitizer and AddressSanitizer in CI.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "echo_process.hpp"
#include "spindle/inbox.hpp"
#include "spindle/term_text.hpp"

namespace spindle {
namespace {
using namespace std::chrono_literals;
using namespace spindle::test_support;

// Traps exits and forwards everything it gets, in order, to `to`.
class Recorder : public Process {
 public:
  explicit Recorder(Pid to) : to_(std::move(to)) {}

 protected:
  void init() override { trap_exit(true); }
  void handle_one_inbox_message(Term m) override { send(to_, std::move(m)); }

 private:
  Pid to_;
};

// Sends one message as it starts.
class SendsOnStart : public Process {
 public:
  SendsOnStart(Pid to, Term message) : to_(std::move(to)), message_(std::move(message)) {}

 protected:
  void init() override { send(to_, message_); }

 private:
  Pid to_;
  Term message_;
};

// The next `n` messages in `inbox`, in arrival order.
std::vector<Term> next_messages(Inbox& inbox, std::size_t n) {
  std::vector<Term> got;
  for (std::size_t i = 0; i < n; ++i) {
    auto m = inbox.receive(10s);
    if (!m) break;
    got.push_back(std::move(*m));
  }
  return got;
}

std::vector<Term> numbered(const char* tag, int from, int to) {
  std::vector<Term> out;
  for (int i = from; i < to; ++i) out.push_back(tuple(atom(tag), i));
  return out;
}

TEST(SendCoalescing, AnExitSignalComesAfterTheMessagesSentBeforeIt) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const Pid recorder = node.spawn<Recorder>(inbox.pid());
  const Pid sender = node.spawn([recorder](Process& self, Term) {
    for (int i = 0; i < 200; ++i) self.send(recorder, tuple(atom("m"), i));  // more than one chain
    self.exit(recorder, atom("after_the_messages"));
  });
  node.send(sender, atom("go"));
  std::vector<Term> expected = numbered("m", 0, 200);
  expected.push_back(tuple(atoms::EXIT, sender, atom("after_the_messages")));
  EXPECT_EQ(next_messages(inbox, expected.size()), expected);
}

TEST(SendCoalescing, ASendersExitComesAfterItsLastMessages) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const Pid recorder = node.spawn<Recorder>(inbox.pid());
  const Pid sender = node.spawn([recorder](Process& self, Term) {
    self.link(recorder);
    for (int i = 0; i < 10; ++i) self.send(recorder, tuple(atom("m"), i));
    throw std::runtime_error("crash after sending");
  });
  node.send(sender, atom("go"));
  const std::vector<Term> got = next_messages(inbox, 11);
  ASSERT_EQ(got.size(), 11u);
  EXPECT_EQ(std::vector<Term>(got.begin(), got.begin() + 10), numbered("m", 0, 10));
  EXPECT_TRUE(got[10].is_tuple(3) && got[10].as_tuple()[0] == Term(atoms::EXIT)) << got[10];
}

TEST(SendCoalescing, MessagesToSeveralProcessesAndThroughTheNodeKeepTheirOrder) {
  Node node({.scheduler = {.threads = 2}});
  Inbox a_inbox(node);
  Inbox b_inbox(node);
  const Pid a = node.spawn<Recorder>(a_inbox.pid());
  const Pid b = node.spawn<Recorder>(b_inbox.pid());
  const Pid sender = node.spawn([a, b](Process& self, Term) {
    for (int i = 0; i < 300; ++i) {
      const Pid& to = (i / 7) % 2 == 0 ? a : b;  // runs of 7 to one, then the other
      if (i % 5 == 0) {
        self.node().send(to, tuple(atom("m"), i));  // the node's send, not the process's
      } else {
        self.send(to, tuple(atom("m"), i));
      }
    }
  });
  node.send(sender, atom("go"));
  std::vector<Term> to_a;
  std::vector<Term> to_b;
  for (int i = 0; i < 300; ++i) ((i / 7) % 2 == 0 ? to_a : to_b).push_back(tuple(atom("m"), i));
  EXPECT_EQ(next_messages(a_inbox, to_a.size()), to_a);
  EXPECT_EQ(next_messages(b_inbox, to_b.size()), to_b);
}

TEST(SendCoalescing, WhatASpawnerSentArrivesBeforeWhatItsChildSends) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const Pid recorder = node.spawn<Recorder>(inbox.pid());
  const Pid spawner = node.spawn([recorder](Process& self, Term) {
    for (int i = 0; i < 5; ++i) self.send(recorder, tuple(atom("m"), i));
    self.node().spawn<SendsOnStart>(recorder, atom("from_the_child"));
  });
  node.send(spawner, atom("go"));
  std::vector<Term> expected = numbered("m", 0, 5);
  expected.push_back(atom("from_the_child"));
  EXPECT_EQ(next_messages(inbox, expected.size()), expected);
}

// Waits until `flag` is set or `limit` has passed; the flag.
bool wait_for(const std::atomic<bool>& flag, std::chrono::milliseconds limit = 10s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!flag.load() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  return flag.load();
}

// Handles `first` (sending two messages to `to`), then `wait`, in one run: its init
// holds its worker until both are in its mailbox.
class TwoInOneRun : public Process {
 public:
  TwoInOneRun(Pid to, const std::atomic<bool>& both_sent, const std::atomic<bool>& two_arrived)
      : to_(std::move(to)), both_sent_(both_sent), two_arrived_(two_arrived) {}

 protected:
  void init() override { wait_for(both_sent_); }
  void handle_one_inbox_message(Term m) override {
    if (m == Term(atom("first"))) {
      send(to_, atom("one"));
      send(to_, atom("two"));  // held back until this handler call returns
    } else {
      wait_for(two_arrived_);  // the run goes on, so only the handler's end can deliver "two"
    }
  }

 private:
  Pid to_;
  const std::atomic<bool>& both_sent_;
  const std::atomic<bool>& two_arrived_;
};

// Runs all the time (on the other worker), taking messages as they arrive.
class Watcher : public Process {
 public:
  explicit Watcher(std::atomic<bool>& two_arrived) : Process(ProcessMode::active), two_arrived_(two_arrived) {}

 protected:
  bool process_loop() override {
    while (auto m = receive()) {
      if (*m == Term(atom("two"))) {
        two_arrived_ = true;
        return false;
      }
    }
    return true;
  }

 private:
  std::atomic<bool>& two_arrived_;
};

TEST(SendCoalescing, WhatAHandlerCallSentIsDeliveredWhenItReturns) {
  Node node({.scheduler = {.threads = 2}});
  std::atomic<bool> both_sent{false};
  std::atomic<bool> two_arrived{false};
  const Pid watcher = node.spawn<Watcher>(two_arrived);
  const Pid p = node.spawn<TwoInOneRun>(watcher, both_sent, two_arrived);
  node.send(p, atom("first"));
  node.send(p, atom("wait"));
  both_sent = true;
  // Within 5 s, while `p` still waits in its next handler call (up to 10 s): not only
  // once its run ends.
  EXPECT_TRUE(wait_for(two_arrived, 5s));
}

TEST(SendCoalescing, MessagesForAProcessThatIsGoneAreDropped) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  // Exits on its first message: most of what follows finds its mailbox closed.
  const Pid short_lived = node.spawn([](Process& self, Term) { self.exit(atom("done")); });
  const Ref watch = inbox.monitor(short_lived);
  const Pid sender = node.spawn([short_lived, &inbox](Process& self, Term) {
    for (int i = 0; i < 100000; ++i) self.send(short_lived, binary(std::string(100, 'x')));
    self.send(inbox.pid(), atom("sent_all"));
  });
  node.send(sender, atom("go"));
  EXPECT_EQ(inbox.receive([](const Term& t) { return t.is_atom(atom("sent_all")); }, 30s), Term(atom("sent_all")));
  EXPECT_EQ(down_reason(inbox, watch), Term(atom("done")));
  EXPECT_TRUE(node.alive(sender));
}

}  // namespace
}  // namespace spindle
