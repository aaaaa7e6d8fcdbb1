// Fault injection: peers that die mid-message, lie about lengths, flood the node with
// frames, fragments or atoms, stall their handshake, guess cookies, or come back as a
// new incarnation. In each case the node drops that peer alone, logs it once with the
// peer's address, tells links and monitors `noconnection`, and every other connection
// (a real `erl` node here) goes on working.
//
// The broken peers are RawPeers (raw_peer.hpp): our own handshake and frame writer on a
// plain socket, so the test sends exactly the bytes it means to.

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <numeric>
#include <set>

#include "log_capture.hpp"
#include "raw_peer.hpp"
#include "spindle/atom.hpp"
#include "spindle/byte_buffer.hpp"
#include "spindle/etf.hpp"
#include "spindle_fixture.hpp"

namespace spindle {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::ErlangNode;
using test::kCookie;
using test::RawPeer;
using test::SpindleNode;

const std::string kRogue = "rogue@127.0.0.1";
constexpr std::uint32_t kRogueCreation = 7;

// Control messages (erl_dist_protocol: LINK, REG_SEND, SEND_SENDER).
constexpr int kLink = 1;
constexpr int kRegSend = 6;
constexpr int kMonitorP = 19;

Pid rogue_pid(std::uint32_t creation = kRogueCreation) { return Pid(atom(kRogue), 1, 0, creation); }

std::vector<std::uint8_t> encoded(const Term& t) {
  ByteBuffer out;
  etf::encode_body(t, out);
  return {out.data(), out.data() + out.size()};
}

// AddressSanitizer keeps freed memory in quarantine (256 MB by default), so resident
// memory grows with every allocation made, kept or not. Under it, LeakSanitizer checks
// instead that nothing is kept; the bounds on resident memory hold in the other builds.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kResidentMemoryTellsWhatIsKept = false;
#elif defined(__has_feature)
constexpr bool kResidentMemoryTellsWhatIsKept = !__has_feature(address_sanitizer);
#else
constexpr bool kResidentMemoryTellsWhatIsKept = true;
#endif

// The test process's resident memory, in bytes.
std::size_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

class FaultInjection : public test::DistInterop {
 protected:
  test::LogCapture& log = test::LogCapture::install();

  // A RawPeer through the handshake as rogue@127.0.0.1.
  std::unique_ptr<RawPeer> rogue(SpindleNode& spin, std::uint32_t creation = kRogueCreation) {
    auto peer = std::make_unique<RawPeer>(spin.dist.listen_port());
    peer->handshake(kRogue, kCookie, creation, std::string(spin.node.name().text()));
    return peer;
  }

  // What a peer at `address` left in the log (after line `since`: the kernel hands out
  // the same port again to a later connection): one line saying its connection closed
  // (or was refused) and why. (The I/O thread logs it just after closing the socket.)
  void expect_logged_once(const std::string& address, const std::string& why, std::size_t since = 0) {
    std::vector<std::string> ends;
    for (const auto deadline = std::chrono::steady_clock::now() + 5s;
         ends.empty() && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
      for (const std::string& line : log.lines_containing(address, since))
        if (line.find("closed") != std::string::npos || line.find("refused") != std::string::npos) ends.push_back(line);
    }
    ASSERT_EQ(ends.size(), 1u) << "log lines for " << address << ":\n" << testing::PrintToString(ends);
    EXPECT_NE(ends[0].find(why), std::string::npos) << ends[0];
  }

  // The node still works: an erl node's worker answers a ping through it.
  void expect_beam_still_answers(SpindleNode& spin, const Pid& erl_worker) {
    spin.node.send(erl_worker, tuple(spin.inbox.pid(), atom("ping")));
    EXPECT_EQ(spin.inbox.receive(10s), tuple(erl_worker, atom("pong")));
  }

