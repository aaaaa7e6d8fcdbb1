// ETF encoding.
//
// One walk (`Encoder`) serves three writers: a growable buffer, caller-provided memory,
// and a size counter. The walk is iterative, like the decoder, so deep terms cannot
// overflow the C++ stack.

#include <bit>
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include <zlib.h>

#include "spindle/detail/big_endian.hpp"
#include "small_stack.hpp"
#include "spindle/etf.hpp"

namespace spindle::etf {
namespace {

using detail::BoxKind;

using detail::store_be16;
using detail::store_be32;
using detail::store_be64;

// Writers: `take(n)` returns room for n <= 64 bytes, `bytes` copies a payload.
//
// The buffer writer keeps its own cursor and end pointers, so a write is a compare and
// a store; the ByteBuffer learns its new size once, in `finish()`.
class BufferWriter {
 public:
  explicit BufferWriter(ByteBuffer& out) noexcept
      : out_(out), start_(out.size()), cursor_(out.data() + out.size()), end_(out.data() + out.capacity()) {}
  std::uint8_t* take(std::size_t n) {
    if (static_cast<std::size_t>(end_ - cursor_) < n) [[unlikely]]
      grow(n);
    return std::exchange(cursor_, cursor_ + n);
  }
  void bytes(const void* data, std::size_t n) {
    if (n != 0) std::memcpy(take(n), data, n);
  }
  void binary_bytes(const void* data, std::size_t n) { bytes(data, n); }
  // `reserve(n)` guarantees room for n bytes at the cursor; `commit(k)` (k <= n) keeps k
  // of them. Writing all n and keeping fewer is allowed (kSlack).
  static constexpr bool kSlack = true;
  std::uint8_t* reserve(std::size_t n) {
    if (static_cast<std::size_t>(end_ - cursor_) < n) [[unlikely]]
      grow(n);
    return cursor_;
  }
  void commit(std::size_t n) noexcept { cursor_ += n; }
  std::size_t position() const noexcept { return used() - start_; }
  void patch32(std::size_t position, std::uint32_t v) noexcept { store_be32(out_.data() + start_ + position, v); }
  void finish() noexcept { out_.resize(used()); }

 private:
  std::size_t used() const noexcept { return static_cast<std::size_t>(cursor_ - out_.data()); }
  [[gnu::noinline]] void grow(std::size_t n) {
    const std::size_t size = used();
    out_.resize(size);
    out_.reserve(std::max({size + n, out_.capacity() * 2, std::size_t{256}}));
    cursor_ = out_.data() + size;
    end_ = out_.data() + out_.capacity();
  }

  ByteBuffer& out_;
  std::size_t start_;
  std::uint8_t* cursor_;
  std::uint8_t* end_;
};

class PointerWriter {
 public:
  void finish() noexcept {}
  static constexpr bool kSlack = false;  // the caller's buffer ends exactly where the term does
  std::uint8_t* reserve(std::size_t) noexcept { return next_; }
  void commit(std::size_t n) noexcept { next_ += n; }
  explicit PointerWriter(std::uint8_t* out) noexcept : start_(out), next_(out) {}
  std::uint8_t* take(std::size_t n) noexcept { return std::exchange(next_, next_ + n); }
  void bytes(const void* data, std::size_t n) noexcept {
    if (n != 0) std::memcpy(next_, data, n);
    next_ += n;
  }
  void binary_bytes(const void* data, std::size_t n) noexcept { bytes(data, n); }
  std::size_t position() const noexcept { return static_cast<std::size_t>(next_ - start_); }
  void patch32(std::size_t position, std::uint32_t v) noexcept { store_be32(start_ + position, v); }

 private:
  std::uint8_t* start_;
  std::uint8_t* next_;
};

class SizeCounter {
 public:
  void finish() noexcept {}
  static constexpr bool kSlack = true;
  std::uint8_t* reserve(std::size_t) noexcept { return scratch_; }
  void commit(std::size_t n) noexcept { size_ += n; }
  std::uint8_t* take(std::size_t n) noexcept {
    size_ += n;
    return scratch_;
  }
  void bytes(const void*, std::size_t n) noexcept { size_ += n; }
  void binary_bytes(const void* data, std::size_t n) noexcept { bytes(data, n); }
  std::size_t position() const noexcept { return size_; }
  void patch32(std::size_t, std::uint32_t) noexcept {}

