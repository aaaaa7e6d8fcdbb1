#pragma once
// Real Erlang nodes for the distribution interop tests: an `erl` running
// interop_agent.erl on 127.0.0.1, stopped by pid when the object goes away, and the
// helpers to drive it from a Spindle node.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.hpp"
#include "free_port.hpp"
#include "spindle/inbox.hpp"

namespace spindle::test {

struct ErlangNodeOptions {
  std::string cookie;
  /// The EPMD port the node registers with (it never starts an EPMD of its own).
  std::uint16_t epmd_port = 0;
  /// A node to net_adm:ping as the very first thing; the result is printed as
  /// "ping pong" or "ping pang" (see ErlangNode::start_ping).
  std::string ping_at_start;
  /// Erlang's net_ticktime, in seconds.
  int net_ticktime = 60;
  /// More `erl` arguments (e.g. -proto_dist inet_tls -ssl_dist_optfile FILE).
  std::vector<std::string> extra_args;
};

class ErlangNode {
 public:
  /// Starts `erl -name NAME` with the agent and waits until it is ready (throws with the
  /// node's output if it does not get there).
  ErlangNode(std::string name, ErlangNodeOptions options);

  Atom name() const { return atom(name_); }
  ChildProcess& process() { return process_; }
  /// "pong" or "pang": the result of the ping at start.
  std::string start_ping();

 private:
  std::string name_;
  ChildProcess process_;
};

/// Starts an OS process and waits for a line starting with `ready_prefix`.
void wait_ready(ChildProcess& process, std::string_view ready_prefix, std::chrono::milliseconds timeout);

/// Calls interop_agent:Function(Args...) on `erlang_node` from `via` (the answer comes
/// to `inbox`, one of `via`'s) and returns the result ({'EXIT', Class, Reason} if it
/// raised). Throws when no answer comes in time.
Term agent_call(Node& via, Inbox& inbox, Atom erlang_node, std::string_view function, std::vector<Term> args,
                std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace spindle::test
