// Fuzz target: the connecting side of the distribution handshake (spindle/dist/handshake.hpp),
// the packet parsing and the state machine, without sockets.
//
// Input: one byte (bit 0 set: we meant to reach kPeer, else any node), then what the
// accepting node sends: packets, each after its 2-byte length. Our challenge is always
// kChallenge and the cookie is kCookie, so a recorded handshake
// (tests/fuzz/make_corpus.sh) reaches the end. A HandshakeError closes the connection:
// the input ends there.

#include <cstdint>
#include <span>
#include <string>

#include "fuzz_handshake.hpp"
#include "spindle/dist/flags.hpp"
#include "spindle/dist/handshake.hpp"

namespace {

using namespace spindle::dist;

constexpr std::uint32_t kChallenge = 0x5eed1234;
const char* const kCookie = "fuzzcookie";
const char* const kName = "spindle@127.0.0.1";
const char* const kPeer = "corpus@127.0.0.1";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string expected = (data[0] & 1) ? kPeer : "";
  Handshake h = Handshake::initiate({kName, flags::ours, 42, kCookie}, expected, [] { return kChallenge; });
  SPINDLE_FUZZ_CHECK(h.start().size() == 1);
  if (spindle::fuzz::run_handshake(h, {data + 1, size - 1})) {
    SPINDLE_FUZZ_CHECK(valid_node_name(h.peer().name));
    SPINDLE_FUZZ_CHECK(expected.empty() || h.peer().name == expected);
    SPINDLE_FUZZ_CHECK((h.peer().flags & flags::mandatory_25) == flags::mandatory_25);
  }
  return 0;
}