  // A rogue peer, linked to and monitored by the node's processes, sends `last_words`
  // and dies. Then links and monitors get noconnection, the log says so once, an erl
  // node's connection still works, and the rogue's name connects again from a clean
  // slate (echo answers it): that connection is returned.
  std::unique_ptr<RawPeer> die_midway(SpindleNode& spin, const std::function<void(RawPeer&)>& last_words);
};

// The node's worker links to (trapping exits) and another monitors the rogue's pid; the
// LINK and MONITOR_P reach the rogue before it dies.
void watch_rogue(SpindleNode& spin, RawPeer& peer) {
  spin.node.send(spin.worker(), tuple(atom("trap_link"), rogue_pid(), spin.inbox.pid()));
  spin.node.send(spin.worker(), tuple(atom("monitor"), rogue_pid(), spin.inbox.pid()));
  std::multiset<std::int64_t> operations;
  for (int i = 0; i < 2; ++i) {
    const auto m = peer.receive(10s);
    ASSERT_TRUE(m.has_value()) << "the link and monitor did not reach the peer";
    operations.insert(m->control.as_tuple()[0].as_int());
  }
  EXPECT_EQ(operations, (std::multiset<std::int64_t>{kLink, kMonitorP}));
}

void expect_noconnection(SpindleNode& spin) {
  EXPECT_EQ(spin.next("exit_signal"), tuple(atom("exit_signal"), rogue_pid(), atoms::noconnection));
  EXPECT_EQ(spin.next("down"), tuple(atom("down"), rogue_pid(), atoms::noconnection));
}

std::unique_ptr<RawPeer> FaultInjection::die_midway(SpindleNode& spin,
                                                    const std::function<void(RawPeer&)>& last_words) {
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  auto peer = rogue(spin);
  const std::string address = peer->address();
  watch_rogue(spin, *peer);
  last_words(*peer);
  peer.reset();
  expect_noconnection(spin);
  expect_logged_once(address, "closed by the peer");
  expect_beam_still_answers(spin, erl_worker);
  auto again = rogue(spin);
  again->send(tuple(kRegSend, rogue_pid(), atom(""), atom("echo")), encoded(tuple(rogue_pid(), atom("hello_again"))));
  const auto reply = again->receive(10s);
  EXPECT_TRUE(reply.has_value() && reply->payload.has_value() && *reply->payload == atom("hello_again"));
  return again;
}

TEST_F(FaultInjection, APeerKilledMidFrameLosesOnlyItsPartialFrame) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  die_midway(spin, [](RawPeer& peer) {
    // A frame announced as 1000 bytes, of which 40 arrive.
    const auto frame = peer.frames(tuple(kRegSend, rogue_pid(), atom(""), atom("echo")),
                                   encoded(binary(std::string(1000, 'x'))));
    ASSERT_EQ(frame.size(), 1u);
    const std::uint8_t length[4] = {0, 0, 3, 232};
    peer.write(length);
    peer.write(std::span(frame[0]).first(40));
  });
}

TEST_F(FaultInjection, APeerKilledMidFragmentedMessageLosesOnlyThatMessage) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  std::vector<std::vector<std::uint8_t>> fragments;
  auto again = die_midway(spin, [&fragments](RawPeer& peer) {
    // Three of the four fragments of a message to echo.
    fragments = peer.frames(tuple(kRegSend, rogue_pid(), atom(""), atom("echo")),
                            encoded(tuple(rogue_pid(), binary(std::string(3000, 'x')))), 1000);
    ASSERT_EQ(fragments.size(), 4u);
    for (std::size_t i = 0; i < 3; ++i) peer.write_frame(fragments[i]);
  });
  // The new connection knows nothing of the old one's fragments: the last fragment of
  // the lost message is a protocol error there.
  again->write_frame(fragments.at(3));
  EXPECT_TRUE(again->closed_by_node(10s));
}

