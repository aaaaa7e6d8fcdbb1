// TLS distribution against OTP's inet_tls_dist: real `erl -proto_dist inet_tls` nodes
// with an ssl_dist_optfile, certificates made for the test (tls_certificates.hpp), and
// verification on both ways, as it is by default.

#include <gtest/gtest.h>

#include <csignal>

#include "log_capture.hpp"
#include "spindle_fixture.hpp"
#include "tls_certificates.hpp"

namespace spindle {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;
using test::ErlangNode;
using test::kCookie;
using test::SpindleNode;
using test::TlsCertificates;

class TlsInterop : public test::DistInterop {
 protected:
  test::LogCapture& log = test::LogCapture::install();
  TlsCertificates certificates;

  dist::DistributionOptions tls_node(const TlsCertificates::Identity& who) const {
    return {.tls = TlsCertificates::options(who)};
  }
  test::ErlangNodeOptions tls_erlang(const TlsCertificates::Identity& who, const std::string& ping = {}) const {
    auto options = erlang_options();
    options.ping_at_start = ping;
    options.extra_args = {"-proto_dist", "inet_tls", "-ssl_dist_optfile",
                          certificates.erlang_optfile(who, "erl").string()};
    return options;
  }
  bool logged(const std::string& text) const {
    for (int i = 0; i < 500; ++i, std::this_thread::sleep_for(10ms))
      if (!log.lines_containing(text).empty()) return true;
    return false;
  }
};

TEST_F(TlsInterop, ErlangAndSpindleTalkOverTlsBothWays) {
  SpindleNode spin("spin@127.0.0.1", epmd_port, tls_node(certificates.trusted()));
  ErlangNode beam(beam_name("beam"), tls_erlang(certificates.trusted(), "spin@127.0.0.1"));
  EXPECT_EQ(beam.start_ping(), "pong");  // erl connected to us, over TLS
  ASSERT_TRUE(spin.dist.disconnect(beam.name()));
  EXPECT_TRUE(spin.dist.ping(beam.name()));  // and we to it
  // Messages, links and a binary large enough for many TLS records, both ways.
  const Pid erl_worker = spin.call(beam.name(), "spawn_worker", {}).as_pid();
  spin.node.send(erl_worker, tuple(spin.inbox.pid(), atom("ping")));
  EXPECT_EQ(spin.inbox.receive(10s), tuple(erl_worker, atom("pong")));
  EXPECT_EQ(spin.call(beam.name(), "echo_binary", {tuple(atom("echo"), spin.node.name()), 4 << 20}),
            tuple(atom("ok"), 4 << 20));
  EXPECT_EQ(spin.call(beam.name(), "run", {atom("rpc"), atom("call"),
                                           list(spin.node.name(), atom("spindle_demo"), atom("add"), list(40, 2))}),
            Term(42));
  const Pid linker = spin.worker();
  spin.node.send(linker, tuple(atom("trap_link"), erl_worker, spin.inbox.pid()));
  spin.node.send(linker, tuple(spin.inbox.pid(), atom("ping")));  // its link has gone out once it answers
  EXPECT_EQ(spin.inbox.receive(10s), tuple(linker, atom("pong")));
  spin.node.send(erl_worker, tuple(atom("exit"), atom("over_tls")));
  EXPECT_EQ(spin.next("exit_signal"), tuple(atom("exit_signal"), erl_worker, atom("over_tls")));
  EXPECT_TRUE(logged("(TLS, EPMD port"));
}

TEST_F(TlsInterop, CertificatesFromAnUntrustedAuthorityAreRefusedBothWays) {
  SpindleNode spin("spin@127.0.0.1", epmd_port, tls_node(certificates.trusted()));
  ErlangNode beam(beam_name("beam"), tls_erlang(certificates.untrusted(), "spin@127.0.0.1"));
  EXPECT_EQ(beam.start_ping(), "pang");
  EXPECT_TRUE(logged("TLS handshake failed"));
  EXPECT_FALSE(spin.dist.ping(beam.name(), 5s));
  EXPECT_TRUE(spin.dist.connected_nodes().empty());
}

TEST_F(TlsInterop, PlainAndTlsNodesDoNotMix) {
  SpindleNode spin("spin@127.0.0.1", epmd_port, tls_node(certificates.trusted()));
  auto plain = erlang_options();
  plain.ping_at_start = "spin@127.0.0.1";
  ErlangNode beam(beam_name("beam"), plain);
  EXPECT_EQ(beam.start_ping(), "pang");
  EXPECT_FALSE(spin.dist.ping(beam.name(), 5s));
  // The TLS node goes on serving TLS peers.
  ErlangNode tls_beam(beam_name("tlsbeam"), tls_erlang(certificates.trusted(), "spin@127.0.0.1"));
  EXPECT_EQ(tls_beam.start_ping(), "pong");
}

TEST_F(TlsInterop, SpindleNodesTalkOverTls) {
  SpindleNode spin("spin@127.0.0.1", epmd_port, tls_node(certificates.trusted()));
  const auto& id = certificates.trusted();
  ChildProcess other({SPINDLE_NODE_BINARY, "--name", "other@127.0.0.1", "--cookie", kCookie, "--demo", "--epmd-port",
                      std::to_string(epmd_port), "--tls-certfile", id.certfile.string(), "--tls-keyfile",
                      id.keyfile.string(), "--tls-cacertfile", id.cacertfile.string()});
  test::wait_ready(other, "ready other@127.0.0.1", 30s);
  spin.node.send(RegisteredName{atom("echo"), atom("other@127.0.0.1")}, tuple(spin.inbox.pid(), atom("over_tls")));
  EXPECT_EQ(spin.inbox.receive(20s), atom("over_tls"));
  // TLS over TCP: nodes with TLS neither advertise nor use the local carrier.
  const auto connections = spin.dist.connection_stats();
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_TRUE(connections[0].tls);
  EXPECT_EQ(connections[0].address.rfind("127.0.0.1:", 0), 0u) << connections[0].address;
  other.signal(SIGTERM);
  EXPECT_EQ(other.wait(30s), 0) << other.output();
}

TEST_F(TlsInterop, BadTlsFilesAreClearErrors) {
  auto options = TlsCertificates::options(certificates.trusted());
  options.keyfile = certificates.untrusted().keyfile.string();
  try {
    SpindleNode spin("spin@127.0.0.1", epmd_port, {.tls = options});
    FAIL() << "a key that does not match the certificate was taken";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("key values mismatch"), std::string::npos) << e.what();
  }
  options = TlsCertificates::options(certificates.trusted());
  options.cacertfile = "/nonexistent/ca.pem";
  EXPECT_THROW(SpindleNode("spin@127.0.0.1", epmd_port, {.tls = options}), std::runtime_error);
}

}  // namespace
}  // namespace spindle
