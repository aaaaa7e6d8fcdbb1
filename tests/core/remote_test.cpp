// Signals between nodes, through the RemoteRouter interface: two nodes in one OS
// process, each router handing signals straight to the other node (what the
// distribution layer does over a socket, minus the socket). Checks the node's side of
// Erlang's semantics across nodes: names, links, monitors by pid and by name, exits.

#include <gtest/gtest.h>

#include "echo_process.hpp"
#include "spindle/etf.hpp"
#include "spindle/inbox.hpp"

namespace spindle {
namespace {
using namespace test_support;

// `t` as the other node would see it after the wire: pids lose their link to the
// process object and are plain (node, id, serial, creation) again.
Term wire(const Term& t) { return etf::decode(etf::encode(t)); }
Pid wire(const Pid& p) { return Pid(wire(Term(p))); }

// Hands every signal to `peer` as if it had come over a connection.
class DirectRouter final : public RemoteRouter {
 public:
  DirectRouter(Node& self, Node& peer) : self_(self.name()), peer_(peer) {}
  void route(Atom node, RemoteSignal&& s) override {
    if (node != peer_.name()) return;
    peer_.deliver_remote(self_, {s.kind, wire(s.from), wire(s.to), wire(s.ref), wire(s.payload)});
  }

 private:
  Atom self_;
  Node& peer_;
};

class TwoNodes : public ::testing::Test {
 protected:
  TwoNodes() {
    a.set_remote_router(std::make_shared<DirectRouter>(a, b));
    b.set_remote_router(std::make_shared<DirectRouter>(b, a));
  }
  ~TwoNodes() override {
    // Stop both before either is destroyed: exits signal across.
    a.stop();
    b.stop();
  }
  Node a{{.name = "a@host"}};
  Node b{{.name = "b@host"}};
};

TEST_F(TwoNodes, MessagesReachPidsAndNamesOnTheOtherNode) {
  Inbox inbox(a);
  const Pid echo_on_b = b.spawn<Echo>();
  ASSERT_TRUE(b.register_name(echo_on_b, atom("echo")));
  const Pid echo = wire(echo_on_b);
  EXPECT_TRUE(a.send(echo, tuple(inbox.pid(), atom("by_pid"))));
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), atom("by_pid")));
  EXPECT_TRUE(a.send(RegisteredName{atom("echo"), b.name()}, tuple(inbox.pid(), atom("by_name"))));
  EXPECT_EQ(inbox.receive(), tuple(atom("echo"), atom("by_name")));
  // A name nobody has: dropped on arrival, as in Erlang.
  EXPECT_TRUE(a.send(RegisteredName{atom("nobody"), b.name()}, atom("lost")));
  EXPECT_FALSE(inbox.receive(100ms).has_value());
}

TEST_F(TwoNodes, LinksCarryExitReasonsBothWays) {
  Inbox watcher(a);
  const Pid local = a.spawn<Echo>();
  const Pid remote = wire(b.spawn<Echo>());
  a.send(local, atom("trap"));
  a.send(local, tuple(atom("forward"), watcher.pid()));
  a.send(local, tuple(atom("link"), remote));
  // The remote side got the link: its abnormal exit reaches `local` as a message.
  a.send(local, tuple(atom("link_done"), atom("marker")));
  EXPECT_EQ(watcher.receive(), tuple(atom("link_done"), atom("marker")));
  b.send(remote, tuple(atom("exit"), atom("remote_failure")));
  EXPECT_EQ(watcher.receive(), tuple(atoms::EXIT, remote, atom("remote_failure")));

  // And the other way: a process on b linked to one on a dies with it.
  const Pid victim = b.spawn<Echo>();
  const Pid doomed_on_a = a.spawn<Echo>();
  const Pid doomed = wire(doomed_on_a);
  Inbox b_watcher(b);
  const Ref ref = b_watcher.monitor(victim);
  b.send(victim, tuple(atom("link"), doomed));
  b.send(victim, tuple(b_watcher.pid(), atom("linked")));
  EXPECT_EQ(b_watcher.receive(), tuple(atom("echo"), atom("linked")));
  a.send(doomed_on_a, tuple(atom("exit"), atom("bad_day")));
  EXPECT_EQ(down_reason(b_watcher, ref), atom("bad_day"));
}

TEST_F(TwoNodes, LinkingToADeadRemoteProcessGivesNoproc) {
  Inbox inbox(a);
  const Pid gone = wire(b.spawn<Echo>());
  Inbox b_watcher(b);
  const Ref ref = b_watcher.monitor(gone);
  b.send(gone, tuple(atom("exit"), atoms::normal));
  ASSERT_EQ(down_reason(b_watcher, ref), atoms::normal);
  inbox.link(gone);  // the inbox traps exits
  EXPECT_EQ(exit_reason(inbox, gone), atoms::noproc);
}

