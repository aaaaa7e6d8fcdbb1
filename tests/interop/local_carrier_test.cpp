// The local carrier: Spindle nodes on one machine connect over a Unix domain socket that
// each advertises in EPMD's Extra field, and fall back to TCP when it cannot be reached;
// after the handshake their frames go through shared-memory rings, unless one of them
// has those off. Erlang nodes, and Spindle nodes told to use TCP only, go on over TCP.

#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>

#include "epmd_client.hpp"
#include "erlang_node.hpp"
#include "local_carrier.hpp"
#include "spindle_fixture.hpp"
#include "spindle/dist/distribution.hpp"
#include "log_capture.hpp"

namespace spindle {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::DistInterop;
using test::ErlangNode;
using test::SpindleNode;

// The address of `node`'s connection to `peer` ("shared memory", "local socket", or "IP:PORT").
std::string address_of_connection(const dist::Distribution& node, Atom peer) {
  for (const dist::ConnectionStats& c : node.connection_stats())
    if (c.node == peer) return c.address;
  return "no connection";
}

// A demo worker on `on`, spawned through its echo from `by`: its pid comes over the
// connection, as any remote pid does (a Pid object handed from one node to the other in
// this process would reach the process directly, without the connection).
Pid remote_worker(SpindleNode& by, SpindleNode& on) {
  by.node.send(RegisteredName{atom("echo"), on.node.name()}, tuple(atom("spawn_worker"), by.inbox.pid()));
  const auto reply = by.next("worker");
  if (!reply) throw std::runtime_error("no worker");
  return reply->as_tuple()[1].as_pid();
}

// `from` sends a message to `to`'s echo and gets it back.
void expect_echo(SpindleNode& from, SpindleNode& to, const Term& message) {
  from.node.send(RegisteredName{atom("echo"), to.node.name()}, tuple(from.inbox.pid(), message));
  EXPECT_EQ(from.inbox.receive(20s), message);
}

TEST(LocalCarrier, TheAdvertisementNamesTheSocketItCameFrom) {
  const dist::local_stream::endpoint where(std::string("\0spindle-test\x01\xff", 16));
  const std::string extra = dist::local_carrier::advertise(where);
  EXPECT_EQ(extra.rfind("spindle-local2:", 0), 0u) << extra;
  const auto back = dist::local_carrier::advertised(extra);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->path(), where.path());
}

TEST(LocalCarrier, AnythingElseInExtraAdvertisesNothing) {
  const std::string too_long = "spindle-local2:" + std::string(2 * 108, 'a');  // over sun_path
  // The first version's advertisement (no ring offers after the handshake) included: the
  // two versions meet over TCP.
  const std::string first_version = "spindle-local:" + std::string("0123456789");
  for (const std::string& extra : std::vector<std::string>{"", "spindle-local2:", "spindle-local2:abc",
                                                           "spindle-local2:zz", "something else", too_long, first_version})
    EXPECT_FALSE(dist::local_carrier::advertised(extra).has_value()) << extra;
}

// Two nodes on the local carrier: messages both ways, large ones included, and signals
// until b's distribution closes. `carrier`: what both say their connection runs over.
void expect_they_talk(SpindleNode& a, SpindleNode& b, const std::string& carrier) {
  expect_echo(a, b, atom("hello"));
  EXPECT_EQ(address_of_connection(a.dist, b.node.name()), carrier);
  EXPECT_EQ(address_of_connection(b.dist, a.node.name()), carrier);
  // Large messages, both ways, each larger than a ring: frames read into binaries of their own.
  expect_echo(a, b, binary(std::string(8 << 20, 'x')));
  expect_echo(b, a, binary(std::string(3 << 20, 'y')));
  // Signals: a monitor across the connection keeps the exit reason, and another gets
  // noconnection when the connection goes.
  const Pid me = a.inbox.pid();
  const Pid watcher = a.worker();
  const Pid target = remote_worker(a, b);
  a.node.send(watcher, tuple(atom("monitor"), target, me));
  // The watcher answers after it has asked for the monitor, and the connection carries
  // that request ahead of anything sent to b after the answer.
  a.node.send(watcher, tuple(me, atom("ping")));
  ASSERT_TRUE(a.inbox.receive(20s).has_value());
  a.node.send(target, tuple(atom("exit"), atom("local_reason")));
  EXPECT_EQ(a.next("down"), tuple(atom("down"), target, atom("local_reason")));
  const Pid second = remote_worker(a, b);
  a.node.send(watcher, tuple(atom("monitor"), second, me));
  a.node.send(watcher, tuple(me, atom("ping")));
  ASSERT_TRUE(a.inbox.receive(20s).has_value());
  b.dist.close();
  EXPECT_EQ(a.next("down"), tuple(atom("down"), second, atoms::noconnection));
}

