// Processes on a node: Erlang's semantics for messages, names, links, monitors, exit
// signals, crashes and timers. Run under ThreadSanitizer in CI.

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <atomic>
#include <thread>
#include <unordered_set>

#include "echo_process.hpp"
#include "spindle/inbox.hpp"
#include "spindle/term_text.hpp"

namespace spindle {
namespace {
using namespace spindle::test_support;

using namespace std::chrono_literals;

TEST(Process, SpawnSendAndReply) {
  Node node;
  Inbox inbox(node);
  const Pid echo = node.spawn<Echo>();
  EXPECT_TRUE(node.send(echo, tuple(inbox.pid(), atom("hi"))));
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), atom("hi")));
  EXPECT_TRUE(node.alive(echo));
  EXPECT_EQ(echo.node(), node.name());
  EXPECT_EQ(echo.creation(), node.creation());
}

TEST(Process, LambdaProcess) {
  Node node;
  Inbox inbox(node);
  const Pid doubler =
      node.spawn([](Process& self, Term m) { self.send(m.as_tuple()[0].as_pid(), m.as_tuple()[1].as_int() * 2); });
  node.send(doubler, tuple(inbox.pid(), 21));
  EXPECT_EQ(inbox.receive(), Term(42));
}

TEST(Process, InitRunsFirstAndTerminateSeesTheReason) {
  struct Lifecycle : Process {
    explicit Lifecycle(Pid observer) : observer_(std::move(observer)) {}
    void init() override { send(observer_, atom("init")); }
    void handle_one_inbox_message(Term m) override { send(observer_, tuple(atom("got"), m)); }
    void terminate(const Term& reason) override { send(observer_, tuple(atom("terminate"), reason)); }
    Pid observer_;
  };
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Lifecycle>(inbox.pid());
  node.send(p, 1);
  node.exit(p, atom("stop_now"));
  EXPECT_EQ(inbox.receive(), Term(atom("init")));
  EXPECT_EQ(inbox.receive(), tuple(atom("got"), 1));
  EXPECT_EQ(inbox.receive(), tuple(atom("terminate"), atom("stop_now")));
}

TEST(Process, RegisteredNamesAreReleasedOnExit) {
  Node node;
  Inbox inbox(node);
  const Pid echo = node.spawn<Echo>();
  ASSERT_TRUE(node.register_name(echo, atom("echo")));
  EXPECT_FALSE(node.register_name(echo, atom("echo2")));               // one name per process
  EXPECT_FALSE(node.register_name(node.spawn<Echo>(), atom("echo")));  // taken
  EXPECT_EQ(node.whereis(atom("echo")), echo);
  EXPECT_TRUE(node.send(atom("echo"), tuple(inbox.pid(), 1)));
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), 1));
  const Ref ref = inbox.monitor(echo);
  node.send(echo, tuple(atom("exit"), atom("done")));
  EXPECT_EQ(down_reason(inbox, ref), Term(atom("done")));
  EXPECT_FALSE(node.whereis(atom("echo")).has_value());
  EXPECT_FALSE(node.send(atom("echo"), 1));
  EXPECT_FALSE(node.register_name(echo, atom("late")));  // a dead process cannot take a name
  const Pid other = node.spawn<Echo>();
  EXPECT_TRUE(node.register_name(other, atom("echo")));
  EXPECT_TRUE(node.unregister(atom("echo")));
  EXPECT_FALSE(node.unregister(atom("echo")));
}

TEST(Process, PidsBuiltFromTheirFieldsReachTheProcess) {
  Node node;
  Inbox inbox(node);
  const Pid echo = node.spawn<Echo>();
  const Pid rebuilt(echo.node(), echo.id(), echo.serial(), echo.creation());  // as if decoded from the wire
  EXPECT_EQ(rebuilt, echo);
  EXPECT_TRUE(node.send(rebuilt, tuple(inbox.pid(), 7)));
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), 7));
  EXPECT_FALSE(node.send(Pid(echo.node(), echo.id(), echo.serial(), echo.creation() + 1), 1));  // old incarnation
}

