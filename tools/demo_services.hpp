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

#include "spindle/node.hpp"

namespace spindle::demo {

/// Spawns the echo service and registers it as `echo`. Returns its pid.
Pid start_echo(Node& node);

}  // namespace spindle::demo
