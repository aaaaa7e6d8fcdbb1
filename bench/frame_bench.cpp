// How fast a connection's FrameReader turns frames into messages, for messages that
// carry one large binary: whole in one frame, and in fragments of 64 KB as OTP sends
// them (a 64 KB binary is then two fragments, the second some 40 bytes). Frames of
// 64 KB or more are handed over in binaries of their own, with the reader allowed to
// keep them and with the room it asks for after them, as dist/src/connection.cpp does;
// smaller ones as plain bytes.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

#include "spindle/detail/big_endian.hpp"
#include "spindle/dist/frame.hpp"

namespace {

using namespace spindle;

constexpr std::size_t kOwnFrame = std::size_t{64} << 10;  // as Connection's kOwnBuffer
constexpr std::size_t kOtpFragment = std::size_t{64} << 10;  // ERTS_DIST_FRAGMENT_SIZE

// The frames (without their length prefixes) of one SEND_SENDER carrying `size` bytes.
std::vector<Term> frames_of(std::size_t size, std::size_t fragment_size) {
  const Pid from(atom("a@host"), 1, 2, 3);
  const Pid to(atom("b@host"), 4, 5, 6);
  ByteBuffer payload;
  etf::encode_body(binary(std::string(size, 'x')), payload);
  ByteBuffer out;
  dist::FrameWriter writer;
  writer.write(tuple(22, from, to), payload.bytes(), out, fragment_size);
  std::vector<Term> frames;
  for (std::size_t at = 0; at < out.size();) {
    const std::uint32_t length = spindle::detail::load_be32(out.data() + at);
    frames.push_back(binary(std::span<const std::uint8_t>(out.data() + at + 4, length)));
    at += 4 + length;
  }
  return frames;
}

// A frame as the connection hands it over: in a binary of its own, with room after it.
struct OwnFrame {
  Term owner;
  std::span<const std::uint8_t> bytes;
  std::size_t room = 0;
};

OwnFrame own_frame(const dist::FrameReader& reader, std::span<const std::uint8_t> bytes) {
  const std::size_t room = reader.room_after(bytes, bytes.size());
  std::uint8_t* data = nullptr;
  OwnFrame f{binary_uninitialized(bytes.size() + room, data), {}, room};
  std::copy(bytes.begin(), bytes.end(), data);
  f.bytes = {data, bytes.size()};
  return f;
}

void read_message(benchmark::State& state, std::size_t size, std::size_t fragment_size) {
  dist::FrameReader reader;
  std::vector<OwnFrame> frames;
  for (const Term& f : frames_of(size, fragment_size)) {
    const auto bytes = f.as_binary().bytes();
    frames.push_back(bytes.size() >= kOwnFrame ? own_frame(reader, bytes) : OwnFrame{f, bytes, 0});
  }
  for (auto _ : state) {
    // Each round reuses the frames: a message reassembled in a first fragment's room
    // writes the same bytes there every time.
    std::optional<dist::IncomingMessage> message;
    for (const OwnFrame& f : frames) {
      message = f.bytes.size() >= kOwnFrame ? reader.read(f.bytes, &f.owner, f.room) : reader.read(f.bytes);
    }
    if (!message || !message->payload || message->payload->as_binary().size() != size)
      state.SkipWithError("the message did not come out whole");
    benchmark::DoNotOptimize(message);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.counters["frames"] = static_cast<double>(frames.size());
}

}  // namespace

BENCHMARK_CAPTURE(read_message, whole_64KB, std::size_t{64} << 10, 0);
BENCHMARK_CAPTURE(read_message, otp_fragments_64KB, std::size_t{64} << 10, kOtpFragment);
BENCHMARK_CAPTURE(read_message, whole_1MB, std::size_t{1} << 20, 0);
BENCHMARK_CAPTURE(read_message, otp_fragments_1MB, std::size_t{1} << 20, kOtpFragment);
