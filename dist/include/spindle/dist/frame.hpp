#pragma once
/// @file
/// Distribution frames after the handshake (erl_ext_dist, "Distribution Header"): the
/// header with its atom cache, fragmented messages, and the control message and payload
/// that follow. Stateful per connection and direction, without I/O.

#include <array>
#include <bitset>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "spindle/byte_buffer.hpp"
#include "spindle/etf.hpp"
#include "spindle/term.hpp"

namespace spindle::dist {

/// A frame that breaks the protocol. The connection it came on is closed.
class FrameError : public std::runtime_error {
 public:
  FrameError(const std::string& what, std::size_t offset)
      : std::runtime_error(what + " (at byte " + std::to_string(offset) + " of the frame)"), offset_(offset) {}
  std::size_t offset() const noexcept { return offset_; }

 private:
  std::size_t offset_;
};

/// A message as it arrived: the control tuple and, for sends and exits with a payload,
/// the term after it.
struct IncomingMessage {
  Term control;
  std::optional<Term> payload;
};

struct FrameLimits {
  /// Largest message reassembled from fragments.
  std::size_t max_message_bytes = std::size_t{256} << 20;
  /// Fragmented messages in progress at once (peers interleave their senders').
  std::size_t max_pending_sequences = 256;
  /// Bytes held by all fragmented messages in progress.
  std::size_t max_pending_bytes = std::size_t{512} << 20;
  /// Options for decoding the terms (nesting depth and so on).
  etf::DecodeOptions decode = {};
};

/// Reads the frames one peer sends: keeps its atom cache and its fragments in progress.
class FrameReader {
 public:
  explicit FrameReader(FrameLimits limits = {});

  /// `frame` is one frame without its 4-byte length; an empty frame is a tick. When
  /// `owner` is a binary holding the frame's bytes, large binaries in the message point
  /// into it (and keep it alive) instead of being copied. `room` bytes after the frame,
  /// the end of `owner`'s binary (allocated with room_after's bytes after the frame), are
  /// the reader's to write: the message a first fragment starts is then completed in
  /// place, behind it, rather than copied out. Returns the message the frame completes,
  /// if any. Throws FrameError (and std::invalid_argument for a `room` not so placed).
  std::optional<IncomingMessage> read(std::span<const std::uint8_t> frame, const Term* owner = nullptr,
                                      std::size_t room = 0);
  /// The frame is the whole binary `frame`.
  std::optional<IncomingMessage> read(const Term& frame) { return read(frame.as_binary().bytes(), &frame); }

  /// Bytes worth allocating after a frame of `length` bytes whose first bytes are `head`
  /// (18 or more, to tell): room for the rest of the fragmented message it starts, as
  /// much as the reader would keep for it, within the limits; 0 for any other frame.
  std::size_t room_after(std::span<const std::uint8_t> head, std::size_t length) const noexcept;

  /// Bytes held by fragmented messages in progress (with the room kept for the fragments
  /// still due).
  std::size_t pending_bytes() const noexcept { return pending_bytes_; }

 private:
  // A message arriving in fragments is reassembled into one binary, which then owns the
  // message's large binaries: they are used in place rather than copied out again. That
  // binary is the first fragment's own, when it came with room after it.
  struct Sequence {
    std::vector<Atom> atoms;    // the refs of its header
    Term body;                  // the binary the message is reassembled in, from `data` on
    std::uint8_t* data = nullptr;
    std::size_t size = 0;       // bytes arrived
    std::size_t capacity = 0;   // bytes from `data` on that are the message's
    std::uint64_t next_fragment = 0;
  };

  /// Gives `s` room for at least `need` bytes (`want`, if the limits allow), keeping what
  /// arrived. Throws FrameError (at `offset`) when the limits do not allow `need`.
  void make_room(Sequence& s, std::size_t need, std::size_t want, std::size_t offset);
  /// Bytes fragmented messages may still claim.
  std::size_t pending_budget() const noexcept {
    return limits_.max_pending_bytes > pending_bytes_ ? limits_.max_pending_bytes - pending_bytes_ : 0;
  }
  std::vector<Atom> read_header(std::span<const std::uint8_t> frame, std::size_t& pos);
  IncomingMessage decode(std::span<const std::uint8_t> body, std::size_t base, const std::vector<Atom>& atoms,
                         const Term* shared) const;

