// ETF decoding.
//
// The decoder is iterative: containers push a frame listing the slots still to fill,
// so nesting depth costs heap (bounded by `max_depth`), never C++ stack. Every box of
// the result goes into one region; on an error the region is dropped whole. Each
// count read from the input is checked against the bytes left before anything is
// allocated for it (every element takes at least one byte).

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include <zlib.h>

#include "spindle/detail/big_endian.hpp"
#include "box_alloc.hpp"
#include "hash_mix.hpp"
#include "radix_sort.hpp"
#include "small_stack.hpp"
#include "spindle/etf.hpp"

namespace spindle::etf {

DecodeError::DecodeError(DecodeErrc code, std::size_t offset, const std::string& detail)
    : std::runtime_error(detail + " (at byte " + std::to_string(offset) + ")"),
      code_(code),
      offset_(offset),
      detail_(detail) {}

namespace {

using detail::BoxKind;
using detail::RegionBuilder;

std::string tag_name(std::uint8_t tag) {
  switch (tag) {
    case kNewFloat: return "NEW_FLOAT_EXT";
    case kBitBinary: return "BIT_BINARY_EXT";
    case kCompressed: return "compressed term (80)";
    case kAtomCacheRef: return "ATOM_CACHE_REF";
    case kLocal: return "LOCAL_EXT";
    case kNewPid: return "NEW_PID_EXT";
    case kNewPort: return "NEW_PORT_EXT";
    case kNewerReference: return "NEWER_REFERENCE_EXT";
    case kSmallInteger: return "SMALL_INTEGER_EXT";
    case kInteger: return "INTEGER_EXT";
    case kFloat: return "FLOAT_EXT";
    case kAtom: return "ATOM_EXT";
    case kReference: return "REFERENCE_EXT";
    case kPort: return "PORT_EXT";
    case kPid: return "PID_EXT";
    case kSmallTuple: return "SMALL_TUPLE_EXT";
    case kLargeTuple: return "LARGE_TUPLE_EXT";
    case kNil: return "NIL_EXT";
    case kString: return "STRING_EXT";
    case kList: return "LIST_EXT";
    case kBinary: return "BINARY_EXT";
    case kSmallBig: return "SMALL_BIG_EXT";
    case kLargeBig: return "LARGE_BIG_EXT";
    case kNewFun: return "NEW_FUN_EXT";
    case kExport: return "EXPORT_EXT";
    case kNewReference: return "NEW_REFERENCE_EXT";
    case kSmallAtom: return "SMALL_ATOM_EXT";
    case kMap: return "MAP_EXT";
    case kFun: return "FUN_EXT";
    case kAtomUtf8: return "ATOM_UTF8_EXT";
    case kSmallAtomUtf8: return "SMALL_ATOM_UTF8_EXT";
    case kV4Port: return "V4_PORT_EXT";
    default: return "tag " + std::to_string(tag);
  }
}

// Atoms repeat within and across messages (node names in every pid, record tags, map
// keys). A per-thread, direct-mapped cache from atom text to atom skips the atom table
// for them; atoms live forever, so an entry never goes stale. Names of 1 to 16 bytes.
class AtomTextCache {
 public:
  static constexpr std::size_t kMaxLength = 16;

  static AtomTextCache& for_this_thread() noexcept {
    thread_local AtomTextCache cache;
    return cache;
  }

  const Atom* find(bool latin1, const std::uint8_t* text, std::size_t length) noexcept {
    if (length == 0 || length > kMaxLength) return nullptr;
    const Key k = key(text, length, latin1);
    const Entry& e = entries_[slot(k)];
    if (e.key.tag != k.tag || e.key.low != k.low || e.key.high != k.high) return nullptr;
    return &e.atom;
  }

  void remember(bool latin1, const std::uint8_t* text, std::size_t length, Atom atom) noexcept {
    if (length == 0 || length > kMaxLength) return;
    const Key k = key(text, length, latin1);
    entries_[slot(k)] = Entry{k, atom};
  }

 private:
  // The text as two (possibly overlapping) 8-byte words plus its length: with the
  // length known, the words determine the text.
  struct Key {
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    std::uint32_t tag = 0;  // length * 2 + latin1; 0 marks an empty entry
  };
  struct Entry {
    Key key;
    Atom atom;
  };

