// Term construction, destruction, accessors and views.

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "box_alloc.hpp"
#include "local_process.hpp"
#include "small_stack.hpp"
#include "spindle/term.hpp"
#include "utf8.hpp"

namespace spindle {
namespace detail {

// ----- regions -----

namespace {
constexpr std::size_t kMinChunk = 256;
constexpr std::size_t kMaxGrowChunk = std::size_t{1} << 20;
constexpr std::uint64_t kBuildingBias = std::uint64_t{1} << 62;

std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }
}  // namespace

RegionBuilder::RegionBuilder(std::size_t expected_bytes) {
  const std::size_t header = align8(sizeof(Region));
  const std::size_t size = std::clamp(expected_bytes + header, kMinChunk, kMaxGrowChunk);
  void* chunk = ::spindle::detail::allocate(size);  // not RegionBuilder::allocate
  // Until `finish`, the count holds a bias no stray release can exhaust, so temporary
  // terms made while building (and dropped on an error path) never free the region.
  region_ = new (chunk) Region{kBuildingBias, nullptr, Term()};
  next_ = static_cast<std::byte*>(chunk) + header;
  left_ = size - header;
  last_chunk_size_ = size;
}

RegionBuilder::~RegionBuilder() {
  if (region_ != nullptr) free_region(region_);
}

void RegionBuilder::add_chunk(std::size_t min_bytes) {
  const std::size_t header = align8(sizeof(void*));
  const std::size_t size = std::max(min_bytes + header, std::min(last_chunk_size_ * 2, kMaxGrowChunk));
  void* chunk = ::spindle::detail::allocate(size);  // not RegionBuilder::allocate
  *static_cast<void**>(chunk) = region_->more_chunks;
  region_->more_chunks = chunk;
  next_ = static_cast<std::byte*>(chunk) + header;
  left_ = size - header;
  last_chunk_size_ = size;
}

void* RegionBuilder::allocate(std::size_t bytes) {
  bytes = align8(bytes);
  if (bytes > left_) add_chunk(bytes);
  void* p = next_;
  next_ += bytes;
  left_ -= bytes;
  used_ = true;
  return p;
}

Term RegionBuilder::finish(Term root) noexcept {
  if (!used_ || !root.is_boxed()) return root;  // the destructor frees an unused region
  std::atomic_ref(region_->refs).store(1, std::memory_order_release);  // the reference `root` holds
  region_ = nullptr;
  return root;
}

void free_region(Region* region) noexcept {
  void* chunk = region->more_chunks;
  while (chunk != nullptr) {
    void* next = *static_cast<void**>(chunk);
    deallocate(chunk);
    chunk = next;
  }
  region->~Region();
  deallocate(region);
}

// ----- standalone boxes -----
//
// Freeing works through a worklist: a child whose last reference goes with its parent
// is queued rather than freed by recursion, so deep or long terms cannot exhaust the stack.

namespace {

using Worklist = SmallStack<Box*, 16>;

// Drops the reference held in `slot` (storage being freed), queueing the box it
// pointed to if that was the last reference.
void drop(const Term& slot, Worklist& pending) {
  if (!slot.is_boxed()) return;
  Box* box = const_cast<Term&>(slot).detach();
  if (std::atomic_ref(box->counter()).fetch_sub(1, std::memory_order_acq_rel) == 1) pending.push_back(box);
}

void drop_all(const Term* terms, std::size_t n, Worklist& pending) {
  for (std::size_t i = 0; i < n; ++i) drop(terms[i], pending);
}

void free_one(Box* box, Worklist& pending) {
  if (box->flags & kBoxInRegion) return free_region(reinterpret_cast<Region*>(box->region_refs));
  if (box->flags & kBoxLocalProcess) return free_local_process(static_cast<PidBox*>(box));
  switch (box->kind) {
    case BoxKind::Binary:
      drop(static_cast<BinaryBox*>(box)->owner, pending);
      break;
    case BoxKind::Tuple:
      drop_all(static_cast<TupleBox*>(box)->elements(), box->count, pending);
      break;
    case BoxKind::List: {
      auto* run = static_cast<ListBox*>(box);
      if (run->owner.is_nil()) drop_all(run->elements, run->count, pending);  // else the owner holds them
      drop(run->owner, pending);
      drop(run->tail, pending);
      break;
    }
    case BoxKind::Map:
      drop_all(static_cast<MapBox*>(box)->keys(), std::size_t{box->count} * 2, pending);
      break;
    case BoxKind::Closure: {
      auto* fun = static_cast<ClosureBox*>(box);
      drop_all(fun->free_vars(), fun->count, pending);
      drop(fun->pid, pending);
      break;
    }
    case BoxKind::Float:
    case BoxKind::BigInt:
    case BoxKind::Pid:
    case BoxKind::Port:
    case BoxKind::Ref:
    case BoxKind::ExportFun:
      break;
  }
  // Every term member has been detached, so nothing is left to destroy but the memory.
  deallocate(box);
}

}  // namespace

void free_box(Box* box) noexcept {
  Worklist pending;
  pending.push_back(box);
  while (!pending.empty()) {
    Box* next = pending.back();
    pending.pop_back();
    free_one(next, pending);
  }
}

}  // namespace detail