 private:
  std::size_t size_ = 0;
  std::uint8_t scratch_[64];
};

// Split writers leave the bytes of binaries of at least `min_external` bytes where they
// are and record them (ExternalBytes) for gather I/O. The pointer writer's positions
// stay logical (counting those bytes), since a fun's size field spans everything
// written inside it; the counter only counts (its positions patch nothing).
class SplitSizeCounter : public SizeCounter {
 public:
  explicit SplitSizeCounter(std::size_t min_external) noexcept : min_external_(min_external) {}
  void binary_bytes(const void* data, std::size_t n) noexcept {
    if (n < min_external_) return bytes(data, n);
    ++externals_;
  }
  SplitEncodingSize size() const noexcept { return {position(), externals_}; }

 private:
  std::size_t min_external_;
  std::size_t externals_ = 0;
};

class SplitPointerWriter : public PointerWriter {
 public:
  SplitPointerWriter(std::uint8_t* out, std::span<ExternalBytes> externals, std::size_t min_external) noexcept
      : PointerWriter(out), externals_(externals), min_external_(min_external) {}
  void binary_bytes(const void* data, std::size_t n) noexcept {
    if (n < min_external_) return bytes(data, n);
    externals_[count_++] = {PointerWriter::position(), static_cast<const std::uint8_t*>(data), n};
    external_bytes_ += n;
  }
  std::size_t position() const noexcept { return PointerWriter::position() + external_bytes_; }
  void patch32(std::size_t logical, std::uint32_t v) noexcept {
    std::size_t physical = logical;
    std::size_t before = 0;  // external bytes ahead of externals_[i]
    for (std::size_t i = 0; i < count_; before += externals_[i++].size)
      if (externals_[i].at + before < logical) physical -= externals_[i].size;
    PointerWriter::patch32(physical, v);
  }

 private:
  std::span<ExternalBytes> externals_;
  std::size_t min_external_;
  std::size_t count_ = 0;
  std::size_t external_bytes_ = 0;
};

// Atoms are written again and again (record tags, map keys, node names in pids). A
// per-thread cache holds the encoded form (SMALL_ATOM_UTF8_EXT header and text) of
// recently written atoms, so writing one is a fixed-size copy. Atoms never change.
class AtomBytesCache {
 public:
  static constexpr std::size_t kBytes = 32;
  struct Entry {
    std::uint32_t atom_plus_one = 0;  // 0: empty
    std::uint32_t size = 0;           // encoded bytes; 0 when the atom is too long to cache
    std::uint8_t bytes[kBytes];
  };

  static AtomBytesCache& for_this_thread() noexcept {
    thread_local AtomBytesCache cache;
    return cache;
  }

  // Atom indices are handed out in sequence, so their low bits spread entries evenly.
  const Entry& get(Atom a) noexcept {
    Entry& e = entries_[a.index() & (kEntries - 1)];
    if (e.atom_plus_one != a.index() + 1) [[unlikely]]
      fill(e, a);
    return e;
  }

 private:
  [[gnu::noinline]] static void fill(Entry& e, Atom a) noexcept {
    const std::string_view text = a.text();
    e.atom_plus_one = a.index() + 1;
    e.size = 0;
    if (text.size() + 2 > kBytes) return;
    e.bytes[0] = kSmallAtomUtf8;
    e.bytes[1] = static_cast<std::uint8_t>(text.size());
    std::memcpy(e.bytes + 2, text.data(), text.size());
    e.size = static_cast<std::uint32_t>(text.size() + 2);
  }

  static constexpr std::size_t kEntries = 256;
  Entry entries_[kEntries];
};

template <class Writer>
class Encoder {
 public:
  Encoder(Writer& writer, AtomCacheEncoder* atom_cache) noexcept
      : w_(writer), atom_cache_(atom_cache), atom_bytes_(AtomBytesCache::for_this_thread()) {}

