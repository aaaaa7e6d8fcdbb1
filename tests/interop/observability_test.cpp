// Observing a running node: spindle:stats() and spindle:processes() called from a real
// erl node, spindle-node --stats-interval, and spindle-top watching a node.

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "spindle/dist/observer.hpp"
#include "spindle_fixture.hpp"

namespace spindle {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::DistInterop;
using test::ErlangNode;
using test::kCookie;
using test::SpindleNode;

Term rpc_from_erlang(SpindleNode& spin, Atom beam, Atom target, const char* module, const char* function) {
  return spin.call(beam, "run", {atom("rpc"), atom("call"), list(target, atom(module), atom(function), Term())});
}

TEST_F(DistInterop, ErlangReadsANodesStatistics) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  for (int i = 0; i < 100; ++i) spin.node.send(atom("echo"), tuple(spin.inbox.pid(), i));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(spin.inbox.receive(10s).has_value());

  const Term stats = rpc_from_erlang(spin, beam.name(), spin.node.name(), "spindle", "stats");
  const dist::ObservedNode observed = dist::observed_from_term(stats);
  EXPECT_GE(observed.node.processes, 6u);  // net_kernel, rex, echo, the supervision tree, the inbox
  EXPECT_GE(observed.node.messages_handled, 100u);
  EXPECT_EQ(observed.node.workers.size(), 2u);
  ASSERT_EQ(observed.connections.size(), 1u);
  EXPECT_EQ(observed.connections[0].node, beam.name());
  EXPECT_GT(observed.connections[0].bytes_in, 0u);
  EXPECT_GT(observed.connections[0].messages_out, 0u);
  // The demo's name for it answers the same.
  EXPECT_TRUE(rpc_from_erlang(spin, beam.name(), spin.node.name(), "spindle_demo", "stats").is_map());

  const auto processes =
      dist::processes_from_term(rpc_from_erlang(spin, beam.name(), spin.node.name(), "spindle", "processes"));
  const auto echo = std::find_if(processes.begin(), processes.end(),
                                 [](const ProcessStats& p) { return p.name == atom("echo"); });
  ASSERT_NE(echo, processes.end());
  EXPECT_GE(echo->handled, 100u);
  EXPECT_GE(echo->sent, 100u);
}

// A process that a message from Erlang wakes runs on the I/O thread that read it
// (io_runs_processes, on by default), and only there: io_runs counts those runs.
TEST_F(DistInterop, TheIoThreadRunsWhatItsReadsWakeUnlessToldNotTo) {
  SpindleNode on("spin@127.0.0.1", epmd_port);  // the default
  SpindleNode off("spin2@127.0.0.1", epmd_port, {.io_runs_processes = false});
  ErlangNode beam(beam_name("beam"), erlang_options());
  for (SpindleNode* spin : {&on, &off}) {
    for (int i = 0; i < 20; ++i) {
      const Term echoed = spin->call(beam.name(), "echo_binary", {tuple(atom("echo"), spin->node.name()), 100});
      ASSERT_EQ(echoed, tuple(atom("ok"), 100)) << echoed.to_string();
    }
  }
  EXPECT_GE(on.node.stats().io_runs, 20u);
  EXPECT_EQ(off.node.stats().io_runs, 0u);
}

TEST_F(DistInterop, SpindleNodePrintsStatisticsEveryInterval) {
  ChildProcess node({SPINDLE_NODE_BINARY, "--name", "other@127.0.0.1", "--cookie", kCookie, "--demo", "--epmd-port",
                     std::to_string(epmd_port), "--stats-interval", "1"});
  test::wait_ready(node, "ready other@127.0.0.1", 30s);
  const auto line = node.wait_for_line([](const std::string& l) { return l.starts_with("stats "); }, 10s);
  ASSERT_TRUE(line.has_value()) << node.output();
  for (const char* field : {"uptime=", "procs=", "handled=", "util=", "io_runs=", "conns=", "queued=", "suspended="})
    EXPECT_NE(line->find(field), std::string::npos) << *line;
  node.signal(SIGTERM);
  EXPECT_EQ(node.wait(30s), 0);
}

TEST_F(DistInterop, SpindleTopShowsTheBusiestProcessesAndConnections) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  spin.node.send(erl_worker, tuple(spin.inbox.pid(), atom("ping")));
  ASSERT_TRUE(spin.inbox.receive(10s).has_value());
  ChildProcess top({SPINDLE_TOP_BINARY, "--node", "spin@127.0.0.1", "--cookie", kCookie, "--epmd-port",
                    std::to_string(epmd_port), "--count", "2", "--interval", "0.5", "--top", "50"});
  ASSERT_EQ(top.wait(30s), 0) << top.output();
  const std::string screen = top.output();
  EXPECT_NE(screen.find("spindle-top  spin@127.0.0.1"), std::string::npos) << screen;
  EXPECT_NE(screen.find(std::string(beam.name().text())), std::string::npos) << screen;  // its connection
  EXPECT_NE(screen.find(" echo "), std::string::npos) << screen;
  EXPECT_NE(screen.find(" rex "), std::string::npos) << screen;  // it answered the rpc calls

  ChildProcess lost({SPINDLE_TOP_BINARY, "--node", "nobody@127.0.0.1", "--cookie", kCookie, "--epmd-port",
                     std::to_string(epmd_port), "--count", "1"});
  EXPECT_EQ(lost.wait(30s), 1);
  EXPECT_NE(lost.output().find("nodedown"), std::string::npos) << lost.output();
}

}  // namespace
}  // namespace spindle