// The table behind pids without a control block grows with a crowd, closes the gaps
// its exits leave, and shrinks after the crowd has gone: every live process is found by
// its fields throughout, and no dead one.
TEST(Process, PidsBuiltFromTheirFieldsFindEveryLiveProcessAsCrowdsComeAndGo) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  std::vector<Pid> live;
  std::vector<Pid> dead;
  const auto spawn_crowd = [&](int n) {
    for (int i = 0; i < n; ++i) live.push_back(node.spawn<Echo>());
  };
  const auto end_where = [&](auto&& chosen) {  // ends the chosen ones, and waits for it
    std::vector<Pid> kept;
    std::vector<Ref> refs;
    for (std::size_t i = 0; i < live.size(); ++i) {
      if (!chosen(i)) {
        kept.push_back(live[i]);
        continue;
      }
      refs.push_back(inbox.monitor(live[i]));
      node.exit(live[i], atom("gone"));
      dead.push_back(live[i]);
    }
    for (const Ref& ref : refs) EXPECT_EQ(down_reason(inbox, ref), Term(atom("gone")));
    live = std::move(kept);
  };
  const auto check = [&] {
    for (const Pid& p : live) ASSERT_EQ(node.local_pid(p.id(), p.serial()), p);
    for (const Pid& p : dead) ASSERT_FALSE(node.local_pid(p.id(), p.serial()));
    EXPECT_EQ(node.process_stats().size(), live.size() + 1);  // and the inbox
  };
  spawn_crowd(6000);
  check();
  end_where([](std::size_t i) { return i % 3 == 1 || i % 7 == 0; });  // holes inside runs
  check();
  // Churn: of each thousand spawned, one in seven stays. The survivors' numbers spread
  // far wider than the table's slots, so they collide and exits shift others back.
  for (int batch = 0; batch < 30; ++batch) {
    const std::size_t first = live.size();
    spawn_crowd(1000);
    end_where([&](std::size_t i) { return i >= first && (i - first) % 7 != 0; });
  }
  check();
  end_where([&](std::size_t i) { return i + 20 < live.size(); });  // all but the last 20
  check();
  spawn_crowd(100);
  check();
}

TEST(Process, MessagesFromEachSenderArriveInOrder) {
  Node node({.scheduler = {.threads = 4}});
  Inbox inbox(node);
  constexpr int kSenders = 8;
  constexpr int kMessages = 20000;
  struct Collector : Process {
    explicit Collector(Pid report) : report_(std::move(report)), next_(kSenders, 0) {}
    void handle_one_inbox_message(Term m) override {
      const auto sender = static_cast<std::size_t>(m.as_tuple()[0].as_int());
      const auto seq = m.as_tuple()[1].as_int();
      if (seq != next_[sender]) send(report_, tuple(atom("out_of_order"), sender, seq));
      next_[sender] = seq + 1;
      if (++total_ == kSenders * kMessages) send(report_, atom("all"));
    }
    Pid report_;
    std::vector<std::int64_t> next_;
    int total_ = 0;
  };
  const Pid collector = node.spawn<Collector>(inbox.pid());
  std::vector<Pid> senders;
  for (int s = 0; s < kSenders; ++s)
    senders.push_back(node.spawn([collector, s](Process& self, Term) {
      for (int i = 0; i < kMessages; ++i) self.send(collector, tuple(s, i));
    }));
  for (const Pid& s : senders) node.send(s, atom("go"));
  EXPECT_EQ(inbox.receive(30s), Term(atom("all")));
  EXPECT_EQ(inbox.size(), 0u);  // no out_of_order reports
}

// ----- links and exit signals -----

TEST(Links, NormalExitDoesNotKillLinkedProcesses) {
  Node node;
  Inbox inbox(node);
  const Pid a = node.spawn<Echo>();
  const Pid b = node.spawn<Echo>();
  const Ref watch_b = inbox.monitor(b);
  node.link(a, b);
  node.send(a, tuple(atom("exit"), atoms::normal));
  node.send(b, tuple(inbox.pid(), atom("still_here")));
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), atom("still_here")));
  EXPECT_TRUE(node.alive(b));
  node.exit(b, atoms::kill);
  EXPECT_EQ(down_reason(inbox, watch_b), Term(atoms::killed));
}

