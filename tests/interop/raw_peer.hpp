#pragma once
// A distribution peer driven by hand, for fault-injection tests: a plain socket to a
// node, with our own Handshake, FrameWriter and FrameReader, so a test sends exactly the
// bytes a broken or hostile node would (half frames, lies, floods) and sees what the
// node does about them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spindle/dist/frame.hpp"
#include "spindle/dist/handshake.hpp"

namespace spindle::test {

class RawPeer {
 public:
  /// Connects to 127.0.0.1:`port` (throws when nothing listens there).
  explicit RawPeer(std::uint16_t port);
  ~RawPeer();
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  /// "127.0.0.1:PORT" as the node sees this peer (and logs it).
  std::string address() const;

  /// Runs the handshake as `name`, expecting the node `expected`. Throws HandshakeError
  /// when refused, std::runtime_error when the node closes the connection first.
  void handshake(const std::string& name, const std::string& cookie, std::uint32_t creation,
                 const std::string& expected);

  /// Writes raw bytes (anything at all).
  void write(std::span<const std::uint8_t> bytes);
  /// Writes one distribution frame: a 4-byte length, then `frame`.
  void write_frame(std::span<const std::uint8_t> frame);
  /// The bytes write_frame writes for `frame`, appended to `out` (to send many at once).
  static void append_framed(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out);
  /// The frames for one message (control, then the payload encoded without a version
  /// byte), through this peer's atom cache; more than one when fragmented.
  std::vector<std::vector<std::uint8_t>> frames(const Term& control, std::span<const std::uint8_t> payload = {},
                                                std::size_t fragment_size = 0);
  /// Writes the frames of one message.
  void send(const Term& control, std::span<const std::uint8_t> payload = {});

  /// The next message the node sends (ticks skipped), or nothing when it closes the
  /// connection or `timeout` passes.
  std::optional<dist::IncomingMessage> receive(std::chrono::milliseconds timeout);
  /// Reads (and drops) until the node closes the connection: true, or false after
  /// `timeout`.
  bool closed_by_node(std::chrono::milliseconds timeout);

 private:
  bool read_exactly(std::uint8_t* data, std::size_t size, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  dist::FrameWriter writer_;
  dist::FrameReader reader_;
};

}  // namespace spindle::test
