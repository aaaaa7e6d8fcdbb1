#pragma once
/// @file
/// `Term`: an immutable Erlang value. One 64-bit word; small integers, atoms and `[]`
/// are held inline, everything else is a pointer to a shared, reference-counted box.
/// Copying a term is a word copy (plus an atomic increment for boxed terms), so terms
/// pass between threads and processes without being copied.

#include <atomic>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <iterator>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spindle/atom.hpp"

namespace spindle {

class Term;
class Pid;
class Ref;
class Port;
class TupleView;
class ListView;
class MapView;
class BinaryView;
class FunView;
class BigIntView;

/// The classes of Erlang terms, listed in Erlang's term order:
/// number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring.
enum class TermType : std::uint8_t {
  Integer,
  Float,
  Atom,
  Reference,
  Fun,
  Port,
  Pid,
  Tuple,
  Map,
  Nil,
  List,
  Bitstring,
};

/// A readable name for a term class ("integer", "tuple", ...).
std::string_view type_name(TermType type) noexcept;

/// Thrown when a term is used as a type it does not have (e.g. `as_tuple()` on an atom).
class BadTermAccess : public std::runtime_error {
 public:
  BadTermAccess(std::string_view expected, TermType actual);
  BadTermAccess(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {

enum class BoxKind : std::uint8_t {
  Float,
  BigInt,
  Binary,
  Tuple,
  List,
  Map,
  Pid,
  Port,
  Ref,
  ExportFun,
  Closure,
};

/// Flag: the box lives inside a region (a block holding a whole decoded term) and its
/// reference count is the region's.
inline constexpr std::uint8_t kBoxInRegion = 1;
/// Flag: a pid box that is the control block of a live (or once live) local process:
/// sending to the pid reaches the process's mailbox directly.
inline constexpr std::uint8_t kBoxLocalProcess = 2;

/// The header of every boxed term.
struct Box {
  BoxKind kind;
  std::uint8_t flags;
  std::uint16_t aux;    // meaning depends on the kind
  std::uint32_t count;  // arity, length or size, depending on the kind
  union {
    std::uint64_t refs;          // a standalone box counts its own references
    std::uint64_t* region_refs;  // a box in a region shares the region's count
  };

  std::uint64_t& counter() noexcept { return (flags & kBoxInRegion) ? *region_refs : refs; }
};

/// Frees a standalone box, or the whole region of a region box, once unreferenced.
void free_box(Box* box) noexcept;

}  // namespace detail

/// An immutable Erlang term. Value semantics: copies share structure.
class Term {
 public:
  /// The empty list `[]`.
  constexpr Term() noexcept = default;
  Term(const Term& other) noexcept : raw_(other.raw_) { retain(); }
  Term(Term&& other) noexcept : raw_(std::exchange(other.raw_, kNilRaw)) {}
  Term& operator=(const Term& other) noexcept {
    Term(other).swap(*this);
    return *this;
  }
  Term& operator=(Term&& other) noexcept {
    Term(std::move(other)).swap(*this);
    return *this;
  }
  ~Term() { release(); }
  void swap(Term& other) noexcept { std::swap(raw_, other.raw_); }

  Term(Atom a) noexcept : raw_((std::uint64_t{a.index()} << 3) | kTagAtom) {}
  /// `true` and `false` are the atoms of those names, as in Erlang.
  Term(bool b) noexcept : Term(b ? atoms::true_ : atoms::false_) {}
  template <std::integral I>
    requires(!std::same_as<I, bool>)
  Term(I value) {
    if constexpr (std::is_signed_v<I>) {
      from_int64(static_cast<std::int64_t>(value));
    } else {
      from_uint64(static_cast<std::uint64_t>(value));
    }
  }
  /// A float. Erlang floats are finite: NaN and infinities throw `std::domain_error`.
  Term(double value);
  /// Text is ambiguous in Erlang: say `atom(s)`, `binary(s)` or `string(s)`.
  Term(const char*) = delete;

  TermType type() const noexcept;

  bool is_integer() const noexcept { return is_small() || is_box(detail::BoxKind::BigInt); }
  bool is_float() const noexcept { return is_box(detail::BoxKind::Float); }
  bool is_number() const noexcept { return is_integer() || is_float(); }
  bool is_atom() const noexcept { return (raw_ & kTagMask) == kTagAtom; }
  bool is_atom(Atom a) const noexcept { return raw_ == Term(a).raw_; }
  bool is_nil() const noexcept { return raw_ == kNilRaw; }
  bool is_cons() const noexcept { return is_box(detail::BoxKind::List); }
  /// A list: `[]` or a cons (proper or improper).
  bool is_list() const noexcept { return is_nil() || is_cons(); }
  bool is_tuple() const noexcept { return is_box(detail::BoxKind::Tuple); }
  bool is_tuple(std::size_t arity) const noexcept { return is_tuple() && box()->count == arity; }
  bool is_map() const noexcept { return is_box(detail::BoxKind::Map); }
  /// A bitstring whose size is a whole number of bytes.
  bool is_binary() const noexcept { return is_box(detail::BoxKind::Binary) && box()->aux == 0; }
  bool is_bitstring() const noexcept { return is_box(detail::BoxKind::Binary); }
  bool is_pid() const noexcept { return is_box(detail::BoxKind::Pid); }
  bool is_ref() const noexcept { return is_box(detail::BoxKind::Ref); }
  bool is_port() const noexcept { return is_box(detail::BoxKind::Port); }
  bool is_fun() const noexcept {
    return is_box(detail::BoxKind::ExportFun) || is_box(detail::BoxKind::Closure);
  }
  /// An integer that fits in the inline (63-bit) representation.
  bool is_small() const noexcept { return (raw_ & 1) != 0; }
  bool is_boxed() const noexcept { return (raw_ & kTagMask) == kTagBox; }

  /// The atom; throws `BadTermAccess` otherwise. The other `as_` accessors work alike.
  Atom as_atom() const;
  /// An integer that fits in 64 signed bits.
  std::int64_t as_int() const;
  /// The integer if it fits in 64 signed bits, otherwise nothing.
  std::optional<std::int64_t> to_int64() const noexcept;
  double as_float() const;
  /// The value of any number as a double (big integers may lose precision or overflow).
  double to_double() const;
  TupleView as_tuple() const;
  ListView as_list() const;
  MapView as_map() const;
  BinaryView as_bitstring() const;
  /// Like `as_bitstring()` but requires a whole number of bytes.
  BinaryView as_binary() const;
  Pid as_pid() const;
  Ref as_ref() const;
  Port as_port() const;
  FunView as_fun() const;
  BigIntView as_bigint() const;

  /// Exact equality, Erlang's `=:=` (so `1` and `1.0` differ).
  friend bool operator==(const Term& a, const Term& b) noexcept {
    return a.raw_ == b.raw_ || (a.is_boxed() && b.is_boxed() && equal_boxed(a, b));
  }
  /// Erlang's term order. Numbers compare by value, so `1 <=> 1.0` is equivalent
  /// (`==` in Erlang) while `1 == 1.0` above is false (`=:=`).
  friend std::weak_ordering operator<=>(const Term& a, const Term& b) noexcept;

  /// A hash consistent with `==`.
  std::size_t hash() const noexcept;

  /// The term in Erlang syntax (see `term_text.hpp` for options).
  std::string to_string() const;

  /// The raw word, for codecs and diagnostics. Stable only for immediates.
  std::uint64_t raw() const noexcept { return raw_; }

  /// Adopts a box whose reference the caller owns (runtime internals).
  static Term adopt(detail::Box* box) noexcept { return Term(RawWord{}, reinterpret_cast<std::uint64_t>(box)); }
  /// Gives up ownership of the box without releasing it; the term becomes `[]`
  /// (runtime internals).
  detail::Box* detach() noexcept { return reinterpret_cast<detail::Box*>(std::exchange(raw_, kNilRaw)); }
  /// A new reference to an existing box (runtime internals).
  static Term share(const detail::Box* box) noexcept {
    Term t(RawWord{}, reinterpret_cast<std::uint64_t>(box));
    t.retain();
    return t;
  }
  /// The box of a boxed term (runtime internals).
  detail::Box* box() const noexcept { return reinterpret_cast<detail::Box*>(raw_); }

  /// The range of integers held inline.
  static constexpr std::int64_t kMinSmall = -(std::int64_t{1} << 62);
  static constexpr std::int64_t kMaxSmall = (std::int64_t{1} << 62) - 1;

 private:
  static constexpr std::uint64_t kTagMask = 7;
  static constexpr std::uint64_t kTagBox = 0;
  static constexpr std::uint64_t kTagAtom = 2;
  static constexpr std::uint64_t kNilRaw = 6;

  struct RawWord {};
  Term(RawWord, std::uint64_t raw) noexcept : raw_(raw) {}

  bool is_box(detail::BoxKind kind) const noexcept { return is_boxed() && box()->kind == kind; }
  void retain() const noexcept {
    if (is_boxed()) std::atomic_ref(box()->counter()).fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    if (is_boxed() && std::atomic_ref(box()->counter()).fetch_sub(1, std::memory_order_acq_rel) == 1)
      detail::free_box(box());
  }
  void from_int64(std::int64_t v) {
    if (v >= kMinSmall && v <= kMaxSmall) {
      raw_ = (static_cast<std::uint64_t>(v) << 1) | 1;
    } else {
      *this = big_from_int64(v);
    }
  }
  void from_uint64(std::uint64_t v) {
    if (v <= static_cast<std::uint64_t>(kMaxSmall)) {
      raw_ = (v << 1) | 1;
    } else {
      *this = big_from_uint64(v);
    }
  }
  static Term big_from_int64(std::int64_t v);
  static Term big_from_uint64(std::uint64_t v);
  static bool equal_boxed(const Term& a, const Term& b) noexcept;

  std::uint64_t raw_ = kNilRaw;
};

namespace detail {

template <class T, class Header>
T* trailing(Header* header) noexcept {
  return reinterpret_cast<T*>(reinterpret_cast<std::byte*>(header) + sizeof(Header));
}
template <class T, class Header>
const T* trailing(const Header* header) noexcept {
  return reinterpret_cast<const T*>(reinterpret_cast<const std::byte*>(header) + sizeof(Header));
}

struct FloatBox : Box {
  double value;
};
/// count: 64-bit limbs (least significant first, the top one non-zero); aux: 1 if negative.
/// Always outside the inline range, so every integer has exactly one representation.
struct BigIntBox : Box {
  const std::uint64_t* limbs() const noexcept { return trailing<std::uint64_t>(this); }
};
/// count: bytes; aux: bits used in the last byte when the bit size is not a multiple
/// of 8 (0 for a binary). Unused low bits of the last byte are zero.
struct BinaryBox : Box {
  const std::uint8_t* data;
  Term owner;  // keeps shared bytes alive for a sub-binary; [] when the bytes follow
};
/// count: arity; the elements follow.
struct TupleBox : Box {
  const Term* elements() const noexcept { return trailing<Term>(this); }
};
/// A run of `count` (>= 1) list cells: elements[0..count) then `tail`. The elements
/// follow the box, or belong to `owner` when this run is a suffix of another run.
struct ListBox : Box {
  const Term* elements;
  Term tail;
  Term owner;
};
/// count: pairs. `count` keys sorted in exact term order, then `count` values.
struct MapBox : Box {
  const Term* keys() const noexcept { return trailing<Term>(this); }
  const Term* values() const noexcept { return trailing<Term>(this) + count; }
};
struct PidBox : Box {
  std::uint32_t node;  // atom index
  std::uint32_t id;
  std::uint32_t serial;
  std::uint32_t creation;
};
struct PortBox : Box {
  std::uint32_t node;
  std::uint32_t creation;
  std::uint64_t id;
};
/// aux: number of id words (1..5).
struct RefBox : Box {
  std::uint32_t node;
  std::uint32_t creation;
  std::uint32_t words[5];
};
/// `fun M:F/A`. count: arity.
struct ExportFunBox : Box {
  std::uint32_t module;
  std::uint32_t function;
};
/// A closure (NEW_FUN_EXT). count: number of free variables, which follow.
struct ClosureBox : Box {
  std::uint32_t module;
  std::uint32_t arity;
  std::uint32_t index;
  std::uint8_t uniq[16];
  Term old_index;
  Term old_uniq;
  Term pid;
  const Term* free_vars() const noexcept { return trailing<Term>(this); }
};

}  // namespace detail

/// The elements of a tuple. A view: valid while the term it came from lives.
class TupleView {
 public:
  explicit TupleView(const detail::TupleBox* box) noexcept : box_(box) {}
  std::size_t size() const noexcept { return box_->count; }
  const Term& operator[](std::size_t i) const noexcept { return box_->elements()[i]; }
  /// Bounds-checked element access (0-based; Erlang's `element/2` is 1-based).
  const Term& at(std::size_t i) const;
  const Term* begin() const noexcept { return box_->elements(); }
  const Term* end() const noexcept { return box_->elements() + box_->count; }

 private:
  const detail::TupleBox* box_;
};

/// The cells of a list, proper or improper. A view: valid while the term it came from lives.
class ListView {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Term;
    using difference_type = std::ptrdiff_t;
    using pointer = const Term*;
    using reference = const Term&;

    iterator() noexcept = default;
    iterator(const detail::ListBox* run, std::uint32_t index) noexcept : run_(run), index_(index) {}
    const Term& operator*() const noexcept { return run_->elements[index_]; }
    const Term* operator->() const noexcept { return &run_->elements[index_]; }
    iterator& operator++() noexcept {
      if (++index_ == run_->count) {
        index_ = 0;
        run_ = run_->tail.is_cons() ? static_cast<const detail::ListBox*>(run_->tail.box()) : nullptr;
      }
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator&) const noexcept = default;

   private:
    const detail::ListBox* run_ = nullptr;
    std::uint32_t index_ = 0;
  };

  /// A view of `[]` when `run` is null.
  explicit ListView(const detail::ListBox* run) noexcept : run_(run) {}

  iterator begin() const noexcept { return {run_, 0}; }
  iterator end() const noexcept { return {}; }
  bool empty() const noexcept { return run_ == nullptr; }
  /// The number of cells (Erlang's `length/1` for a proper list). Walks the list.
  std::size_t length() const noexcept;
  /// What follows the last cell: `[]` for a proper list.
  const Term& tail() const noexcept;
  bool is_proper() const noexcept { return tail().is_nil(); }
  /// The first element (`hd/1`); the list must not be empty.
  const Term& head() const;
  /// Everything after the first cell (`tl/1`); the list must not be empty.
  Term rest() const;
  /// Copies the elements out (for a proper list, all of it).
  std::vector<Term> to_vector() const;

 private:
  const detail::ListBox* run_;
};

/// The pairs of a map, in exact key order. A view: valid while the term it came from lives.
class MapView {
 public:
  explicit MapView(const detail::MapBox* box) noexcept : box_(box) {}
  std::size_t size() const noexcept { return box_->count; }
  const Term& key(std::size_t i) const noexcept { return box_->keys()[i]; }
  const Term& value(std::size_t i) const noexcept { return box_->values()[i]; }
  /// The value stored under `key` (`=:=` match), or null.
  const Term* find(const Term& key) const noexcept;
  bool contains(const Term& key) const noexcept { return find(key) != nullptr; }

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::pair<const Term&, const Term&>;
    using difference_type = std::ptrdiff_t;
    iterator() noexcept = default;
    iterator(const detail::MapBox* box, std::size_t i) noexcept : box_(box), i_(i) {}
    std::pair<const Term&, const Term&> operator*() const noexcept {
      return {box_->keys()[i_], box_->values()[i_]};
    }
    iterator& operator++() noexcept {
      ++i_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const iterator&) const noexcept = default;

