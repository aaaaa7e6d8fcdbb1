#pragma once
// Spawns from other nodes (SPAWN_REQUEST) and calls into the node's registered C++
// functions (functions.hpp), in the two forms OTP uses: SPAWN_REQUEST of erpc:execute_call/4 and execute_cast/3
// (rpc:call, erpc:call, erpc:cast, rpc:multicall since OTP 23), and the classic `rex`
// server (erl_call and the C and Java interfaces).

#include <functional>

#include "control.hpp"
#include "spindle/node.hpp"

namespace spindle::dist {

/// What a SPAWN_REQUEST started: the new pid or, for SPAWN_REPLY, an error atom.
struct Spawned {
  Term result;
  bool linked = false;
  bool monitored = false;
};

/// Starts what `request` asks for: erpc's calls of registered functions, or a registered
/// process kind (spawn/4 and friends; an unknown one exits at once with undef, as in
/// Erlang). The parent's link and monitor, when its options ask for them, exist before
/// the new process runs; each is also handed to `record` (the connection's ledger, for
/// noconnection).
Spawned start_spawn_request(Node& node, const SpawnRequest& request,
                            const std::function<void(const RemoteSignal&)>& record);

/// Spawns the `rex` server and registers it under that name.
Pid start_rex(Node& node);

}  // namespace spindle::dist