TEST_F(TwoNodes, ExitTwoAndKillAcrossNodes) {
  Inbox inbox(a);
  const Pid target = wire(b.spawn<Echo>());
  const Ref ref = inbox.monitor(target);
  const Pid killer = a.spawn<Echo>();
  a.send(killer, tuple(atom("exit"), target, atoms::kill));
  EXPECT_EQ(down_reason(inbox, ref), atoms::killed);
}

TEST_F(TwoNodes, MonitorsByPidAndByName) {
  Inbox inbox(a);
  const Pid watcher = a.spawn<Echo>();
  a.send(watcher, tuple(atom("forward"), inbox.pid()));

  const Pid by_pid = wire(b.spawn<Echo>());
  a.send(watcher, tuple(atom("monitor"), by_pid, inbox.pid()));
  const auto ref1 = inbox.receive();
  ASSERT_TRUE(ref1 && ref1->is_tuple(2));
  b.send(by_pid, tuple(atom("exit"), atom("r1")));
  EXPECT_EQ(inbox.receive(), tuple(atoms::DOWN, ref1->as_tuple()[1], atoms::process, by_pid, atom("r1")));

  const Pid named = wire(b.spawn<Echo>());
  ASSERT_TRUE(b.register_name(named, atom("svc")));
  a.send(watcher, tuple(atom("monitor"), tuple(atom("svc"), b.name()), inbox.pid()));
  const auto ref2 = inbox.receive();
  ASSERT_TRUE(ref2 && ref2->is_tuple(2));
  b.send(named, tuple(atom("exit"), atom("r2")));
  // The DOWN names what was monitored: {Name, Node}.
  EXPECT_EQ(inbox.receive(),
            tuple(atoms::DOWN, ref2->as_tuple()[1], atoms::process, tuple(atom("svc"), b.name()), atom("r2")));

  // A name not registered there: noproc at once, still naming {Name, Node}.
  a.send(watcher, tuple(atom("monitor"), tuple(atom("nobody"), b.name()), inbox.pid()));
  const auto ref3 = inbox.receive();
  ASSERT_TRUE(ref3 && ref3->is_tuple(2));
  EXPECT_EQ(inbox.receive(),
            tuple(atoms::DOWN, ref3->as_tuple()[1], atoms::process, tuple(atom("nobody"), b.name()), atoms::noproc));
}

TEST_F(TwoNodes, DemonitorAcrossNodesStopsTheDown) {
  Inbox inbox(a);
  const Pid watcher = a.spawn<Echo>();
  a.send(watcher, tuple(atom("forward"), inbox.pid()));
  const Pid target = wire(b.spawn<Echo>());
  ASSERT_TRUE(b.register_name(target, atom("svc2")));
  a.send(watcher, tuple(atom("monitor"), tuple(atom("svc2"), b.name()), inbox.pid()));
  const auto ref = inbox.receive();
  ASSERT_TRUE(ref && ref->is_tuple(2));
  a.send(watcher, tuple(atom("demonitor"), ref->as_tuple()[1]));
  // The demonitor reaches b before this exit request does (same sender order through a).
  Inbox b_watcher(b);
  const Ref b_ref = b_watcher.monitor(target);
  a.send(watcher, tuple(atom("exit"), target, atom("stop")));
  EXPECT_EQ(down_reason(b_watcher, b_ref), atom("stop"));
  EXPECT_FALSE(inbox.receive([](const Term& t) { return t.is_tuple(5); }, 200ms).has_value());
}

TEST(NoDistribution, OtherNodesAreUnreachable) {
  Node node({.name = "alone@host"});
  Inbox inbox(node);
  const Pid elsewhere(atom("other@host"), 1, 0, 1);
  EXPECT_TRUE(node.send(elsewhere, atom("dropped")));
  inbox.link(elsewhere);
  EXPECT_EQ(exit_reason(inbox, elsewhere), atoms::noconnection);
  const Ref ref = inbox.monitor(elsewhere);
  EXPECT_EQ(down_reason(inbox, ref), atoms::noconnection);
  // A pid of an earlier incarnation of this node is dead, not unreachable.
  const Pid old(node.name(), 1, 0, node.creation() + 1);
  inbox.link(old);
  EXPECT_EQ(exit_reason(inbox, old), atoms::noproc);
}

}  // namespace
}  // namespace spindle