// Each hostile input, on a connection of its own: the node closes that connection with a
// log line naming the peer's address and the problem, and holds no memory for it.
TEST_F(FaultInjection, HostileFramesCloseOnlyTheirOwnConnection) {
  dist::DistributionOptions options;
  options.limits.max_message_bytes = std::size_t{1} << 20;
  options.limits.max_pending_sequences = 4;
  options.limits.max_pending_bytes = std::size_t{512} << 10;
  SpindleNode spin("spin@127.0.0.1", epmd_port, options);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  const std::size_t memory_before = resident_bytes();

  struct Case {
    const char* name;
    std::function<void(RawPeer&)> attack;
    const char* logged;
  };
  const Term to_echo = tuple(kRegSend, rogue_pid(), atom(""), atom("echo"));
  const std::vector<Case> cases = {
      {"a 4 GB length prefix", [](RawPeer& p) { p.write(std::vector<std::uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 131}); },
       "over the limit"},
      {"a frame over max_message_bytes",
       [](RawPeer& p) { p.write_frame(std::vector<std::uint8_t>((std::size_t{1} << 20) + 1, 131)); }, "over the limit"},
      {"garbage after the handshake", [](RawPeer& p) { p.write_frame(std::vector<std::uint8_t>(300, 0xAB)); },
       "starts with 131 or 112"},
      {"a control message that is not a tuple",
       [](RawPeer& p) { p.write_frame(std::vector<std::uint8_t>{131, 68, 0, 97, 1}); }, "control message"},
      {"fragmented messages that never complete",
       [&](RawPeer& p) {
         for (int i = 0; i < 5; ++i) p.write_frame(p.frames(to_echo, encoded(binary(std::string(2000, 'y'))), 1000)[0]);
       },
       "fragmented messages in progress"},
      {"a fragment flood past max_pending_bytes",
       [&](RawPeer& p) {
         const auto fragments = p.frames(to_echo, encoded(binary(std::string(std::size_t{2} << 20, 'z'))), 64 << 10);
         for (std::size_t i = 0; i + 1 < fragments.size(); ++i) p.write_frame(fragments[i]);
       },
       "exceed"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::size_t since = log.count();
    auto peer = rogue(spin);
    const std::string address = peer->address();
    try {
      c.attack(*peer);
    } catch (const std::runtime_error&) {
      // The node may close while we still write: that is what we want.
    }
    EXPECT_TRUE(peer->closed_by_node(10s));
    expect_logged_once(address, c.logged, since);
    expect_beam_still_answers(spin, erl_worker);
  }
  // Nothing held for the dropped peers (a generous bound: the allocator keeps some).
  if (kResidentMemoryTellsWhatIsKept) {
    EXPECT_LT(resident_bytes(), memory_before + (std::size_t{64} << 20));
  }
}

// Every message brings atoms never seen before: the table fills up to its bound, the
// flooding connection is dropped, and the node goes on with the atoms it has.
TEST_F(FaultInjection, AnAtomFloodStopsAtTheAtomTableBound) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  auto peer = rogue(spin);
  const std::string address = peer->address();
  const std::size_t limit = atom_limit();
  set_atom_limit(atom_count() + 1000);
  // Each message: a list of 200 fresh atoms, written by hand (the test's own atom table
  // is the node's, so it cannot hold them either).
  bool closed = false;
  for (int message = 0; message < 20 && !closed; ++message) {
    std::vector<std::uint8_t> payload = {108, 0, 0, 0, 200};  // LIST_EXT of 200
    for (int i = 0; i < 200; ++i) {
      const std::string name = "flood_" + std::to_string(message) + "_" + std::to_string(i);
      payload.insert(payload.end(), {119, static_cast<std::uint8_t>(name.size())});  // SMALL_ATOM_UTF8_EXT
      payload.insert(payload.end(), name.begin(), name.end());
    }
    payload.push_back(106);  // the tail: []
    try {
      peer->send(tuple(kRegSend, rogue_pid(), atom(""), atom("nobody")), payload);
    } catch (const std::runtime_error&) {
      closed = true;
    }
  }
  EXPECT_TRUE(peer->closed_by_node(10s));
  EXPECT_LE(atom_count(), atom_limit());
  set_atom_limit(limit);
  expect_logged_once(address, "atom table full");
  expect_beam_still_answers(spin, erl_worker);
}