  void encode(const Term& root) {
    if (!leaf(root)) one(root);
    while (!stack_.empty()) {
      // Write the top frame's terms in a tight loop. A boxed term that pushes a frame of
      // its own (it has boxed terms inside) ends the loop, since the push may move `f`;
      // one written whole (a float, a binary, a tuple of leaves) does not.
      const std::size_t depth = stack_.size();
      Frame& f = stack_.back();
      bool pushed = false;
      switch (f.kind) {
        case Frame::Range:
          while (!pushed && f.next != f.end) pushed = write(*f.next++, depth);
          break;
        case Frame::MapPairs:  // K1, V1, K2, V2... from keys[] and values[] = keys + count
          while (!pushed && f.next != f.end) {
            const Term* t = f.value_pending ? f.next++ + f.value_offset : f.next;
            f.value_pending = !f.value_pending;
            pushed = write(*t, depth);
          }
          break;
        case Frame::ListCells:
          pushed = list_cells(f, depth);
          break;
      }
      if (pushed) continue;
      if (f.kind == Frame::Range && f.patch_at != kNoPatch)
        w_.patch32(f.patch_at, static_cast<std::uint32_t>(w_.position() - f.patch_at));
      stack_.pop_back();
    }
  }

 private:
  static constexpr std::size_t kNoPatch = std::numeric_limits<std::size_t>::max();

  // Terms still to write: [next, end) of a tuple, a fun's free variables, a map's
  // pairs, or a list run (whose `run` leads on to further runs and the final tail).
  struct Frame {
    enum Kind : std::uint8_t { Range, MapPairs, ListCells } kind = Range;
    bool value_pending = false;  // MapPairs: the value of *next comes next
    bool tail_done = false;      // ListCells: the final tail has been taken
    std::uint32_t value_offset = 0;  // MapPairs: values are keys + value_offset
    const Term* next = nullptr;
    const Term* end = nullptr;
    union {
      std::size_t patch_at = kNoPatch;  // Range: where a fun's size field waits
      const detail::ListBox* run;       // ListCells: the run being written
    };
  };

  // Writes `t`; true when that pushed a frame above the one at `depth`.
  [[gnu::always_inline]] bool write(const Term& t, std::size_t depth) {
    if (leaf(t)) return false;
    one(t);
    return stack_.size() != depth;
  }

  // Writes the cells of `f`'s list from `f.next` on, then its final tail; true when a
  // cell pushed a frame (`f` is then left to resume after that cell).
  bool list_cells(Frame& f, std::size_t depth) {
    for (;;) {
      while (f.next != f.end)
        if (write(*f.next++, depth)) return true;
      const Term& tail = f.run->tail;
      if (tail.is_cons()) {  // on to the next run
        f.run = static_cast<const detail::ListBox*>(tail.box());
        f.next = f.run->elements;
        f.end = f.next + f.run->count;
        continue;
      }
      if (f.tail_done) return false;
      f.tail_done = true;
      return write(tail, depth);
    }
  }

  void push_range(const Term* first, std::size_t n, std::size_t patch_at = kNoPatch) {
    Frame f;
    f.next = first;
    f.end = first + n;
    f.patch_at = patch_at;
    stack_.push_back(f);
  }

  // The common case (no distribution atom cache, a short atom seen before) is a lookup
  // and a fixed-size copy, inlined into the walk; everything else is out of line.
  [[gnu::always_inline]] void atom(Atom a) {
    if (atom_cache_ == nullptr) [[likely]] {
      const AtomBytesCache::Entry& cached = atom_bytes_.get(a);
      if (cached.size != 0) [[likely]] {
        if constexpr (Writer::kSlack) {
          std::memcpy(w_.reserve(AtomBytesCache::kBytes), cached.bytes, AtomBytesCache::kBytes);
          w_.commit(cached.size);
        } else {
          w_.bytes(cached.bytes, cached.size);
        }
        return;
      }
    }
    atom_slowly(a);
  }

  [[gnu::noinline]] void atom_slowly(Atom a) {
    if (atom_cache_ != nullptr) {
      if (const int ref = atom_cache_->reference(a); ref >= 0) {
        std::uint8_t* p = w_.take(2);
        p[0] = kAtomCacheRef;
        p[1] = static_cast<std::uint8_t>(ref);
        return;
      }
      const AtomBytesCache::Entry& cached = atom_bytes_.get(a);
      if (cached.size != 0) return w_.bytes(cached.bytes, cached.size);
    }
    const std::string_view text = a.text();
    if (text.size() <= 255) {
      std::uint8_t* p = w_.take(2);
      p[0] = kSmallAtomUtf8;
      p[1] = static_cast<std::uint8_t>(text.size());
    } else {
      std::uint8_t* p = w_.take(3);
      p[0] = kAtomUtf8;
      store_be16(p + 1, static_cast<std::uint16_t>(text.size()));
    }
    w_.bytes(text.data(), text.size());
  }