  static std::uint64_t load(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, p, n);
    return v;
  }
  static Key key(const std::uint8_t* text, std::size_t length, bool latin1) noexcept {
    Key k;
    if (length >= 8) {
      k.low = load(text, 8);
      k.high = load(text + length - 8, 8);
    } else if (length >= 4) {
      k.low = load(text, 4);
      k.high = load(text + length - 4, 4);
    } else {
      k.low = load(text, length);
    }
    k.tag = static_cast<std::uint32_t>(length * 2 + (latin1 ? 1 : 0));
    return k;
  }
  static std::size_t slot(const Key& k) noexcept {
    return detail::mix64(k.low * 0x9E3779B97F4A7C15ull + k.high + k.tag) & (kEntries - 1);
  }

  static constexpr std::size_t kEntries = 256;
  Entry entries_[kEntries];
};

class Decoder {
 public:
  Decoder(std::span<const std::uint8_t> bytes, std::size_t offset, const DecodeOptions& options, const Term* shared)
      : base_(bytes.data()),
        pos_(offset),
        end_(bytes.size()),
        options_(options),
        shared_(shared),
        region_(std::min<std::size_t>((bytes.size() - offset) * 2, 4096)),
        atom_texts_(AtomTextCache::for_this_thread()) {}

  Term decode_body();
  std::size_t position() const noexcept { return pos_; }

 private:
  enum class FrameKind : std::uint8_t { Tuple, List, Map, Closure };
  struct Frame {
    Term* next = nullptr;  // next slot to fill
    Term* end = nullptr;   // one past the last slot
    Term* then = nullptr;  // one more slot after [next, end): a list's tail
    detail::Box* box = nullptr;
    std::size_t start = 0;  // offset of the container's tag
    FrameKind kind = FrameKind::Tuple;
  };

  [[noreturn, gnu::cold]] void fail(DecodeErrc code, std::size_t at, const std::string& detail) const {
    throw DecodeError(code, at, detail);
  }

  std::size_t left() const noexcept { return end_ - pos_; }

