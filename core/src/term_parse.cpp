// Parsing Erlang term syntax: the subset of Erlang expressions that denote constant
// terms (what `erl_parse:parse_term/1` accepts), plus `fun M:F/A`.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

#include "spindle/bigint.hpp"
#include "spindle/term_text.hpp"
#include "utf8.hpp"

namespace spindle {

ParseError::ParseError(std::size_t offset, std::size_t line, std::size_t column, const std::string& detail)
    : std::runtime_error(detail + " (line " + std::to_string(line) + ", column " + std::to_string(column) +
                         ", byte " + std::to_string(offset) + ")"),
      offset_(offset),
      line_(line),
      column_(column),
      detail_(detail) {}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_name_char(char c) {
  return is_lower(c) || is_upper(c) || is_digit(c) || c == '_' || c == '@' || static_cast<unsigned char>(c) >= 0x80;
}

int digit_value(char c) {
  if (is_digit(c)) return c - '0';
  if (is_lower(c)) return c - 'a' + 10;
  if (is_upper(c)) return c - 'A' + 10;
  return 99;
}

// Appends bits, most significant first, as Erlang's bit syntax lays out segments.
class BitWriter {
 public:
  void put(const BigInt& value, std::size_t bits) {
    for (std::size_t i = bits; i-- > 0;) put_bit(bit_test(value, static_cast<unsigned>(i)));
  }
  void put_byte(std::uint8_t byte) {
    for (int i = 7; i >= 0; --i) put_bit((byte >> i) & 1);
  }
  Term finish() const { return bitstring(bytes_, bits_); }

 private:
  void put_bit(bool bit) {
    if (bits_ % 8 == 0) bytes_.push_back(0);
    if (bit) bytes_.back() |= static_cast<std::uint8_t>(0x80 >> (bits_ % 8));
    ++bits_;
  }
  std::vector<std::uint8_t> bytes_;
  std::size_t bits_ = 0;
};

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : text_(text), options_(options) {}

  Term parse() {
    skip_space();
    Term term = value();
    skip_space();
    if (peek() == '.') {
      ++pos_;
      skip_space();
    }
    if (pos_ != text_.size()) fail("unexpected text after the term: '" + std::string(1, text_[pos_]) + "'");
    return term;
  }

 private:
  [[noreturn]] void fail(const std::string& detail) const { fail_at(pos_, detail); }
  [[noreturn]] void fail_at(std::size_t at, const std::string& detail) const {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < at && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw ParseError(at, line, column, detail);
  }

  char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  bool at_end() const { return pos_ >= text_.size(); }
  bool take(std::string_view token) {
    if (text_.substr(pos_, token.size()) != token) return false;
    pos_ += token.size();
    return true;
  }
  void expect(std::string_view token, std::string_view context) {
    skip_space();
    if (!take(token)) fail("expected '" + std::string(token) + "' " + std::string(context));
  }

