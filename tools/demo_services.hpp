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
//   spindle_sup (registered Supervisor, one_for_one, up to 5 restarts in 10 s) of:
//     kv (registered GenServer)  call {put, K, V} -> ok; call {get, K} -> {ok, V} | not_found;
//                       call size -> count; call crash -> stops with boom (and is restarted,
//                       empty); cast {put, K, V}
//     spindle_workers (registered Supervisor, simple_one_for_one of temporary workers):
//                       supervisor:start_child({spindle_workers, Node}, []) -> {ok, Worker}
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
/// Spawns the spindle_sup supervision tree (kv and spindle_workers). Returns its pid.
Pid start_supervision_tree(Node& node);
/// Registers the spindle_demo functions and the worker process kind.
void register_functions(Node& node);

}  // namespace spindle::demo