  void need(std::size_t n, std::uint8_t tag) const {
    if (n > left()) [[unlikely]]
      truncated(n, tag);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void truncated(std::size_t n, std::uint8_t tag) const {
    fail(DecodeErrc::Truncated, pos_,
         "truncated input: " + tag_name(tag) + " needs " + std::to_string(n) + " more bytes, " +
             std::to_string(left()) + " left");
  }

  // A count of elements, each at least `min_bytes` long, must fit in what is left.
  void need_elements(std::uint64_t count, std::size_t min_bytes, std::uint8_t tag, std::size_t at) const {
    if (count > left() / min_bytes) [[unlikely]]
      too_many(count, tag, at);
  }
  [[noreturn, gnu::cold, gnu::noinline]] void too_many(std::uint64_t count, std::uint8_t tag, std::size_t at) const {
    fail(DecodeErrc::BadLength, at,
         tag_name(tag) + " announces " + std::to_string(count) + " elements but only " + std::to_string(left()) +
             " bytes follow");
  }

  std::uint8_t u8() noexcept { return base_[pos_++]; }
  std::uint16_t u16() noexcept {
    const std::uint16_t v = detail::load_be16(base_ + pos_);
    pos_ += 2;
    return v;
  }
  std::uint32_t u32() noexcept {
    const std::uint32_t v = detail::load_be32(base_ + pos_);
    pos_ += 4;
    return v;
  }
  std::uint64_t u64() noexcept {
    const std::uint64_t v = detail::load_be64(base_ + pos_);
    pos_ += 8;
    return v;
  }

  std::uint8_t read_tag() {
    if (pos_ >= end_) [[unlikely]]
      fail(DecodeErrc::Truncated, pos_, "truncated input: expected a term tag, the input ended");
    return u8();
  }

  void store(Term* slot, Term value) noexcept { new (slot) Term(std::move(value)); }

  template <class B>
  B* box(BoxKind kind, std::size_t trailing_bytes = 0) {
    return region_.box<B>(kind, trailing_bytes);
  }

  Atom atom_body(std::uint8_t tag, std::size_t at);
  Atom read_atom(const char* field);
  std::uint32_t read_pid_into(detail::PidBox* pid, std::uint8_t tag);
  Term read_fun_integer(const char* field);
  Term read_big(std::uint8_t tag, std::size_t at);
  Term read_float_string(std::size_t at);
  Term read_binary(std::uint8_t tag, std::size_t at);
  Term make_pid(std::uint8_t tag);
  Term make_port(std::uint8_t tag);
  Term make_ref(std::uint8_t tag, std::size_t at);
  Term make_export(std::size_t at);
  void decode_one(Term* out);
  void push(FrameKind kind, detail::Box* box, Term* first, std::size_t count, Term* then, std::size_t start);
  void fill_leaves(Frame& frame) noexcept;
  void complete(const Frame& frame);
  void complete_map(const Frame& frame);

  const std::uint8_t* base_;
  std::size_t pos_;
  std::size_t end_;
  const DecodeOptions& options_;
  const Term* shared_;
  bool shared_kept_ = false;
  RegionBuilder region_;
  AtomTextCache& atom_texts_;
  detail::SmallStack<Frame, 16> stack_;
};

Atom Decoder::atom_body(std::uint8_t tag, std::size_t at) {
  std::size_t length;
  if (tag == kAtomCacheRef) {
    need(1, tag);
    const std::uint8_t index = u8();
    if (index >= options_.atom_cache.size())
      fail(DecodeErrc::BadAtomCacheRef, at,
           "ATOM_CACHE_REF " + std::to_string(index) + " has no entry (" + std::to_string(options_.atom_cache.size()) +
               " atoms in the distribution header)");
    return options_.atom_cache[index];
  }
  const bool small = tag == kSmallAtom || tag == kSmallAtomUtf8;
  need(small ? 1 : 2, tag);
  length = small ? u8() : u16();
  need(length, tag);
  const std::uint8_t* bytes = base_ + pos_;
  pos_ += length;
  const bool latin1 = tag == kAtom || tag == kSmallAtom;
  if (const Atom* cached = atom_texts_.find(latin1, bytes, length)) return *cached;
  const std::string_view text(reinterpret_cast<const char*>(bytes), length);
  try {
    if (latin1 && length > 255)
      fail(DecodeErrc::AtomTooLong, at, "atom of " + std::to_string(length) + " characters (max 255)");
    const Atom a = latin1 ? Atom::from_latin1(text) : Atom(text);
    atom_texts_.remember(latin1, bytes, length, a);
    return a;
  } catch (const AtomError& e) {
    const DecodeErrc code = e.kind() == AtomError::Kind::TableFull   ? DecodeErrc::AtomTableFull
                            : e.kind() == AtomError::Kind::TooLong ? DecodeErrc::AtomTooLong
                                                                     : DecodeErrc::InvalidUtf8;
    fail(code, at, e.what());
  }
}

Atom Decoder::read_atom(const char* field) {
  const std::size_t at = pos_;
  const std::uint8_t tag = read_tag();
  switch (tag) {
    case kAtom:
    case kSmallAtom:
    case kAtomUtf8:
    case kSmallAtomUtf8:
    case kAtomCacheRef:
      return atom_body(tag, at);
    default:
      fail(DecodeErrc::UnexpectedType, at, std::string("expected an atom for ") + field + ", got " + tag_name(tag));
  }
}

Term Decoder::make_pid(std::uint8_t tag) {
  auto* pid = box<detail::PidBox>(BoxKind::Pid);
  pid->node = read_atom("the node of a pid").index();
  need(tag == kPid ? 9 : 12, tag);
  pid->id = u32();
  pid->serial = u32();
  pid->creation = tag == kPid ? u8() : u32();
  return Term::adopt(pid);
}

Term Decoder::make_port(std::uint8_t tag) {
  auto* port = box<detail::PortBox>(BoxKind::Port);
  port->node = read_atom("the node of a port").index();
  need(tag == kPort ? 5 : (tag == kNewPort ? 8 : 12), tag);
  port->id = tag == kV4Port ? u64() : u32();
  port->creation = tag == kPort ? u8() : u32();
  return Term::adopt(port);
}

Term Decoder::make_ref(std::uint8_t tag, std::size_t at) {
  std::size_t words = 1;
  if (tag != kReference) {
    need(2, tag);
    words = u16();
    if (words < 1 || words > 5)
      fail(DecodeErrc::BadReference, at, tag_name(tag) + " with " + std::to_string(words) + " id words (1 to 5 allowed)");
  }
  auto* ref = box<detail::RefBox>(BoxKind::Ref);
  ref->node = read_atom("the node of a reference").index();
  ref->aux = static_cast<std::uint16_t>(words);
  if (tag == kReference) {
    need(5, tag);
    ref->words[0] = u32();
    ref->creation = u8();
  } else {
    const bool wide = tag == kNewerReference;
    need((wide ? 4 : 1) + 4 * words, tag);
    ref->creation = wide ? u32() : u8();
    for (std::size_t i = 0; i < words; ++i) ref->words[i] = u32();
  }
  std::fill(ref->words + words, ref->words + 5, 0u);
  return Term::adopt(ref);
}

Term Decoder::make_export(std::size_t at) {
  const Atom module = read_atom("the module of fun M:F/A");
  const Atom function = read_atom("the function of fun M:F/A");
  const std::size_t arity_at = pos_;
  if (read_tag() != kSmallInteger)
    fail(DecodeErrc::UnexpectedType, arity_at, "the arity of EXPORT_EXT must be a SMALL_INTEGER_EXT");
  need(1, kSmallInteger);
  auto* fun = box<detail::ExportFunBox>(BoxKind::ExportFun);
  fun->module = module.index();
  fun->function = function.index();
  fun->count = u8();
  (void)at;
  return Term::adopt(fun);
}

Term Decoder::read_fun_integer(const char* field) {
  const std::size_t at = pos_;
  const std::uint8_t tag = read_tag();
  if (tag == kSmallInteger) {
    need(1, tag);
    return Term(u8());
  }
  if (tag == kInteger) {
    need(4, tag);
    return Term(static_cast<std::int32_t>(u32()));
  }
  fail(DecodeErrc::UnexpectedType, at, std::string("expected an integer for ") + field + ", got " + tag_name(tag));
}

Term Decoder::read_big(std::uint8_t tag, std::size_t at) {
  need(tag == kSmallBig ? 2 : 5, tag);
  const std::size_t n = tag == kSmallBig ? u8() : u32();
  const std::uint8_t sign = u8();
  if (sign > 1) fail(DecodeErrc::BadLength, at, tag_name(tag) + " sign byte is " + std::to_string(sign) + " (0 or 1)");
  need(n, tag);
  const std::uint8_t* digits = base_ + pos_;
  pos_ += n;
  std::size_t used = n;
  while (used > 0 && digits[used - 1] == 0) --used;  // drop leading zero digits
  const std::size_t limb_count = (used + 7) / 8;
  if (limb_count <= 1) {
    std::uint64_t magnitude = 0;
    for (std::size_t i = used; i-- > 0;) magnitude = (magnitude << 8) | digits[i];
    if (sign == 0 && magnitude <= static_cast<std::uint64_t>(Term::kMaxSmall))
      return Term(static_cast<std::int64_t>(magnitude));
    if (sign == 1 && magnitude <= (std::uint64_t{1} << 62)) return Term(-static_cast<std::int64_t>(magnitude));
  }
  auto* big = box<detail::BigIntBox>(BoxKind::BigInt, limb_count * 8);
  big->count = static_cast<std::uint32_t>(limb_count);
  big->aux = sign;
  auto* limbs = detail::trailing<std::uint64_t>(big);
  std::fill(limbs, limbs + limb_count, 0);
  for (std::size_t i = 0; i < used; ++i) limbs[i / 8] |= std::uint64_t{digits[i]} << (8 * (i % 8));
  return Term::adopt(big);
}

Term Decoder::read_float_string(std::size_t at) {
  need(31, kFloat);
  const char* text = reinterpret_cast<const char*>(base_ + pos_);
  pos_ += 31;
  std::size_t length = 0;
  while (length < 31 && text[length] != '\0') ++length;
  std::size_t first = 0;
  while (first < length && text[first] == ' ') ++first;
  double value = 0;
  const auto [end, ec] = std::from_chars(text + first, text + length, value);
  if (ec != std::errc() || first == length)
    fail(DecodeErrc::BadFloat, at, "FLOAT_EXT does not hold a number: \"" + std::string(text, length) + "\"");
  for (const char* p = end; p < text + length; ++p)
    if (*p != ' ') fail(DecodeErrc::BadFloat, at, "FLOAT_EXT has junk after the number: \"" + std::string(text, length) + "\"");
  if (!std::isfinite(value)) fail(DecodeErrc::NonFiniteFloat, at, "FLOAT_EXT holds a non-finite float");
  auto* f = box<detail::FloatBox>(BoxKind::Float);
  f->value = value;
  return Term::adopt(f);
}

Term Decoder::read_binary(std::uint8_t tag, std::size_t at) {
  need(tag == kBinary ? 4 : 5, tag);
  const std::uint32_t length = u32();
  unsigned bits = 8;
  if (tag == kBitBinary) {
    bits = u8();
    if (bits > 8 || (bits == 0) != (length == 0))
      fail(DecodeErrc::BadBitstring, at,
           "BIT_BINARY_EXT with " + std::to_string(length) + " bytes cannot use " + std::to_string(bits) +
               " bits of its last byte");
    if (length == 0) bits = 8;
  }
  need(length, tag);
  const std::uint8_t* data = base_ + pos_;
  pos_ += length;
  auto* bin = box<detail::BinaryBox>(BoxKind::Binary, 0);
  bin->count = length;
  bin->aux = static_cast<std::uint16_t>(bits == 8 ? 0 : bits);
  if (shared_ != nullptr && bits == 8 && length > options_.share_binaries_over) {
    if (!shared_kept_) {
      region_.keep_alive(*shared_);
      shared_kept_ = true;
    }
    bin->data = data;
  } else {
    auto* copy = static_cast<std::uint8_t*>(region_.allocate(length));
    if (length != 0) std::memcpy(copy, data, length);
    if (bits != 8) copy[length - 1] &= static_cast<std::uint8_t>(0xFF << (8 - bits));
    bin->data = copy;
  }
  return Term::adopt(bin);
}

void Decoder::push(FrameKind kind, detail::Box* box, Term* first, std::size_t count, Term* then, std::size_t start) {
  if (stack_.size() >= options_.max_depth)
    fail(DecodeErrc::TooDeep, start, "terms nested deeper than " + std::to_string(options_.max_depth));
  stack_.push_back(Frame{first, first + count, then, box, start, kind});
}

// The hot loop of decoding: fills a container's slots with leaves that need no
// allocation (integers that fit, cached atoms, []) using a local cursor, and stops at
// the first anything else, including truncated input, which `decode_one` then handles
// (and reports) in full.
void Decoder::fill_leaves(Frame& frame) noexcept {
  Term* next = frame.next;
  Term* const end = frame.end;
  const std::uint8_t* const base = base_;
  const std::size_t limit = end_;
  std::size_t pos = pos_;
  while (next != end) {
    const std::size_t avail = limit - pos;
    if (avail == 0) break;
    const std::uint8_t tag = base[pos];
    if (tag == kInteger) {
      if (avail < 5) break;
      new (next++) Term(static_cast<std::int32_t>(detail::load_be32(base + pos + 1)));
      pos += 5;
    } else if (tag == kSmallInteger) {
      if (avail < 2) break;
      new (next++) Term(base[pos + 1]);
      pos += 2;
    } else if (tag == kSmallAtomUtf8 || tag == kSmallAtom || tag == kAtom) {
      const std::size_t header = tag == kAtom ? 3 : 2;
      if (avail < header) break;
      const std::size_t length = tag == kAtom ? detail::load_be16(base + pos + 1) : base[pos + 1];
      if (avail - header < length) break;
      const Atom* cached = atom_texts_.find(tag != kSmallAtomUtf8, base + pos + header, length);
      if (cached == nullptr) break;
      new (next++) Term(*cached);
      pos += header + length;
    } else if (tag == kNil) {
      new (next++) Term();
      pos += 1;
    } else {
      break;
    }
  }
  frame.next = next;
  pos_ = pos;
}

void Decoder::decode_one(Term* out) {
  for (;;) {  // loops only through empty LIST_EXTs, whose value is their tail
    const std::size_t at = pos_;
    const std::uint8_t tag = read_tag();
    switch (tag) {
      case kSmallInteger:
        need(1, tag);
        return store(out, Term(u8()));
      case kInteger:
        need(4, tag);
        return store(out, Term(static_cast<std::int32_t>(u32())));
      case kSmallBig:
      case kLargeBig:
        return store(out, read_big(tag, at));
      case kNewFloat: {
        need(8, tag);
        const double value = std::bit_cast<double>(u64());
        if (!std::isfinite(value)) fail(DecodeErrc::NonFiniteFloat, at, "NEW_FLOAT_EXT holds a non-finite float");
        auto* f = box<detail::FloatBox>(BoxKind::Float);
        f->value = value;
        return store(out, Term::adopt(f));
      }
      case kFloat:
        return store(out, read_float_string(at));
      case kAtom:
      case kSmallAtom:
      case kAtomUtf8:
      case kSmallAtomUtf8:
      case kAtomCacheRef:
        return store(out, Term(atom_body(tag, at)));
      case kNil:
        return store(out, Term());
      case kString: {
        need(2, tag);
        const std::size_t length = u16();
        need(length, tag);
        if (length == 0) return store(out, Term());
        auto* list = box<detail::ListBox>(BoxKind::List, length * sizeof(Term));
        list->count = static_cast<std::uint32_t>(length);
        Term* cells = detail::trailing<Term>(list);
        for (std::size_t i = 0; i < length; ++i) store(&cells[i], Term(base_[pos_ + i]));
        pos_ += length;
        list->elements = cells;
        return store(out, Term::adopt(list));
      }
      case kList: {
        need(4, tag);
        const std::uint32_t length = u32();
        need_elements(std::uint64_t{length} + 1, 1, tag, at);  // the elements and the tail
        if (length == 0) continue;                             // [] ++ Tail is Tail
        auto* list = box<detail::ListBox>(BoxKind::List, std::size_t{length} * sizeof(Term));
        list->count = length;
        Term* cells = detail::trailing<Term>(list);
        list->elements = cells;
        store(out, Term::adopt(list));
        return push(FrameKind::List, list, cells, length, &list->tail, at);
      }
      case kSmallTuple:
      case kLargeTuple: {
        need(tag == kSmallTuple ? 1 : 4, tag);
        const std::uint32_t arity = tag == kSmallTuple ? u8() : u32();
        need_elements(arity, 1, tag, at);
        auto* tuple = box<detail::TupleBox>(BoxKind::Tuple, std::size_t{arity} * sizeof(Term));
        tuple->count = arity;
        store(out, Term::adopt(tuple));
        if (arity == 0) return;
        return push(FrameKind::Tuple, tuple, detail::trailing<Term>(tuple), arity, nullptr, at);
      }
      case kMap: {
        need(4, tag);
        const std::uint32_t pairs = u32();
        need_elements(pairs, 2, tag, at);
        auto* map = box<detail::MapBox>(BoxKind::Map, std::size_t{pairs} * 2 * sizeof(Term));
        map->count = pairs;
        store(out, Term::adopt(map));
        if (pairs == 0) return;
        // Pairs arrive as K1, V1, K2, V2...; `complete_map` sorts them into keys, then values.
        return push(FrameKind::Map, map, detail::trailing<Term>(map), std::size_t{pairs} * 2, nullptr, at);
      }
      case kBinary:
      case kBitBinary:
        return store(out, read_binary(tag, at));
      case kPid:
      case kNewPid:
        return store(out, make_pid(tag));
      case kPort:
      case kNewPort:
      case kV4Port:
        return store(out, make_port(tag));
      case kReference:
      case kNewReference:
      case kNewerReference:
        return store(out, make_ref(tag, at));
      case kExport:
        return store(out, make_export(at));
      case kNewFun: {
        const std::size_t size_at = pos_;
        need(4 + 1 + 16 + 4 + 4, tag);
        const std::uint32_t size = u32();
        if (size > end_ - size_at)
          fail(DecodeErrc::BadLength, at,
               "NEW_FUN_EXT announces " + std::to_string(size) + " bytes but only " + std::to_string(end_ - size_at) +
                   " follow");
        const std::uint8_t arity = u8();
        std::uint8_t uniq[16];
        std::memcpy(uniq, base_ + pos_, 16);
        pos_ += 16;
        const std::uint32_t index = u32();
        const std::uint32_t free_count = u32();
        const Atom module = read_atom("the module of a fun");
        Term old_index = read_fun_integer("OldIndex of a fun");
        Term old_uniq = read_fun_integer("OldUniq of a fun");
        const std::size_t pid_at = pos_;
        const std::uint8_t pid_tag = read_tag();
        if (pid_tag != kPid && pid_tag != kNewPid)
          fail(DecodeErrc::UnexpectedType, pid_at, "expected a pid for the creator of a fun, got " + tag_name(pid_tag));
        Term pid = make_pid(pid_tag);
        need_elements(free_count, 1, tag, at);
        auto* fun = box<detail::ClosureBox>(BoxKind::Closure, std::size_t{free_count} * sizeof(Term));
        fun->count = free_count;
        fun->module = module.index();
        fun->arity = arity;
        fun->index = index;
        std::memcpy(fun->uniq, uniq, 16);
        fun->old_index = std::move(old_index);
        fun->old_uniq = std::move(old_uniq);
        fun->pid = std::move(pid);
        store(out, Term::adopt(fun));
        // The frame's `start` is where the size field begins, for the size check.
        push(FrameKind::Closure, fun, detail::trailing<Term>(fun), free_count, nullptr, size_at);
        if (free_count == 0) {
          complete(stack_.back());
          stack_.pop_back();
        }
        return;
      }
      case kFun:
        fail(DecodeErrc::UnknownTag, at, "FUN_EXT (117) is no longer decoded by Erlang (removed in OTP 23)");
      case kLocal:
        fail(DecodeErrc::UnknownTag, at, "LOCAL_EXT (121) can only be decoded by the node that encoded it");
      case kCompressed:
        fail(DecodeErrc::UnknownTag, at, "a compressed term (80) may only appear at the top level");
      default:
        fail(DecodeErrc::UnknownTag, at, "unknown term tag " + std::to_string(tag));
    }
  }
}

void Decoder::complete(const Frame& frame) {
  if (frame.kind == FrameKind::Map) return complete_map(frame);
  if (frame.kind == FrameKind::Closure) {
    const std::uint32_t size = detail::load_be32(base_ + frame.start);
    if (pos_ - frame.start != size)
      fail(DecodeErrc::BadFun, frame.start,
           "NEW_FUN_EXT size field says " + std::to_string(size) + " bytes, its contents took " +
               std::to_string(pos_ - frame.start));
  }
}

// Rearranges `n` interleaved pairs (K1, V1, K2, V2, ...) into keys then values, taking
// pair `order[i]` (or pair i when `order` is null) for position i. Terms inside a region
// own nothing, so this moves words.
void sort_pairs_into_place(Term* slots, std::size_t n, const std::uint32_t* order) {
  constexpr std::size_t kInline = 32;
  Term inline_buffer[2 * kInline];
  std::vector<Term> heap_buffer;
  Term* temp = inline_buffer;
  if (n > kInline) {
    heap_buffer.resize(2 * n);
    temp = heap_buffer.data();
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t pair = order != nullptr ? order[i] : i;
    temp[i].swap(slots[2 * pair]);
    temp[n + i].swap(slots[2 * pair + 1]);
  }
  for (std::size_t i = 0; i < 2 * n; ++i) slots[i].swap(temp[i]);
}

void Decoder::complete_map(const Frame& frame) {
  auto* map = static_cast<detail::MapBox*>(frame.box);
  const std::size_t n = map->count;
  Term* slots = detail::trailing<Term>(map);  // K1, V1, K2, V2, ...
  const auto key = [slots](std::size_t i) -> const Term& { return slots[2 * i]; };

  // OTP sends maps of up to 32 keys already in key order: check that first.
  bool sorted = true;
  bool small_keys = key(0).is_small();
  for (std::size_t i = 1; i < n && sorted; ++i) {
    small_keys = small_keys && key(i).is_small();
    sorted = exact_compare(key(i - 1), key(i)) < 0;
  }
  if (sorted) return sort_pairs_into_place(slots, n, nullptr);

  // Larger maps arrive in hash order. Integer keys (the common case) sort as plain
  // numbers; anything else through the exact term order.
  for (std::size_t i = 0; i < n && small_keys; ++i) small_keys = key(i).is_small();
  std::vector<std::uint32_t> order(n);
  if (small_keys) {
    // A small integer's word, with the sign bit flipped, orders as an unsigned number.
    std::vector<detail::KeyedIndex> keyed(n);
    for (std::size_t i = 0; i < n; ++i)
      keyed[i] = {key(i).raw() ^ (std::uint64_t{1} << 63), static_cast<std::uint32_t>(i)};
    detail::radix_sort(keyed);
    for (std::size_t i = 0; i < n; ++i) order[i] = keyed[i].second;
  } else {
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return exact_compare(key(a), key(b)) < 0; });
  }
  for (std::size_t i = 1; i < n; ++i)
    if (key(order[i - 1]) == key(order[i]))
      fail(DecodeErrc::DuplicateMapKey, frame.start, "map has the key " + key(order[i]).to_string() + " twice");
  sort_pairs_into_place(slots, n, order.data());
}

