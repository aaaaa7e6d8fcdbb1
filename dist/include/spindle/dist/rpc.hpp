#pragma once
/// @file
/// rpc:call from C++ into another node, Erlang or Spindle, through its `rex` server
/// (OTP's classic rpc protocol as a gen_server call).

#include <chrono>

#include "spindle/inbox.hpp"

namespace spindle::dist::rpc {

/// Calls `module:function(args...)` on `node` and returns what Erlang's rpc:call/5
/// returns: the result, or `{badrpc, Reason}` (`nodedown` when the node cannot be
/// reached, `timeout`, ``{'EXIT', ...}`` when the function failed). `args` is a list.
Term call(Inbox& inbox, Atom node, Atom module, Atom function, Term args,
          std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace spindle::dist::rpc
