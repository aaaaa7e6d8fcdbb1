// Fuzz target: the accepting side of the distribution handshake (spindle/dist/handshake.hpp),
// the packet parsing and the state machine, without sockets.
//
// Input: one byte choosing our answer to the peer's name (its value mod 5: ok,
// ok_simultaneous, nok, not_allowed, alive), then what the connecting node sends: packets,
// each after its 2-byte length. Our challenge is always kChallenge and the cookie is
// kCookie, so a recorded handshake (tests/fuzz/make_corpus.sh) reaches the end. A
// HandshakeError, or a refusal, closes the connection: the input ends there.

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto answer = static_cast<HandshakeStatus>(data[0] % 5);
  Handshake h = Handshake::accept(
      {kName, flags::ours | flags::published, 42, kCookie},
      [answer](const HandshakePeer& peer) {
        SPINDLE_FUZZ_CHECK(valid_node_name(peer.name));
        return answer;
      },
      [] { return kChallenge; });
  SPINDLE_FUZZ_CHECK(h.start().empty());
  if (spindle::fuzz::run_handshake(h, {data + 1, size - 1})) {
    SPINDLE_FUZZ_CHECK(valid_node_name(h.peer().name));
    SPINDLE_FUZZ_CHECK((h.peer().flags & flags::mandatory_25) == flags::mandatory_25);
  }
  return 0;
}
