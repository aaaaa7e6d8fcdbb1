#include "spindle/dist/frame.hpp"

#include <algorithm>
#include <cstring>

#include "spindle/detail/big_endian.hpp"
#include "wire.hpp"

namespace spindle::dist {
namespace {

constexpr std::uint8_t kVersion = 131;
constexpr std::uint8_t kPassThrough = 112;
constexpr std::uint8_t kNormalHeader = 68;       // 'D'
constexpr std::uint8_t kFragmentStart = 69;      // 'E'
constexpr std::uint8_t kFragmentContinue = 70;   // 'F'
constexpr std::size_t kCacheSize = 2048;
// Room kept for the fragments of a message still due: senders fill every fragment but
// the last, which is often small (OTP sends a 64 KB binary as 64 KB and some 40 bytes),
// so as many more as are due of the latest one's size, the last one kShortLast at most.
// So each fragment is one copy into place, and the message's binaries hold little
// unused room. At most kRoomAhead fragments ahead, so a small frame cannot claim much
// memory by announcing many fragments.
constexpr std::uint64_t kRoomAhead = 64;
constexpr std::size_t kShortLast = 4096;

std::size_t room_for_rest(std::size_t have, std::size_t latest, std::uint64_t due) {
  if (due == 0) return have;
  return have + latest * std::min<std::uint64_t>(due - 1, kRoomAhead) + std::min(latest, kShortLast);
}

std::size_t cache_slot(Atom a) noexcept {
  return (std::size_t{a.index()} * 0x9E3779B1u >> 7) % kCacheSize;
}

// Every control message is a tuple whose first element is the operation number.
void check_control(const Term& control, std::size_t offset) {
  if (!control.is_tuple() || control.as_tuple().size() == 0 || !control.as_tuple()[0].is_small())
    throw FrameError("the control message is not a tuple starting with an integer: " + control.to_string().substr(0, 200),
                     offset);
}

template <class Body>
auto wire_guarded(Body&& body) {
  try {
    return body();
  } catch (const detail::WireError& e) {
    throw FrameError(std::string("truncated distribution header: ") + e.what(), e.offset());
  }
}

}  // namespace

// ----- reading -----

FrameReader::FrameReader(FrameLimits limits) : limits_(limits) {}

std::vector<Atom> FrameReader::read_header(std::span<const std::uint8_t> frame, std::size_t& pos) {
  return wire_guarded([&] {
    detail::WireReader r(frame.subspan(pos), "distribution header", pos);
    const std::size_t count = r.u8();
    std::vector<Atom> atoms;
    if (count == 0) {
      pos = r.position();
      return atoms;
    }
    const auto flags = r.bytes(count / 2 + 1);
    const auto nibble = [&](std::size_t i) { return (i % 2 == 0) ? flags[i / 2] & 0x0F : flags[i / 2] >> 4; };
    const bool long_atoms = (nibble(count) & 1) != 0;
    atoms.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const unsigned flag = nibble(i);
      const std::size_t slot = ((flag & 7) << 8) | r.u8();
      if (flag & 8) {  // a new cache entry: the atom's text follows
        const std::size_t text_at = r.position();
        const std::size_t length = long_atoms ? r.u16() : r.u8();
        const std::string_view text = r.text(length);
        try {
          cache_[slot] = Atom(text);
        } catch (const AtomError& e) {
          throw FrameError(std::string("atom in the distribution header: ") + e.what(), text_at);
        }
        cached_.set(slot);
      } else if (!cached_.test(slot)) {
        throw FrameError("reference to atom cache entry " + std::to_string(slot) + " that was never filled",
                         r.position() - 1);
      }
      atoms.push_back(cache_[slot]);
    }
    pos = r.position();
    return atoms;
  });
}

IncomingMessage FrameReader::decode(std::span<const std::uint8_t> body, std::size_t base,
                                    const std::vector<Atom>& atoms, const Term* shared) const {
  etf::DecodeOptions options = limits_.decode;
  options.atom_cache = atoms;
  std::size_t pos = 0;
  IncomingMessage message;
  try {
    message.control = etf::decode_body(body, pos, options, shared);
    if (pos < body.size()) message.payload = etf::decode_body(body, pos, options, shared);
  } catch (const etf::DecodeError& e) {
    throw FrameError(std::string("bad term in a distribution message: ") + e.detail(), base + e.offset());
  }
  if (pos != body.size())
    throw FrameError(std::to_string(body.size() - pos) + " bytes after the message", base + pos);
  check_control(message.control, base);
  return message;
}