TEST(Links, AbnormalExitKillsLinkedProcessesWithTheSameReason) {
  Node node;
  Inbox inbox(node);
  const Pid a = node.spawn<Echo>();
  const Pid b = node.spawn<Echo>();
  const Ref watch_b = inbox.monitor(b);
  node.link(b, a);
  node.send(b, tuple(inbox.pid(), atom("linked")));  // after the link, in order
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), atom("linked")));
  node.send(a, tuple(atom("exit"), atom("bad")));
  EXPECT_EQ(down_reason(inbox, watch_b), Term(atom("bad")));
}

TEST(Links, TrappingTurnsExitSignalsIntoMessages) {
  Node node;
  Inbox inbox(node);  // traps exits
  const Pid a = node.spawn<Echo>();
  inbox.link(a);
  node.send(a, tuple(atom("exit"), atom("bad")));
  EXPECT_EQ(exit_reason(inbox, a), Term(atom("bad")));
  // A normal exit of a linked process is delivered too when trapping.
  const Pid b = node.spawn<Echo>();
  inbox.link(b);
  node.send(b, tuple(atom("exit"), atoms::normal));
  EXPECT_EQ(exit_reason(inbox, b), Term(atoms::normal));
}

TEST(Links, LinkToADeadProcessGivesNoproc) {
  Node node;
  Inbox inbox(node);
  const Pid gone = node.spawn<Echo>();
  const Ref ref = inbox.monitor(gone);
  node.exit(gone, atoms::kill);
  ASSERT_EQ(down_reason(inbox, ref), Term(atoms::killed));
  inbox.link(gone);
  EXPECT_EQ(exit_reason(inbox, gone), Term(atoms::noproc));
  // A process that does not trap dies of it.
  const Pid linker = node.spawn<Echo>();
  const Ref watch = inbox.monitor(linker);
  node.send(linker, tuple(atom("link"), gone));
  EXPECT_EQ(down_reason(inbox, watch), Term(atoms::noproc));
}

TEST(Links, UnlinkStopsPropagation) {
  Node node;
  Inbox inbox(node);
  const Pid a = node.spawn<Echo>();
  const Pid b = node.spawn<Echo>();
  node.link(a, b);
  node.send(a, tuple(atom("unlink"), b));
  node.send(a, tuple(inbox.pid(), atom("unlinked")));
  ASSERT_EQ(inbox.receive(), tuple(atom("echo"), atom("unlinked")));
  const Ref watch_a = inbox.monitor(a);
  node.send(b, tuple(atom("exit"), atom("bad")));
  node.send(a, tuple(inbox.pid(), atom("alive")));
  EXPECT_EQ(inbox.receive([](const Term& t) { return t.is_tuple(2); }), tuple(atom("echo"), atom("alive")));
  node.exit(a, atom("cleanup"));
  EXPECT_EQ(down_reason(inbox, watch_a), Term(atom("cleanup")));
}

TEST(ExitSignals, KillIsUntrappableAndBecomesKilled) {
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Echo>();
  node.send(p, atom("trap"));
  const Ref ref = inbox.monitor(p);
  node.exit(p, atom("polite"));  // trapped: becomes a message, the process lives
  node.send(p, tuple(inbox.pid(), atom("alive")));
  EXPECT_EQ(inbox.receive([](const Term& t) { return t.is_tuple(2); }), tuple(atom("echo"), atom("alive")));
  node.exit(p, atoms::kill);
  EXPECT_EQ(down_reason(inbox, ref), Term(atoms::killed));
}

TEST(ExitSignals, NormalFromOthersIsIgnoredButOtherReasonsKill) {
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Echo>();
  const Ref ref = inbox.monitor(p);
  node.exit(p, atoms::normal);
  node.send(p, tuple(inbox.pid(), atom("alive")));
  EXPECT_EQ(inbox.receive([](const Term& t) { return t.is_tuple(2); }), tuple(atom("echo"), atom("alive")));
  node.exit(p, atom("reason"));
  EXPECT_EQ(down_reason(inbox, ref), Term(atom("reason")));
}

