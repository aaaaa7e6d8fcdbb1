#pragma once
// The services `spindle-node --demo` runs, for trying a node from an `erl` shell and for
// the interop tests:
//
//   echo (registered)   {From, Msg} -> From ! Msg;  {spawn_worker, From} -> From ! {worker, Pid}
//   a worker            {From, ping} -> From ! {self(), pong}
//                       {exit, Reason} -> exits with Reason
//                       {monitor, Pid, ReportTo} -> monitors Pid; its DOWN -> ReportTo ! {down, Pid, Reason}
//                       {trap_link, Pid, ReportTo} -> traps exits and links to Pid; its exit
//                         signal -> ReportTo ! {exit_signal, Pid, Reason}
//   kv (registered GenServer)  call {put, K, V} -> ok; call {get, K} -> {ok, V} | not_found;
//                       call size -> count; call crash -> stops with boom; cast {put, K, V}
//   functions for rpc:call / erpc:call / erl_call:
//                       spindle_demo:echo(X) -> X
//                       spindle_demo:add(A, B) -> A + B (integers of any size; else error badarith)
//                       spindle_demo:spawn_worker() -> the pid of a new worker
//   a process kind for spawn(Node, spindle_demo, worker, []) (and spawn_link, spawn_monitor):
//                       a worker

#include "spindle/node.hpp"

namespace spindle::demo {

/// Spawns the echo service and registers it as `echo`. Returns its pid.
Pid start_echo(Node& node);
/// Spawns the kv GenServer and registers it as `kv` (not supervised yet: a crash ends it).
Pid start_kv(Node& node);
/// Registers the spindle_demo functions and the worker process kind.
void register_functions(Node& node);

}  // namespace spindle::demo