using detail::BoxKind;

// ----- errors and type names -----

std::string_view type_name(TermType type) noexcept {
  switch (type) {
    case TermType::Integer: return "integer";
    case TermType::Float: return "float";
    case TermType::Atom: return "atom";
    case TermType::Reference: return "reference";
    case TermType::Fun: return "fun";
    case TermType::Port: return "port";
    case TermType::Pid: return "pid";
    case TermType::Tuple: return "tuple";
    case TermType::Map: return "map";
    case TermType::Nil: return "nil";
    case TermType::List: return "list";
    case TermType::Bitstring: return "bitstring";
  }
  return "?";
}

BadTermAccess::BadTermAccess(std::string_view expected, TermType actual)
    : std::runtime_error("expected " + std::string(expected) + ", got " + std::string(type_name(actual))) {}

// ----- Term -----

Term::Term(double value) {
  if (!std::isfinite(value)) throw std::domain_error("Erlang floats are finite (no NaN or infinity)");
  auto* box = detail::new_box<detail::FloatBox>(BoxKind::Float);
  box->value = value;
  raw_ = reinterpret_cast<std::uint64_t>(box);
}

Term Term::big_from_int64(std::int64_t v) {
  // The magnitude of INT64_MIN does not fit in int64; compute it in unsigned arithmetic.
  const std::uint64_t magnitude = v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
  return integer_from_limbs(v < 0, std::span<const std::uint64_t>(&magnitude, 1));
}

Term Term::big_from_uint64(std::uint64_t v) {
  return integer_from_limbs(false, std::span<const std::uint64_t>(&v, 1));
}

TermType Term::type() const noexcept {
  if (is_small()) return TermType::Integer;
  switch (raw_ & kTagMask) {
    case kTagAtom: return TermType::Atom;
    case kTagBox: break;
    default: return TermType::Nil;
  }
  switch (box()->kind) {
    case BoxKind::Float: return TermType::Float;
    case BoxKind::BigInt: return TermType::Integer;
    case BoxKind::Binary: return TermType::Bitstring;
    case BoxKind::Tuple: return TermType::Tuple;
    case BoxKind::List: return TermType::List;
    case BoxKind::Map: return TermType::Map;
    case BoxKind::Pid: return TermType::Pid;
    case BoxKind::Port: return TermType::Port;
    case BoxKind::Ref: return TermType::Reference;
    case BoxKind::ExportFun:
    case BoxKind::Closure: return TermType::Fun;
  }
  return TermType::Nil;
}

Atom Term::as_atom() const {
  if (!is_atom()) throw BadTermAccess("atom", type());
  return Atom::from_index(static_cast<std::uint32_t>(raw_ >> 3));
}

