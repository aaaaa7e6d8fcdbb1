#pragma once
/// @file
/// A node's statistics as Erlang terms, for other nodes to read over rpc. Every node
/// with a Distribution answers
///
///     rpc:call(Node, spindle, stats, [])      %% a map: the node, its workers, its connections
///     rpc:call(Node, spindle, processes, [])  %% [{Pid, Name | undefined, Handled, Sent, HighWater}]
///
/// and `spindle-top` reads them back into the C++ structs with `observed_from_term`.

#include <vector>

#include "spindle/dist/distribution.hpp"
#include "spindle/stats.hpp"
#include "spindle/term.hpp"

namespace spindle::dist {

/// What one reading of a node's statistics holds.
struct ObservedNode {
  NodeStats node;
  std::vector<ConnectionStats> connections;
};

/// `#{uptime_ms, processes, spawned, messages_sent, messages_handled, mailbox_high_water,
///   workers => [#{runs, steals, busy_us}], connections => [#{node, address, tls, up_ms,
///   bytes_in, bytes_out, messages_in, messages_out, queued_bytes}]}`.
Term stats_term(const ObservedNode& observed);
/// Reads `stats_term`'s map back. Throws BadTermAccess for anything else.
ObservedNode observed_from_term(const Term& stats);

/// `[{Pid, Name | undefined, Handled, Sent, HighWater}]`.
Term processes_term(const std::vector<ProcessStats>& processes);
/// Reads `processes_term`'s list back. Throws BadTermAccess for anything else.
std::vector<ProcessStats> processes_from_term(const Term& processes);

}  // namespace spindle::dist
