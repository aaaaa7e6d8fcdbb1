// How fast a connection's FrameReader turns frames into messages, for messages that
// carry one large binary: whole in one frame, and in fragments of 64 KB as OTP sends
// them (a 64 KB binary is then two fragments, the second some 40 bytes). Frames of
// 64 KB or more are handed over in binaries of their own, with the reader allowed to
// keep them, as dist/src/connection.cpp does; smaller ones as plain bytes.

#include <benchmark/benchmark.h>

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

void read_message(benchmark::State& state, std::size_t size, std::size_t fragment_size) {
  const std::vector<Term> frames = frames_of(size, fragment_size);
  dist::FrameReader reader;
  for (auto _ : state) {
    std::optional<dist::IncomingMessage> message;
    for (const Term& f : frames) {
      const auto bytes = f.as_binary().bytes();
      message = bytes.size() >= kOwnFrame ? reader.read(f) : reader.read(bytes);
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
