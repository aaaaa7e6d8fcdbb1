#pragma once
// What both handshake targets do with their input: feed it to a Handshake packet by
// packet, as a connection would.

#include <span>

#include "fuzz_support.hpp"
#include "spindle/dist/handshake.hpp"

namespace spindle::fuzz {

/// Feeds the peer's packets (each after its 2-byte length) to `h`. Every reply must fit
/// a 2-byte length, and a packet after the end must be refused. True when the handshake
/// finished (for the caller to check what it agreed on); false when it was refused or
/// broke (the connection would close) or the input ended first.
inline bool run_handshake(dist::Handshake& h, std::span<const std::uint8_t> stream) {
  PacketStream packets(stream, 2);
  std::span<const std::uint8_t> packet;
  while (packets.next(packet)) {
    const bool was_done = h.done();
    try {
      for (const dist::Packet& reply : h.receive(packet)) SPINDLE_FUZZ_CHECK(!reply.empty() && reply.size() <= 0xFFFF);
    } catch (const dist::HandshakeError&) {
      return h.done();  // broken or refused; or a packet after the end, refused as it must be
    }
    SPINDLE_FUZZ_CHECK(!was_done);  // nothing is accepted after the end
    if (h.refusal()) return false;
  }
  return h.done();
}

}  // namespace spindle::fuzz