   private:
    const detail::MapBox* box_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const noexcept { return {box_, 0}; }
  iterator end() const noexcept { return {box_, box_->count}; }

 private:
  const detail::MapBox* box_;
};

/// The bytes of a binary or bitstring. A view: valid while the term it came from lives.
class BinaryView {
 public:
  explicit BinaryView(const detail::BinaryBox* box) noexcept : box_(box) {}
  const std::uint8_t* data() const noexcept { return box_->data; }
  /// Bytes, counting a partial last byte.
  std::size_t size() const noexcept { return box_->count; }
  std::size_t bit_size() const noexcept {
    return std::size_t{box_->count} * 8 - (box_->aux ? 8 - box_->aux : 0);
  }
  /// Bits used in the last byte when the bit size is not a multiple of 8, else 0.
  unsigned trailing_bits() const noexcept { return box_->aux; }
  bool is_binary() const noexcept { return box_->aux == 0; }
  std::span<const std::uint8_t> bytes() const noexcept { return {box_->data, box_->count}; }
  std::string_view as_string_view() const noexcept {
    return {reinterpret_cast<const char*>(box_->data), box_->count};
  }

 private:
  const detail::BinaryBox* box_;
};

/// A fun: either `fun M:F/A` (export) or a closure from NEW_FUN_EXT.
class FunView {
 public:
  explicit FunView(const detail::Box* box) noexcept : box_(box) {}
  bool is_export() const noexcept { return box_->kind == detail::BoxKind::ExportFun; }
  Atom module() const noexcept;
  std::uint32_t arity() const noexcept;
  /// Export funs only.
  Atom function() const;
  /// Closures only.
  const detail::ClosureBox& closure() const;

