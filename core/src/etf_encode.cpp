// ETF encoding.
//
// One walk (`Encoder`) serves three writers: a growable buffer, caller-provided memory,
// and a size counter. The walk is iterative, like the decoder, so deep terms cannot
// overflow the C++ stack.

#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include <zlib.h>

#include "small_stack.hpp"
#include "spindle/etf.hpp"

namespace spindle::etf {
namespace {

using detail::BoxKind;

inline void put16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
inline void put32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
inline void put64(std::uint8_t* p, std::uint64_t v) noexcept {
  put32(p, static_cast<std::uint32_t>(v >> 32));
  put32(p + 4, static_cast<std::uint32_t>(v));
}

// Writers: `take(n)` returns room for n <= 64 bytes, `bytes` copies a payload.
class BufferWriter {
 public:
  explicit BufferWriter(ByteBuffer& out) noexcept : out_(out), start_(out.size()) {}
  std::uint8_t* take(std::size_t n) { return out_.extend(n); }
  void bytes(const void* data, std::size_t n) { out_.append(data, n); }
  std::size_t position() const noexcept { return out_.size() - start_; }
  void patch32(std::size_t position, std::uint32_t v) noexcept { put32(out_.data() + start_ + position, v); }

 private:
  ByteBuffer& out_;
  std::size_t start_;
};

class PointerWriter {
 public:
  explicit PointerWriter(std::uint8_t* out) noexcept : start_(out), next_(out) {}
  std::uint8_t* take(std::size_t n) noexcept { return std::exchange(next_, next_ + n); }
  void bytes(const void* data, std::size_t n) noexcept {
    if (n != 0) std::memcpy(next_, data, n);
    next_ += n;
  }
  std::size_t position() const noexcept { return static_cast<std::size_t>(next_ - start_); }
  void patch32(std::size_t position, std::uint32_t v) noexcept { put32(start_ + position, v); }

 private:
  std::uint8_t* start_;
  std::uint8_t* next_;
};

class SizeCounter {
 public:
  std::uint8_t* take(std::size_t n) noexcept {
    size_ += n;
    return scratch_;
  }
  void bytes(const void*, std::size_t n) noexcept { size_ += n; }
  std::size_t position() const noexcept { return size_; }
  void patch32(std::size_t, std::uint32_t) noexcept {}

 private:
  std::size_t size_ = 0;
  std::uint8_t scratch_[64];
};

template <class Writer>
class Encoder {
 public:
  Encoder(Writer& writer, AtomCacheEncoder* atom_cache) noexcept : w_(writer), atom_cache_(atom_cache) {}

  void encode(const Term& root) {
    one(root);
    while (!stack_.empty()) {
      Frame& f = stack_.back();
      const Term* next = nullptr;
      switch (f.kind) {
        case Frame::Range:
          if (f.next != f.end) next = f.next++;
          break;
        case Frame::MapPairs:  // K1, V1, K2, V2... from keys[] and values[] = keys + count
          if (f.next != f.end) {
            next = f.value_pending ? f.next++ + f.value_offset : f.next;
            f.value_pending = !f.value_pending;
          }
          break;
        case Frame::ListCells:
          if (f.cell != ListView::iterator()) {
            next = &*f.cell;
            ++f.cell;
          } else if (f.tail != nullptr) {
            next = std::exchange(f.tail, nullptr);
          }
          break;
      }
      if (next == nullptr) {
        if (f.patch_at != kNoPatch) w_.patch32(f.patch_at, static_cast<std::uint32_t>(w_.position() - f.patch_at));
        stack_.pop_back();
        continue;
      }
      one(*next);  // may push, invalidating `f`
    }
  }

 private:
  static constexpr std::size_t kNoPatch = std::numeric_limits<std::size_t>::max();

  struct Frame {
    enum Kind : std::uint8_t { Range, MapPairs, ListCells } kind = Range;
    bool value_pending = false;
    std::uint32_t value_offset = 0;
    const Term* next = nullptr;
    const Term* end = nullptr;
    ListView::iterator cell;
    const Term* tail = nullptr;
    std::size_t patch_at = kNoPatch;
  };

  void push_range(const Term* first, std::size_t n, std::size_t patch_at = kNoPatch) {
    Frame f;
    f.next = first;
    f.end = first + n;
    f.patch_at = patch_at;
    stack_.push_back(f);
  }

  void atom(Atom a) {
    if (atom_cache_ != nullptr) {
      if (const int ref = atom_cache_->reference(a); ref >= 0) {
        std::uint8_t* p = w_.take(2);
        p[0] = kAtomCacheRef;
        p[1] = static_cast<std::uint8_t>(ref);
        return;
      }
    }
    const std::string_view text = a.text();
    if (text.size() <= 255) {
      std::uint8_t* p = w_.take(2);
      p[0] = kSmallAtomUtf8;
      p[1] = static_cast<std::uint8_t>(text.size());
    } else {
      std::uint8_t* p = w_.take(3);
      p[0] = kAtomUtf8;
      put16(p + 1, static_cast<std::uint16_t>(text.size()));
    }
    w_.bytes(text.data(), text.size());
  }

