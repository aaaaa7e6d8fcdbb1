// Calls from real Erlang nodes into a Spindle node's registered C++ functions: rpc:call,
// erpc:call and erpc:cast (SPAWN_REQUEST of erpc:execute_call/execute_cast), the
// classic rex protocol, gen_server:call to rex, and OTP's own erl_call program.

#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

#include "erlang_node.hpp"
#include "spindle/coprocess.hpp"
#include "spindle/dist/rpc.hpp"
#include "spindle/functions.hpp"
#include "spindle/gen_server.hpp"
#include "spindle/term_text.hpp"
#include "spindle_fixture.hpp"

namespace spindle {
namespace {

using test::DistInterop;
using test::ErlangNode;
using test::kCookie;
using test::SpindleNode;
using namespace std::chrono_literals;

Term rpc(SpindleNode& spin, const ErlangNode& beam, const char* module, const char* function, std::vector<Term> args,
         const char* how = "rpc") {
  return spin.call(beam.name(), "run",
                   {atom(how), atom("call"), list(spin.node.name(), atom(module), atom(function), list_from(args))});
}

TEST_F(DistInterop, RpcCallsReachRegisteredFunctions) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Term big = parse_term("1180591620717411303424");  // 2^70
  EXPECT_EQ(rpc(spin, beam, "spindle_demo", "add", {big, 1}), parse_term("1180591620717411303425"));
  EXPECT_EQ(rpc(spin, beam, "spindle_demo", "add", {2, 3}, "erpc"), Term(5));
  const Term value = parse_term("{ok, [1, 2.5, \"str\", <<\"bin\">>, #{a => b}], 'Quoted atom'}");
  EXPECT_EQ(rpc(spin, beam, "spindle_demo", "echo", {value}), value);
  // spawn_worker's pid is one of ours, and it answers.
  const Term worker = rpc(spin, beam, "spindle_demo", "spawn_worker", {});
  ASSERT_TRUE(worker.is_pid());
  EXPECT_EQ(worker.as_pid().node(), spin.node.name());
  EXPECT_TRUE(spin.node.alive(worker.as_pid()));
}

// rpc:multicall and erpc:multicall over a Spindle node, the calling BEAM node itself and
// a node that does not exist.
TEST_F(DistInterop, MulticallsIncludeSpindleNodes) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Term nodes = list(spin.node.name(), beam.name(), atom("nobody@127.0.0.1"));
  // erlang:node/0 is BEAM's; on Spindle, register one that answers the same.
  Node& node = spin.node;
  spin.node.register_function(atom("erlang"), atom("node"), 0, [&node](std::span<const Term>) -> Term { return node.name(); });
  EXPECT_EQ(spin.call(beam.name(), "run", {atom("rpc"), atom("multicall"), list(nodes, atom("erlang"), atom("node"), Term())}),
            tuple(list(spin.node.name(), beam.name()), list(atom("nobody@127.0.0.1"))));
  const Term results =
      spin.call(beam.name(), "run", {atom("erpc"), atom("multicall"), list(nodes, atom("erlang"), atom("node"), Term())});
  ASSERT_TRUE(results.is_list()) << results;
  std::vector<Term> each;
  for (const Term& r : results.as_list()) each.push_back(r);
  ASSERT_EQ(each.size(), 3u);
  EXPECT_EQ(each[0], tuple(atom("ok"), spin.node.name()));
  EXPECT_EQ(each[1], tuple(atom("ok"), beam.name()));
  EXPECT_EQ(each[2], parse_term("{error, {erpc, noconnection}}"));
}

