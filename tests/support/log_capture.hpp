#pragma once
// What a node logged, for tests that assert on it: installs the "spindle" spdlog logger
// (whose sinks Spindle's module loggers take when the application registered one) with a
// sink that keeps every line, besides the usual one to stderr.

#include <string>
#include <string_view>
#include <vector>

namespace spindle::test {

class LogCapture {
 public:
  /// Registers the logger, or adds to the one a node made before; call while no node
  /// runs. Idempotent.
  static LogCapture& install();

  /// Every line logged so far.
  std::vector<std::string> lines() const;
  /// How many lines were logged so far (a mark for `lines_containing`).
  std::size_t count() const;
  /// The lines after the first `since` that contain `text`.
  std::vector<std::string> lines_containing(std::string_view text, std::size_t since = 0) const;
};

}  // namespace spindle::test
