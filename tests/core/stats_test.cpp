// Node::stats and Node::process_stats: what a node counts about itself.

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "echo_process.hpp"
#include "spindle/inbox.hpp"

namespace spindle {
namespace {
using namespace spindle::test_support;
using namespace std::chrono_literals;

const ProcessStats* find(const std::vector<ProcessStats>& all, const Pid& pid) {
  const auto it = std::find_if(all.begin(), all.end(), [&](const ProcessStats& p) { return p.pid == pid; });
  return it == all.end() ? nullptr : &*it;
}

TEST(Stats, ProcessesCountWhatTheyHandleAndSend) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const Pid echo = node.spawn<Echo>();
  ASSERT_TRUE(node.register_name(echo, atom("the_echo")));
  for (int i = 0; i < 100; ++i) node.send(echo, tuple(inbox.pid(), i));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(inbox.receive(10s).has_value());
  const auto all = node.process_stats();
  const ProcessStats* e = find(all, echo);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, atom("the_echo"));
  EXPECT_EQ(e->handled, 100u);
  EXPECT_EQ(e->sent, 100u);
  EXPECT_GE(e->mailbox_high_water, 1u);
  EXPECT_LE(e->mailbox_high_water, 100u);
}

TEST(Stats, AMailboxThatFillsUpWhileItsOwnerIsBusyShowsItsDepth) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  std::atomic<bool> release{false};
  const Pid slow = node.spawn([&](Process& self, Term m) {
    if (m.is_atom(atom("block"))) {
      while (!release.load()) std::this_thread::yield();
      self.send(inbox.pid(), atom("unblocked"));
    }
  });
  node.send(slow, atom("block"));
  for (int i = 0; i < 1000; ++i) node.send(slow, i);  // queued behind the block
  release = true;
  ASSERT_EQ(inbox.receive(10s), Term(atom("unblocked")));
  std::vector<ProcessStats> all;
  const ProcessStats* p = nullptr;
  for (int i = 0; i < 1000; ++i, std::this_thread::sleep_for(1ms)) {  // the last messages may still be in hand
    all = node.process_stats();
    p = find(all, slow);
    if (p == nullptr || p->handled >= 1001) break;
  }
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->handled, 1001u);
  EXPECT_GE(p->mailbox_high_water, 500u);  // most of the thousand were waiting at one take
}

TEST(Stats, TheNodeSumsItsProcessesAliveAndGone) {
  Node node({.scheduler = {.threads = 2}});
  Inbox inbox(node);
  const NodeStats before = node.stats();
  std::vector<Pid> echoes;
  for (int i = 0; i < 10; ++i) echoes.push_back(node.spawn<Echo>());
  for (const Pid& e : echoes)
    for (int i = 0; i < 10; ++i) node.send(e, tuple(inbox.pid(), i));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(inbox.receive(10s).has_value());
  // Half of them exit: what they counted stays in the node's totals.
  for (int i = 0; i < 5; ++i) {
    const Ref ref = inbox.monitor(echoes[i]);
    node.exit(echoes[i], atom("kill"));
    ASSERT_TRUE(inbox.receive([&](const Term& t) { return t.is_tuple(5) && t.as_tuple()[1] == Term(ref); }, 10s));
  }
  // The DOWN comes just before an exit's last step, which moves the process's figures
  // to the node's totals of the gone (NodeStats).
  for (int i = 0; i < 1000 && node.stats().processes != before.processes + 5; ++i) std::this_thread::sleep_for(1ms);
  const NodeStats after = node.stats();
  EXPECT_EQ(after.spawned - before.spawned, 10u);
  EXPECT_EQ(after.processes, before.processes + 5);
  EXPECT_GE(after.messages_handled - before.messages_handled, 100u);
  EXPECT_GE(after.messages_sent - before.messages_sent, 200u);  // 100 in from outside, 100 echoed
  EXPECT_GE(after.uptime, before.uptime);
  ASSERT_EQ(after.workers.size(), 2u);
  std::uint64_t runs = 0;
  std::chrono::nanoseconds busy{0};
  for (const WorkerStats& w : after.workers) {
    runs += w.runs;
    busy += w.busy;
  }
  EXPECT_GT(runs, 0u);
  EXPECT_GT(busy.count(), 0);
  EXPECT_LE(busy, 2 * after.uptime);  // two workers can be busy at most all the time
}

}  // namespace
}  // namespace spindle
