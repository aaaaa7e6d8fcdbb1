// Printing terms in Erlang syntax, `~p` style on one line.
//
// The walk is iterative (a stack of pending terms and punctuation), so printing a
// deeply nested term cannot exhaust the C++ stack.

#include <charconv>
#include <ostream>
#include <vector>

#include "spindle/bigint.hpp"
#include "spindle/term_text.hpp"
#include "utf8.hpp"

namespace spindle {
namespace {

using detail::BoxKind;

// Appends `cp` as it appears inside a quoted atom or a string delimited by `quote`.
void append_char(std::string& out, std::uint32_t cp, char quote) {
  switch (cp) {
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\v': out += "\\v"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    case 27: out += "\\e"; return;
    case 127: out += "\\d"; return;
    case '\\': out += "\\\\"; return;
    default: break;
  }
  if (cp == static_cast<unsigned char>(quote)) {
    out += '\\';
    out += quote;
  } else if (cp < 32) {
    const char octal[] = {'\\', static_cast<char>('0' + (cp >> 6)), static_cast<char>('0' + ((cp >> 3) & 7)),
                          static_cast<char>('0' + (cp & 7))};
    out.append(octal, 4);
  } else {
    detail::utf8_append(out, cp);
  }
}

void append_atom(std::string& out, Atom a) {
  const std::string_view text = a.text();
  if (a.prints_bare()) {
    out += text;
    return;
  }
  out += '\'';
  for (std::size_t pos = 0; pos < text.size();) append_char(out, static_cast<std::uint32_t>(detail::utf8_next(text, pos)), '\'');
  out += '\'';
}

// Characters `~p` accepts in a string: printable Latin-1 and the named escapes.
bool printable_latin1(std::int64_t c) {
  return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) || (c >= '\b' && c <= '\r') || c == 27;
}

bool print_as_string(std::string& out, const ListView& list) {
  if (!list.is_proper()) return false;
  for (const Term& e : list)
    if (!e.is_small() || !printable_latin1(e.as_int())) return false;
  out += '"';
  for (const Term& e : list) append_char(out, static_cast<std::uint32_t>(e.as_int()), '"');
  out += '"';
  return true;
}

void append_integer(std::string& out, const Term& t) {
  if (auto v = t.to_int64()) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, *v).ptr);
  } else {
    out += to_bigint(t).str();
  }
}

void append_binary(std::string& out, const BinaryView& bin) {
  const std::uint8_t* data = bin.data();
  const std::size_t n = bin.size();
  out += "<<";
  if (bin.is_binary() && n != 0) {
    const std::string_view text = bin.as_string_view();
    bool ascii = true;
    bool unicode = true;
    for (std::size_t pos = 0; pos < n && unicode;) {
      const std::int32_t cp = detail::utf8_next(text, pos);
      if (cp < 0 || !(printable_latin1(cp) || cp > 255)) unicode = false;
      if (cp >= 128) ascii = false;
    }
    if (unicode) {
      out += '"';
      for (std::size_t pos = 0; pos < n;) append_char(out, static_cast<std::uint32_t>(detail::utf8_next(text, pos)), '"');
      out += ascii ? "\"" : "\"/utf8";
      out += ">>";
      return;
    }
  }
  char buf[8];
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out += ',';
    if (i + 1 == n && !bin.is_binary()) {
      const unsigned bits = bin.trailing_bits();
      out.append(buf, std::to_chars(buf, buf + sizeof buf, data[i] >> (8 - bits)).ptr);
      out += ':';
      out.append(buf, std::to_chars(buf, buf + sizeof buf, bits).ptr);
    } else {
      out.append(buf, std::to_chars(buf, buf + sizeof buf, data[i]).ptr);
    }
  }
  out += ">>";
}

void append_node_prefix(std::string& out, Atom node, const PrintOptions& options) {
  if (node == options.local_node) {
    out += '0';
  } else {
    append_atom(out, node);
  }
}

template <class... Numbers>
void append_numbers(std::string& out, Numbers... numbers) {
  char buf[24];
  ((out += '.', out.append(buf, std::to_chars(buf, buf + sizeof buf, numbers).ptr)), ...);
}

struct Item {
  const Term* term;       // a term to print, or
  std::string_view text;  // punctuation when `term` is null
};

class Printer {
 public:
  Printer(std::string& out, const PrintOptions& options) : out_(out), options_(options) {}

  void print(const Term& root) {
    one(root);
    while (!pending_.empty()) {
      const Item item = pending_.back();
      pending_.pop_back();
      if (item.term != nullptr) {
        one(*item.term);
      } else {
        out_ += item.text;
      }
    }
  }

 private:
  void text(std::string_view s) { pending_.push_back({nullptr, s}); }
  void term(const Term* t) { pending_.push_back({t, {}}); }