  [[gnu::always_inline]] void small_integer(std::int64_t v) {
    if (v >= 0 && v <= 255) {
      std::uint8_t* p = w_.take(2);
      p[0] = kSmallInteger;
      p[1] = static_cast<std::uint8_t>(v);
    } else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
      std::uint8_t* p = w_.take(5);
      p[0] = kInteger;
      store_be32(p + 1, static_cast<std::uint32_t>(v));
    } else {
      wide_integer(v);
    }
  }
  [[gnu::noinline]] void wide_integer(std::int64_t v) {
    const std::uint64_t magnitude = v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
    big(v < 0, &magnitude, 1);
  }

  void big(bool negative, const std::uint64_t* limbs, std::size_t count) {
    const std::uint64_t top = limbs[count - 1];
    std::size_t top_bytes = 8;
    while (top_bytes > 1 && (top >> (8 * (top_bytes - 1))) == 0) --top_bytes;
    const std::size_t n = (count - 1) * 8 + top_bytes;
    if (n <= 255) {
      std::uint8_t* p = w_.take(3);
      p[0] = kSmallBig;
      p[1] = static_cast<std::uint8_t>(n);
      p[2] = negative ? 1 : 0;
    } else {
      std::uint8_t* p = w_.take(6);
      p[0] = kLargeBig;
      store_be32(p + 1, static_cast<std::uint32_t>(n));
      p[5] = negative ? 1 : 0;
    }
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t k = i + 1 < count ? 8 : top_bytes;
      std::uint8_t* p = w_.take(k);
      for (std::size_t b = 0; b < k; ++b) p[b] = static_cast<std::uint8_t>(limbs[i] >> (8 * b));
    }
  }

  void pid(const detail::PidBox& pid) {
    w_.take(1)[0] = kNewPid;
    atom(Atom::from_index(pid.node));
    std::uint8_t* p = w_.take(12);
    store_be32(p, pid.id);
    store_be32(p + 4, pid.serial);
    store_be32(p + 8, pid.creation);
  }

  // A proper list of at most 65535 integers in 0..255 is sent as STRING_EXT, as OTP does.
  bool try_string(const ListView& list) {
    std::size_t n = 0;
    for (const Term& e : list) {
      if (++n > 65535 || !e.is_small() || e.raw() > ((255u << 1) | 1)) return false;  // raw of 0..255 only
    }
    if (!list.is_proper()) return false;
    std::uint8_t* p = w_.take(3);
    p[0] = kString;
    store_be16(p + 1, static_cast<std::uint16_t>(n));
    for (const Term& e : list) w_.take(1)[0] = static_cast<std::uint8_t>(e.raw() >> 1);
    return true;
  }

  // Writes an immediate term (small integer, atom, []) and says so; boxed terms go to `one`.
  [[gnu::always_inline]] bool leaf(const Term& t) {
    if (t.is_small()) {
      small_integer(static_cast<std::int64_t>(t.raw()) >> 1);
      return true;
    }
    if (t.is_atom()) {
      atom(Atom::from_index(static_cast<std::uint32_t>(t.raw() >> 3)));
      return true;
    }
    if (t.is_nil()) {
      w_.take(1)[0] = kNil;
      return true;
    }
    return false;
  }

