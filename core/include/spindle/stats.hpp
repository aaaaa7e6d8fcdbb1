#pragma once
/// @file
/// What a node can tell about itself while it runs (`Node::stats`,
/// `Node::process_stats`). Counters are read without stopping anyone, so each is exact
/// but they are not a snapshot of one instant. Rates come from two readings.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "spindle/scheduler.hpp"
#include "spindle/term.hpp"

namespace spindle {

/// One live process.
struct ProcessStats {
  Pid pid;
  std::optional<Atom> name;          ///< its registered name, if any
  std::uint64_t handled = 0;         ///< messages and signals it took from its mailbox
  std::uint64_t sent = 0;            ///< messages it sent
  std::uint64_t mailbox_high_water = 0;  ///< most messages it ever found waiting at once
};

/// The node as a whole, since it started.
/// A process that exits leaves the figures of the living for those of the gone as the
/// last step of its exit, just after its links and monitors are told: a DOWN message
/// can arrive a moment before the exit shows here.
struct NodeStats {
  std::chrono::nanoseconds uptime{0};
  std::size_t processes = 0;          ///< alive now
  std::uint64_t spawned = 0;          ///< processes started
  std::uint64_t messages_sent = 0;    ///< by its processes, and from outside through Node::send
  std::uint64_t messages_handled = 0;  ///< taken from mailboxes, by processes alive or gone
  std::uint64_t mailbox_high_water = 0;  ///< the deepest mailbox seen, of processes alive or gone
  std::vector<WorkerStats> workers;   ///< the scheduler's, per worker thread
  /// Process runs on the distribution's I/O thread (DistributionOptions::io_runs_processes).
  std::uint64_t io_runs = 0;
};

}  // namespace spindle