TEST_F(DistInterop, RpcErrorsComeBackInErlangsForms) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  spin.node.register_function(atom("t"), atom("fail"), 1, [](std::span<const Term> args) -> Term {
    if (args[0] == atom("throw")) throw ErlangThrow(atom("thrown"));
    if (args[0] == atom("exit")) throw ProcessExit(atom("gone"));
    throw std::runtime_error("bad input");
  });
  ErlangNode beam(beam_name("beam"), erlang_options());
  EXPECT_EQ(rpc(spin, beam, "spindle_demo", "nope", {1}),
            parse_term("{badrpc, {'EXIT', {undef, [{spindle_demo, nope, [1], []}]}}}"));
  EXPECT_EQ(rpc(spin, beam, "spindle_demo", "add", {atom("a"), 1}),
            parse_term("{badrpc, {'EXIT', {badarith, [{spindle_demo, add, 2, []}]}}}"));
  EXPECT_EQ(rpc(spin, beam, "t", "fail", {atom("throw")}), atom("thrown"));
  EXPECT_EQ(rpc(spin, beam, "t", "fail", {atom("exit")}), parse_term("{badrpc, {'EXIT', gone}}"));
  EXPECT_EQ(rpc(spin, beam, "t", "fail", {atom("other")}),
            parse_term("{badrpc, {'EXIT', {{exception, <<\"std::runtime_error\">>, <<\"bad input\">>},"
                       " [{t, fail, 1, []}]}}}"));
  // erpc raises: error({exception, Reason, Stack}), throw, exit({exception, Reason}).
  EXPECT_EQ(rpc(spin, beam, "spindle_demo", "add", {atom("a"), 1}, "erpc"),
            parse_term("{'EXIT', error, {exception, badarith, [{spindle_demo, add, 2, []}]}}"));
  EXPECT_EQ(rpc(spin, beam, "t", "fail", {atom("throw")}, "erpc"), parse_term("{'EXIT', throw, thrown}"));
  EXPECT_EQ(rpc(spin, beam, "t", "fail", {atom("exit")}, "erpc"), parse_term("{'EXIT', exit, {exception, gone}}"));
  // The node lives on and keeps answering.
  EXPECT_EQ(rpc(spin, beam, "spindle_demo", "echo", {atom("still_here")}), atom("still_here"));
}

TEST_F(DistInterop, RpcCallsTimeOutAndCastsRunWithoutAnAnswer) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  const Pid inbox = spin.inbox.pid();
  Node& node = spin.node;
  spin.node.register_function(atom("t"), atom("notify"), 1, [&node, inbox](std::span<const Term> args) {
    node.send(inbox, tuple(atom("notified"), args[0]));
    return atom("ok");
  });
  spin.node.register_function(atom("t"), atom("slow"), 0, [](std::span<const Term>) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // blocks one worker: a slow function
    return atom("late");
  });
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Term target = spin.node.name();
  EXPECT_EQ(spin.call(beam.name(), "run", {atom("erpc"), atom("call"), list(target, atom("t"), atom("slow"), Term(), 50)}),
            parse_term("{'EXIT', error, {erpc, timeout}}"));
  EXPECT_EQ(spin.call(beam.name(), "run", {atom("rpc"), atom("call"), list(target, atom("t"), atom("slow"), Term(), 50)}),
            parse_term("{badrpc, timeout}"));
  EXPECT_EQ(spin.call(beam.name(), "run", {atom("erpc"), atom("cast"), list(target, atom("t"), atom("notify"), list(1))}),
            atom("ok"));
  const auto cast = spin.next("notified");
  ASSERT_TRUE(cast.has_value());
  EXPECT_EQ(cast->as_tuple()[1], Term(1));
}

TEST_F(DistInterop, RexAnswersTheClassicRpcProtocol) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Term target = spin.node.name();
  EXPECT_EQ(spin.call(beam.name(), "rex_call", {target, atom("spindle_demo"), atom("add"), list(40, 2)}), Term(42));
  EXPECT_EQ(spin.call(beam.name(), "rex_call", {target, atom("spindle_demo"), atom("nope"), Term()}),
            parse_term("{badrpc, {'EXIT', {undef, [{spindle_demo, nope, [], []}]}}}"));
  const Term call = tuple(atom("call"), atom("spindle_demo"), atom("echo"), list(atom("x")), atom("user"));
  EXPECT_EQ(spin.call(beam.name(), "run", {atom("gen_server"), atom("call"), list(tuple(atom("rex"), target), call)}),
            atom("x"));
}