  void one(const Term& t) {
    const detail::Box* box = t.box();
    switch (box->kind) {
      case BoxKind::Float: {
        std::uint8_t* p = w_.take(9);
        p[0] = kNewFloat;
        store_be64(p + 1, std::bit_cast<std::uint64_t>(static_cast<const detail::FloatBox*>(box)->value));
        return;
      }
      case BoxKind::BigInt: {
        const auto* b = static_cast<const detail::BigIntBox*>(box);
        return big(b->aux != 0, b->limbs(), b->count);
      }
      case BoxKind::Binary: {
        const auto* b = static_cast<const detail::BinaryBox*>(box);
        if (b->aux == 0) {
          std::uint8_t* p = w_.take(5);
          p[0] = kBinary;
          store_be32(p + 1, b->count);
        } else {
          std::uint8_t* p = w_.take(6);
          p[0] = kBitBinary;
          store_be32(p + 1, b->count);
          p[5] = static_cast<std::uint8_t>(b->aux);
        }
        w_.binary_bytes(b->data, b->count);
        return;
      }
      case BoxKind::Tuple: {
        const auto* tuple = static_cast<const detail::TupleBox*>(box);
        if (tuple->count <= 255) {
          std::uint8_t* p = w_.take(2);
          p[0] = kSmallTuple;
          p[1] = static_cast<std::uint8_t>(tuple->count);
        } else {
          std::uint8_t* p = w_.take(5);
          p[0] = kLargeTuple;
          store_be32(p + 1, tuple->count);
        }
        // Write leading leaves now; a frame is needed only from the first boxed element.
        const Term* first = tuple->elements();
        const Term* const end = first + tuple->count;
        while (first != end && leaf(*first)) ++first;
        if (first != end) push_range(first, static_cast<std::size_t>(end - first));
        return;
      }
      case BoxKind::List: {
        const auto* run = static_cast<const detail::ListBox*>(box);
        const ListView list(run);
        if (try_string(list)) return;
        // Most lists are one run: its count is the list's length.
        std::uint8_t* p = w_.take(5);
        p[0] = kList;
        store_be32(p + 1, static_cast<std::uint32_t>(run->tail.is_cons() ? list.length() : run->count));
        // Write leading leaf cells now; a frame is needed only from the first boxed cell.
        Frame f;
        f.kind = Frame::ListCells;
        f.run = run;
        f.next = run->elements;
        f.end = run->elements + run->count;
        while (f.next != f.end && leaf(*f.next)) ++f.next;
        if (f.next == f.end && !run->tail.is_cons() && leaf(run->tail)) return;
        stack_.push_back(f);
        return;
      }
      case BoxKind::Map: {
        const auto* map = static_cast<const detail::MapBox*>(box);
        std::uint8_t* p = w_.take(5);
        p[0] = kMap;
        store_be32(p + 1, map->count);
        // Pairs in order (K1, V1, K2, V2...); leaves are written now.
        const Term* keys = map->keys();
        const std::size_t items = std::size_t{map->count} * 2;
        std::size_t i = 0;
        while (i < items && leaf(i % 2 == 0 ? keys[i / 2] : keys[map->count + i / 2])) ++i;
        if (i == items) return;
        Frame f;
        f.kind = Frame::MapPairs;
        f.next = keys + i / 2;
        f.end = keys + map->count;
        f.value_offset = map->count;
        f.value_pending = i % 2 == 1;
        stack_.push_back(f);
        return;
      }
      case BoxKind::Pid:
        return pid(*static_cast<const detail::PidBox*>(box));
      case BoxKind::Port: {
        const auto* port = static_cast<const detail::PortBox*>(box);
        const bool wide = port->id > std::numeric_limits<std::uint32_t>::max();
        w_.take(1)[0] = wide ? kV4Port : kNewPort;
        atom(Atom::from_index(port->node));
        std::uint8_t* p = w_.take(wide ? 12 : 8);
        if (wide) {
          store_be64(p, port->id);
          store_be32(p + 8, port->creation);
        } else {
          store_be32(p, static_cast<std::uint32_t>(port->id));
          store_be32(p + 4, port->creation);
        }
        return;
      }
      case BoxKind::Ref: {
        const auto* ref = static_cast<const detail::RefBox*>(box);
        std::uint8_t* p = w_.take(3);
        p[0] = kNewerReference;
        store_be16(p + 1, ref->aux);
        atom(Atom::from_index(ref->node));
        p = w_.take(4 + 4 * std::size_t{ref->aux});
        store_be32(p, ref->creation);
        for (std::size_t i = 0; i < ref->aux; ++i) store_be32(p + 4 + 4 * i, ref->words[i]);
        return;
      }
      case BoxKind::ExportFun: {
        const auto* fun = static_cast<const detail::ExportFunBox*>(box);
        w_.take(1)[0] = kExport;
        atom(Atom::from_index(fun->module));
        atom(Atom::from_index(fun->function));
        std::uint8_t* p = w_.take(2);
        p[0] = kSmallInteger;
        p[1] = static_cast<std::uint8_t>(fun->count);
        return;
      }
      case BoxKind::Closure: {
        const auto* fun = static_cast<const detail::ClosureBox*>(box);
        w_.take(1)[0] = kNewFun;
        const std::size_t size_at = w_.position();
        std::uint8_t* p = w_.take(4 + 1 + 16 + 4 + 4);
        store_be32(p, 0);  // patched once the free variables are written
        p[4] = static_cast<std::uint8_t>(fun->arity);
        std::memcpy(p + 5, fun->uniq, 16);
        store_be32(p + 21, fun->index);
        store_be32(p + 25, fun->count);
        atom(Atom::from_index(fun->module));
        small_integer(fun->old_index.as_int());
        small_integer(fun->old_uniq.as_int());
        pid(*static_cast<const detail::PidBox*>(fun->pid.box()));
        if (fun->count == 0) {
          w_.patch32(size_at, static_cast<std::uint32_t>(w_.position() - size_at));
        } else {
          push_range(fun->free_vars(), fun->count, size_at);
        }
        return;
      }
    }
  }

