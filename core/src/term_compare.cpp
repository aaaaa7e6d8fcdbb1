// Equality (=:=), Erlang's term order, the exact (map key) order, and hashing.
//
// All of them walk terms with an explicit stack rather than recursion: a decoded term
// may be nested as deep as the decoder's limit, and comparing map keys happens while
// decoding untrusted input.

#include <bit>
#include <cmath>
#include <cstring>

#include "hash_mix.hpp"
#include "small_stack.hpp"
#include "spindle/term.hpp"

namespace spindle {
namespace {

using detail::BoxKind;

template <class B>
const B& as(const Term& t) noexcept {
  return *static_cast<const B*>(t.box());
}

template <class T>
int sign_of(T a, T b) noexcept {
  return a < b ? -1 : (a > b ? 1 : 0);
}

std::int64_t small_value(const Term& t) noexcept { return static_cast<std::int64_t>(t.raw()) >> 1; }

// ----- numbers -----

// Compares magnitudes of two limb arrays (least significant first, no leading zeros).
int compare_limbs(std::span<const std::uint64_t> a, std::span<const std::uint64_t> b) noexcept {
  if (a.size() != b.size()) return sign_of(a.size(), b.size());
  for (std::size_t i = a.size(); i-- > 0;)
    if (a[i] != b[i]) return sign_of(a[i], b[i]);
  return 0;
}

int compare_big(const detail::BigIntBox& a, const detail::BigIntBox& b) noexcept {
  if (a.aux != b.aux) return a.aux ? -1 : 1;
  const int m = compare_limbs({a.limbs(), a.count}, {b.limbs(), b.count});
  return a.aux ? -m : m;
}

// Compares a big integer's magnitude with |d|, where |d| >= 2^62 (so d is integral).
int compare_magnitude(const detail::BigIntBox& big, double d) noexcept {
  int exponent;
  const double fraction = std::frexp(std::fabs(d), &exponent);  // |d| = fraction * 2^exponent
  const std::size_t big_bits = 64 * (std::size_t{big.count} - 1) + std::bit_width(big.limbs()[big.count - 1]);
  const auto d_bits = static_cast<std::size_t>(exponent);
  if (big_bits != d_bits) return sign_of(big_bits, d_bits);
  // Same bit length (at most 1024, as d is a double): lay |d| out as limbs and compare.
  const auto mantissa = static_cast<std::uint64_t>(std::ldexp(fraction, 53));
  const std::size_t shift = d_bits - 53;
  std::uint64_t limbs[17] = {};
  limbs[shift / 64] = mantissa << (shift % 64);
  if (shift % 64 != 0 && shift / 64 + 1 < big.count) limbs[shift / 64 + 1] = mantissa >> (64 - shift % 64);
  return compare_limbs({big.limbs(), big.count}, {limbs, big.count});
}

// Erlang's comparison of an integer with a float: by mathematical value.
int compare_int_float(const Term& i, double d) noexcept {
  if (i.is_small()) {
    const std::int64_t v = small_value(i);
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    const double whole = std::floor(d);
    const auto w = static_cast<std::int64_t>(whole);
    if (v != w) return sign_of(v, w);
    return d > whole ? -1 : 0;
  }
  const auto& big = as<detail::BigIntBox>(i);
  const int big_sign = big.aux ? -1 : 1;
  // A big integer is at least 2^62 in magnitude.
  if (std::fabs(d) < 4611686018427387904.0 || (d < 0) != (big.aux != 0)) return big_sign;
  return big_sign * compare_magnitude(big, d);
}

/// Erlang: numbers by value. Exact: integers before floats (map key order).
/// Equal: only whether the terms are =:= (0 or non-zero), skipping ordering work.
enum class Mode : std::uint8_t { Erlang, Exact, Equal };

int compare_numbers(const Term& a, const Term& b, Mode mode) noexcept {
  const bool af = a.is_float();
  const bool bf = b.is_float();
  if (af && bf) return sign_of(as<detail::FloatBox>(a).value, as<detail::FloatBox>(b).value);
  if (af != bf && mode != Mode::Erlang) return af ? 1 : -1;
  if (af) return -compare_int_float(b, as<detail::FloatBox>(a).value);
  if (bf) return compare_int_float(a, as<detail::FloatBox>(b).value);
  if (a.is_small() && b.is_small()) return sign_of(small_value(a), small_value(b));
  if (a.is_small()) return as<detail::BigIntBox>(b).aux ? 1 : -1;
  if (b.is_small()) return as<detail::BigIntBox>(a).aux ? -1 : 1;
  return compare_big(as<detail::BigIntBox>(a), as<detail::BigIntBox>(b));
}

int compare_atoms(std::uint32_t a, std::uint32_t b, Mode mode) noexcept {
  if (a == b) return 0;
  if (mode == Mode::Equal) return 1;
  return (Atom::from_index(a) <=> Atom::from_index(b)) < 0 ? -1 : 1;
}

int compare_bits(const detail::BinaryBox& a, const detail::BinaryBox& b) noexcept {
  // Unused trailing bits are zero, so byte order is bit order until one runs out.
  const std::size_t n = std::min(a.count, b.count);
  if (n != 0) {
    const int c = std::memcmp(a.data, b.data, n);
    if (c != 0) return c < 0 ? -1 : 1;
  }
  const auto bits = [](const detail::BinaryBox& x) {
    return std::size_t{x.count} * 8 - (x.aux ? 8 - x.aux : 0);
  };
  return sign_of(bits(a), bits(b));
}

// Rank of a term's class; in Erlang order all numbers share a rank.
int rank(const Term& t, Mode mode) noexcept {
  const TermType type = t.type();
  if (type == TermType::Float && mode == Mode::Erlang) return static_cast<int>(TermType::Integer);
  return static_cast<int>(type);
}

// Pairs of sub-terms still to compare, in order.
struct PairFrame {
  enum Kind : std::uint8_t { Range, Cells } kind = Range;
  Mode mode = Mode::Erlang;
  std::uint32_t left = 0;
  const Term* a = nullptr;
  const Term* b = nullptr;
  ListView::iterator cell_a;
  ListView::iterator cell_b;
  const Term* tail_a = nullptr;
  const Term* tail_b = nullptr;
};
using PairStack = detail::SmallStack<PairFrame, 16>;

void push_range(PairStack& stack, const Term* a, const Term* b, std::size_t n, Mode mode) {
  if (n == 0) return;
  PairFrame f;
  f.mode = mode;
  f.left = static_cast<std::uint32_t>(n);
  f.a = a;
  f.b = b;
  stack.push_back(f);
}

// Compares everything about `a` and `b` that is not a sub-term; pushes the sub-term
// pairs still to compare. Returns non-zero as soon as the answer is known.
int compare_head(const Term& a, const Term& b, Mode mode, PairStack& stack) noexcept {
  if (a.raw() == b.raw()) return 0;
  if (mode == Mode::Equal) {
    // Different words are equal only as two boxes of the same kind.
    if (!a.is_boxed() || !b.is_boxed() || a.box()->kind != b.box()->kind) return 1;
  } else {
    const int ra = rank(a, mode);
    const int rb = rank(b, mode);
    if (ra != rb) return sign_of(ra, rb);
    if (a.is_atom()) return compare_atoms(a.as_atom().index(), b.as_atom().index(), mode);
  }
  if (a.is_number()) return compare_numbers(a, b, mode);
  if (!a.is_boxed()) return 0;  // [] and []
  switch (a.box()->kind) {
    case BoxKind::Binary:
      return compare_bits(as<detail::BinaryBox>(a), as<detail::BinaryBox>(b));
    case BoxKind::Tuple: {
      const auto& ta = as<detail::TupleBox>(a);
      const auto& tb = as<detail::TupleBox>(b);
      if (ta.count != tb.count) return sign_of(ta.count, tb.count);
      push_range(stack, ta.elements(), tb.elements(), ta.count, mode);
      return 0;
    }
    case BoxKind::Map: {
      const auto& ma = as<detail::MapBox>(a);
      const auto& mb = as<detail::MapBox>(b);
      if (ma.count != mb.count) return sign_of(ma.count, mb.count);
      // Keys first (in exact order), then values: push values first, as the stack is LIFO.
      push_range(stack, ma.values(), mb.values(), ma.count, mode);
      push_range(stack, ma.keys(), mb.keys(), ma.count, mode == Mode::Equal ? Mode::Equal : Mode::Exact);
      return 0;
    }
    case BoxKind::List: {
      const ListView la = a.as_list();
      const ListView lb = b.as_list();
      PairFrame f;
      f.kind = PairFrame::Cells;
      f.mode = mode;
      f.cell_a = la.begin();
      f.cell_b = lb.begin();
      f.tail_a = &la.tail();
      f.tail_b = &lb.tail();
      stack.push_back(f);
      return 0;
    }
    case BoxKind::Pid: {
      // BEAM: serial, then number, then node (name, then creation).
      const auto& pa = as<detail::PidBox>(a);
      const auto& pb = as<detail::PidBox>(b);
      if (pa.serial != pb.serial) return sign_of(pa.serial, pb.serial);
      if (pa.id != pb.id) return sign_of(pa.id, pb.id);
      if (pa.node != pb.node) return compare_atoms(pa.node, pb.node, mode);
      return sign_of(pa.creation, pb.creation);
    }
    case BoxKind::Port: {
      // BEAM: node (name, then creation), then id.
      const auto& pa = as<detail::PortBox>(a);
      const auto& pb = as<detail::PortBox>(b);
      if (pa.node != pb.node) return compare_atoms(pa.node, pb.node, mode);
      if (pa.creation != pb.creation) return sign_of(pa.creation, pb.creation);
      return sign_of(pa.id, pb.id);
    }
    case BoxKind::Ref: {
      // BEAM: node (name, then creation), then the id words from the most significant
      // (last) down, a shorter ref counting as padded with zero high words.
      const auto& ra = as<detail::RefBox>(a);
      const auto& rb = as<detail::RefBox>(b);
      if (ra.node != rb.node) return compare_atoms(ra.node, rb.node, mode);
      if (ra.creation != rb.creation) return sign_of(ra.creation, rb.creation);
      for (std::size_t i = std::max(ra.aux, rb.aux); i-- > 0;) {
        const std::uint32_t wa = i < ra.aux ? ra.words[i] : 0;
        const std::uint32_t wb = i < rb.aux ? rb.words[i] : 0;
        if (wa != wb) return sign_of(wa, wb);
      }
      return 0;
    }
    case BoxKind::ExportFun:
    case BoxKind::Closure: {
      // BEAM: closures before export funs.
      const bool ea = a.box()->kind == BoxKind::ExportFun;
      const bool eb = b.box()->kind == BoxKind::ExportFun;
      if (ea != eb) return ea ? 1 : -1;
      if (ea) {
        const auto& fa = as<detail::ExportFunBox>(a);
        const auto& fb = as<detail::ExportFunBox>(b);
        if (fa.module != fb.module) return compare_atoms(fa.module, fb.module, mode);
        if (fa.function != fb.function) return compare_atoms(fa.function, fb.function, mode);
        return sign_of(fa.count, fb.count);
      }
      // Closures: module, index, old uniq, free variable count, then the free variables.
      // BEAM orders index and old uniq by the sign of their 32-bit wrapped difference and
      // ignores the MD5, old index, arity and creator pid.
      const auto& ca = as<detail::ClosureBox>(a);
      const auto& cb = as<detail::ClosureBox>(b);
      const auto wrapped = [](std::uint32_t x, std::uint32_t y) {
        return sign_of(static_cast<std::int32_t>(x - y), std::int32_t{0});
      };
      if (ca.module != cb.module) return compare_atoms(ca.module, cb.module, mode);
      if (ca.index != cb.index) return wrapped(ca.index, cb.index);
      const auto uniq_a = static_cast<std::uint32_t>(small_value(ca.old_uniq));
      const auto uniq_b = static_cast<std::uint32_t>(small_value(cb.old_uniq));
      if (uniq_a != uniq_b) return wrapped(uniq_a, uniq_b);
      if (ca.count != cb.count) return sign_of(ca.count, cb.count);
      push_range(stack, ca.free_vars(), cb.free_vars(), ca.count, mode);
      return 0;
    }
    case BoxKind::Float:
    case BoxKind::BigInt:
      break;  // numbers are handled above
  }
  return 0;
}

int compare(const Term& a0, const Term& b0, Mode mode0) noexcept {
  PairStack stack;
  const Term* a = &a0;
  const Term* b = &b0;
  Mode mode = mode0;
  for (;;) {
    if (const int c = compare_head(*a, *b, mode, stack); c != 0) return c;
    for (;;) {  // find the next pair
      if (stack.empty()) return 0;
      PairFrame& f = stack.back();
      mode = f.mode;
      if (f.kind == PairFrame::Range) {
        if (f.left == 0) {
          stack.pop_back();
          continue;
        }
        --f.left;
        a = f.a++;
        b = f.b++;
        break;
      }
      const ListView::iterator end;
      const bool a_done = f.cell_a == end;
      const bool b_done = f.cell_b == end;
      if (!a_done && !b_done) {
        a = &*f.cell_a++;
        b = &*f.cell_b++;
        break;
      }
      if (a_done && b_done) {  // same number of cells: the tails decide
        a = f.tail_a;
        b = f.tail_b;
        stack.pop_back();
        break;
      }
      // One side ran out of cells: its final tail (not a cons) meets a non-empty list,
      // so only the tail's class decides (a bitstring is the one class above lists).
      if (mode == Mode::Equal) return 1;
      const int shorter = a_done ? (f.tail_a->is_bitstring() ? 1 : -1) : (f.tail_b->is_bitstring() ? -1 : 1);
      return shorter;
    }
  }
}

}  // namespace

bool Term::equal_boxed(const Term& a, const Term& b) noexcept { return compare(a, b, Mode::Equal) == 0; }

std::weak_ordering operator<=>(const Term& a, const Term& b) noexcept {
  const int c = compare(a, b, Mode::Erlang);
  return c < 0 ? std::weak_ordering::less : (c > 0 ? std::weak_ordering::greater : std::weak_ordering::equivalent);
}

std::strong_ordering exact_compare(const Term& a, const Term& b) noexcept {
  const int c = compare(a, b, Mode::Exact);
  return c < 0 ? std::strong_ordering::less : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
}

// ----- hashing -----
//
// A pre-order walk: every node contributes a token (its kind and size or its value),
// so the sequence of tokens determines the term, whatever runs its lists are stored in.

namespace {

std::uint64_t combine(std::uint64_t h, std::uint64_t v) noexcept { return detail::mix64(h * 31 + v); }

constexpr std::uint64_t kListEndToken = 0x6c697374656e64ull;

struct HashFrame {
  const Term* next = nullptr;
  const Term* end = nullptr;
  ListView::iterator cell;
  const Term* tail = nullptr;  // for a list: the final tail, hashed after the cells
};

// Hashes `t`'s own token; pushes its sub-terms.
std::uint64_t hash_head(const Term& t, detail::SmallStack<HashFrame, 16>& stack) noexcept {
  if (!t.is_boxed()) return detail::mix64(t.raw());
  const detail::Box* box = t.box();
  const std::uint64_t kind = (static_cast<std::uint64_t>(box->kind) + 1) * 0x9E3779B97F4A7C15ull;
  const auto push = [&](const Term* first, std::size_t n) {
    HashFrame f;
    f.next = first;
    f.end = first + n;
    stack.push_back(f);
  };
  switch (box->kind) {
    case BoxKind::Float: {
      double v = as<detail::FloatBox>(t).value;
      if (v == 0) v = 0;  // 0.0 =:= -0.0 in OTP 25/26
      return combine(kind, std::bit_cast<std::uint64_t>(v));
    }
    case BoxKind::BigInt: {
      const auto& big = as<detail::BigIntBox>(t);
      return detail::hash_bytes(big.limbs(), big.count * sizeof(std::uint64_t), kind + big.aux);
    }
    case BoxKind::Binary: {
      const auto& bin = as<detail::BinaryBox>(t);
      return detail::hash_bytes(bin.data, bin.count, kind + bin.aux);
    }
    case BoxKind::Tuple:
      push(as<detail::TupleBox>(t).elements(), box->count);
      return combine(kind, box->count);
    case BoxKind::Map:
      push(as<detail::MapBox>(t).keys(), std::size_t{box->count} * 2);
      return combine(kind, box->count);
    case BoxKind::List: {
      HashFrame f;
      f.cell = t.as_list().begin();
      f.tail = &t.as_list().tail();
      stack.push_back(f);
      return kind;
    }
    case BoxKind::Pid: {
      const auto& p = as<detail::PidBox>(t);
      return combine(combine(combine(combine(kind, p.node), p.id), p.serial), p.creation);
    }
    case BoxKind::Port: {
      const auto& p = as<detail::PortBox>(t);
      return combine(combine(combine(kind, p.node), p.id), p.creation);
    }
    case BoxKind::Ref: {
      const auto& r = as<detail::RefBox>(t);
      std::uint64_t h = combine(combine(kind, r.node), r.creation);
      std::size_t n = r.aux;
      while (n > 0 && r.words[n - 1] == 0) --n;  // [5] =:= [5, 0, 0]
      for (std::size_t i = 0; i < n; ++i) h = combine(h, r.words[i]);
      return h;
    }
    case BoxKind::ExportFun: {
      const auto& f = as<detail::ExportFunBox>(t);
      return combine(combine(combine(kind, f.module), f.function), f.count);
    }
    case BoxKind::Closure: {
      const auto& c = as<detail::ClosureBox>(t);
      push(c.free_vars(), c.count);
      return combine(combine(combine(kind, c.module), c.index), static_cast<std::uint64_t>(small_value(c.old_uniq)));
    }
  }
  return kind;
}

}  // namespace

std::size_t Term::hash() const noexcept {
  detail::SmallStack<HashFrame, 16> stack;
  std::uint64_t h = hash_head(*this, stack);
  while (!stack.empty()) {
    HashFrame& f = stack.back();
    const Term* next = nullptr;
    if (f.tail == nullptr) {
      if (f.next != f.end) next = f.next++;
    } else if (f.cell != ListView::iterator()) {
      next = &*f.cell++;
    } else {
      h = combine(h, kListEndToken);
      next = f.tail;
      stack.pop_back();  // `next` points into the term, not the frame
      h = combine(h, hash_head(*next, stack));
      continue;
    }
    if (next == nullptr) {
      stack.pop_back();
      continue;
    }
    h = combine(h, hash_head(*next, stack));
  }
  return h;
}

}  // namespace spindle