// While the I/O thread busy-waits, the connection that read last, having written to its
// peer lately, asks its socket for more itself. A peer that never lets that connection
// run dry (it writes frames faster than the node decodes them, and keeps asking for
// answers) must still leave the thread to the node's other connections: echo round
// trips from another node go on during its flood.
TEST_F(FaultInjection, APeerThatNeverLetsItsConnectionRunDryLeavesTheIoThreadToOthers) {
  // A busy wait longer than the test: the flood's connection, answered now and then,
  // polls its socket throughout (the answers go out whenever the thread gets to them).
  SpindleNode spin("spin@127.0.0.1", epmd_port, {.io_busy_wait = 10s});
  SpindleNode pinger("pinger@127.0.0.1", epmd_port);
  // A process that drops what it gets, so the flood queues up nowhere.
  const Pid sink = spin.node.spawn([](Process&, Term) {});
  ASSERT_TRUE(spin.node.register_name(sink, atom("sink")));
  const auto read_from_rogue = [&] {
    for (const dist::ConnectionStats& c : spin.dist.connection_stats())
      if (c.node == atom(kRogue)) return c.messages_in;
    return std::uint64_t{0};
  };
  // A process that is gone: a link to it is answered by the node itself (noproc).
  const Pid gone = spin.node.spawn([](Process&, Term) {});
  const Ref gone_ref = spin.inbox.monitor(gone);
  spin.node.exit(gone, atoms::kill);
  ASSERT_TRUE(spin.inbox.receive([&](const Term& m) { return m.is_tuple(5) && m.as_tuple()[1] == Term(gone_ref); }, 20s));
  auto peer = rogue(spin);
  // A quarter megabyte of whole frames: messages of a hundred integers to the sink, and
  // every 256th a link to the gone process, which the node answers.
  std::vector<std::int64_t> numbers(100);
  std::iota(numbers.begin(), numbers.end(), 1000);
  std::vector<Term> items(numbers.begin(), numbers.end());
  const auto to_sink = peer->frames(tuple(kRegSend, rogue_pid(), atom(""), atom("sink")), encoded(list_from(items)));
  const auto link = peer->frames(tuple(kLink, rogue_pid(), gone));
  ASSERT_EQ(to_sink.size(), 1u);
  ASSERT_EQ(link.size(), 1u);
  std::vector<std::uint8_t> burst;
  for (std::size_t n = 1; burst.size() < (std::size_t{256} << 10); ++n)
    RawPeer::append_framed(n % 256 == 0 ? link[0] : to_sink[0], burst);
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    while (!stop.load(std::memory_order_relaxed)) peer->write(burst);
  });
  std::thread drain([&] {  // the answers, so that the node's writes to us never back up
    while (!stop.load(std::memory_order_relaxed)) (void)peer->receive(100ms);
  });
  // Ends the flood however the test ends (the node, still reading, lets a write finish).
  const auto end_flood = [&](std::thread*) {
    stop = true;
    flood.join();
    drain.join();
  };
  const std::unique_ptr<std::thread, decltype(end_flood)> ending(&flood, end_flood);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (read_from_rogue() < 20'000 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  const std::uint64_t flood_before = read_from_rogue();
  const RegisteredName echo{atom("echo"), spin.node.name()};
  for (std::int64_t i = 0; i < 20; ++i) {
    pinger.node.send(echo, tuple(pinger.inbox.pid(), tuple(atom("ping"), i)));
    const auto reply = pinger.inbox.receive(5s);
    ASSERT_TRUE(reply.has_value()) << "no answer to ping " << i << " during the flood";
    EXPECT_EQ(*reply, tuple(atom("ping"), i));
  }
  const std::uint64_t flood_after = read_from_rogue();
  EXPECT_GE(flood_before, 20'000u);
  EXPECT_GT(flood_after, flood_before) << "the flood went on during the pings";
}

TEST_F(FaultInjection, StalledHandshakesTimeOutWithoutHoldingUpOthers) {
  SpindleNode spin("spin@127.0.0.1", epmd_port, {.setup_time = 1s});
  ErlangNode beam(beam_name("beam"), erlang_options());
  std::vector<std::unique_ptr<RawPeer>> stalled;
  for (int i = 0; i < 20; ++i) {
    stalled.push_back(std::make_unique<RawPeer>(spin.dist.listen_port()));
    if (i % 2 == 1) stalled.back()->write(std::vector<std::uint8_t>{0, 30, 'N', 0, 0});  // 3 of 30 bytes
  }
  // Meanwhile a real node connects and works.
  EXPECT_TRUE(spin.dist.ping(beam.name()));
  for (auto& peer : stalled) {
    EXPECT_TRUE(peer->closed_by_node(5s));
    expect_logged_once(peer->address(), "longer than 1000 ms");
  }
}

// Wrong cookies, again and again: each attempt is refused and logged once with its
// address, no cookie ever reaches the log, and memory stays where it was.
TEST_F(FaultInjection, WrongCookiesInALoopAreEachRefused) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  const std::string guess = "guessed-cookie";
  const auto attempt = [&] {
    RawPeer peer(spin.dist.listen_port());
    EXPECT_THROW(peer.handshake(kRogue, guess, kRogueCreation, "spin@127.0.0.1"), std::runtime_error);
    EXPECT_TRUE(peer.closed_by_node(10s));
    return peer.address();
  };
  for (int i = 0; i < 20; ++i) attempt();  // the allocator's working set
  const std::size_t memory_before = resident_bytes();
  for (int i = 0; i < 200; ++i) {
    const std::size_t since = log.count();
    const std::string address = attempt();
    expect_logged_once(address, "wrong digest", since);
  }
  if (kResidentMemoryTellsWhatIsKept) {
    EXPECT_LT(resident_bytes(), memory_before + (std::size_t{16} << 20));
  }
  EXPECT_TRUE(log.lines_containing(kCookie).empty());
  EXPECT_TRUE(log.lines_containing(guess).empty());
  expect_beam_still_answers(spin, erl_worker);
  EXPECT_TRUE(spin.dist.connected_nodes().size() == 1u);
}