TEST_F(DistInterop, ErlangSpawnsRegisteredProcessKinds) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  EXPECT_EQ(spin.call(beam.name(), "remote_spawns", {spin.node.name()}),
            parse_term("{'spin@127.0.0.1', pong, linked_exit, monitored_exit, {undef, [{spindle_demo, nothing, [1], []}]}}"));
}

TEST_F(DistInterop, ErlangCallsAndCastsASpindleGenServer) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Term kv = tuple(atom("kv"), spin.node.name());
  const auto call = [&](Term request) {
    return spin.call(beam.name(), "run", {atom("gen_server"), atom("call"), list(kv, std::move(request))});
  };
  EXPECT_EQ(call(tuple(atom("put"), atom("a"), 1)), atom("ok"));
  EXPECT_EQ(call(tuple(atom("get"), atom("a"))), tuple(atom("ok"), 1));
  EXPECT_EQ(call(tuple(atom("get"), atom("b"))), atom("not_found"));
  EXPECT_EQ(spin.call(beam.name(), "run",
                      {atom("gen_server"), atom("cast"), list(kv, tuple(atom("put"), atom("b"), binary("two")))}),
            atom("ok"));
  EXPECT_EQ(call(atom("size")), Term(2));
  // A call that crashes the server: the caller exits with its reason, as in Erlang.
  const Term crashed = call(atom("crash"));
  ASSERT_TRUE(crashed.is_tuple(3)) << crashed;
  EXPECT_EQ(crashed.as_tuple()[1], atom("exit"));
  EXPECT_EQ(crashed.as_tuple()[2].as_tuple()[0], atom("boom"));
}

TEST_F(DistInterop, CppCallsErlangThroughRpcAndGenServer) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  EXPECT_EQ(dist::rpc::call(spin.inbox, beam.name(), atom("erlang"), atom("node"), Term()), Term(beam.name()));
  EXPECT_EQ(dist::rpc::call(spin.inbox, beam.name(), atom("lists"), atom("reverse"), list(list(1, 2, 3))),
            list(3, 2, 1));
  const Term undef = dist::rpc::call(spin.inbox, beam.name(), atom("nope"), atom("nope"), Term());
  EXPECT_EQ(undef.as_tuple()[0], atom("badrpc"));
  // Spindle to Spindle through the same client, and a node that is not there.
  EXPECT_EQ(dist::rpc::call(spin.inbox, spin.node.name(), atom("spindle_demo"), atom("add"), list(1, 2)), Term(3));
  EXPECT_EQ(dist::rpc::call(spin.inbox, atom("nobody@127.0.0.1"), atom("erlang"), atom("node"), Term()),
            parse_term("{badrpc, nodedown}"));
  // gen_server::call into an Erlang gen_server: the BEAM node's own rex.
  const Term request = tuple(atom("call"), atom("erlang"), atom("abs"), list(-4), atom("user"));
  EXPECT_EQ(gen_server::call(spin.inbox, RegisteredName{atom("rex"), beam.name()}, request), Term(4));
  try {
    gen_server::call(spin.inbox, RegisteredName{atom("no_such_server"), beam.name()}, atom("x"));
    ADD_FAILURE() << "the call succeeded";
  } catch (const gen_server::CallFailed& e) {
    EXPECT_EQ(e.reason(), atom("noproc"));
  }
}