TEST(ExitSignals, ExitSelfNormalEndsTheCaller) {
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Echo>();
  const Ref ref = inbox.monitor(p);
  node.send(p, tuple(atom("exit"), p, atoms::normal));  // exit(self(), normal)
  EXPECT_EQ(down_reason(inbox, ref), Term(atoms::normal));
}

TEST(ExitSignals, KillOverALinkIsNotConvertedToKilled) {
  Node node;
  Inbox inbox(node);
  const Pid a = node.spawn<Echo>();
  const Pid b = node.spawn<Echo>();
  const Pid c = node.spawn<Echo>();
  node.send(c, atom("trap"));
  const Ref watch_b = inbox.monitor(b);
  node.link(a, b);
  node.link(a, c);
  node.send(c, tuple(atom("forward"), inbox.pid()));
  node.send(a, tuple(inbox.pid(), atom("linked")));
  ASSERT_EQ(inbox.receive([](const Term& t) { return t.is_tuple(2); }), tuple(atom("echo"), atom("linked")));
  node.send(a, tuple(atom("exit"), atoms::kill));  // a exits with reason kill
  EXPECT_EQ(down_reason(inbox, watch_b), Term(atoms::kill));  // not killed
  // c traps: it gets {'EXIT', A, kill} and forwards it here.
  EXPECT_EQ(inbox.receive([](const Term& t) { return t.is_tuple(3); }), tuple(atoms::EXIT, a, atoms::kill));
}

TEST(ExitSignals, ACrashNamesTheExceptionAndHurtsNoOne) {
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Echo>();
  const Pid bystander = node.spawn<Echo>();
  const Ref ref = inbox.monitor(p);
  node.send(p, atom("crash"));
  EXPECT_EQ(down_reason(inbox, ref), tuple(atom("exception"), binary("std::runtime_error"), binary("boom")));
  node.send(bystander, tuple(inbox.pid(), atom("fine")));
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), atom("fine")));
}

TEST(ExitSignals, SpawnLinkTiesParentAndChild) {
  struct Parent : Process {
    explicit Parent(Pid report) : report_(std::move(report)) {}
    void handle_one_inbox_message(Term m) override {
      if (m.is_atom(atom("start"))) {
        const Pid child = spawn_link(std::make_unique<Echo>());
        send(report_, tuple(atom("child"), child));
      }
    }
    Pid report_;
  };
  Node node;
  Inbox inbox(node);
  const Pid parent = node.spawn<Parent>(inbox.pid());
  const Ref watch_parent = inbox.monitor(parent);
  node.send(parent, atom("start"));
  const Term reply = *inbox.receive();
  const Pid child = reply.as_tuple()[1].as_pid();
  node.send(child, atom("crash"));
  EXPECT_EQ(down_reason(inbox, watch_parent), tuple(atom("exception"), binary("std::runtime_error"), binary("boom")));
}

// ----- monitors -----

TEST(Monitors, DownCarriesTheReasonAndNoprocForTheDead) {
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Echo>();
  const Ref ref = inbox.monitor(p);
  node.send(p, tuple(atom("exit"), tuple(atom("shutdown"), 3)));
  const auto down = inbox.receive([&](const Term& t) { return is_down(t, ref); });
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(*down, tuple(atoms::DOWN, ref, atoms::process, p, tuple(atom("shutdown"), 3)));
  const Ref late = inbox.monitor(p);
  EXPECT_EQ(down_reason(inbox, late), Term(atoms::noproc));
  EXPECT_NE(late, ref);
}