  void small_integer(std::int64_t v) {
    if (v >= 0 && v <= 255) {
      std::uint8_t* p = w_.take(2);
      p[0] = kSmallInteger;
      p[1] = static_cast<std::uint8_t>(v);
    } else if (v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max()) {
      std::uint8_t* p = w_.take(5);
      p[0] = kInteger;
      put32(p + 1, static_cast<std::uint32_t>(v));
    } else {
      const std::uint64_t magnitude = v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
      big(v < 0, &magnitude, 1);
    }
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
      put32(p + 1, static_cast<std::uint32_t>(n));
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
    put32(p, pid.id);
    put32(p + 4, pid.serial);
    put32(p + 8, pid.creation);
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
    put16(p + 1, static_cast<std::uint16_t>(n));
    for (const Term& e : list) w_.take(1)[0] = static_cast<std::uint8_t>(e.raw() >> 1);
    return true;
  }

  void one(const Term& t) {
    if (t.is_small()) return small_integer(static_cast<std::int64_t>(t.raw()) >> 1);
    if (t.is_atom()) return atom(t.as_atom());
    if (t.is_nil()) {
      w_.take(1)[0] = kNil;
      return;
    }
    const detail::Box* box = t.box();
    switch (box->kind) {
      case BoxKind::Float: {
        std::uint8_t* p = w_.take(9);
        p[0] = kNewFloat;
        put64(p + 1, std::bit_cast<std::uint64_t>(static_cast<const detail::FloatBox*>(box)->value));
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
          put32(p + 1, b->count);
        } else {
          std::uint8_t* p = w_.take(6);
          p[0] = kBitBinary;
          put32(p + 1, b->count);
          p[5] = static_cast<std::uint8_t>(b->aux);
        }
        w_.bytes(b->data, b->count);
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
          put32(p + 1, tuple->count);
        }
        if (tuple->count != 0) push_range(tuple->elements(), tuple->count);
        return;
      }
      case BoxKind::List: {
        const ListView list = t.as_list();
        if (try_string(list)) return;
        std::uint8_t* p = w_.take(5);
        p[0] = kList;
        put32(p + 1, static_cast<std::uint32_t>(list.length()));
        Frame f;
        f.kind = Frame::ListCells;
        f.cell = list.begin();
        f.tail = &list.tail();
        stack_.push_back(f);
        return;
      }
      case BoxKind::Map: {
        const auto* map = static_cast<const detail::MapBox*>(box);
        std::uint8_t* p = w_.take(5);
        p[0] = kMap;
        put32(p + 1, map->count);
        if (map->count == 0) return;
        Frame f;
        f.kind = Frame::MapPairs;
        f.next = map->keys();
        f.end = map->keys() + map->count;
        f.value_offset = map->count;
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
          put64(p, port->id);
          put32(p + 8, port->creation);
        } else {
          put32(p, static_cast<std::uint32_t>(port->id));
          put32(p + 4, port->creation);
        }
        return;
      }
      case BoxKind::Ref: {
        const auto* ref = static_cast<const detail::RefBox*>(box);
        std::uint8_t* p = w_.take(3);
        p[0] = kNewerReference;
        put16(p + 1, ref->aux);
        atom(Atom::from_index(ref->node));
        p = w_.take(4 + 4 * std::size_t{ref->aux});
        put32(p, ref->creation);
        for (std::size_t i = 0; i < ref->aux; ++i) put32(p + 4 + 4 * i, ref->words[i]);
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
        put32(p, 0);  // patched once the free variables are written
        p[4] = static_cast<std::uint8_t>(fun->arity);
        std::memcpy(p + 5, fun->uniq, 16);
        put32(p + 21, fun->index);
        put32(p + 25, fun->count);
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
  detail::SmallStack<Frame, 16> stack_;
};

template <class Writer>
void encode_with(Writer& writer, const Term& term, AtomCacheEncoder* atom_cache) {
  Encoder<Writer>(writer, atom_cache).encode(term);
}

void compress_into(const ByteBuffer& plain, ByteBuffer& out, int level) {
  // `plain` holds 131 then the term; compressed output is 131, 80, size, zlib data.
  const std::size_t body = plain.size() - 1;
  uLongf bound = compressBound(static_cast<uLong>(body));
  const std::size_t start = out.size();
  std::uint8_t* p = out.extend(6 + bound);
  p[0] = kVersion;
  p[1] = kCompressed;
  put32(p + 2, static_cast<std::uint32_t>(body));
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

}  // namespace spindle::etf
