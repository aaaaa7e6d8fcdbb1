#pragma once
/// @file
/// Erlang atoms: interned names compared as integers.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace spindle {

namespace detail {
/// Atoms every node uses, interned at start-up in this order so that their
/// indices are compile-time constants (see `atoms::`).
inline constexpr std::array<std::string_view, 48> kWellKnownAtoms = {
    "",            "ok",         "error",          "true",        "false",
    "undefined",   "normal",     "kill",           "killed",      "noproc",
    "noconnection", "nonode@nohost", "EXIT",       "DOWN",        "process",
    "badarg",      "badrpc",     "undef",          "timeout",     "shutdown",
    "$gen_call",   "$gen_cast",  "call",           "cast",        "alias",
    "infinity",    "port",       "reply",          "exit",        "throw",
    "nocatch",     "badarith",   "function_clause", "case_clause", "badmatch",
    "system_limit", "is_auth",   "yes",            "no",          "net_kernel",
    "rex",         "erpc",       "execute_call",   "spawn_request", "monitor",
    "link",        "erlang",     "apply",
};

consteval std::uint32_t well_known_atom_index(std::string_view name) {
  for (std::uint32_t i = 0; i < kWellKnownAtoms.size(); ++i)
    if (kWellKnownAtoms[i] == name) return i;
  throw "not in kWellKnownAtoms";  // a compile-time error: consteval cannot throw
}
}  // namespace detail

/// Why an atom could not be made.
class AtomError : public std::runtime_error {
 public:
  enum class Kind { TableFull, TooLong, InvalidUtf8 };
  AtomError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

/// An Erlang atom. Atoms are interned in one process-wide table, so equality is an
/// integer compare and an `Atom` is 4 bytes with no ownership. Ordering follows
/// Erlang: by text (UTF-8 byte order equals code point order).
class Atom {
 public:
  /// The empty atom `''`.
  constexpr Atom() noexcept = default;

  /// Interns `utf8` (at most 255 code points). Throws `AtomError` on invalid UTF-8,
  /// on a name that is too long, or when the table is at its limit.
  explicit Atom(std::string_view utf8);

  /// Interns a Latin-1 name (the deprecated `ATOM_EXT` encoding).
  static Atom from_latin1(std::string_view latin1);

  /// The atom if it already exists (Erlang's `list_to_existing_atom`); never interns.
  static std::optional<Atom> existing(std::string_view utf8) noexcept;

  /// Rebuilds an atom from `index()`. The index must come from an existing atom.
  static constexpr Atom from_index(std::uint32_t index) noexcept { return Atom(index, 0); }

  constexpr std::uint32_t index() const noexcept { return index_; }

  /// The name in UTF-8. Valid for the life of the process.
  std::string_view text() const noexcept;

  /// True when every code point is at most 255 (encodable as Latin-1).
  bool is_latin1() const noexcept;

  /// True when Erlang prints the atom without quotes.
  bool prints_bare() const noexcept;

  constexpr bool operator==(const Atom&) const noexcept = default;
  std::strong_ordering operator<=>(const Atom& other) const noexcept;