TEST(Monitors, DemonitorStopsTheDownMessage) {
  struct Watcher : Process {
    explicit Watcher(Pid report) : report_(std::move(report)) {}
    void handle_one_inbox_message(Term m) override {
      if (m.is_tuple(2) && m.as_tuple()[0].is_atom(atom("watch"))) {
        const Ref ref = monitor(m.as_tuple()[1].as_pid());
        const bool first = demonitor(ref);
        const bool second = demonitor(ref);
        send(report_, tuple(atom("demonitored"), first, second));
      } else {
        send(report_, m);  // any DOWN would show up here
      }
    }
    Pid report_;
  };
  Node node;
  Inbox inbox(node);
  const Pid target = node.spawn<Echo>();
  const Pid watcher = node.spawn<Watcher>(inbox.pid());
  node.send(watcher, tuple(atom("watch"), target));
  EXPECT_EQ(inbox.receive(), tuple(atom("demonitored"), true, false));
  const Ref ours = inbox.monitor(target);
  node.exit(target, atoms::kill);
  ASSERT_EQ(down_reason(inbox, ours), Term(atoms::killed));  // the target is gone for sure
  node.send(watcher, atom("marker"));
  EXPECT_EQ(inbox.receive(), Term(atom("marker")));  // nothing came before the marker
}

// Monitors and links placed on an idle process wait in its mailbox until something else
// wakes it (a remote gen_server:call is a monitor, the request and a demonitor, and only
// the request should run the server); they are still in force, in order, when it runs.
TEST(Monitors, BookkeepingSignalsDoNotRunAnIdleProcessButStillHold) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const Pid target = node.spawn<Echo>();
  node.send(target, tuple(inbox.pid(), atom("hello")));
  ASSERT_TRUE(inbox.receive(10s).has_value());
  const auto handled = [&] {
    for (const ProcessStats& p : node.process_stats())
      if (p.pid == target) return p.handled;
    return std::uint64_t{0};
  };
  ASSERT_EQ(handled(), 1u);
  const Ref kept = inbox.monitor(target);
  const Ref dropped = inbox.monitor(target);
  inbox.demonitor(dropped);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(handled(), 1u);  // nothing ran it
  node.exit(target, atoms::kill);
  EXPECT_EQ(down_reason(inbox, kept), Term(atoms::killed));  // the monitor was in force
  node.send(inbox.pid(), atom("marker"));
  EXPECT_EQ(inbox.receive(), Term(atom("marker")));  // and the demonitored one sent nothing
}

// ----- active processes, timers, run_in -----

TEST(Process, ActiveProcessLoopsUntilItReturnsFalse) {
  struct Counter : Process {
    explicit Counter(Pid report) : Process(ProcessMode::active), report_(std::move(report)) {}
    bool process_loop() override {
      while (auto m = receive()) {
        if (m->is_atom(atom("stop"))) {
          send(report_, tuple(atom("count"), count_));
          return false;
        }
        ++count_;
      }
      return true;
    }
    Pid report_;
    int count_ = 0;
  };
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Counter>(inbox.pid());
  const Ref ref = inbox.monitor(p);
  for (int i = 0; i < 1000; ++i) node.send(p, i);
  node.send(p, atom("stop"));
  EXPECT_EQ(inbox.receive([](const Term& t) { return t.is_tuple(2); }), tuple(atom("count"), 1000));
  EXPECT_EQ(down_reason(inbox, ref), Term(atoms::normal));
}

TEST(Process, AnActiveProcessStillObeysExitSignals) {
  struct Spinner : Process {
    Spinner() : Process(ProcessMode::active) {}
    bool process_loop() override { return true; }  // never receives, never stops
  };
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Spinner>();
  const Ref ref = inbox.monitor(p);
  node.exit(p, atom("enough"));
  EXPECT_EQ(down_reason(inbox, ref), Term(atom("enough")));
}

TEST(Timers, SendAfterDeliversAndCancelPrevents) {
  Node node;
  Inbox inbox(node);
  const auto start = std::chrono::steady_clock::now();
  node.send_after(50ms, inbox.pid(), atom("later"));
  const std::uint64_t cancelled = node.send_after(30ms, inbox.pid(), atom("never"));
  EXPECT_TRUE(node.cancel_timer(cancelled));
  EXPECT_EQ(inbox.receive(), Term(atom("later")));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_FALSE(inbox.receive(100ms).has_value());
}

