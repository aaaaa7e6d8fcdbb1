#pragma once
// Readings of a node's statistics turned into text: the compact line spindle-node
// --stats-interval prints, and spindle-top's screen. Rates are the growth between this
// reading and the one before.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "spindle/dist/observer.hpp"

namespace spindle::tools {

class StatsReport {
 public:
  /// One line: uptime, processes, message rates, utilisation per worker, connections.
  std::string line(const dist::ObservedNode& now);
  /// A screen: the node, its workers, its connections and the `top` processes that
  /// handled the most messages since the last reading.
  std::string screen(const std::string& node_name, const dist::ObservedNode& now,
                     const std::vector<ProcessStats>& processes, std::size_t top);

 private:
  /// Seconds since the last reading (from the node's uptime), or the uptime itself.
  double elapsed(const dist::ObservedNode& now) const;
  std::vector<double> utilisation(const dist::ObservedNode& now) const;

  std::optional<dist::ObservedNode> last_;
  std::vector<ProcessStats> last_processes_;
};

/// 1234567 -> "1.2M", 1234 -> "1.2k".
std::string si(double value);
/// Bytes: "512B", "1.2KB", "3.4MB".
std::string bytes(double value);

}  // namespace spindle::tools
