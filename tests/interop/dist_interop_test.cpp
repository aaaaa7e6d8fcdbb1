// The Erlang distribution against real Erlang/OTP nodes on 127.0.0.1: EPMD (embedded
// and Debian's), the handshake, messages of every kind of term, large messages, order,
// links, monitors and exit signals both ways, connection loss, and bad peers.
//
// Each test runs a Spindle node in this process (with the demo services), and real `erl`
// nodes (tests/interop/interop_agent.erl) and `spindle-node` programs as child
// processes on a private EPMD port. Every child is stopped by its pid.

#include <gtest/gtest.h>

#include <csignal>
#include <unordered_map>

#include "erlang_node.hpp"
#include "raw_peer.hpp"
#include "spindle_fixture.hpp"
#include "spindle/coprocess.hpp"
#include "spindle/dist/distribution.hpp"

namespace spindle {
namespace {

using namespace std::chrono_literals;
using test::agent_call;
using test::ChildProcess;
using test::DistInterop;
using test::ErlangNode;
using test::kCookie;
using test::SpindleNode;

TEST_F(DistInterop, PingBothWaysThroughTheEmbeddedEpmd) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  EXPECT_TRUE(spin.dist.runs_embedded_epmd());
  auto options = erlang_options();
  options.ping_at_start = "spin@127.0.0.1";
  ErlangNode beam(beam_name("beam"), options);
  EXPECT_EQ(beam.start_ping(), "pong");  // BEAM connected to us
  EXPECT_TRUE(spin.dist.disconnect(beam.name()));
  EXPECT_TRUE(spin.dist.ping(beam.name()));  // and we to it
  EXPECT_FALSE(spin.dist.ping(atom("nobody@127.0.0.1"), 5s));
  const auto connected = spin.dist.connected_nodes();
  EXPECT_NE(std::find(connected.begin(), connected.end(), beam.name()), connected.end());
}

TEST_F(DistInterop, PingBothWaysThroughDebiansEpmd) {
  const auto epmd = test::start_epmd(epmd_port);
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  EXPECT_FALSE(spin.dist.runs_embedded_epmd());
  std::string names;
  test::run_command({"epmd", "-port", std::to_string(epmd_port), "-names"}, 5s, &names);
  EXPECT_NE(names.find("name spin at port " + std::to_string(spin.dist.listen_port())), std::string::npos) << names;
  auto options = erlang_options();
  options.ping_at_start = "spin@127.0.0.1";
  ErlangNode beam(beam_name("beam"), options);
  EXPECT_EQ(beam.start_ping(), "pong");
  EXPECT_EQ(spin.call(beam.name(), "ping", {atom("spin@127.0.0.1")}), atom("pong"));
}

TEST_F(DistInterop, EveryKindOfTermMakesTheRoundTripUnchanged) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  test::TempDir dir;
  std::string output;
  ASSERT_EQ(test::run_command({"escript", std::string(SPINDLE_SOURCE_DIR) + "/tests/interop/etf_corpus.erl", "gen",
                               dir.path().string(), "400", "4242"},
                              120s, &output),
            0)
      << output;
  const Term result = spin.call(beam.name(), "echo_corpus",
                                {binary((dir / "terms.etf").string()), tuple(atom("echo"), spin.node.name()), 10000});
  ASSERT_TRUE(result.is_tuple(2)) << result.to_string().substr(0, 2000);
  EXPECT_EQ(result.as_tuple()[0], atom("ok")) << result.to_string().substr(0, 2000);
  EXPECT_GE(result.as_tuple()[1].as_int(), 400);
}