std::size_t FrameReader::room_after(std::span<const std::uint8_t> head, std::size_t length) const noexcept {
  if (head.size() < 18 || head[0] != kVersion || head[1] != kFragmentStart) return 0;
  const std::uint64_t fragment = spindle::detail::load_be64(head.data() + 10);
  if (fragment < 2) return 0;
  const std::size_t most = std::min(limits_.max_message_bytes, pending_budget());
  if (most <= length) return 0;
  return std::min(room_for_rest(length, length, fragment - 1) - length, most - length);
}

std::optional<IncomingMessage> FrameReader::read(std::span<const std::uint8_t> frame, const Term* owner,
                                                 std::size_t room) {
  if (room != 0 && (owner == nullptr || !owner->is_binary() ||
                    frame.data() + frame.size() + room != owner->as_binary().bytes().data() + owner->as_binary().size()))
    throw std::invalid_argument("FrameReader::read: the room after a frame must be the end of its owner's binary");
  if (frame.empty()) return std::nullopt;  // tick
  if (frame[0] == kPassThrough) {
    // No distribution header: the terms carry their own version bytes.
    if (frame.size() == 1) throw FrameError("pass-through frame without a control message", 1);
    IncomingMessage message;
    std::size_t pos = 1;
    try {
      for (int i = 0; i < 2 && pos < frame.size(); ++i) {
        if (frame[pos] != kVersion) throw FrameError("pass-through term without version byte", pos);
        ++pos;
        Term t = etf::decode_body(frame, pos, limits_.decode, owner);
        (i == 0 ? message.control : message.payload.emplace()) = std::move(t);
      }
    } catch (const etf::DecodeError& e) {
      throw FrameError(std::string("bad term in a distribution message: ") + e.detail(), e.offset());
    }
    if (pos != frame.size()) throw FrameError("bytes after a pass-through message", pos);
    check_control(message.control, 2);
    return message;
  }
  if (frame.size() < 2 || frame[0] != kVersion)
    throw FrameError("a distribution frame starts with 131 or 112, not " + std::to_string(frame[0]), 0);

  const std::uint8_t kind = frame[1];
  if (kind == kNormalHeader) {
    std::size_t pos = 2;
    const std::vector<Atom> atoms = read_header(frame, pos);
    return decode(frame.subspan(pos), pos, atoms, owner);
  }
  if (kind != kFragmentStart && kind != kFragmentContinue)
    throw FrameError("unknown distribution header " + std::to_string(kind), 1);

  const auto [sequence, fragment] = wire_guarded([&] {
    detail::WireReader r(frame.subspan(2), "fragment header", 2);
    const std::uint64_t s = r.u64();
    return std::pair{s, r.u64()};
  });
  std::size_t pos = 18;
  if (fragment == 0) throw FrameError("fragment number 0", 10);

  if (kind == kFragmentStart) {
    std::vector<Atom> atoms = read_header(frame, pos);
    if (fragment == 1) return decode(frame.subspan(pos), pos, atoms, owner);  // a one-fragment message
    if (sequences_.contains(sequence)) throw FrameError("fragmented message " + std::to_string(sequence) + " started twice", 2);
    if (sequences_.size() >= limits_.max_pending_sequences)
      throw FrameError("more than " + std::to_string(limits_.max_pending_sequences) + " fragmented messages in progress", 2);
    const std::span<const std::uint8_t> part = frame.subspan(pos);
    Sequence s;
    s.atoms = std::move(atoms);
    s.next_fragment = fragment - 1;
    if (room != 0 && part.size() + room <= std::min(limits_.max_message_bytes, pending_budget())) {
      // The frame's own binary has room after it: the message is reassembled there (no
      // more room than make_room would give, so the limits hold as they do there).
      s.body = *owner;
      s.data = const_cast<std::uint8_t*>(part.data());  // the caller's fresh bytes (see read)
      s.capacity = part.size() + room;
      pending_bytes_ += s.capacity;
    } else {
      make_room(s, part.size(), room_for_rest(part.size(), part.size(), s.next_fragment), 2);
      std::memcpy(s.data, part.data(), part.size());
    }
    s.size = part.size();
    sequences_.emplace(sequence, std::move(s));
    return std::nullopt;
  }

  auto it = sequences_.find(sequence);
  if (it == sequences_.end()) throw FrameError("fragment of unknown message " + std::to_string(sequence), 2);
  Sequence& s = it->second;
  if (fragment != s.next_fragment)
    throw FrameError("fragment " + std::to_string(fragment) + " of message " + std::to_string(sequence) +
                         " arrived when " + std::to_string(s.next_fragment) + " was due",
                     10);
  const std::span<const std::uint8_t> part = frame.subspan(pos);
  const std::size_t need = s.size + part.size();
  if (need > s.capacity) make_room(s, need, room_for_rest(need, part.size(), s.next_fragment - 1), pos);
  std::memcpy(s.data + s.size, part.data(), part.size());
  s.size += part.size();
  if (--s.next_fragment > 0) return std::nullopt;
  Sequence done = std::move(s);
  sequences_.erase(it);
  pending_bytes_ -= done.capacity;
  return decode({done.data, done.size}, 0, done.atoms, &done.body);
}