Term Decoder::decode_body() {
  Term root;
  Term* out = &root;
  for (;;) {
    decode_one(out);
    for (;;) {
      if (stack_.empty()) return region_.finish(std::move(root));
      Frame& top = stack_.back();
      if (top.next != top.end) {
        fill_leaves(top);
        if (top.next != top.end) {
          out = top.next++;
          break;
        }
        continue;
      }
      if (top.then != nullptr) {
        out = std::exchange(top.then, nullptr);
        break;
      }
      complete(top);
      stack_.pop_back();
    }
  }
}

Term decode_all(std::span<const std::uint8_t> bytes, std::size_t offset, const DecodeOptions& options,
                const Term* shared, std::size_t& end_offset) {
  Decoder decoder(bytes, offset, options, shared);
  Term term = decoder.decode_body();
  end_offset = decoder.position();
  return term;
}

Term inflate_and_decode(std::span<const std::uint8_t> bytes, const DecodeOptions& options) {
  if (bytes.size() < 6) throw DecodeError(DecodeErrc::Truncated, bytes.size(), "truncated compressed term header");
  const std::uint32_t size = detail::load_be32(bytes.data() + 2);
  if (size > options.max_decompressed_size)
    throw DecodeError(DecodeErrc::TooLarge, 2,
                      "compressed term announces " + std::to_string(size) + " bytes; the limit is " +
                          std::to_string(options.max_decompressed_size));
  std::uint8_t* data;
  Term inflated = binary_uninitialized(size, data);
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK) throw std::bad_alloc();
  stream.next_in = const_cast<Bytef*>(bytes.data() + 6);
  stream.avail_in = static_cast<uInt>(bytes.size() - 6);
  stream.next_out = data;
  stream.avail_out = size;
  const int status = inflate(&stream, Z_FINISH);
  const std::size_t consumed = 6 + (bytes.size() - 6 - stream.avail_in);
  const std::size_t produced = stream.total_out;
  inflateEnd(&stream);
  if (status != Z_STREAM_END)
    throw DecodeError(DecodeErrc::BadCompressed, consumed,
                      produced == size ? "compressed term inflates to more than its announced " + std::to_string(size) +
                                             " bytes"
                                       : "compressed term is not valid zlib data (inflated " +
                                             std::to_string(produced) + " of " + std::to_string(size) + " bytes)");
  if (produced != size)
    throw DecodeError(DecodeErrc::BadCompressed, consumed,
                      "compressed term inflates to " + std::to_string(produced) + " bytes, not the announced " +
                          std::to_string(size));
  if (consumed != bytes.size())
    throw DecodeError(DecodeErrc::TrailingBytes, consumed,
                      std::to_string(bytes.size() - consumed) + " bytes follow the compressed term");
  std::size_t end = 0;
  const std::span<const std::uint8_t> body(data, size);
  try {
    Term term = decode_all(body, 0, options, &inflated, end);
    if (end != size)
      throw DecodeError(DecodeErrc::TrailingBytes, end, std::to_string(size - end) + " bytes follow the term");
    return term;
  } catch (const DecodeError& e) {
    throw DecodeError(e.code(), e.offset(), "in the inflated data of a compressed term: " + e.detail());
  }
}

