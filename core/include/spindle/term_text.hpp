#pragma once
/// @file
/// Terms as Erlang text: printing in `~p` style (on one line) and parsing term syntax.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "spindle/term.hpp"

namespace spindle {

struct PrintOptions {
  /// Pids, references and ports of this node print as `<0.ID.SERIAL>`; those of other
  /// nodes print the node name in place of the 0, as in ``<'b@host'.ID.SERIAL>``.
  Atom local_node = atoms::nonode_at_nohost;
  /// Print lists of printable Latin-1 characters as strings, as `~p` does.
  bool strings = true;
};

/// Appends `term` in Erlang syntax to `out`.
void print(std::string& out, const Term& term, const PrintOptions& options = {});
/// `term` in Erlang syntax.
std::string to_string(const Term& term, const PrintOptions& options = {});
/// An Erlang float in the shortest form that reads back exactly (`float_to_list(F, [short])`).
std::string format_float(double value);

/// Malformed term text: what was expected and where.
class ParseError : public std::runtime_error {
 public:
  ParseError(std::size_t offset, std::size_t line, std::size_t column, const std::string& detail);
  std::size_t offset() const noexcept { return offset_; }
  std::size_t line() const noexcept { return line_; }
  std::size_t column() const noexcept { return column_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  std::size_t offset_;
  std::size_t line_;
  std::size_t column_;
  std::string detail_;
};

struct ParseOptions {
  /// Deepest nesting accepted (nesting costs heap, not stack).
  std::size_t max_depth = 100'000;
};

/// Parses one term in Erlang syntax (``{ok, [1, 2.5, "str", <<"bin">>, #{a => b}]}``),
/// optionally followed by a full stop. Also accepts `fun M:F/A`. Pids, references, ports and
/// closures have no text form.
Term parse_term(std::string_view text, const ParseOptions& options = {});

}  // namespace spindle