void FrameReader::make_room(Sequence& s, std::size_t need, std::size_t want, std::size_t offset) {
  if (need > limits_.max_message_bytes)
    throw FrameError("fragmented message larger than " + std::to_string(limits_.max_message_bytes) + " bytes", offset);
  const std::size_t held_by_others = pending_bytes_ - s.capacity;
  const std::size_t budget = pending_budget() + s.capacity;
  if (need > budget)
    throw FrameError("fragmented messages in progress exceed " + std::to_string(limits_.max_pending_bytes) + " bytes",
                     offset);
  const std::size_t capacity = std::clamp(want, need, std::min(limits_.max_message_bytes, budget));
  std::uint8_t* data = nullptr;
  Term body = binary_uninitialized(capacity, data);
  if (s.size != 0) std::memcpy(data, s.data, s.size);
  pending_bytes_ = held_by_others + capacity;
  s.body = std::move(body);
  s.data = data;
  s.capacity = capacity;
}

// ----- writing -----

int ControlAtoms::reference(Atom a) {
  for (std::size_t i = 0; i < count_; ++i)
    if (atoms_[i] == a) return static_cast<int>(i);
  if (count_ == atoms_.size()) return -1;  // the header holds 255 references: write the rest in full
  // Two atoms of one message in one cache slot would leave the two caches out of step
  // (the peer applies the header's new entries in order): write the second in full.
  const auto slot = static_cast<std::uint16_t>(cache_slot(a));
  for (std::size_t i = 0; i < count_; ++i)
    if (slots_[i] == slot) return -1;
  atoms_[count_] = a;
  slots_[count_] = slot;
  return static_cast<int>(count_++);
}

void FrameWriter::write_tick(ByteBuffer& out) { std::memset(out.extend(4), 0, 4); }

void FrameWriter::write_header(std::span<const Atom> atoms, ByteBuffer& out) {
  // Count, flag nibbles (plus the long-atoms nibble), then each reference.
  const std::size_t count = atoms.size();
  out.push_back(static_cast<std::uint8_t>(count));
  if (count == 0) return;
  bool long_atoms = false;
  for (Atom a : atoms) long_atoms = long_atoms || a.text().size() > 255;
  const std::size_t flags_at = out.size();
  std::memset(out.extend(count / 2 + 1), 0, count / 2 + 1);
  const auto set_nibble = [&](std::size_t i, unsigned value) {
    out[flags_at + i / 2] |= static_cast<std::uint8_t>(i % 2 == 0 ? value : value << 4);
  };
  for (std::size_t i = 0; i < count; ++i) {
    const Atom a = atoms[i];
    const std::size_t slot = cache_slot(a);
    const bool fresh = !(cached_.test(slot) && cache_[slot] == a);
    set_nibble(i, (fresh ? 8u : 0u) | static_cast<unsigned>(slot >> 8));
    out.push_back(static_cast<std::uint8_t>(slot & 0xFF));
    if (fresh) {
      const std::string_view text = a.text();
      if (long_atoms) out.push_back(static_cast<std::uint8_t>(text.size() >> 8));
      out.push_back(static_cast<std::uint8_t>(text.size()));
      out.append(text.data(), text.size());
      cache_[slot] = a;  // the peer updates its cache as it reads this header
      cached_.set(slot);
    }
  }
  set_nibble(count, long_atoms ? 1u : 0u);
}

std::size_t Payload::size() const noexcept {
  std::size_t n = bytes.size();
  for (const etf::ExternalBytes& e : externals) n += e.size;
  return n;
}

void FrameOutput::clear() noexcept {
  bytes.clear();
  if (gathered != nullptr) gathered->clear();
  gathered_bytes = 0;
}