  Writer& w_;
  AtomCacheEncoder* atom_cache_;
  AtomBytesCache& atom_bytes_;
  detail::SmallStack<Frame, 16> stack_;
};

template <class Writer>
void encode_with(Writer& writer, const Term& term, AtomCacheEncoder* atom_cache) {
  Encoder<Writer>(writer, atom_cache).encode(term);
  writer.finish();
}

void compress_into(const ByteBuffer& plain, ByteBuffer& out, int level) {
  // `plain` holds 131 then the term; compressed output is 131, 80, size, zlib data.
  const std::size_t body = plain.size() - 1;
  uLongf bound = compressBound(static_cast<uLong>(body));
  const std::size_t start = out.size();
  std::uint8_t* p = out.extend(6 + bound);
  p[0] = kVersion;
  p[1] = kCompressed;
  store_be32(p + 2, static_cast<std::uint32_t>(body));
  if (compress2(p + 6, &bound, plain.data() + 1, static_cast<uLong>(body), level) != Z_OK)
    throw std::runtime_error("zlib compression failed");
  if (6 + bound >= plain.size()) {  // no gain: send it plain, as OTP does
    out.resize(start);
    out.append(plain.bytes());
  } else {
    out.resize(start + 6 + bound);
  }
}

}  // namespace

void encode(const Term& term, ByteBuffer& out, const EncodeOptions& options) {
  if (options.compressed) {
    if (options.compression_level < 0 || options.compression_level > 9)
      throw std::invalid_argument("compression level must be 0-9");
    ByteBuffer plain;
    plain.push_back(kVersion);
    BufferWriter writer(plain);
    encode_with(writer, term, options.atom_cache);
    return compress_into(plain, out, options.compression_level);
  }
  out.push_back(kVersion);
  BufferWriter writer(out);
  encode_with(writer, term, options.atom_cache);
}

std::vector<std::uint8_t> encode(const Term& term, const EncodeOptions& options) {
  ByteBuffer out;
  encode(term, out, options);
  return {out.data(), out.data() + out.size()};
}

void encode_body(const Term& term, ByteBuffer& out, AtomCacheEncoder* atom_cache) {
  BufferWriter writer(out);
  encode_with(writer, term, atom_cache);
}

std::size_t encoded_size(const Term& term) {
  SizeCounter counter;
  encode_with(counter, term, nullptr);
  return 1 + counter.position();
}

std::size_t encode_to(const Term& term, std::span<std::uint8_t> out) {
  const std::size_t size = encoded_size(term);
  if (out.size() < size)
    throw std::length_error("encode_to: the term needs " + std::to_string(size) + " bytes, the buffer holds " +
                            std::to_string(out.size()));
  out[0] = kVersion;
  PointerWriter writer(out.data() + 1);
  encode_with(writer, term, nullptr);
  return size;
}

SplitEncodingSize split_encoded_size(const Term& term, std::size_t min_external) {
  SplitSizeCounter counter(min_external);
  encode_with(counter, term, nullptr);
  return counter.size();
}

void split_encode_to(const Term& term, std::span<std::uint8_t> out, std::span<ExternalBytes> externals,
                     std::size_t min_external) {
  split_encode_to(term, split_encoded_size(term, min_external), out, externals, min_external);
}

void split_encode_to(const Term& term, const SplitEncodingSize& size, std::span<std::uint8_t> out,
                     std::span<ExternalBytes> externals, std::size_t min_external) {
  if (out.size() < size.bytes || externals.size() < size.externals)
    throw std::length_error("split_encode_to: the term needs " + std::to_string(size.bytes) + " bytes and " +
                            std::to_string(size.externals) + " external parts");
  SplitPointerWriter writer(out.data(), externals, min_external);
  encode_with(writer, term, nullptr);
}

}  // namespace spindle::etf