  // Queues `terms` separated by commas (in reverse, as the stack is LIFO).
  void sequence(const Term* const* terms, std::size_t n) {
    for (std::size_t i = n; i-- > 0;) {
      term(terms[i]);
      if (i != 0) text(",");
    }
  }

  void one(const Term& t) {
    switch (t.type()) {
      case TermType::Integer: return append_integer(out_, t);
      case TermType::Float: out_ += format_float(t.as_float()); return;
      case TermType::Atom: return append_atom(out_, t.as_atom());
      case TermType::Nil: out_ += "[]"; return;
      case TermType::Bitstring: return append_binary(out_, t.as_bitstring());
      case TermType::Tuple: {
        const TupleView tuple = t.as_tuple();
        out_ += '{';
        text("}");
        std::vector<const Term*> elements;
        elements.reserve(tuple.size());
        for (const Term& e : tuple) elements.push_back(&e);
        sequence(elements.data(), elements.size());
        return;
      }
      case TermType::List: {
        const ListView list = t.as_list();
        if (options_.strings && print_as_string(out_, list)) return;
        out_ += '[';
        text("]");
        if (!list.is_proper()) {
          term(&list.tail());
          text("|");
        }
        std::vector<const Term*> cells;
        for (const Term& e : list) cells.push_back(&e);
        sequence(cells.data(), cells.size());
        return;
      }
      case TermType::Map: {
        const MapView map = t.as_map();
        out_ += "#{";
        text("}");
        for (std::size_t i = map.size(); i-- > 0;) {
          term(&map.value(i));
          text(" => ");
          term(&map.key(i));
          if (i != 0) text(",");
        }
        return;
      }
      case TermType::Pid: {
        const Pid pid = t.as_pid();
        out_ += '<';
        append_node_prefix(out_, pid.node(), options_);
        append_numbers(out_, pid.id(), pid.serial());
        out_ += '>';
        return;
      }
      case TermType::Reference: {
        const Ref ref = t.as_ref();
        out_ += "#Ref<";
        append_node_prefix(out_, ref.node(), options_);
        for (std::size_t i = ref.words().size(); i-- > 0;) append_numbers(out_, ref.words()[i]);
        out_ += '>';
        return;
      }
      case TermType::Port: {
        const Port port = t.as_port();
        out_ += "#Port<";
        append_node_prefix(out_, port.node(), options_);
        append_numbers(out_, port.id());
        out_ += '>';
        return;
      }
      case TermType::Fun: {
        const FunView fun = t.as_fun();
        if (fun.is_export()) {
          out_ += "fun ";
          append_atom(out_, fun.module());
          out_ += ':';
          append_atom(out_, fun.function());
          out_ += '/';
          out_ += std::to_string(fun.arity());
        } else {
          out_ += "#Fun<";
          append_atom(out_, fun.module());
          append_numbers(out_, fun.closure().index, fun.closure().old_uniq.as_int());
          out_ += '>';
        }
        return;
      }
    }
  }

  std::string& out_;
  const PrintOptions& options_;
  std::vector<Item> pending_;
};

}  // namespace

std::string format_float(double value) {
  // Shortest digits that read back exactly, laid out as Erlang's float_to_list(F, [short]):
  // fixed or scientific, whichever is shorter (fixed on a tie), never fixed from 1e16 up.
  char buf[40];
  const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(result.ptr - buf));
  const std::size_t e = sci.find('e');
  std::string_view mantissa = sci.substr(0, e);
  const int exponent = std::stoi(std::string(sci.substr(e + 1)));
  std::string sign;
  if (mantissa.front() == '-') {
    sign = "-";
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;

  std::string scientific = sign + digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0") + "e" +
                           std::to_string(exponent);
  if (exponent >= 16) return scientific;
  std::string fixed = sign;
  if (exponent >= 0) {
    const auto whole = static_cast<std::size_t>(exponent) + 1;
    fixed += digits.substr(0, whole);
    if (digits.size() < whole) fixed.append(whole - digits.size(), '0');
    fixed += '.';
    fixed += digits.size() > whole ? digits.substr(whole) : "0";
  } else {
    fixed += "0.";
    fixed.append(static_cast<std::size_t>(-exponent - 1), '0');
    fixed += digits;
  }
  return fixed.size() <= scientific.size() ? fixed : scientific;
}

void print(std::string& out, const Term& term, const PrintOptions& options) { Printer(out, options).print(term); }

std::string to_string(const Term& term, const PrintOptions& options) {
  std::string out;
  print(out, term, options);
  return out;
}

std::string Term::to_string() const { return spindle::to_string(*this); }

std::ostream& operator<<(std::ostream& out, const Term& term) { return out << to_string(term); }

}  // namespace spindle