 private:
  const detail::Box* box_;
};

/// An integer outside the inline range: sign and 64-bit limbs, least significant first.
class BigIntView {
 public:
  explicit BigIntView(const detail::BigIntBox* box) noexcept : box_(box) {}
  bool negative() const noexcept { return box_->aux != 0; }
  std::span<const std::uint64_t> limbs() const noexcept { return {box_->limbs(), box_->count}; }

 private:
  const detail::BigIntBox* box_;
};

/// A process identifier. Default-constructed: no process (tests false).
class Pid {
 public:
  Pid() noexcept = default;
  Pid(Atom node, std::uint32_t id, std::uint32_t serial, std::uint32_t creation);
  /// Checked conversion; throws `BadTermAccess` if `term` is not a pid.
  explicit Pid(Term term);

  explicit operator bool() const noexcept { return term_.is_pid(); }
  Atom node() const noexcept { return Atom::from_index(box().node); }
  std::uint32_t id() const noexcept { return box().id; }
  std::uint32_t serial() const noexcept { return box().serial; }
  std::uint32_t creation() const noexcept { return box().creation; }
  const Term& term() const noexcept { return term_; }
  operator const Term&() const noexcept { return term_; }
  std::string to_string() const { return term_.to_string(); }
  friend bool operator==(const Pid& a, const Pid& b) noexcept { return a.term_ == b.term_; }
  std::size_t hash() const noexcept { return term_.hash(); }