// A coroutine process waits for an Erlang gen_server's reply without holding a worker:
// the BEAM node's rex by name, a missing server, and a dead Erlang pid.
TEST_F(DistInterop, CoProcessCallsErlangGenServers) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid report = spin.inbox.pid();
  const Atom beam_node = beam.name();
  spin.node.spawn(coprocess([report, beam_node](CoProcess& self) -> Task<> {
    const RegisteredName rex{atom("rex"), beam_node};
    Term reply = co_await self.call(rex, tuple(atom("call"), atom("lists"), atom("sum"), list(list(1, 2, 3)), atom("user")));
    self.send(report, tuple(atom("sum"), reply));
    try {
      co_await self.call(RegisteredName{atom("no_such_server"), beam_node}, atom("x"));
    } catch (const gen_server::CallFailed& e) {
      self.send(report, tuple(atom("missing"), e.reason()));
    }
  }));
  EXPECT_EQ(spin.next("sum"), tuple(atom("sum"), 6));
  EXPECT_EQ(spin.next("missing"), tuple(atom("missing"), atom("noproc")));
}

// spawn_request from Spindle onto a BEAM node (spawn/4 the other way round): the new
// pid, the link and the monitor the options ask for, undef for a missing function,
// and noconnection for a node that is not there.
TEST_F(DistInterop, CoProcessSpawnsOnErlangNodes) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid report = spin.inbox.pid();
  const Atom beam_node = beam.name();
  spin.node.spawn(coprocess([report, beam_node](CoProcess& self) -> Task<> {
    self.trap_exit(true);
    const auto tagged = [](Atom tag) { return [tag](const Term& m) { return m.is_tuple() && m.as_tuple()[0].is_atom(tag); }; };
    const Term timed_out = atom("no_message");
    const Pid sleeper = co_await self.spawn_remote(beam_node, atom("timer"), atom("sleep"), list(atoms::infinity),
                                                   {.link = true, .monitor = true});
    self.send(report, tuple(atom("spawned"), sleeper));
    self.exit(sleeper, atom("stop_now"));
    const auto down = co_await self.receive(tagged(atoms::DOWN), 10s);
    const auto exit = co_await self.receive(tagged(atoms::EXIT), 10s);
    self.send(report, tuple(atom("ended"), down ? down->as_tuple()[4] : timed_out, exit ? exit->as_tuple()[2] : timed_out));

    co_await self.spawn_remote(beam_node, atom("erlang"), atom("exit"), list(atom("bye")), {.monitor = true});
    const auto quit = co_await self.receive(tagged(atoms::DOWN), 10s);
    self.send(report, tuple(atom("quit"), quit ? quit->as_tuple()[4] : timed_out));

    co_await self.spawn_remote(beam_node, atom("no_such_module"), atom("f"), list(), {.monitor = true});
    const auto undef = co_await self.receive(tagged(atoms::DOWN), 10s);
    self.send(report, tuple(atom("undef"), undef ? undef->as_tuple()[4] : timed_out));

    try {
      co_await self.spawn_remote(atom("nobody@127.0.0.1"), atom("erlang"), atom("node"), list());
    } catch (const ErlangError& e) {
      self.send(report, tuple(atom("nonode"), e.reason()));
    }
  }));
  const auto spawned = spin.next("spawned");
  ASSERT_TRUE(spawned.has_value());
  EXPECT_EQ(spawned->as_tuple()[1].as_pid().node(), beam.name());
  EXPECT_EQ(spin.next("ended"), tuple(atom("ended"), atom("stop_now"), atom("stop_now")));
  EXPECT_EQ(spin.next("quit"), tuple(atom("quit"), atom("bye")));
  const auto undef = spin.next("undef");
  ASSERT_TRUE(undef.has_value());
  EXPECT_EQ(undef->as_tuple()[1].as_tuple()[0], Term(atoms::undef)) << *undef;
  EXPECT_EQ(spin.next("nonode"), tuple(atom("nonode"), atoms::noconnection));
}