TEST_F(DistInterop, LargeBinariesBothWays) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  for (const std::int64_t size : {std::int64_t{1} << 20, std::int64_t{64} << 20}) {
    // Erlang -> Spindle's echo -> Erlang.
    const Term result = spin.call(beam.name(), "echo_binary", {tuple(atom("echo"), spin.node.name()), size}, 120s);
    EXPECT_EQ(result, tuple(atom("ok"), size)) << result.to_string();
  }
  // Spindle -> an Erlang worker -> Spindle: {From, ping} comes back as {Pid, pong} after
  // the big binary, which the worker ignores, in order.
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  std::string big(std::size_t{64} << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
  spin.node.send(erl_worker, binary(big));
  spin.node.send(erl_worker, tuple(spin.inbox.pid(), atom("ping")));
  const auto pong = spin.inbox.receive(60s);
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(*pong, tuple(erl_worker, atom("pong")));
}

// Counts messages {Sender, Seq} and checks that each sender's come in order 1, 2, ...
class OrderChecker final : public Process {
 public:
  OrderChecker(Pid report_to, std::size_t expected) : report_to_(std::move(report_to)), expected_(expected) {}

 protected:
  void handle_one_inbox_message(Term m) override {
    if (!m.is_tuple(2) || !m.as_tuple()[0].is_pid()) return;
    const std::int64_t seq = m.as_tuple()[1].as_int();
    std::int64_t& last = last_[m.as_tuple()[0].as_pid()];
    if (seq != last + 1) ++out_of_order_;
    last = seq;
    if (++count_ == expected_) send(report_to_, tuple(atom("done"), count_, out_of_order_, last_.size()));
  }

 private:
  Pid report_to_;
  std::size_t expected_;
  std::size_t count_ = 0;
  std::size_t out_of_order_ = 0;
  std::unordered_map<Pid, std::int64_t> last_;
};