TEST(Timers, ReceiveTimeoutFiresOnceAndMessagesRestartIt) {
  struct Waiter : Process {
    explicit Waiter(Pid report) : report_(std::move(report)) {}
    void init() override { set_receive_timeout(80ms); }
    void handle_one_inbox_message(Term m) override { send(report_, m); }
    void handle_timeout() override { send(report_, atom("timeout")); }
    Pid report_;
  };
  Node node;
  Inbox inbox(node);
  const auto start = std::chrono::steady_clock::now();
  const Pid p = node.spawn<Waiter>(inbox.pid());
  std::this_thread::sleep_for(40ms);
  node.send(p, atom("ping"));  // restarts the 80 ms wait
  EXPECT_EQ(inbox.receive(), Term(atom("ping")));
  EXPECT_EQ(inbox.receive(), Term(atom("timeout")));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 120ms);
  EXPECT_FALSE(inbox.receive(200ms).has_value());  // once only
}

TEST(Timers, AReceiveTimeoutCanBeShortenedOrTurnedOff) {
  struct Waiter : Process {
    explicit Waiter(Pid report) : report_(std::move(report)) {}
    void init() override { set_receive_timeout(10s); }
    void handle_one_inbox_message(Term m) override {
      if (m == Term(atom("short"))) set_receive_timeout(50ms);  // sooner than the 10 s armed
      if (m == Term(atom("off"))) set_receive_timeout(-1ms);
    }
    void handle_timeout() override { send(report_, atom("timeout")); }
    Pid report_;
  };
  Node node;
  Inbox inbox(node);
  const Pid shortened = node.spawn<Waiter>(inbox.pid());
  const auto start = std::chrono::steady_clock::now();
  node.send(shortened, atom("short"));
  EXPECT_EQ(inbox.receive(5s), Term(atom("timeout")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  const Pid stopped = node.spawn<Waiter>(inbox.pid());
  node.send(stopped, atom("short"));
  node.send(stopped, atom("off"));
  EXPECT_FALSE(inbox.receive(300ms).has_value());
}

TEST(Process, RunInActsInsideTheProcess) {
  Node node;
  Inbox inbox(node);
  const Pid p = node.spawn<Echo>();
  const Pid report = inbox.pid();
  EXPECT_TRUE(node.run_in(p, [report](Process& self) { self.send(report, tuple(atom("inside"), self.pid())); }));
  EXPECT_EQ(inbox.receive(), tuple(atom("inside"), p));
  node.exit(p, atoms::kill);
  const Ref ref = inbox.monitor(p);
  down_reason(inbox, ref);
  EXPECT_FALSE(node.run_in(p, [](Process&) {}));
}

// ----- the node -----

TEST(NodeLifetime, StopEndsBusyAndIdleProcesses) {
  struct Spinner : Process {
    Spinner() : Process(ProcessMode::active) {}
    bool process_loop() override { return true; }
  };
  Node node({.scheduler = {.threads = 2}});
  for (int i = 0; i < 4; ++i) node.spawn<Spinner>();
  for (int i = 0; i < 1000; ++i) node.spawn<Echo>();
  const Pid echo = node.spawn<Echo>();
  EXPECT_EQ(node.process_count(), 1005u);
  node.stop();
  EXPECT_EQ(node.process_count(), 0u);
  EXPECT_FALSE(node.alive(echo));
  EXPECT_FALSE(node.send(echo, 1));
  node.stop();  // idempotent
  EXPECT_THROW(node.spawn<Echo>(), std::logic_error);
}

TEST(NodeLifetime, SeveralNodesInOneProcessTalkToEachOther) {
  Node a({.name = "a@localhost"});
  Node b({.name = "b@localhost"});
  Inbox inbox(a);
  const Pid echo_b = b.spawn<Echo>();
  EXPECT_NE(Term(echo_b), Term(inbox.pid()));
  EXPECT_TRUE(a.send(echo_b, tuple(inbox.pid(), atom("across"))));
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), atom("across")));
  const Ref ref = inbox.monitor(echo_b);
  b.stop();
  EXPECT_EQ(down_reason(inbox, ref), Term(atoms::killed));
}

TEST(NodeLifetime, TheProcessLimitIsAClearError) {
  Node node({.max_processes = 3});
  node.spawn<Echo>();
  node.spawn<Echo>();
  node.spawn<Echo>();
  EXPECT_THROW(node.spawn<Echo>(), std::length_error);
}