// Spindle to Spindle: a worker kind spawned on the other node, linked and monitored,
// answers; when the connection drops, the link and the monitor both report noconnection.
TEST_F(DistInterop, SpawnRequestsBetweenSpindleNodes) {
  SpindleNode a("spin_a@127.0.0.1", epmd_port);
  SpindleNode b("spin_b@127.0.0.1", epmd_port);
  const Pid report = a.inbox.pid();
  const Atom b_node = b.node.name();
  a.node.spawn(coprocess([report, b_node](CoProcess& self) -> Task<> {
    self.trap_exit(true);
    const Pid worker = co_await self.spawn_remote(b_node, atom("spindle_demo"), atom("worker"), list(),
                                                  {.link = true, .monitor = true});
    self.send(worker, tuple(self.pid(), atom("ping")));
    const auto pong = co_await self.receive([&worker](const Term& m) { return m.is_tuple(2) && m.as_tuple()[0] == Term(worker); }, 10s);
    self.send(report, tuple(atom("pong"), pong ? pong->as_tuple()[1] : Term(atom("none"))));
    const auto down = co_await self.receive([](const Term& m) { return m.is_tuple(5) && m.as_tuple()[0].is_atom(atoms::DOWN); }, 20s);
    const auto exit = co_await self.receive([](const Term& m) { return m.is_tuple(3) && m.as_tuple()[0].is_atom(atoms::EXIT); }, 20s);
    self.send(report, tuple(atom("lost"), down ? down->as_tuple()[4] : Term(atom("none")),
                            exit ? exit->as_tuple()[2] : Term(atom("none"))));
  }));
  EXPECT_EQ(a.next("pong"), tuple(atom("pong"), atom("pong")));
  EXPECT_TRUE(a.dist.disconnect(b_node));
  EXPECT_EQ(a.next("lost"), tuple(atom("lost"), atoms::noconnection, atoms::noconnection));
}

// OTP's erl_call (from erl_interface: a C node that speaks pass-through frames without
// the atom cache) calls a demo function through rex.
TEST_F(DistInterop, ErlCallReachesDemoFunctions) {
  std::string erl_call;
  for (const auto& lib : std::filesystem::directory_iterator("/usr/lib/erlang/lib"))
    if (lib.path().filename().string().starts_with("erl_interface") && std::filesystem::exists(lib.path() / "bin/erl_call"))
      erl_call = (lib.path() / "bin/erl_call").string();
  if (erl_call.empty()) GTEST_SKIP() << "erl_call is not installed";
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  test::ChildProcess call({erl_call, "-n", "spin@127.0.0.1", "-c", kCookie, "-a", "spindle_demo add [1,2]"},
                          {"ERL_EPMD_PORT=" + std::to_string(epmd_port)});
  EXPECT_EQ(call.wait(std::chrono::seconds(30)), 0) << call.output();
  EXPECT_EQ(call.output(), "3\n");
}

// Erlang's supervisor module drives a Spindle supervision tree: which_children,
// a crashed GenServer restarted under its registered name, start_child,
// count_children and terminate_child on a simple_one_for_one supervisor.
TEST_F(DistInterop, ErlangSupervisorCallsDriveASpindleTree) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Term outcome = spin.call(beam.name(), "supervision", {spin.node.name()});
  ASSERT_TRUE(outcome.is_tuple(8)) << outcome;
  const auto o = outcome.as_tuple();
  EXPECT_EQ(o[0], Term(spin.node.name()));
  EXPECT_EQ(o[1], Term(atom("boom")));  // the call failed with the server's reason
  EXPECT_EQ(o[2], Term(spin.node.name()));
  EXPECT_EQ(o[3], Term(atoms::true_));  // a new kv...
  EXPECT_EQ(o[4], Term(0));             // ...with a fresh state
  EXPECT_EQ(o[5], Term(atom("pong")));
  EXPECT_EQ(o[6], parse_term("[{specs, 1}, {active, 1}, {supervisors, 0}, {workers, 1}]"));
  EXPECT_EQ(o[7], Term());  // terminated and forgotten
}

}  // namespace
}  // namespace spindle
