// Fuzz target: the distribution frame reader (spindle/dist/frame.hpp: headers, the atom
// cache, fragments, pass-through frames) and the control messages (dist/src/control.hpp).
//
// Input: what a peer sends after the handshake: frames, each after its 4-byte length, as
// they come off the socket. One FrameReader reads them all (its atom cache and fragments
// carry over from frame to frame); each message it completes is interpreted as the
// connection would. A FrameError or ControlError closes the connection: the input ends
// there. Every message read is also written again with a FrameWriter (fragmented for
// some) and read back by a second reader, which must see the same message.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "control.hpp"
#include "fuzz_support.hpp"
#include "spindle/dist/frame.hpp"
#include "spindle/etf.hpp"

namespace {

using namespace spindle;
using namespace spindle::dist;

FrameLimits limits() {
  FrameLimits l;
  l.max_message_bytes = std::size_t{1} << 20;
  l.max_pending_sequences = 8;
  l.max_pending_bytes = std::size_t{2} << 20;
  l.decode.max_decompressed_size = std::size_t{1} << 20;
  return l;
}

// Writes `message` as our own FrameWriter would and reads it back with `echo`.
void echo_message(const IncomingMessage& message, FrameWriter& writer, FrameReader& echo, std::size_t fragment_size) {
  ByteBuffer payload;
  if (message.payload) etf::encode_body(*message.payload, payload);
  ByteBuffer out;
  writer.write(message.control, payload.bytes(), out, fragment_size);
  fuzz::PacketStream frames(out.bytes(), 4);
  std::span<const std::uint8_t> frame;
  std::optional<IncomingMessage> back;
  while (frames.next(frame)) {
    SPINDLE_FUZZ_CHECK(!back);  // the message is complete only with its last frame
    back = echo.read(frame);
  }
  SPINDLE_FUZZ_CHECK(back.has_value());
  SPINDLE_FUZZ_CHECK(back->control == message.control);
  SPINDLE_FUZZ_CHECK(back->payload.has_value() == message.payload.has_value());
  SPINDLE_FUZZ_CHECK(!message.payload || *back->payload == *message.payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FrameReader reader(limits());
  FrameWriter writer;
  FrameReader echo(limits());
  fuzz::PacketStream frames({data, size}, 4);
  std::span<const std::uint8_t> frame;
  for (std::size_t index = 0; frames.next(frame); ++index) {
    std::optional<IncomingMessage> message;
    try {
      if (index % 2 == 0) {
        message = reader.read(frame);
      } else {  // as a large frame arrives: in a binary that large binaries may point
                // into, with the room the reader asks for after it
        const std::size_t room = reader.room_after(frame, frame.size());
        std::uint8_t* bytes = nullptr;
        const Term owner = binary_uninitialized(frame.size() + room, bytes);
        std::copy(frame.begin(), frame.end(), bytes);
        message = reader.read({bytes, frame.size()}, &owner, room);
      }
    } catch (const FrameError&) {
      return 0;
    }
    if (!message) continue;  // a tick, or a fragment of a message not yet complete
    echo_message(*message, writer, echo, index % 3 == 0 ? 0 : 40 + index % 64);
    try {
      (void)interpret(std::move(*message));
    } catch (const ControlError&) {
      return 0;
    }
  }
  return 0;
}