Term decode_whole(std::span<const std::uint8_t> bytes, const DecodeOptions& options, const Term* shared) {
  if (bytes.empty()) throw DecodeError(DecodeErrc::Truncated, 0, "empty input: expected version byte 131");
  if (bytes[0] != kVersion)
    throw DecodeError(DecodeErrc::BadVersion, 0,
                      "expected version byte 131, got " + std::to_string(bytes[0]));
  if (bytes.size() > 1 && bytes[1] == kCompressed) return inflate_and_decode(bytes, options);
  std::size_t end = 0;
  Term term = decode_all(bytes, 1, options, shared, end);
  if (end != bytes.size())
    throw DecodeError(DecodeErrc::TrailingBytes, end, std::to_string(bytes.size() - end) + " bytes follow the term");
  return term;
}

}  // namespace

Term decode(std::span<const std::uint8_t> bytes, const DecodeOptions& options) {
  return decode_whole(bytes, options, nullptr);
}

Term decode(const Term& buffer, const DecodeOptions& options) {
  return decode_whole(buffer.as_binary().bytes(), options, &buffer);
}

Term decode_body(std::span<const std::uint8_t> bytes, std::size_t& offset, const DecodeOptions& options,
                 const Term* shared) {
  std::size_t end = 0;
  Term term = decode_all(bytes, offset, options, shared, end);
  offset = end;
  return term;
}

}  // namespace spindle::etf