TEST_F(DistInterop, TwoSpindleNodesOnOneMachineTalkThroughSharedMemory) {
  SpindleNode a("a@127.0.0.1", epmd_port, {.shared_ring_bytes = 1 << 20});
  SpindleNode b("b@127.0.0.1", epmd_port);
  expect_they_talk(a, b, "shared memory");
}

TEST_F(DistInterop, ANodeWithoutRingsTalksOverTheLocalSocket) {
  SpindleNode a("a@127.0.0.1", epmd_port);
  SpindleNode b("b@127.0.0.1", epmd_port, {.shared_ring_bytes = 0});
  expect_they_talk(a, b, "local socket");
}

TEST_F(DistInterop, KillingASpindleNodeAcrossSharedMemoryGivesNoconnection) {
  SpindleNode a("a@127.0.0.1", epmd_port);
  ChildProcess other({SPINDLE_NODE_BINARY, "--name", "other@127.0.0.1", "--cookie", test::kCookie, "--demo",
                      "--epmd-port", std::to_string(epmd_port)});
  test::wait_ready(other, "ready other@127.0.0.1", 30s);
  const Atom other_name = atom("other@127.0.0.1");
  const Pid me = a.inbox.pid();
  a.node.send(RegisteredName{atom("echo"), other_name}, tuple(atom("spawn_worker"), me));
  const auto reply = a.next("worker");
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(address_of_connection(a.dist, other_name), "shared memory");
  const Pid target = reply->as_tuple()[1].as_pid();
  const Pid watcher = a.worker();
  a.node.send(watcher, tuple(atom("monitor"), target, me));
  a.node.send(watcher, tuple(me, atom("ping")));  // answered once it has asked for the monitor
  ASSERT_TRUE(a.inbox.receive(20s).has_value());
  // Its rings stay mapped here; its socket's end tells us it is gone.
  other.signal(SIGKILL);
  EXPECT_EQ(a.next("down"), tuple(atom("down"), target, atoms::noconnection));
}

TEST_F(DistInterop, TheLocalSocketIsFoundThroughDebiansEpmdToo) {
  const auto epmd = test::start_epmd(epmd_port);
  SpindleNode a("a@127.0.0.1", epmd_port, {.embedded_epmd = false});
  SpindleNode b("b@127.0.0.1", epmd_port, {.embedded_epmd = false});
  expect_echo(a, b, atom("hello"));
  EXPECT_EQ(address_of_connection(a.dist, b.node.name()), "shared memory");
}

TEST_F(DistInterop, ErlangNodesAndTcpOnlySpindleNodesUseTcp) {
  SpindleNode advertising("a@127.0.0.1", epmd_port);
  SpindleNode tcp_only("t@127.0.0.1", epmd_port, {.local_carrier = false});
  expect_echo(tcp_only, advertising, atom("hello"));
  EXPECT_EQ(address_of_connection(advertising.dist, tcp_only.node.name()).rfind("127.0.0.1:", 0), 0u);
  // And the other way: the node that advertises finds no advertisement.
  ErlangNode beam(beam_name("beam"), erlang_options());
  EXPECT_TRUE(advertising.dist.ping(beam.name()));
  EXPECT_EQ(address_of_connection(advertising.dist, beam.name()).rfind("127.0.0.1:", 0), 0u);
  // BEAM reads the Extra field and goes on over TCP.
  EXPECT_EQ(advertising.call(beam.name(), "ping", {advertising.node.name()}), atom("pong"));
}

TEST_F(DistInterop, ALocalSocketThatCannotBeReachedFallsBackToTcp) {
  test::LogCapture& log = test::LogCapture::install();
  const std::size_t since = log.count();
  SpindleNode a("a@127.0.0.1", epmd_port);
  // b registers with an EPMD of its own; a's EPMD knows b by its TCP port and an
  // advertisement of a socket nobody listens on.
  const std::uint16_t other_epmd = test::free_port();
  SpindleNode b("b@127.0.0.1", other_epmd);
  dist::epmd::NodeEntry entry;
  entry.name = "b";
  entry.port = b.dist.listen_port();
  entry.node_type = 72;
  entry.extra = dist::local_carrier::advertise(
      dist::local_stream::endpoint(std::string("\0spindle-test-nobody-", 21) + std::to_string(::getpid())));
  dist::asio::io_context io;
  std::unique_ptr<dist::EpmdRegistration> registration;
  dist::asio::co_spawn(
      io, [&]() -> dist::asio::awaitable<void> {
        registration = co_await dist::EpmdRegistration::register_node("127.0.0.1", epmd_port, entry);
      },
      dist::asio::detached);
  io.run();
  ASSERT_TRUE(registration);

  expect_echo(a, b, atom("hello"));
  EXPECT_EQ(address_of_connection(a.dist, b.node.name()).rfind("127.0.0.1:", 0), 0u);
  EXPECT_FALSE(log.lines_containing("connecting to it failed", since).empty());
}

}  // namespace
}  // namespace spindle