  void skip_space() {
    while (!at_end()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '%') {
        while (!at_end() && text_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  // Containers open frames instead of recursing, so nesting costs heap, not stack.
  struct Frame {
    enum Kind : std::uint8_t { Tuple, List, Map } kind;
    std::size_t start;
    std::vector<Term> items;
    std::vector<std::pair<Term, Term>> pairs;
    Term key;              // a map key waiting for its value
    bool has_key = false;
    bool in_tail = false;  // after '|' in a list
  };

  Term value() {
    std::vector<Frame> stack;
    for (;;) {
      skip_space();
      if (at_end()) fail("expected a term, the text ended");
      const std::size_t start = pos_;
      std::optional<Term> done;
      if (peek() == '{' || peek() == '[' || (peek() == '#' && peek(1) == '{')) {
        if (stack.size() >= options_.max_depth) fail("terms nested deeper than " + std::to_string(options_.max_depth));
        const auto kind = peek() == '{' ? Frame::Tuple : (peek() == '[' ? Frame::List : Frame::Map);
        pos_ += kind == Frame::Map ? 2 : 1;
        skip_space();
        const char close = kind == Frame::List ? ']' : '}';
        if (peek() == close) {  // empty container
          ++pos_;
          done = kind == Frame::Tuple ? tuple() : (kind == Frame::List ? Term() : map_from({}));
        } else {
          stack.push_back(Frame{kind, start, {}, {}, Term(), false, false});
          continue;
        }
      } else {
        done = scalar();
      }
      // Hand the finished term to the enclosing containers, closing those it completes.
      Term v = std::move(*done);
      for (;;) {
        if (stack.empty()) return v;
        Frame& f = stack.back();
        skip_space();
        if (f.kind == Frame::Tuple) {
          f.items.push_back(std::move(v));
          if (take(",")) break;
          if (!take("}")) fail("expected ',' or '}' in a tuple");
          v = tuple_from(f.items);
        } else if (f.kind == Frame::List) {
          if (f.in_tail) {
            if (!take("]")) fail("expected ']' after the tail of a list");
            v = list_from(f.items, std::move(v));
          } else {
            f.items.push_back(std::move(v));
            if (take(",")) break;
            if (take("|")) {
              f.in_tail = true;
              break;
            }
            if (!take("]")) fail("expected ',', '|' or ']' in a list");
            v = list_from(f.items);
          }
        } else if (!f.has_key) {
          f.key = std::move(v);
          f.has_key = true;
          if (!take("=>")) fail("expected '=>' between a map key and its value");
          break;
        } else {
          f.pairs.emplace_back(std::move(f.key), std::move(v));
          f.has_key = false;
          if (take(",")) break;
          if (!take("}")) fail("expected ',' or '}' in a map");
          v = map_from(std::move(f.pairs));
        }
        stack.pop_back();
      }
    }
  }

  // Anything but a tuple, list or map.
  Term scalar() {
    const char c = peek();
    if (c == '<' && peek(1) == '<') return binary();
    if (c == '"') return string_literal();
    if (c == '\'') return Term(quoted_atom());
    if (c == '$') {
      ++pos_;
      return Term(character());
    }
    if (is_digit(c) || ((c == '-' || c == '+') && next_is_number())) return number();
    if (is_lower(c) || (static_cast<unsigned char>(c) >= 0xC0)) return bare_atom_or_fun();
    if (is_upper(c) || c == '_') fail("variables are not terms");
    if (c == '<') fail("pids have no text form that can be read back");
    fail(std::string("unexpected character '") + c + "'");
  }

  bool next_is_number() const {
    std::size_t i = pos_ + 1;
    while (i < text_.size() && (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n')) ++i;
    return i < text_.size() && (is_digit(text_[i]) || text_[i] == '$');
  }

  // One escape sequence after the backslash; returns the code point.
  std::uint32_t escape() {
    if (at_end()) fail("unfinished escape sequence");
    const char c = text_[pos_++];
    switch (c) {
      case 'b': return '\b';
      case 'd': return 127;
      case 'e': return 27;
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 's': return ' ';
      case 't': return '\t';
      case 'v': return '\v';
      case '^': {
        if (at_end()) fail("unfinished \\^ escape");
        return static_cast<std::uint32_t>(text_[pos_++]) & 31;
      }
      case 'x': {
        std::uint32_t cp = 0;
        if (take("{")) {
          std::size_t n = 0;
          while (!at_end() && digit_value(peek()) < 16) {
            cp = cp * 16 + static_cast<std::uint32_t>(digit_value(text_[pos_++]));
            if (++n > 6) fail("\\x{...} escape too long");
          }
          if (n == 0 || !take("}")) fail("malformed \\x{...} escape");
        } else {
          for (int i = 0; i < 2; ++i) {
            if (at_end() || digit_value(peek()) >= 16) fail("\\x needs two hex digits");
            cp = cp * 16 + static_cast<std::uint32_t>(digit_value(text_[pos_++]));
          }
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("escape is not a Unicode code point");
        return cp;
      }
      default:
        if (c >= '0' && c <= '7') {
          std::uint32_t cp = static_cast<std::uint32_t>(c - '0');
          for (int i = 0; i < 2 && peek() >= '0' && peek() <= '7'; ++i) cp = cp * 8 + static_cast<std::uint32_t>(text_[pos_++] - '0');
          return cp;
        }
        --pos_;
        return next_char();
    }
  }

  // The next UTF-8 character of the text.
  std::uint32_t next_char() {
    const std::int32_t cp = detail::utf8_next(text_, pos_);
    if (cp < 0) fail("invalid UTF-8");
    return static_cast<std::uint32_t>(cp);
  }

  // Characters of a quoted literal up to `quote`, with escapes resolved.
  std::vector<std::uint32_t> quoted(char quote) {
    const std::size_t start = pos_++;
    std::vector<std::uint32_t> chars;
    for (;;) {
      if (at_end()) fail_at(start, std::string("unterminated ") + (quote == '"' ? "string" : "quoted atom"));
      const char c = peek();
      if (c == quote) {
        ++pos_;
        return chars;
      }
      if (c == '\\') {
        ++pos_;
        chars.push_back(escape());
      } else {
        chars.push_back(next_char());
      }
    }
  }

  Atom quoted_atom() {
    const std::size_t start = pos_;
    std::string utf8;
    for (std::uint32_t cp : quoted('\'')) detail::utf8_append(utf8, cp);
    try {
      return Atom(utf8);
    } catch (const AtomError& e) {
      fail_at(start, e.what());
    }
  }

  // Adjacent string literals concatenate, as in Erlang source.
  std::vector<std::uint32_t> string_chars() {
    std::vector<std::uint32_t> chars = quoted('"');
    for (;;) {
      const std::size_t save = pos_;
      skip_space();
      if (peek() != '"') {
        pos_ = save;
        return chars;
      }
      const std::vector<std::uint32_t> more = quoted('"');
      chars.insert(chars.end(), more.begin(), more.end());
    }
  }

  Term string_literal() {
    std::vector<Term> items;
    for (std::uint32_t cp : string_chars()) items.emplace_back(cp);
    return list_from(items);
  }

  std::uint32_t character() {
    if (at_end()) fail("expected a character after '$'");
    if (peek() == '\\') {
      ++pos_;
      return escape();
    }
    return next_char();
  }

  // Digits in `base`, '_' allowed between digits. Returns the digits without separators.
  std::string digits(int base) {
    std::string out;
    const std::size_t start = pos_;
    while (!at_end()) {
      const char c = peek();
      if (digit_value(c) < base) {
        out += c;
        ++pos_;
      } else if (c == '_' && !out.empty() && digit_value(peek(1)) < base) {
        ++pos_;
      } else {
        break;
      }
    }
    if (out.empty()) fail_at(start, "expected digits in base " + std::to_string(base));
    return out;
  }

  static BigInt digits_value(const std::string& text, int base) {
    BigInt v = 0;
    for (char c : text) v = v * base + digit_value(c);
    return v;
  }

  Term number() {
    const std::size_t start = pos_;
    bool negative = false;
    if (peek() == '-' || peek() == '+') {
      negative = text_[pos_++] == '-';
      skip_space();
    }
    if (peek() == '$') {
      ++pos_;
      const auto c = static_cast<std::int64_t>(character());
      return Term(negative ? -c : c);
    }
    const std::string whole = digits(10);
    if (peek() == '#') {
      ++pos_;
      const BigInt base = digits_value(whole, 10);
      if (base < 2 || base > 36) fail_at(start, "base must be 2 to 36 in Base#Digits");
      const BigInt v = digits_value(digits(base.convert_to<int>()), base.convert_to<int>());
      return integer(negative ? BigInt(-v) : v);
    }
    if (peek() == '.' && is_digit(peek(1))) {
      ++pos_;
      std::string text = (negative ? "-" : "") + whole + "." + digits(10);
      if (peek() == 'e' || peek() == 'E') {
        ++pos_;
        text += 'e';
        if (peek() == '-' || peek() == '+') text += text_[pos_++];
        text += digits(10);
      }
      double v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
        fail_at(start, "float out of range: " + text);
      return Term(v);
    }
    const BigInt v = digits_value(whole, 10);
    return integer(negative ? BigInt(-v) : v);
  }

  std::string name() {
    const std::size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  Atom bare_atom(const std::string& text, std::size_t at) {
    try {
      const Atom a(text);
      if (!a.prints_bare() && text != "fun") fail_at(at, "'" + text + "' is a reserved word; quote it to make an atom");
      return a;
    } catch (const AtomError& e) {
      fail_at(at, e.what());
    }
  }

  Term bare_atom_or_fun() {
    const std::size_t start = pos_;
    const std::string word = name();
    if (word != "fun") return Term(bare_atom(word, start));
    // fun Module:Function/Arity
    skip_space();
    const Atom module = atom_token();
    expect(":", "in fun M:F/A");
    skip_space();
    const Atom function = atom_token();
    expect("/", "in fun M:F/A");
    skip_space();
    const std::size_t arity_at = pos_;
    const BigInt arity = digits_value(digits(10), 10);
    if (arity > 255) fail_at(arity_at, "fun arity is at most 255");
    return export_fun(module, function, arity.convert_to<std::uint32_t>());
  }

  Atom atom_token() {
    if (peek() == '\'') return quoted_atom();
    const std::size_t at = pos_;
    const std::string word = name();
    if (word.empty()) fail("expected an atom");
    return bare_atom(word, at);
  }

  // <<Segment, ...>>: strings, integers and characters, with :Size and /utf8.
  Term binary() {
    pos_ += 2;
    BitWriter bits;
    skip_space();
    if (take(">>")) return bits.finish();
    for (;;) {
      segment(bits);
      skip_space();
      if (take(">>")) return bits.finish();
      if (!take(",")) fail("expected ',' or '>>' in a binary");
    }
  }

  void segment(BitWriter& bits) {
    skip_space();
    const std::size_t start = pos_;
    std::vector<BigInt> values;
    bool is_string = false;
    if (peek() == '"') {
      is_string = true;
      for (std::uint32_t cp : string_chars()) values.emplace_back(cp);
    } else if (peek() == '$' || is_digit(peek()) || peek() == '-' || peek() == '+') {
      const Term n = number();
      if (!n.is_integer()) fail_at(start, "only integers and strings are supported in binaries");
      values.push_back(to_bigint(n));
    } else {
      fail("expected a string or an integer in a binary");
    }
    std::size_t size = 8;
    bool sized = false;
    if (take(":")) {
      skip_space();
      const BigInt s = digits_value(digits(10), 10);
      if (s > 1u << 20) fail_at(start, "segment size too large");
      size = s.convert_to<std::size_t>();
      sized = true;
    }
    bool utf8 = false;
    if (take("/")) {
      const std::string type = name();
      if (type == "utf8") {
        utf8 = true;
      } else if (type != "integer") {
        fail_at(start, "unsupported binary segment type '" + type + "' (integer and utf8 are supported)");
      }
    }
    if (utf8 && sized) fail_at(start, "a utf8 segment has no size");
    for (const BigInt& v : values) {
      if (utf8) {
        if (v < 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) fail_at(start, "not a Unicode code point");
        std::string encoded;
        detail::utf8_append(encoded, v.convert_to<std::uint32_t>());
        for (char c : encoded) bits.put_byte(static_cast<std::uint8_t>(c));
      } else {
        if (is_string && v > 255) fail_at(start, "character above 255 in a binary string; add /utf8");
        // Negative values are laid out in two's complement, as Erlang does.
        const BigInt modulus = BigInt(1) << size;
        bits.put(((v % modulus) + modulus) % modulus, size);
      }
    }
  }

  std::string_view text_;
  const ParseOptions& options_;
  std::size_t pos_ = 0;
};

}  // namespace

Term parse_term(std::string_view text, const ParseOptions& options) { return Parser(text, options).parse(); }

}  // namespace spindle
