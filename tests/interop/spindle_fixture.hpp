#pragma once
// What the distribution interop tests share: a Spindle node in the test process with
// the demo services, and a fixture with a private EPMD port.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include "demo_services.hpp"
#include "erlang_node.hpp"
#include "spindle/dist/distribution.hpp"
#include "spindle/inbox.hpp"

namespace spindle::test {

using namespace std::chrono_literals;

inline const std::string kCookie = "interop-cookie";

// A Spindle node with distribution, the demo services and an inbox.
struct SpindleNode {
  SpindleNode(const std::string& name, std::uint16_t epmd_port, dist::DistributionOptions options = {})
      : node({.name = name, .scheduler = {.threads = 2}}),
        dist(node, [&] {
          if (options.cookie.empty()) options.cookie = kCookie;
          options.epmd_port = epmd_port;
          return options;
        }()),
        inbox(node) {
    demo::start_echo(node);
    demo::register_functions(node);
    demo::start_supervision_tree(node);
    // The tree starts its children in its own process: wait for the last one, so every
    // node of a test has the same processes (and pid numbers) when the test begins.
    for (int i = 0; i < 1000 && !node.whereis(atom("spindle_workers")); ++i) std::this_thread::sleep_for(1ms);
  }
  Term call(Atom erlang_node, std::string_view function, std::vector<Term> args,
            std::chrono::milliseconds timeout = 60s) {
    return agent_call(node, inbox, erlang_node, function, std::move(args), timeout);
  }
  // A demo worker on this node (spawned through echo, as a remote user would).
  Pid worker() {
    node.send(atom("echo"), tuple(atom("spawn_worker"), inbox.pid()));
    const auto m = inbox.receive([](const Term& t) { return t.is_tuple(2) && t.as_tuple()[0].is_atom(atom("worker")); });
    if (!m) throw std::runtime_error("no worker");
    return m->as_tuple()[1].as_pid();
  }
  std::optional<Term> next(const char* tag, std::chrono::milliseconds timeout = 20s) {
    return inbox.receive([tag](const Term& t) { return t.is_tuple() && t.as_tuple()[0].is_atom(atom(tag)); }, timeout);
  }
  Node node;
  dist::Distribution dist;
  Inbox inbox;
};

// Debian's `epmd` on `port`, answering before this returns; stopped by pid at scope exit.
inline std::unique_ptr<ChildProcess> start_epmd(std::uint16_t port) {
  auto epmd = std::make_unique<ChildProcess>(std::vector<std::string>{"epmd", "-port", std::to_string(port)});
  // epmd prints nothing when it starts: wait until it answers.
  for (int i = 0; i < 200; ++i) {
    std::string out;
    if (run_command({"epmd", "-port", std::to_string(port), "-names"}, 5s, &out) == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  return epmd;
}

class DistInterop : public ::testing::Test {
 protected:
  const std::uint16_t epmd_port = test::free_port();
  std::string beam_name(const char* base) const { return std::string(base) + std::to_string(epmd_port) + "@127.0.0.1"; }
  test::ErlangNodeOptions erlang_options() const { return {.cookie = kCookie, .epmd_port = epmd_port}; }
};

}  // namespace spindle::test