// An idle node sleeps: its workers and timer thread must not spin.
TEST(NodeLifetime, AnIdleNodeUsesNoCpu) {
  const auto cpu_seconds = [] {
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  };
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const Pid echo = node.spawn<Echo>();
  node.send(echo, tuple(inbox.pid(), atom("warm_up")));
  ASSERT_TRUE(inbox.receive().has_value());
  node.send_after(10s, echo, atom("far_future"));  // a pending timer must not wake anyone early
  std::this_thread::sleep_for(200ms);               // let the workers go to sleep
  const double before = cpu_seconds();
  std::this_thread::sleep_for(500ms);
  EXPECT_LT(cpu_seconds() - before, 0.05);  // under 10% of one core over the idle half-second
}

TEST(NodeLifetime, RefsAreUnique) {
  Node node;
  std::unordered_set<Ref> refs;
  for (int i = 0; i < 10000; ++i) refs.insert(node.make_ref());
  EXPECT_EQ(refs.size(), 10000u);
}

// Many producers and millions of messages: nothing lost, each producer's order kept.
TEST(Stress, MillionsOfMessagesFromManyProducers) {
  constexpr int kThreads = 4;
  constexpr int kProcesses = 4;
  constexpr int kEach = 250'000;
  Node node({.scheduler = {.threads = 4}});
  Inbox inbox(node);
  struct Sink : Process {
    explicit Sink(Pid report) : report_(std::move(report)), next_(kThreads + kProcesses, 0) {}
    void handle_one_inbox_message(Term m) override {
      const auto producer = static_cast<std::size_t>(m.as_tuple()[0].as_int());
      const auto seq = m.as_tuple()[1].as_int();
      if (seq != next_[producer] && !reported_) {
        reported_ = true;
        send(report_, tuple(atom("out_of_order"), producer, seq, next_[producer]));
      }
      next_[producer] = seq + 1;
      if (++total_ == (kThreads + kProcesses) * kEach) send(report_, tuple(atom("total"), total_));
    }
    Pid report_;
    std::vector<std::int64_t> next_;
    std::int64_t total_ = 0;
    bool reported_ = false;
  };
  const Pid sink = node.spawn<Sink>(inbox.pid());
  std::vector<Pid> senders;
  for (int p = 0; p < kProcesses; ++p)
    senders.push_back(node.spawn([sink, p](Process& self, Term) {
      for (int i = 0; i < kEach; ++i) self.send(sink, tuple(kThreads + p, i));
    }));
  for (const Pid& s : senders) node.send(s, atom("go"));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&node, sink, t] {
      for (int i = 0; i < kEach; ++i) node.send(sink, tuple(t, i));
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(inbox.receive(120s), tuple(atom("total"), (kThreads + kProcesses) * kEach));
  EXPECT_EQ(inbox.size(), 0u);
}

// Sends to a registered name race with the name moving from process to process: every
// send that returned true reached the process that held the name, in each sender's order.
TEST(Stress, SendsToANameReachWhoeverHoldsItAsItMoves) {
  constexpr int kSenders = 3;
  constexpr int kEach = 40'000;
  constexpr int kMoves = 300;
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const Atom name = atom("moving");
  struct Tally : Process {
    void handle_one_inbox_message(Term m) override {
      if (m.is_tuple(2) && m.as_tuple()[0].is_atom(atom("report"))) {
        send(m.as_tuple()[1].as_pid(), tuple(atom("tally"), count_, in_order_ ? atoms::true_ : atoms::false_));
        return;
      }
      const auto sender = static_cast<std::size_t>(m.as_tuple()[0].as_int());
      const auto seq = m.as_tuple()[1].as_int();
      if (seq <= last_[sender]) in_order_ = false;
      last_[sender] = seq;
      ++count_;
    }
    std::vector<std::int64_t> last_ = std::vector<std::int64_t>(kSenders, -1);
    std::int64_t count_ = 0;
    bool in_order_ = true;
  };
  std::vector<Pid> holders{node.spawn<Tally>()};
  ASSERT_TRUE(node.register_name(holders.back(), name));
  std::atomic<std::int64_t> delivered{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t)
    senders.emplace_back([&, t] {
      std::int64_t mine = 0;
      for (int i = 0; i < kEach; ++i) mine += node.send(name, tuple(t, i)) ? 1 : 0;
      delivered += mine;
      ++finished;
    });
  for (int move = 0; move < kMoves || finished.load() < kSenders; ++move) {  // moves all along
    holders.push_back(node.spawn<Tally>());
    ASSERT_TRUE(node.unregister(name));
    ASSERT_TRUE(node.register_name(holders.back(), name));
  }
  for (auto& t : senders) t.join();
  std::int64_t counted = 0;
  for (const Pid& holder : holders) {
    node.send(holder, tuple(atom("report"), inbox.pid()));
    const auto tally = inbox.receive(30s);
    ASSERT_TRUE(tally.has_value());
    counted += tally->as_tuple()[1].as_int();
    EXPECT_EQ(tally->as_tuple()[2], Term(atoms::true_));
  }
  EXPECT_EQ(counted, delivered.load());
  EXPECT_GT(delivered.load(), 0);
}

