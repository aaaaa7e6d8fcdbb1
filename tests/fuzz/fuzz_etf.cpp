// Fuzz target: the External Term Format decoder (spindle/etf.hpp).
//
// Input: one external term as term_to_binary/1 writes it (version byte 131 first).
// A DecodeError is a rejected input. A term that decodes must decode the same way from
// a shared binary buffer, encode to `encoded_size` bytes that decode back to the same
// term (with the same hash), and print.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "spindle/etf.hpp"
#include "spindle/term.hpp"

namespace {

using namespace spindle;

// What ATOM_CACHE_REF 0-3 refer to (a distribution header's atoms).
std::span<const Atom> atom_cache() {
  static const std::array<Atom, 4> atoms = {atom(""), atom("node@host"), atom("call"), atoms::ok};
  return atoms;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  etf::DecodeOptions options;
  options.max_decompressed_size = std::size_t{1} << 20;  // the fuzzer's memory is limited
  options.atom_cache = atom_cache();
  Term term;
  try {
    term = etf::decode(input, options);
  } catch (const etf::DecodeError&) {
    return 0;
  }

  // The same bytes in a binary: large binaries point into it instead of being copied.
  options.share_binaries_over = 4;
  const Term buffer = binary(input);
  SPINDLE_FUZZ_CHECK(etf::decode(buffer, options) == term);

  const std::vector<std::uint8_t> encoded = etf::encode(term);
  SPINDLE_FUZZ_CHECK(encoded.size() == etf::encoded_size(term));
  const Term again = etf::decode(encoded);
  SPINDLE_FUZZ_CHECK(again == term);
  SPINDLE_FUZZ_CHECK(again.hash() == term.hash());
  SPINDLE_FUZZ_CHECK((again <=> term) == 0);
  SPINDLE_FUZZ_CHECK(!term.to_string().empty());
  return 0;
}
