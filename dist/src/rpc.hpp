#pragma once
// Calls from other nodes into the node's registered C++ functions (functions.hpp), in
// the two forms OTP uses: SPAWN_REQUEST of erpc:execute_call/4 and execute_cast/3
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

/// Starts what `request` asks for. The parent's link and monitor (when its options ask
/// for them) are handed to `establish` before the new process runs, so its exit
/// always reaches them.
Spawned start_spawn_request(Node& node, const SpawnRequest& request,
                            const std::function<void(RemoteSignal&&)>& establish);

/// Spawns the `rex` server and registers it under that name.
Pid start_rex(Node& node);

}  // namespace spindle::dist
