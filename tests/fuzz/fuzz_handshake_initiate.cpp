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

#include "fuzz_support.hpp"
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
  spindle::fuzz::PacketStream packets({data + 1, size - 1}, 2);
  std::span<const std::uint8_t> packet;
  while (packets.next(packet)) {
    const bool was_done = h.done();
    try {
      for (const Packet& reply : h.receive(packet)) SPINDLE_FUZZ_CHECK(!reply.empty() && reply.size() <= 0xFFFF);
    } catch (const HandshakeError&) {
      return 0;
    }
    SPINDLE_FUZZ_CHECK(!was_done);  // nothing is accepted after the end
    if (h.done()) {
      SPINDLE_FUZZ_CHECK(valid_node_name(h.peer().name));
      SPINDLE_FUZZ_CHECK(expected.empty() || h.peer().name == expected);
      SPINDLE_FUZZ_CHECK((h.peer().flags & flags::mandatory_25) == flags::mandatory_25);
    }
  }
  return 0;
}