 private:
  const detail::PidBox& box() const noexcept { return *static_cast<const detail::PidBox*>(term_.box()); }
  Term term_;
};

/// A reference (`make_ref()`). Default-constructed: none (tests false).
class Ref {
 public:
  Ref() noexcept = default;
  /// `words` holds 1 to 5 id words, least significant first.
  Ref(Atom node, std::uint32_t creation, std::span<const std::uint32_t> words);
  explicit Ref(Term term);

  explicit operator bool() const noexcept { return term_.is_ref(); }
  Atom node() const noexcept { return Atom::from_index(box().node); }
  std::uint32_t creation() const noexcept { return box().creation; }
  std::span<const std::uint32_t> words() const noexcept { return {box().words, box().aux}; }
  const Term& term() const noexcept { return term_; }
  operator const Term&() const noexcept { return term_; }
  std::string to_string() const { return term_.to_string(); }
  friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.term_ == b.term_; }
  std::size_t hash() const noexcept { return term_.hash(); }

 private:
  const detail::RefBox& box() const noexcept { return *static_cast<const detail::RefBox*>(term_.box()); }
  Term term_;
};

/// A port identifier. Default-constructed: none (tests false).
class Port {
 public:
  Port() noexcept = default;
  Port(Atom node, std::uint64_t id, std::uint32_t creation);
  explicit Port(Term term);