TEST_F(DistInterop, AHundredThousandMessagesArriveCompleteAndInOrder) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid checker = spin.node.spawn<OrderChecker>(spin.inbox.pid(), 100'000);
  const Term sent = spin.call(beam.name(), "flood", {checker, 4, 25'000}, 120s);
  ASSERT_TRUE(sent.is_tuple(2) && sent.as_tuple()[0].is_atom(atom("ok"))) << sent.to_string();
  const auto done = spin.next("done", 60s);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(*done, tuple(atom("done"), 100'000, 0, 4));
}

// A connection that only receives lets a stream's small messages gather between reads
// (read_gather), with the kernel told to wake it only for many bytes. That must never
// hold back the message that follows a pause, however small.
TEST_F(DistInterop, AMessageAfterAPauseInAStreamIsNotHeldBack) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid checker = spin.node.spawn<OrderChecker>(spin.inbox.pid(), 20'001);
  const Term sent = spin.call(beam.name(), "flood_then_pause", {checker, 20'000, 300}, 60s);
  EXPECT_EQ(sent, atom("ok"));
  const auto done = spin.next("done", 10s);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(*done, tuple(atom("done"), 20'001, 0, 1));
}

// The I/O thread runs a process woken by a message it read (io_runs_processes). One
// handler call that sends a flood must not keep it all unwritten until the call ends, nor
// lose or reorder any of it.
// Run on the I/O thread (woken by a message from Erlang), a handler that sends a great
// deal has it written while it is still sending, not all after it returns.
TEST_F(DistInterop, AFloodSentInOneHandlerCallArrivesCompleteAndInOrder) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  std::atomic<std::uint64_t> written_during_the_call{0};
  const Pid source = spin.node.spawn([&](Process& self, Term m) {
    const auto go = m.as_tuple();
    const auto messages_out = [&] {
      for (const dist::ConnectionStats& c : spin.dist.connection_stats())
        if (c.node == go[1].as_pid().node()) return c.messages_out;
      return std::uint64_t{0};
    };
    const std::uint64_t before = messages_out();
    for (std::int64_t i = 1; i <= go[2].as_int(); ++i) self.send(go[1].as_pid(), tuple(atom("seq"), i));
    written_during_the_call = messages_out() - before;
  });
  const std::uint64_t io_runs_before = spin.node.stats().io_runs;
  const Term got = spin.call(beam.name(), "collect", {source, 300'000, 30'000}, 120s);
  EXPECT_EQ(got, tuple(atom("ok"), 300'000)) << got.to_string();
  EXPECT_GT(spin.node.stats().io_runs, io_runs_before);
  EXPECT_GT(written_during_the_call.load(), 0u);
}

TEST_F(DistInterop, MonitorsAndLinksBothWaysKeepTheReason) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid me = spin.inbox.pid();
  const auto erl_worker = [&] { return spin.call(beam.name(), "spawn_worker", {}).as_pid(); };

  // Erlang monitors a Spindle process; Spindle monitors an Erlang process.
  const Pid spin_target = spin.worker();
  const Pid erl_watcher = erl_worker();
  spin.node.send(erl_watcher, tuple(atom("monitor"), spin_target, me));
  spin.node.send(erl_watcher, tuple(me, atom("ping")));  // the monitor is set once this returns
  ASSERT_TRUE(spin.inbox.receive(20s).has_value());
  spin.node.send(spin_target, tuple(atom("exit"), atom("spindle_reason")));
  EXPECT_EQ(spin.next("down"), tuple(atom("down"), spin_target, atom("spindle_reason")));

  const Pid erl_target = erl_worker();
  const Pid spin_watcher = spin.worker();
  spin.node.send(spin_watcher, tuple(atom("monitor"), erl_target, me));
  spin.node.send(spin_watcher, tuple(me, atom("ping")));
  ASSERT_TRUE(spin.inbox.receive(20s).has_value());
  spin.node.send(erl_target, tuple(atom("exit"), tuple(atom("erlang_reason"), 42)));
  EXPECT_EQ(spin.next("down"), tuple(atom("down"), erl_target, tuple(atom("erlang_reason"), 42)));

  // Links with trap_exit, both ways.
  const Pid spin_linked = spin.worker();
  const Pid erl_trapper = erl_worker();
  spin.node.send(erl_trapper, tuple(atom("trap_link"), spin_linked, me));
  spin.node.send(erl_trapper, tuple(me, atom("ping")));
  ASSERT_TRUE(spin.inbox.receive(20s).has_value());
  spin.node.send(spin_linked, tuple(atom("exit"), atom("linked_reason")));
  EXPECT_EQ(spin.next("exit_signal"), tuple(atom("exit_signal"), spin_linked, atom("linked_reason")));

  const Pid erl_linked = erl_worker();
  const Pid spin_trapper = spin.worker();
  spin.node.send(spin_trapper, tuple(atom("trap_link"), erl_linked, me));
  spin.node.send(spin_trapper, tuple(me, atom("ping")));
  ASSERT_TRUE(spin.inbox.receive(20s).has_value());
  spin.node.send(erl_linked, tuple(atom("exit"), atom("other_reason")));
  EXPECT_EQ(spin.next("exit_signal"), tuple(atom("exit_signal"), erl_linked, atom("other_reason")));

  // An untrapped link kills across nodes: an Erlang process linked to a Spindle worker
  // (through trap_link on the Spindle side) dies with it.
  const Pid erl_victim = erl_worker();
  const Pid spin_peer = spin.worker();
  spin.node.send(spin_peer, tuple(atom("trap_link"), erl_victim, me));
  spin.node.send(spin_peer, tuple(me, atom("ping")));
  ASSERT_TRUE(spin.inbox.receive(20s).has_value());
  const Ref victim_down = spin.inbox.monitor(erl_victim);
  spin.node.exit(erl_victim, atom("shot"));  // exit/2 across nodes
  EXPECT_EQ(spin.next("exit_signal"), tuple(atom("exit_signal"), erl_victim, atom("shot")));
  const auto down = spin.inbox.receive([&](const Term& t) { return t.is_tuple(5) && t.as_tuple()[1] == Term(victim_down); }, 20s);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->as_tuple()[4], atom("shot"));

  // kill from Erlang: untrappable, seen as killed.
  const Pid spin_killed = spin.worker();
  const Ref killed_down = spin.inbox.monitor(spin_killed);
  EXPECT_EQ(spin.call(beam.name(), "exit_signal", {spin_killed, atom("kill")}), atom("ok"));
  const auto killed = spin.inbox.receive([&](const Term& t) { return t.is_tuple(5) && t.as_tuple()[1] == Term(killed_down); }, 20s);
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(killed->as_tuple()[4], atom("killed"));
}

TEST_F(DistInterop, MonitorsByRegisteredNameBothWays) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid me = spin.inbox.pid();
  // Erlang monitors {svc, spin}: the DOWN names {svc, 'spin@127.0.0.1'}.
  const Pid svc = spin.worker();
  ASSERT_TRUE(spin.node.register_name(svc, atom("svc")));
  const Pid watcher = spin.call(beam.name(), "monitor_name", {tuple(atom("svc"), spin.node.name()), me}).as_pid();
  spin.node.send(watcher, tuple(me, atom("ping")));
  ASSERT_TRUE(spin.inbox.receive(20s).has_value());
  spin.node.send(svc, tuple(atom("exit"), atom("bye")));
  EXPECT_EQ(spin.next("down"), tuple(atom("down"), tuple(atom("svc"), spin.node.name()), atom("bye")));
  // A name nobody has: noproc at once.
  spin.call(beam.name(), "monitor_name", {tuple(atom("nobody"), spin.node.name()), me});
  EXPECT_EQ(spin.next("down"), tuple(atom("down"), tuple(atom("nobody"), spin.node.name()), atom("noproc")));
  // Spindle monitors {agent, beam}... through a name the test registers there.
  const Ref ref = spin.inbox.monitor(RegisteredName{atom("no_such_name"), beam.name()});
  const auto down = spin.inbox.receive([&](const Term& t) { return t.is_tuple(5) && t.as_tuple()[1] == Term(ref); }, 20s);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(*down, tuple(atoms::DOWN, ref, atoms::process, tuple(atom("no_such_name"), beam.name()), atoms::noproc));
}

TEST_F(DistInterop, KillingTheErlangNodeGivesNoconnection) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  auto beam = std::make_unique<ErlangNode>(beam_name("beam"), erlang_options());
  const Pid me = spin.inbox.pid();
  const Pid erl_worker = spin.call(beam->name(), "spawn_worker", {}).as_pid();
  const Pid spin_monitor = spin.worker();
  const Pid spin_linker = spin.worker();
  spin.node.send(spin_monitor, tuple(atom("monitor"), erl_worker, me));
  spin.node.send(spin_linker, tuple(atom("trap_link"), erl_worker, me));
  spin.node.send(erl_worker, tuple(me, atom("ping")));
  ASSERT_TRUE(spin.inbox.receive(20s).has_value());
  beam->process().signal(SIGKILL);
  EXPECT_EQ(spin.next("down"), tuple(atom("down"), erl_worker, atoms::noconnection));
  EXPECT_EQ(spin.next("exit_signal"), tuple(atom("exit_signal"), erl_worker, atoms::noconnection));
}

TEST_F(DistInterop, KillingASpindleNodeGivesNoconnectionToErlang) {
  SpindleNode harness("harness@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  // TCP between the two Spindle nodes here (local_carrier_test.cpp has the local socket).
  ChildProcess other({SPINDLE_NODE_BINARY, "--name", "other@127.0.0.1", "--cookie", kCookie, "--demo", "--epmd-port",
                      std::to_string(epmd_port), "--local-carrier", "false"});
  test::wait_ready(other, "ready other@127.0.0.1", 30s);
  const Pid me = harness.inbox.pid();
  // A worker on the other Spindle node, watched and linked from Erlang.
  harness.node.send(RegisteredName{atom("echo"), atom("other@127.0.0.1")}, tuple(atom("spawn_worker"), me));
  const auto w = harness.next("worker");
  ASSERT_TRUE(w.has_value());
  const Pid target = w->as_tuple()[1].as_pid();
  const Pid erl_monitor = harness.call(beam.name(), "spawn_worker", {}).as_pid();
  const Pid erl_linker = harness.call(beam.name(), "spawn_worker", {}).as_pid();
  harness.node.send(erl_monitor, tuple(atom("monitor"), target, me));
  harness.node.send(erl_linker, tuple(atom("trap_link"), target, me));
  harness.node.send(erl_monitor, tuple(me, atom("ping")));
  harness.node.send(erl_linker, tuple(me, atom("ping")));
  ASSERT_TRUE(harness.inbox.receive(20s).has_value());
  ASSERT_TRUE(harness.inbox.receive(20s).has_value());
  other.signal(SIGKILL);
  EXPECT_EQ(harness.next("down"), tuple(atom("down"), target, atoms::noconnection));
  EXPECT_EQ(harness.next("exit_signal"), tuple(atom("exit_signal"), target, atoms::noconnection));
}

TEST_F(DistInterop, ASilentPeerIsDroppedAfterTheTickTime) {
  SpindleNode spin("spin@127.0.0.1", epmd_port, {.net_ticktime = 4s});
  auto options = erlang_options();
  options.net_ticktime = 4;
  ErlangNode beam(beam_name("beam"), options);
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  const Ref ref = spin.inbox.monitor(erl_worker);
  // A quiet but live connection stays up across several tick times.
  std::this_thread::sleep_for(6s);
  spin.node.send(erl_worker, tuple(spin.inbox.pid(), atom("ping")));
  EXPECT_EQ(spin.inbox.receive(10s), tuple(erl_worker, atom("pong")));
  // A frozen peer stops ticking: the connection goes, monitors get noconnection.
  beam.process().signal(SIGSTOP);
  const auto down = spin.inbox.receive([&](const Term& t) { return t.is_tuple(5) && t.as_tuple()[1] == Term(ref); }, 20s);
  beam.process().signal(SIGCONT);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->as_tuple()[4], atoms::noconnection);
}

// A peer that stops reading: what waits for it is bounded by max_queued_bytes; past
// the bound the connection goes (long before ticks would notice), with noconnection.
// The bound is for what no sender is suspended for (signals, sends from a worker or the
// I/O thread); here the busy limit is above it, so this thread's sends are such.
TEST_F(DistInterop, APeerThatStopsReadingCostsAtMostTheQueueBound) {
  SpindleNode spin("spin@127.0.0.1", epmd_port,
                   {.max_queued_bytes = std::size_t{8} << 20, .busy_limit_bytes = std::size_t{1} << 30});
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  const Ref ref = spin.inbox.monitor(erl_worker);
  // While the peer reads, everything queued is written and the count goes back to 0.
  const Term chunk = binary(std::string(std::size_t{1} << 20, 'x'));
  for (int i = 0; i < 4; ++i) spin.node.send(erl_worker, chunk);  // well under the bound
  spin.node.send(erl_worker, tuple(spin.inbox.pid(), atom("ping")));
  EXPECT_EQ(spin.inbox.receive(10s), tuple(erl_worker, atom("pong")));
  EXPECT_EQ(spin.dist.queued_bytes(beam.name()), 0u);
  beam.process().signal(SIGSTOP);
  // 256 MB for a peer that reads nothing: the kernel's buffers take a few MB, the queue
  // at most 8 MB, then the connection is dropped and the rest is dropped with it.
  for (int i = 0; i < 256; ++i) {
    spin.node.send(erl_worker, chunk);
    EXPECT_LE(spin.dist.queued_bytes(beam.name()), std::size_t{8} << 20);
  }
  const auto down = spin.inbox.receive([&](const Term& t) { return t.is_tuple(5) && t.as_tuple()[1] == Term(ref); }, 20s);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->as_tuple()[4], atoms::noconnection);
  // More for the stopped peer: a new connection attempt starts, its handshake stalls, and
  // the queue passes the bound again while it does. What is queued goes; the attempt
  // goes on (a second attempt beside it would leave the peer keeping the wrong one).
  for (int i = 0; i < 16; ++i) spin.node.send(erl_worker, chunk);
  std::this_thread::sleep_for(200ms);
  beam.process().signal(SIGCONT);
  // The node reconnects on the next send and goes on as before.
  const Pid again = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  spin.node.send(again, tuple(spin.inbox.pid(), atom("ping")));
  EXPECT_EQ(spin.inbox.receive(10s), tuple(again, atom("pong")));
}

// A process that sends one message per handler call, driven by messages to itself: on
// {go, To, N} it sends To (a pid, or {Name, Node}) {seq, 1..N, Padding}; `sent` counts
// what it has sent so far.
Pid spawn_pump(Node& node, std::shared_ptr<std::atomic<std::int64_t>> sent, std::size_t padding) {
  return node.spawn([sent, to = Term(), n = std::int64_t{0}, pad = binary(std::string(padding, 'p'))](
                        Process& self, Term m) mutable {
    if (m.is_tuple(3)) {
      to = m.as_tuple()[1];
      n = m.as_tuple()[2].as_int();
    }
    const std::int64_t i = sent->load() + 1;
    if (to.is_tuple(2)) {
      self.send(RegisteredName{to.as_tuple()[0].as_atom(), to.as_tuple()[1].as_atom()}, tuple(atom("seq"), i, pad));
    } else {
      self.send(to.as_pid(), tuple(atom("seq"), i, pad));
    }
    sent->store(i);
    if (i < n) self.send(self.pid(), atom("next"));
  });
}

// Waits until `count` stops changing for a while; its value then.
std::int64_t settled(const std::atomic<std::int64_t>& count) {
  std::int64_t last = -1;
  for (int quiet = 0, i = 0; quiet < 5 && i < 200; ++i) {
    const std::int64_t now = count.load();
    quiet = now == last ? quiet + 1 : 0;
    last = now;
    std::this_thread::sleep_for(100ms);
  }
  return last;
}

// Erlang's busy distribution port: a process sending to a node that stops reading is
// suspended between its handler calls once busy_limit_bytes wait for that node, where
// without it the queue would grow to max_queued_bytes and the connection be dropped.
// It goes on when the node reads again, and nothing is lost; an exit signal does not
// wait for the node.
TEST_F(DistInterop, ASenderToANodeThatStopsReadingIsSuspendedNotDropped) {
  constexpr std::size_t kBusy = std::size_t{1} << 20;
  constexpr std::size_t kPadding = std::size_t{16} << 10;
  constexpr std::int64_t kMessages = 4000;  // 64 MB: far more than socket buffers and the limit hold
  SpindleNode spin("spin@127.0.0.1", epmd_port, {.max_queued_bytes = std::size_t{32} << 20, .busy_limit_bytes = kBusy});
  ErlangNode beam(beam_name("beam"), erlang_options());
  const auto sent = std::make_shared<std::atomic<std::int64_t>>(0);
  const Pid pump = spawn_pump(spin.node, sent, kPadding);
  Term collected;
  std::thread collector([&] { collected = spin.call(beam.name(), "collect", {pump, kMessages, 60'000}, 120s); });
  for (int i = 0; i < 20000 && sent->load() < 100; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_GE(sent->load(), 100);
  beam.process().signal(SIGSTOP);
  const std::int64_t stalled_at = settled(*sent);
  EXPECT_LT(stalled_at, kMessages);
  EXPECT_GT(spin.dist.queued_bytes(beam.name()), kBusy);
  EXPECT_LE(spin.dist.queued_bytes(beam.name()), kBusy + 2 * kPadding);
  const std::vector<dist::ConnectionStats> connections = spin.dist.connection_stats();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_GE(connections[0].senders_suspended, 1u);

  // A second sender, to a registered name there, is suspended at its first send; an
  // exit signal still ends it.
  const auto other_sent = std::make_shared<std::atomic<std::int64_t>>(0);
  const Pid other = spawn_pump(spin.node, other_sent, 16);
  spin.node.send(other, tuple(atom("go"), tuple(atom("nobody_by_that_name"), beam.name()), 1'000'000));
  EXPECT_EQ(settled(*other_sent), 1);
  spin.node.exit(other, atom("stop_it"));
  for (int i = 0; i < 5000 && spin.node.alive(other); ++i) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(spin.node.alive(other));

  EXPECT_EQ(sent->load(), stalled_at);
  beam.process().signal(SIGCONT);
  collector.join();
  EXPECT_EQ(collected, tuple(atom("ok"), kMessages)) << collected.to_string();
  EXPECT_EQ(sent->load(), kMessages);
  EXPECT_EQ(spin.dist.connected_nodes(), std::vector<Atom>{beam.name()});
}

// Senders in the middle of a loop, to an erl that stops reading: a 1 MiB busy limit,
// 4,000 messages of 16 KB (64 MB: far more than socket buffers and the limit hold).
constexpr std::size_t kLoopBusy = std::size_t{1} << 20;
constexpr std::size_t kLoopPadding = std::size_t{16} << 10;
constexpr std::int64_t kLoopMessages = 4000;

// Runs `collect` on `beam` against the sender that `source` starts, stops the erl once
// 100 messages are out, and checks that the sender (counting in `sent`) stalls with no
// more than the busy limit queued, and that all its messages arrive, in order, once the
// erl goes on.
void check_the_loop_stalls_and_goes_on(SpindleNode& spin, ErlangNode& beam, const Pid& source,
                                       const std::atomic<std::int64_t>& sent) {
  Term collected;
  std::thread collector([&] { collected = spin.call(beam.name(), "collect", {source, kLoopMessages, 60'000}, 120s); });
  for (int i = 0; i < 20000 && sent.load() < 100; ++i) std::this_thread::sleep_for(1ms);
  beam.process().signal(SIGSTOP);
  const std::int64_t stalled_at = settled(sent);
  EXPECT_LT(stalled_at, kLoopMessages);
  EXPECT_LE(spin.dist.queued_bytes(beam.name()), kLoopBusy + 2 * kLoopPadding);
  EXPECT_GE(spin.dist.connection_stats().at(0).senders_suspended, 1u);
  beam.process().signal(SIGCONT);
  collector.join();
  EXPECT_EQ(collected, tuple(atom("ok"), kLoopMessages)) << collected.to_string();
}

// The same with every message sent from one loop: a CoProcess awaiting
// wait_while_suspended after each send stops in the middle of the loop, where without it
// the whole loop would be queued.
TEST_F(DistInterop, ALoopOfSendsToANodeThatStopsReadingWaitsInTheMiddle) {
  SpindleNode spin("spin@127.0.0.1", epmd_port,
                   {.max_queued_bytes = std::size_t{32} << 20, .busy_limit_bytes = kLoopBusy});
  ErlangNode beam(beam_name("beam"), erlang_options());
  const auto sent = std::make_shared<std::atomic<std::int64_t>>(0);
  const Pid sender = spin.node.spawn(coprocess([sent](CoProcess& self) -> Task<> {
    const auto go = co_await self.receive();  // {go, Collector, Count}, from `collect`
    const Pid to = go->as_tuple()[1].as_pid();
    const Term pad = binary(std::string(kLoopPadding, 'p'));
    for (std::int64_t i = 1; i <= go->as_tuple()[2].as_int(); ++i) {
      self.send(to, tuple(atom("seq"), i, pad));
      sent->store(i);
      co_await self.wait_while_suspended();
    }
  }));
  check_the_loop_stalls_and_goes_on(spin, beam, sender, *sent);
  EXPECT_EQ(sent->load(), kLoopMessages);
}

// A thread that is not a process waits in Node::send while the connection is busy.
TEST_F(DistInterop, AThreadSendingToANodeThatStopsReadingWaitsInTheSend) {
  SpindleNode spin("spin@127.0.0.1", epmd_port,
                   {.max_queued_bytes = std::size_t{32} << 20, .busy_limit_bytes = kLoopBusy});
  ErlangNode beam(beam_name("beam"), erlang_options());
  Inbox source(spin.node);  // `collect` asks it for the messages
  std::atomic<std::int64_t> sent{0};
  std::thread sender([&] {
    const auto go = source.receive(60s);  // {go, Collector, Count}
    if (!go) return;
    const Pid to = go->as_tuple()[1].as_pid();
    const Term pad = binary(std::string(kLoopPadding, 'p'));
    for (std::int64_t i = 1; i <= go->as_tuple()[2].as_int(); ++i) {
      spin.node.send(to, tuple(atom("seq"), i, pad));
      sent.store(i);
    }
  });
  check_the_loop_stalls_and_goes_on(spin, beam, source.pid(), sent);
  sender.join();
  EXPECT_EQ(sent.load(), kLoopMessages);
}

TEST_F(DistInterop, AWrongCookieIsRefusedBothWays) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  auto options = erlang_options();
  options.cookie = "another-cookie";
  options.ping_at_start = "spin@127.0.0.1";
  ErlangNode beam(beam_name("beam"), options);
  EXPECT_EQ(beam.start_ping(), "pang");
  EXPECT_FALSE(spin.dist.ping(beam.name(), 5s));
  EXPECT_TRUE(spin.dist.connected_nodes().empty());
}

TEST_F(DistInterop, GarbageClosesOnlyThatConnection) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();

  // Garbage instead of a handshake.
  test::RawPeer garbage(spin.dist.listen_port());
  garbage.write(std::vector<std::uint8_t>(300, 0xAB));
  EXPECT_TRUE(garbage.closed_by_node(10s));

  // A proper handshake (the right cookie), then a frame that breaks the protocol.
  test::RawPeer rogue(spin.dist.listen_port());
  rogue.handshake("rogue@127.0.0.1", kCookie, 7, "spin@127.0.0.1");
  rogue.write_frame(std::vector<std::uint8_t>{131, 68, 0, 97, 1});  // a control message that is not a tuple
  EXPECT_TRUE(rogue.closed_by_node(10s));

  // The node and its other connection carry on.
  spin.node.send(erl_worker, tuple(spin.inbox.pid(), atom("ping")));
  EXPECT_EQ(spin.inbox.receive(10s), tuple(erl_worker, atom("pong")));
  EXPECT_TRUE(spin.dist.ping(beam.name()));
}

TEST_F(DistInterop, TwoSpindleNodesAndABeamNodeAllTalk) {
  // This one's I/O thread sleeps as soon as it is idle; the other node busy-waits first
  // (the default): both ways of running the I/O thread carry the same traffic.
  SpindleNode spin("spin@127.0.0.1", epmd_port, {.io_busy_wait = std::chrono::microseconds(0)});
  // TCP between the two Spindle nodes here (local_carrier_test.cpp has the local socket).
  ChildProcess other({SPINDLE_NODE_BINARY, "--name", "other@127.0.0.1", "--cookie", kCookie, "--demo", "--epmd-port",
                      std::to_string(epmd_port), "--local-carrier", "false"});
  test::wait_ready(other, "ready other@127.0.0.1", 30s);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Atom other_name = atom("other@127.0.0.1");
  // spin <-> other (Spindle to Spindle over TCP).
  spin.node.send(RegisteredName{atom("echo"), other_name}, tuple(spin.inbox.pid(), atom("from_spin")));
  EXPECT_EQ(spin.inbox.receive(20s), atom("from_spin"));
  // beam <-> other and beam <-> spin.
  EXPECT_EQ(spin.call(beam.name(), "echo_binary", {tuple(atom("echo"), other_name), 1000}), tuple(atom("ok"), 1000));
  EXPECT_EQ(spin.call(beam.name(), "echo_binary", {tuple(atom("echo"), spin.node.name()), 1000}), tuple(atom("ok"), 1000));
  // other -> beam: other's echo answers a pid on beam.
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  spin.node.send(RegisteredName{atom("echo"), other_name}, tuple(erl_worker, tuple(spin.inbox.pid(), atom("ping"))));
  EXPECT_EQ(spin.inbox.receive(20s), tuple(erl_worker, atom("pong")));
  // And the other Spindle node stops cleanly on SIGTERM.
  other.signal(SIGTERM);
  EXPECT_EQ(other.wait(30s), 0) << other.output();
}

}  // namespace
}  // namespace spindle