// Holders of a name are killed while senders use the name; only the name refers to them,
// so each is freed once it has exited: a send must never touch one after that (ASan).
TEST(Stress, SendsToANameWhoseHoldersExit) {
  constexpr int kSenders = 3;
  constexpr int kHolders = 100;
  Node node({.scheduler = {.threads = 2}});
  const Atom name = atom("short_lived");
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> delivered{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t)
    senders.emplace_back([&] {
      while (!done.load()) delivered += node.send(name, atom("hello")) ? 1 : 0;
    });
  for (int h = 0; h < kHolders; ++h) {
    ASSERT_TRUE(node.register_name(node.spawn<Echo>(), name));
    std::optional<Pid> holder = node.whereis(name);
    ASSERT_TRUE(holder.has_value());
    node.exit(*holder, atoms::kill);
    holder.reset();
    while (node.whereis(name).has_value()) std::this_thread::yield();  // released on exit
  }
  done = true;
  for (auto& t : senders) t.join();
  EXPECT_GT(delivered.load(), 0);
}

// Pids built from their fields (as from the wire) are resolved in the process table
// without a lock while their processes exit and others are spawned, growing and
// shrinking the table: a lookup never reaches a freed process (ASan), and a live one is
// always found.
TEST(Stress, PidsBuiltFromFieldsResolveWhileProcessesComeAndGo) {
  constexpr int kSenders = 2;
  constexpr int kRounds = 40;
  constexpr int kCrowd = 500;
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const Pid anchor = node.spawn<Echo>();  // lives throughout: must always be found
  // The fields (id << 32 | serial) of recent processes, dying ones among them.
  std::vector<std::atomic<std::uint64_t>> recent(kCrowd);
  std::atomic<bool> done{false};
  std::atomic<std::int64_t> anchor_misses{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < kSenders; ++t)
    senders.emplace_back([&, t] {
      for (std::size_t i = t; !done.load(); ++i) {
        if (!node.local_pid(anchor.id(), anchor.serial())) anchor_misses.fetch_add(1);
        const std::uint64_t fields = recent[i % kCrowd].load();
        const auto id = static_cast<std::uint32_t>(fields >> 32);
        const auto serial = static_cast<std::uint32_t>(fields);
        if (id == 0 && serial == 0) continue;
        node.send(Pid(node.name(), id, serial, node.creation()), atom("hello"));
        node.local_pid(id, serial);
      }
    });
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Ref> refs;
    for (int i = 0; i < kCrowd; ++i) {
      Pid p = node.spawn<Echo>();
      recent[i].store(std::uint64_t{p.id()} << 32 | p.serial());
      refs.push_back(inbox.monitor(p));
      node.exit(p, atoms::kill);  // once it has exited only the senders' lookups may reach it
    }
    for (const Ref& ref : refs) ASSERT_EQ(down_reason(inbox, ref), Term(atoms::killed));
  }
  done = true;
  for (auto& t : senders) t.join();
  EXPECT_EQ(anchor_misses.load(), 0);
  EXPECT_TRUE(node.local_pid(anchor.id(), anchor.serial()));
}
}  // namespace
}  // namespace spindle