void FrameOutput::append(const Payload& payload, std::size_t from, std::size_t n) {
  // Walk the payload's runs (its own bytes and external parts, in order), keeping the
  // parts of each that fall in [from, to).
  const std::size_t to = from + n;
  std::size_t logical = 0;  // where the current run starts in the whole payload
  const auto take = [&](const std::uint8_t* data, std::size_t size, bool external) {
    const std::size_t lo = std::max(from, logical);
    const std::size_t hi = std::min(to, logical + size);
    if (lo < hi) {
      const std::uint8_t* piece = data + (lo - logical);
      if (external && gathered != nullptr && hi - lo >= min_gathered) {
        gathered->push_back({bytes.size(), piece, hi - lo});
        gathered_bytes += hi - lo;
      } else {
        bytes.append(piece, hi - lo);
      }
    }
    logical += size;
  };
  std::size_t own = 0;  // next byte of payload.bytes
  for (const etf::ExternalBytes& e : payload.externals) {
    if (logical >= to) return;
    take(payload.bytes.data() + own, e.at - own, false);
    take(e.data, e.size, true);
    own = e.at;
  }
  take(payload.bytes.data() + own, payload.bytes.size() - own, false);
}

void FrameWriter::write(const Term& control, std::span<const std::uint8_t> payload, ByteBuffer& out,
                        std::size_t fragment_size) {
  FrameOutput output{out};
  write(control, Payload(payload), output, fragment_size);
}

void FrameWriter::write(const Term& control, const Payload& payload, FrameOutput& out, std::size_t fragment_size) {
  if (!header_) {
    const std::size_t start = out.bytes.size();
    out.bytes.extend(5)[4] = kPassThrough;
    etf::encode(control, out.bytes);
    if (payload.size() != 0) out.bytes.push_back(kVersion);
    spindle::detail::store_be32(out.bytes.data() + start,
                                static_cast<std::uint32_t>(out.bytes.size() - start - 4 + payload.size()));
    out.append(payload, 0, payload.size());
    return;
  }
  scratch_atoms_.clear();
  scratch_control_.clear();
  etf::encode_body(control, scratch_control_, &scratch_atoms_);
  write_encoded(scratch_atoms_.atoms(), scratch_control_.bytes(), payload, out, fragment_size);
}

void FrameWriter::write_encoded(std::span<const Atom> atoms, std::span<const std::uint8_t> control,
                                const Payload& payload, FrameOutput& output, std::size_t fragment_size) {
  if (!header_) throw std::logic_error("FrameWriter: pre-encoded control messages need the distribution header");
  ByteBuffer& out = output.bytes;
  const std::size_t payload_size = payload.size();
  const std::size_t whole_estimate = 2 + control.size() + payload_size;
  if (fragment_size == 0 || whole_estimate + 1 + atoms.size() * 2 <= fragment_size) {
    // One frame: length, 131 'D', the header, then the message. The length is known
    // once the header (whose size depends on the cache) is written.
    const std::size_t start = out.size();
    std::uint8_t* p = out.extend(6);
    p[4] = kVersion;
    p[5] = kNormalHeader;
    write_header(atoms, out);
    out.append(control);
    spindle::detail::store_be32(out.data() + start,
                                static_cast<std::uint32_t>(out.size() - start - 4 + payload_size));
    output.append(payload, 0, payload_size);
    return;
  }

  // Fragments: the header and control message go whole in the first, the payload is split.
  scratch_header_.clear();
  write_header(atoms, scratch_header_);
  const std::uint64_t sequence = next_sequence_++;
  const std::size_t fixed = 18 + scratch_header_.size() + control.size();
  const std::size_t first_part = std::min(fragment_size > fixed ? fragment_size - fixed : 0, payload_size);
  const std::size_t rest = payload_size - first_part;
  const std::size_t chunk = std::max<std::size_t>(fragment_size - 18, 1);
  const std::uint64_t fragments = 1 + (rest + chunk - 1) / chunk;

  std::uint8_t* p = out.extend(22);
  spindle::detail::store_be32(p, static_cast<std::uint32_t>(fixed + first_part));
  p[4] = kVersion;
  p[5] = kFragmentStart;
  spindle::detail::store_be64(p + 6, sequence);
  spindle::detail::store_be64(p + 14, fragments);
  out.append(scratch_header_.bytes());
  out.append(control);
  output.append(payload, 0, first_part);
  std::size_t offset = first_part;
  for (std::uint64_t f = fragments - 1; f >= 1; --f) {
    const std::size_t n = std::min(chunk, payload_size - offset);
    p = out.extend(22);
    spindle::detail::store_be32(p, static_cast<std::uint32_t>(18 + n));
    p[4] = kVersion;
    p[5] = kFragmentContinue;
    spindle::detail::store_be64(p + 6, sequence);
    spindle::detail::store_be64(p + 14, f);
    output.append(payload, offset, n);
    offset += n;
  }
}

}  // namespace spindle::dist