std::optional<std::int64_t> Term::to_int64() const noexcept {
  if (is_small()) return static_cast<std::int64_t>(raw_) >> 1;
  if (!is_box(BoxKind::BigInt)) return std::nullopt;
  const auto* big = static_cast<const detail::BigIntBox*>(box());
  if (big->count != 1) return std::nullopt;
  const std::uint64_t magnitude = big->limbs()[0];
  if (big->aux) {
    if (magnitude > (std::uint64_t{1} << 63)) return std::nullopt;
    return static_cast<std::int64_t>(~magnitude + 1);
  }
  if (magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  return static_cast<std::int64_t>(magnitude);
}

std::int64_t Term::as_int() const {
  if (auto v = to_int64()) return *v;
  if (is_integer()) throw BadTermAccess("an integer that fits in 64 bits: " + to_string());
  throw BadTermAccess("integer", type());
}

double Term::as_float() const {
  if (!is_float()) throw BadTermAccess("float", type());
  return static_cast<const detail::FloatBox*>(box())->value;
}

double Term::to_double() const {
  if (is_float()) return static_cast<const detail::FloatBox*>(box())->value;
  if (is_small()) return static_cast<double>(static_cast<std::int64_t>(raw_) >> 1);
  if (!is_box(BoxKind::BigInt)) throw BadTermAccess("number", type());
  const auto* big = static_cast<const detail::BigIntBox*>(box());
  double value = 0;
  for (std::uint32_t i = big->count; i-- > 0;) value = value * 18446744073709551616.0 + static_cast<double>(big->limbs()[i]);
  return big->aux ? -value : value;
}

TupleView Term::as_tuple() const {
  if (!is_tuple()) throw BadTermAccess("tuple", type());
  return TupleView(static_cast<const detail::TupleBox*>(box()));
}

ListView Term::as_list() const {
  if (is_nil()) return ListView(nullptr);
  if (!is_cons()) throw BadTermAccess("list", type());
  return ListView(static_cast<const detail::ListBox*>(box()));
}

MapView Term::as_map() const {
  if (!is_map()) throw BadTermAccess("map", type());
  return MapView(static_cast<const detail::MapBox*>(box()));
}

BinaryView Term::as_bitstring() const {
  if (!is_bitstring()) throw BadTermAccess("bitstring", type());
  return BinaryView(static_cast<const detail::BinaryBox*>(box()));
}

BinaryView Term::as_binary() const {
  if (!is_binary()) throw BadTermAccess(is_bitstring() ? "a binary (whole bytes)" : "binary", type());
  return BinaryView(static_cast<const detail::BinaryBox*>(box()));
}

Pid Term::as_pid() const { return Pid(*this); }
Ref Term::as_ref() const { return Ref(*this); }
Port Term::as_port() const { return Port(*this); }

FunView Term::as_fun() const {
  if (!is_fun()) throw BadTermAccess("fun", type());
  return FunView(box());
}

BigIntView Term::as_bigint() const {
  if (!is_box(BoxKind::BigInt)) throw BadTermAccess("big integer", type());
  return BigIntView(static_cast<const detail::BigIntBox*>(box()));
}

// ----- views -----

const Term& TupleView::at(std::size_t i) const {
  if (i >= size())
    throw std::out_of_range("tuple element " + std::to_string(i) + " of a tuple of size " + std::to_string(size()));
  return (*this)[i];
}

namespace {
const Term kNil;
}

std::size_t ListView::length() const noexcept {
  std::size_t n = 0;
  for (const detail::ListBox* run = run_; run != nullptr;) {
    n += run->count;
    run = run->tail.is_cons() ? static_cast<const detail::ListBox*>(run->tail.box()) : nullptr;
  }
  return n;
}

const Term& ListView::tail() const noexcept {
  if (run_ == nullptr) return kNil;
  const detail::ListBox* run = run_;
  while (run->tail.is_cons()) run = static_cast<const detail::ListBox*>(run->tail.box());
  return run->tail;
}

const Term& ListView::head() const {
  if (run_ == nullptr) throw BadTermAccess("hd/1 of []: the list is empty");
  return run_->elements[0];
}

Term ListView::rest() const {
  if (run_ == nullptr) throw BadTermAccess("tl/1 of []: the list is empty");
  if (run_->count == 1) return run_->tail;
  auto* slice = detail::new_box<detail::ListBox>(BoxKind::List);
  slice->count = run_->count - 1;
  slice->elements = run_->elements + 1;
  slice->tail = run_->tail;
  slice->owner = Term::share(run_);
  return Term::adopt(slice);
}

std::vector<Term> ListView::to_vector() const {
  std::vector<Term> out;
  out.reserve(length());
  for (const Term& t : *this) out.push_back(t);
  return out;
}

const Term* MapView::find(const Term& key) const noexcept {
  const Term* keys = box_->keys();
  std::size_t lo = 0;
  std::size_t hi = box_->count;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const auto c = exact_compare(keys[mid], key);
    if (c == 0) return &box_->values()[mid];
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return nullptr;
}

Atom FunView::module() const noexcept {
  if (is_export()) return Atom::from_index(static_cast<const detail::ExportFunBox*>(box_)->module);
  return Atom::from_index(static_cast<const detail::ClosureBox*>(box_)->module);
}

std::uint32_t FunView::arity() const noexcept {
  if (is_export()) return box_->count;
  return static_cast<const detail::ClosureBox*>(box_)->arity;
}

Atom FunView::function() const {
  if (!is_export()) throw BadTermAccess("an export fun (fun M:F/A), got a closure");
  return Atom::from_index(static_cast<const detail::ExportFunBox*>(box_)->function);
}

const detail::ClosureBox& FunView::closure() const {
  if (is_export()) throw BadTermAccess("a closure, got an export fun (fun M:F/A)");
  return *static_cast<const detail::ClosureBox*>(box_);
}

// ----- identifiers -----

Pid::Pid(Atom node, std::uint32_t id, std::uint32_t serial, std::uint32_t creation) {
  auto* box = detail::new_box<detail::PidBox>(BoxKind::Pid);
  box->node = node.index();
  box->id = id;
  box->serial = serial;
  box->creation = creation;
  term_ = Term::adopt(box);
}

Pid::Pid(Term term) : term_(std::move(term)) {
  if (!term_.is_pid()) throw BadTermAccess("pid", term_.type());
}

Ref::Ref(Atom node, std::uint32_t creation, std::span<const std::uint32_t> words) {
  if (words.empty() || words.size() > 5) throw std::invalid_argument("a reference has 1 to 5 id words");
  auto* box = detail::new_box<detail::RefBox>(BoxKind::Ref);
  box->node = node.index();
  box->creation = creation;
  box->aux = static_cast<std::uint16_t>(words.size());
  std::fill(std::begin(box->words), std::end(box->words), 0u);
  std::copy(words.begin(), words.end(), box->words);
  term_ = Term::adopt(box);
}

Ref::Ref(Term term) : term_(std::move(term)) {
  if (!term_.is_ref()) throw BadTermAccess("reference", term_.type());
}

Port::Port(Atom node, std::uint64_t id, std::uint32_t creation) {
  auto* box = detail::new_box<detail::PortBox>(BoxKind::Port);
  box->node = node.index();
  box->creation = creation;
  box->id = id;
  term_ = Term::adopt(box);
}

Port::Port(Term term) : term_(std::move(term)) {
  if (!term_.is_port()) throw BadTermAccess("port", term_.type());
}

// ----- builders -----

Term tuple_from(std::span<const Term> elements) {
  auto* box = detail::new_box<detail::TupleBox>(BoxKind::Tuple, elements.size() * sizeof(Term));
  box->count = static_cast<std::uint32_t>(elements.size());
  Term* out = detail::trailing<Term>(box);
  for (std::size_t i = 0; i < elements.size(); ++i) new (&out[i]) Term(elements[i]);
  return Term::adopt(box);
}

Term list_from(std::span<const Term> elements, Term tail) {
  if (elements.empty()) return tail;
  auto* box = detail::new_box<detail::ListBox>(BoxKind::List, elements.size() * sizeof(Term));
  box->count = static_cast<std::uint32_t>(elements.size());
  Term* out = detail::trailing<Term>(box);
  for (std::size_t i = 0; i < elements.size(); ++i) new (&out[i]) Term(elements[i]);
  box->elements = out;
  box->tail = std::move(tail);
  return Term::adopt(box);
}

Term cons(Term head, Term tail) { return list_from(std::span<const Term>(&head, 1), std::move(tail)); }

Term map_from(std::vector<std::pair<Term, Term>> pairs) {
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return exact_compare(a.first, b.first) < 0; });
  // Of equal keys keep the last one written, as Erlang's map syntax does.
  std::vector<std::pair<Term, Term>> unique;
  unique.reserve(pairs.size());
  for (auto& p : pairs) {
    if (!unique.empty() && unique.back().first == p.first) {
      unique.back().second = std::move(p.second);
    } else {
      unique.push_back(std::move(p));
    }
  }
  const std::size_t n = unique.size();
  auto* box = detail::new_box<detail::MapBox>(BoxKind::Map, 2 * n * sizeof(Term));
  box->count = static_cast<std::uint32_t>(n);
  Term* out = detail::trailing<Term>(box);
  for (std::size_t i = 0; i < n; ++i) {
    new (&out[i]) Term(std::move(unique[i].first));
    new (&out[n + i]) Term(std::move(unique[i].second));
  }
  return Term::adopt(box);
}