  FrameLimits limits_;
  std::array<Atom, 2048> cache_{};
  std::bitset<2048> cached_;
  std::unordered_map<std::uint64_t, Sequence> sequences_;
  std::size_t pending_bytes_ = 0;
};

/// Atoms of a control message written as references into its frame's header
/// (ATOM_CACHE_REF with the index of the atom in the header's list). Which references a
/// message makes depends on its atoms alone, not on the state of the cache, so a control
/// message can be encoded on any thread and framed later by the connection's writer.
class ControlAtoms final : public etf::AtomCacheEncoder {
 public:
  int reference(Atom a) override;
  /// The atoms referred to, in header order.
  std::span<const Atom> atoms() const noexcept { return {atoms_.data(), count_}; }
  void clear() noexcept { count_ = 0; }

 private:
  std::array<Atom, 255> atoms_{};
  std::array<std::uint16_t, 255> slots_{};
  std::size_t count_ = 0;
};

/// A message's payload as written: its encoded bytes, with large binaries left in their
/// own memory (see etf::split_encode_to) between them.
struct Payload {
  std::span<const std::uint8_t> bytes;
  std::span<const etf::ExternalBytes> externals;  ///< in order; `at` indexes `bytes`

  Payload() = default;
  Payload(std::span<const std::uint8_t> b) noexcept : bytes(b) {}  // NOLINT: bytes are a payload
  Payload(std::span<const std::uint8_t> b, std::span<const etf::ExternalBytes> e) noexcept : bytes(b), externals(e) {}
  std::size_t size() const noexcept;
};

/// Where frames go. Everything the writer makes is appended to `bytes`; with `gathered`
/// set, payload parts of at least `min_gathered` bytes that live elsewhere are recorded
/// there (`at` indexes `bytes`) instead of copied, for one gather write.
struct FrameOutput {
  ByteBuffer& bytes;
  std::vector<etf::ExternalBytes>* gathered = nullptr;
  std::size_t min_gathered = 4096;
  std::size_t gathered_bytes = 0;

  /// The bytes from `bytes` and `gathered`, in wire order.
  std::size_t size() const noexcept { return bytes.size() + gathered_bytes; }
  void clear() noexcept;
  /// Appends [from, from + n) of `payload`.
  void append(const Payload& payload, std::size_t from, std::size_t n);
};

/// Writes the frames we send to one peer: keeps the outgoing atom cache. Must be used
/// in the order the frames go on the wire (the peer updates its cache as it reads).
class FrameWriter {
 public:
  /// `header`: frames carry the distribution header with its atom cache (peers with
  /// DFLAG_DIST_HDR_ATOM_CACHE); without it, pass-through frames (112, then the control
  /// message and payload as versioned terms, atoms in full, never fragmented), which is
  /// what erl_interface (C nodes, erl_call) and jinterface speak.
  explicit FrameWriter(bool header = true) noexcept : header_(header) {}

  /// Appends the frame(s) for one message: `control` then, if not empty, `payload`
  /// (already encoded, without version byte). Atoms in the control message and the
  /// message go through the atom cache. Messages over `fragment_size` bytes are split
  /// into fragments (0: never split; needs DFLAG_FRAGMENTS on both sides).
  void write(const Term& control, std::span<const std::uint8_t> payload, ByteBuffer& out,
             std::size_t fragment_size = 0);
  void write(const Term& control, const Payload& payload, FrameOutput& out, std::size_t fragment_size = 0);
  /// The same for a control message already encoded (without version byte) with
  /// ControlAtoms, whose `atoms()` are given (header frames only).
  void write_encoded(std::span<const Atom> atoms, std::span<const std::uint8_t> control, const Payload& payload,
                     FrameOutput& out, std::size_t fragment_size = 0);

  /// An empty frame: a tick.
  static void write_tick(ByteBuffer& out);

 private:
  /// Appends the distribution header for `atoms` to `out`, updating the cache.
  void write_header(std::span<const Atom> atoms, ByteBuffer& out);

  bool header_;
  std::array<Atom, 2048> cache_{};
  std::bitset<2048> cached_;
  std::uint64_t next_sequence_ = 1;
  ControlAtoms scratch_atoms_;
  ByteBuffer scratch_control_;
  ByteBuffer scratch_header_;
};

}  // namespace spindle::dist