  explicit operator bool() const noexcept { return term_.is_port(); }
  Atom node() const noexcept { return Atom::from_index(box().node); }
  std::uint64_t id() const noexcept { return box().id; }
  std::uint32_t creation() const noexcept { return box().creation; }
  const Term& term() const noexcept { return term_; }
  operator const Term&() const noexcept { return term_; }
  friend bool operator==(const Port& a, const Port& b) noexcept { return a.term_ == b.term_; }

 private:
  const detail::PortBox& box() const noexcept { return *static_cast<const detail::PortBox*>(term_.box()); }
  Term term_;
};

// ----- Building terms -----

/// `{Elements...}`.
template <class... Elements>
Term tuple(Elements&&... elements);
/// A tuple of the given elements.
Term tuple_from(std::span<const Term> elements);
/// `[Elements...]`, a proper list.
template <class... Elements>
Term list(Elements&&... elements);
/// A list of the given elements ending in `tail` (`[]` for a proper list).
Term list_from(std::span<const Term> elements, Term tail = Term());
/// `[Head | Tail]`.
Term cons(Term head, Term tail);
/// A map; when a key repeats, the last value wins (as in `#{a => 1, a => 2}`).
Term map(std::initializer_list<std::pair<Term, Term>> pairs);
Term map_from(std::vector<std::pair<Term, Term>> pairs);
/// A binary holding a copy of `bytes`.
Term binary(std::span<const std::uint8_t> bytes);
Term binary(std::string_view bytes);
/// A bitstring of `bit_size` bits taken from the start of `bytes`.
Term bitstring(std::span<const std::uint8_t> bytes, std::size_t bit_size);
/// An Erlang string: the list of code points of `utf8` (throws on invalid UTF-8).
Term string(std::string_view utf8);
/// A binary of `size` bytes to be filled by the caller through `data` before the term
/// is shared (used for I/O buffers that later back zero-copy sub-binaries).
Term binary_uninitialized(std::size_t size, std::uint8_t*& data);
/// The bytes [offset, offset + size) of `binary` without copying them.
Term sub_binary(const Term& binary, std::size_t offset, std::size_t size);
/// `fun Module:Function/Arity`.
Term export_fun(Atom module, Atom function, std::uint32_t arity);
/// An integer from sign and 64-bit limbs (least significant first), normalised.
Term integer_from_limbs(bool negative, std::span<const std::uint64_t> limbs);

template <class... Elements>
Term tuple(Elements&&... elements) {
  const Term items[] = {Term(std::forward<Elements>(elements))..., Term()};
  return tuple_from(std::span<const Term>(items, sizeof...(Elements)));
}

template <class... Elements>
Term list(Elements&&... elements) {
  const Term items[] = {Term(std::forward<Elements>(elements))..., Term()};
  return list_from(std::span<const Term>(items, sizeof...(Elements)));
}

// ----- Term order beyond operator<=> -----

/// Exact order: Erlang's order except that every integer sorts before every float
/// (the order of map keys). A total order consistent with `==`.
std::strong_ordering exact_compare(const Term& a, const Term& b) noexcept;

/// Orders terms by `exact_compare`, for ordered containers.
struct ExactLess {
  bool operator()(const Term& a, const Term& b) const noexcept { return exact_compare(a, b) < 0; }
};

/// Writes `term` in Erlang syntax (as `to_string` in spindle/term_text.hpp does). Declared
/// here so that whatever prints a Term (a failed test expectation, a log line) finds it.
std::ostream& operator<<(std::ostream& out, const Term& term);

}  // namespace spindle

// Hashes for the standard containers (left out of the API reference: Doxygen 1.9 cannot
// place a specialization declared outside namespace std).
/// @cond
template <>
struct std::hash<spindle::Term> {
  std::size_t operator()(const spindle::Term& t) const noexcept { return t.hash(); }
};
template <>
struct std::hash<spindle::Pid> {
  std::size_t operator()(const spindle::Pid& p) const noexcept { return p.hash(); }
};
template <>
struct std::hash<spindle::Ref> {
  std::size_t operator()(const spindle::Ref& r) const noexcept { return r.hash(); }
};
/// @endcond