Term map(std::initializer_list<std::pair<Term, Term>> pairs) {
  return map_from(std::vector<std::pair<Term, Term>>(pairs));
}

Term binary_uninitialized(std::size_t size, std::uint8_t*& data) {
  if (size > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("a binary holds at most 4 GiB in the external term format");
  auto* box = detail::new_box<detail::BinaryBox>(BoxKind::Binary, size);
  box->count = static_cast<std::uint32_t>(size);
  data = detail::trailing<std::uint8_t>(box);
  box->data = data;
  return Term::adopt(box);
}

Term binary(std::span<const std::uint8_t> bytes) {
  std::uint8_t* data;
  Term t = binary_uninitialized(bytes.size(), data);
  if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
  return t;
}

Term binary(std::string_view bytes) {
  return binary(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

Term bitstring(std::span<const std::uint8_t> bytes, std::size_t bit_size) {
  const std::size_t n = (bit_size + 7) / 8;
  if (n > bytes.size()) throw std::invalid_argument("bitstring: fewer bytes than bits");
  std::uint8_t* data;
  Term t = binary_uninitialized(n, data);
  if (n != 0) std::memcpy(data, bytes.data(), n);
  const unsigned used = bit_size % 8;
  if (used != 0) {
    data[n - 1] &= static_cast<std::uint8_t>(0xFF << (8 - used));
    t.box()->aux = static_cast<std::uint16_t>(used);
  }
  return t;
}

Term sub_binary(const Term& binary_term, std::size_t offset, std::size_t size) {
  const BinaryView whole = binary_term.as_binary();
  if (offset > whole.size() || size > whole.size() - offset)
    throw std::out_of_range("sub_binary: bytes [" + std::to_string(offset) + ", " + std::to_string(offset + size) +
                            ") outside a binary of " + std::to_string(whole.size()) + " bytes");
  auto* box = detail::new_box<detail::BinaryBox>(BoxKind::Binary);
  box->count = static_cast<std::uint32_t>(size);
  box->data = whole.data() + offset;
  // Point at the box that owns the bytes, so slices of slices do not form chains.
  const auto* source = static_cast<const detail::BinaryBox*>(binary_term.box());
  box->owner = source->owner.is_nil() ? binary_term : source->owner;
  return Term::adopt(box);
}

Term string(std::string_view utf8) {
  std::vector<Term> chars;
  chars.reserve(utf8.size());
  for (std::size_t pos = 0; pos < utf8.size();) {
    const std::int32_t cp = detail::utf8_next(utf8, pos);
    if (cp < 0) throw std::invalid_argument("string: invalid UTF-8 at byte " + std::to_string(pos));
    chars.emplace_back(cp);
  }
  return list_from(chars);
}

Term export_fun(Atom module, Atom function, std::uint32_t arity) {
  if (arity > 255) throw std::invalid_argument("fun arity is at most 255");
  auto* box = detail::new_box<detail::ExportFunBox>(BoxKind::ExportFun);
  box->module = module.index();
  box->function = function.index();
  box->count = arity;
  return Term::adopt(box);
}

Term integer_from_limbs(bool negative, std::span<const std::uint64_t> limbs) {
  std::size_t n = limbs.size();
  while (n > 0 && limbs[n - 1] == 0) --n;
  if (n == 0) return Term(0);
  if (n == 1) {
    const std::uint64_t m = limbs[0];
    if (!negative && m <= static_cast<std::uint64_t>(Term::kMaxSmall)) return Term(static_cast<std::int64_t>(m));
    if (negative && m <= (std::uint64_t{1} << 62)) return Term(-static_cast<std::int64_t>(m));
  }
  if (n > std::numeric_limits<std::uint32_t>::max()) throw std::length_error("integer too large");
  auto* box = detail::new_box<detail::BigIntBox>(BoxKind::BigInt, n * sizeof(std::uint64_t));
  box->count = static_cast<std::uint32_t>(n);
  box->aux = negative ? 1 : 0;
  std::memcpy(detail::trailing<std::uint64_t>(box), limbs.data(), n * sizeof(std::uint64_t));
  return Term::adopt(box);
}

}  // namespace spindle