// A node that restarts under the same name has a new creation: pids of its previous
// life name no process, even where the new life reused their numbers. Messages to them
// are dropped, and monitors and links to them get noproc, from Erlang and from Spindle.
TEST_F(FaultInjection, ARestartedNodeIsANewIncarnation) {
  const auto epmd = test::start_epmd(epmd_port);  // outlives the restarted node
  SpindleNode harness("harness@127.0.0.1", epmd_port);
  auto other = std::make_unique<SpindleNode>("other@127.0.0.1", epmd_port);
  ErlangNode beam(beam_name("beam"), erlang_options());
  const Pid me = harness.inbox.pid();
  const Pid old_worker = other->worker();
  harness.node.send(old_worker, tuple(me, atom("ping")));
  ASSERT_EQ(harness.inbox.receive(10s), tuple(old_worker, atom("pong")));
  EXPECT_EQ(harness.call(beam.name(), "send_to", {old_worker, tuple(me, atom("ping"))}), atom("ok"));
  ASSERT_EQ(harness.inbox.receive(10s), tuple(old_worker, atom("pong")));

  const std::uint32_t old_creation = other->node.creation();
  other.reset();
  // epmd frees the name once it has seen the old registration's socket close.
  for (int attempt = 0; !other; ++attempt) {
    try {
      other = std::make_unique<SpindleNode>("other@127.0.0.1", epmd_port);
    } catch (const std::runtime_error&) {
      if (attempt == 100) throw;
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_NE(other->node.creation(), old_creation);
  // The new life numbers its processes as the old one did.
  const Pid new_worker = other->worker();
  ASSERT_EQ(new_worker.id(), old_worker.id());
  ASSERT_EQ(new_worker.serial(), old_worker.serial());

  // Sent to the old pid, from Spindle and from Erlang: dropped. To the new one: answered.
  harness.node.send(old_worker, tuple(me, atom("ping")));
  EXPECT_EQ(harness.call(beam.name(), "send_to", {old_worker, tuple(me, atom("ping"))}), atom("ok"));
  EXPECT_EQ(harness.call(beam.name(), "send_to", {new_worker, tuple(me, atom("ping"))}), atom("ok"));
  EXPECT_EQ(harness.inbox.receive(10s), tuple(new_worker, atom("pong")));
  EXPECT_FALSE(harness.inbox.receive(1s).has_value());

  // Monitors of the old pid: noproc, from Erlang and from Spindle.
  const Pid erl_worker = harness.call(beam.name(), "spawn_worker", {}).as_pid();
  harness.node.send(erl_worker, tuple(atom("monitor"), old_worker, me));
  EXPECT_EQ(harness.next("down"), tuple(atom("down"), old_worker, atom("noproc")));
  const Ref ref = harness.inbox.monitor(old_worker);
  const auto down = harness.inbox.receive(10s);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(*down, tuple(atoms::DOWN, ref, atom("process"), old_worker, atom("noproc")));
  // A link from a Spindle process that traps exits: {'EXIT', Old, noproc}.
  harness.node.send(harness.worker(), tuple(atom("trap_link"), old_worker, me));
  EXPECT_EQ(harness.next("exit_signal"), tuple(atom("exit_signal"), old_worker, atom("noproc")));
}

// A peer that comes back while its old connection still looks alive: the node answers
// `alive`, the peer confirms, and the old connection goes (noconnection to its links),
// replaced by the new one.
TEST_F(FaultInjection, APeerReconnectingOverALiveConnectionReplacesIt) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);
  auto old_life = rogue(spin);
  watch_rogue(spin, *old_life);
  auto new_life = rogue(spin, kRogueCreation + 1);
  expect_noconnection(spin);
  EXPECT_TRUE(old_life->closed_by_node(10s));
  // The new life is the connection now; the old life's pids are not its pids.
  spin.node.send(rogue_pid(kRogueCreation + 1), atom("to_the_new_life"));
  const auto m = new_life->receive(10s);
  ASSERT_TRUE(m.has_value() && m->payload.has_value());
  EXPECT_EQ(*m->payload, atom("to_the_new_life"));
}

}  // namespace
}  // namespace spindle