 private:
  constexpr Atom(std::uint32_t index, int) noexcept : index_(index) {}
  std::uint32_t index_ = 0;
};

/// Interns `utf8`; shorthand for `Atom(utf8)`.
inline Atom atom(std::string_view utf8) { return Atom(utf8); }

/// The number of atoms interned so far.
std::size_t atom_count() noexcept;
/// The most atoms the table will hold (default 1,048,576, as in Erlang).
std::size_t atom_limit() noexcept;
/// Sets the limit. Must be at least `atom_count()` and at most `max_atom_limit()`.
void set_atom_limit(std::size_t limit);
/// The largest limit this build supports.
std::size_t max_atom_limit() noexcept;

namespace detail {
/// The well-known atom named `text`, resolved at compile time.
consteval Atom well_known_atom(std::string_view text) {
  return Atom::from_index(well_known_atom_index(text));
}
}  // namespace detail

/// Atoms the runtime itself uses, available without a table lookup.
namespace atoms {
inline constexpr Atom empty = detail::well_known_atom("");
inline constexpr Atom ok = detail::well_known_atom("ok");
inline constexpr Atom error = detail::well_known_atom("error");
inline constexpr Atom true_ = detail::well_known_atom("true");
inline constexpr Atom false_ = detail::well_known_atom("false");
inline constexpr Atom undefined = detail::well_known_atom("undefined");
inline constexpr Atom normal = detail::well_known_atom("normal");
inline constexpr Atom kill = detail::well_known_atom("kill");
inline constexpr Atom killed = detail::well_known_atom("killed");
inline constexpr Atom noproc = detail::well_known_atom("noproc");
inline constexpr Atom noconnection = detail::well_known_atom("noconnection");
inline constexpr Atom nonode_at_nohost = detail::well_known_atom("nonode@nohost");
inline constexpr Atom EXIT = detail::well_known_atom("EXIT");
inline constexpr Atom DOWN = detail::well_known_atom("DOWN");
inline constexpr Atom process = detail::well_known_atom("process");
inline constexpr Atom badarg = detail::well_known_atom("badarg");
inline constexpr Atom badrpc = detail::well_known_atom("badrpc");
inline constexpr Atom undef = detail::well_known_atom("undef");
inline constexpr Atom timeout = detail::well_known_atom("timeout");
inline constexpr Atom shutdown = detail::well_known_atom("shutdown");
inline constexpr Atom gen_call = detail::well_known_atom("$gen_call");
inline constexpr Atom gen_cast = detail::well_known_atom("$gen_cast");
inline constexpr Atom call = detail::well_known_atom("call");
inline constexpr Atom cast = detail::well_known_atom("cast");
inline constexpr Atom alias = detail::well_known_atom("alias");
inline constexpr Atom infinity = detail::well_known_atom("infinity");
inline constexpr Atom port = detail::well_known_atom("port");
inline constexpr Atom reply = detail::well_known_atom("reply");
inline constexpr Atom exit = detail::well_known_atom("exit");
inline constexpr Atom throw_ = detail::well_known_atom("throw");
inline constexpr Atom nocatch = detail::well_known_atom("nocatch");
inline constexpr Atom badarith = detail::well_known_atom("badarith");
inline constexpr Atom function_clause = detail::well_known_atom("function_clause");
inline constexpr Atom case_clause = detail::well_known_atom("case_clause");
inline constexpr Atom badmatch = detail::well_known_atom("badmatch");
inline constexpr Atom system_limit = detail::well_known_atom("system_limit");
inline constexpr Atom is_auth = detail::well_known_atom("is_auth");
inline constexpr Atom yes = detail::well_known_atom("yes");
inline constexpr Atom no = detail::well_known_atom("no");
inline constexpr Atom net_kernel = detail::well_known_atom("net_kernel");
inline constexpr Atom rex = detail::well_known_atom("rex");
inline constexpr Atom erpc = detail::well_known_atom("erpc");
inline constexpr Atom execute_call = detail::well_known_atom("execute_call");
inline constexpr Atom spawn_request = detail::well_known_atom("spawn_request");
inline constexpr Atom monitor = detail::well_known_atom("monitor");
inline constexpr Atom link = detail::well_known_atom("link");
inline constexpr Atom erlang = detail::well_known_atom("erlang");
inline constexpr Atom apply = detail::well_known_atom("apply");
}  // namespace atoms

}  // namespace spindle

// Hashes for the standard containers (left out of the API reference: Doxygen 1.9 cannot
// place a specialization declared outside namespace std).
/// @cond
template <>
struct std::hash<spindle::Atom> {
  std::size_t operator()(spindle::Atom a) const noexcept {
    return std::size_t{a.index()} * 0x9E3779B97F4A7C15ull;
  }
};
/// @endcond
