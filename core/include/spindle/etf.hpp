#pragma once
/// @file
/// The External Term Format: Erlang's binary encoding of terms (`term_to_binary`).
///
/// Decoding is strict: every malformed input is a `DecodeError` naming the problem
/// and the byte offset, never a crash, and no allocation is sized from an unchecked
/// length. Decoding a shared buffer (a binary term) points large binaries into it
/// instead of copying them. Encoding emits what OTP 25/26 emit with
/// `{minor_version, 2}`: UTF-8 atoms, NEW_FLOAT_EXT, NEW_PID_EXT, NEWER_REFERENCE_EXT.

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "spindle/byte_buffer.hpp"
#include "spindle/term.hpp"

namespace spindle::etf {

inline constexpr std::uint8_t kVersion = 131;

/// Every tag of the format, current and deprecated.
enum Tag : std::uint8_t {
  kNewFloat = 70,
  kBitBinary = 77,
  kCompressed = 80,
  kAtomCacheRef = 82,
  kLocal = 121,
  kNewPid = 88,
  kNewPort = 89,
  kNewerReference = 90,
  kSmallInteger = 97,
  kInteger = 98,
  kFloat = 99,
  kAtom = 100,
  kReference = 101,
  kPort = 102,
  kPid = 103,
  kSmallTuple = 104,
  kLargeTuple = 105,
  kNil = 106,
  kString = 107,
  kList = 108,
  kBinary = 109,
  kSmallBig = 110,
  kLargeBig = 111,
  kNewFun = 112,
  kExport = 113,
  kNewReference = 114,
  kSmallAtom = 115,
  kMap = 116,
  kFun = 117,
  kAtomUtf8 = 118,
  kSmallAtomUtf8 = 119,
  kV4Port = 120,
};

/// What was wrong with the input.
enum class DecodeErrc {
  Truncated,            ///< the input ends inside a term
  BadVersion,           ///< the first byte is not 131
  UnknownTag,           ///< a tag this format does not have (or one no longer decoded)
  BadLength,            ///< a length or count larger than the bytes that follow
  InvalidUtf8,          ///< an atom that is not valid UTF-8
  AtomTooLong,          ///< an atom of more than 255 characters
  AtomTableFull,        ///< the atom table is at its limit
  NonFiniteFloat,       ///< NaN or infinity
  BadFloat,             ///< a FLOAT_EXT string that is not a number
  DuplicateMapKey,      ///< a map with the same key twice
  TrailingBytes,        ///< bytes after the term
  TooDeep,              ///< nesting deeper than the configured limit
  BadBitstring,         ///< a BIT_BINARY_EXT bit count outside 1..8 (or 0 for an empty one)
  BadCompressed,        ///< zlib data that does not inflate to the announced size
  TooLarge,             ///< a compressed term that would inflate past the configured limit
  BadAtomCacheRef,      ///< an ATOM_CACHE_REF with no atom cache entry behind it
  UnexpectedType,       ///< a field of a pid, port, ref or fun holding the wrong kind of term
  BadReference,         ///< a reference with an id length outside 1..5
  BadFun,               ///< a NEW_FUN_EXT whose size field disagrees with its contents
};

/// A malformed external term.
class DecodeError : public std::runtime_error {
 public:
  DecodeError(DecodeErrc code, std::size_t offset, const std::string& detail);
  DecodeErrc code() const noexcept { return code_; }
  /// Byte offset in the input where the problem was found.
  std::size_t offset() const noexcept { return offset_; }
  /// The problem without the offset.
  const std::string& detail() const noexcept { return detail_; }

 private:
  DecodeErrc code_;
  std::size_t offset_;
  std::string detail_;
};

struct DecodeOptions {
  /// Deepest nesting of tuples, lists, maps and funs accepted.
  std::size_t max_depth = 10'000;
  /// Largest size a compressed term may announce (and inflate to).
  std::size_t max_decompressed_size = std::size_t{64} << 20;
  /// Binaries longer than this point into a shared input buffer instead of being copied.
  std::size_t share_binaries_over = 64;
  /// Atoms for ATOM_CACHE_REF (the distribution header's references, by index).
  std::span<const Atom> atom_cache = {};
};

/// Decodes one external term that fills `bytes` (version byte 131 first).
Term decode(std::span<const std::uint8_t> bytes, const DecodeOptions& options = {});

/// Decodes one external term that fills the binary `buffer`. Large binaries in the
/// result share `buffer`'s memory (and keep it alive) instead of being copied.
Term decode(const Term& buffer, const DecodeOptions& options = {});

/// Decodes one term without a version byte, starting at `offset` and advancing it past
/// the term (terms follow one another in a distribution message). `shared`, when it is
/// the binary that holds `bytes`, lets large binaries point into it.
Term decode_body(std::span<const std::uint8_t> bytes, std::size_t& offset, const DecodeOptions& options = {},
                 const Term* shared = nullptr);

/// Refers to atoms by index instead of by name (the distribution atom cache).
class AtomCacheEncoder {
 public:
  virtual ~AtomCacheEncoder() = default;
  /// The ATOM_CACHE_REF index for `atom`, or -1 to write the atom out in full.
  virtual int reference(Atom atom) = 0;
};

struct EncodeOptions {
  /// Compress with zlib (tag 80) when that makes the output smaller, as OTP does.
  bool compressed = false;
  /// zlib level 0-9 for `compressed` (OTP's default is 6).
  int compression_level = 6;
  /// When set, atoms it knows are written as ATOM_CACHE_REF.
  AtomCacheEncoder* atom_cache = nullptr;
};

/// Appends the external form of `term` (with the version byte) to `out`.
void encode(const Term& term, ByteBuffer& out, const EncodeOptions& options = {});

/// The external form of `term` as a new byte vector.
std::vector<std::uint8_t> encode(const Term& term, const EncodeOptions& options = {});

/// Appends `term` without the version byte (for distribution messages).
void encode_body(const Term& term, ByteBuffer& out, AtomCacheEncoder* atom_cache = nullptr);

/// Exact size of the uncompressed external form of `term`, version byte included.
std::size_t encoded_size(const Term& term);

/// Writes the uncompressed external form of `term` into `out`, which must hold at least
/// `encoded_size(term)` bytes (else `std::length_error`). Returns the bytes written.
std::size_t encode_to(const Term& term, std::span<std::uint8_t> out);

/// The bytes of a large binary that a split encoding refers to instead of copying.
struct ExternalBytes {
  std::size_t at = 0;  ///< where in the encoded bytes they belong (before the byte there)
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

/// What a split encoding needs: the bytes it writes and the binaries it leaves out.
struct SplitEncodingSize {
  std::size_t bytes = 0;
  std::size_t externals = 0;
};

/// For writing a term with gather I/O: the encoding without the version byte, except
/// that binaries of at least `min_external` bytes are not copied. Each is recorded, in
/// order, in `externals` and points into the term's memory (keep the term alive until
/// the bytes are written). `out` and `externals` must hold what `split_encoded_size`
/// says (else `std::length_error`).
SplitEncodingSize split_encoded_size(const Term& term, std::size_t min_external);
void split_encode_to(const Term& term, std::span<std::uint8_t> out, std::span<ExternalBytes> externals,
                     std::size_t min_external);
/// The same without walking the term a second time: `size` is what
/// `split_encoded_size(term, min_external)` returned (a term never changes, so it holds).
void split_encode_to(const Term& term, const SplitEncodingSize& size, std::span<std::uint8_t> out,
                     std::span<ExternalBytes> externals, std::size_t min_external);

}  // namespace spindle::etf
