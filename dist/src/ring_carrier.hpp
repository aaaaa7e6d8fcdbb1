#pragma once
// The shared-memory carrier. Two Spindle nodes on one machine that met over the local
// carrier's Unix domain socket (local_carrier.hpp) each offer, right after the handshake,
// a SharedRing for the bytes they send, handing its memfd over the socket. From then on
// every frame goes through the rings, and the socket carries only wake-ups: one byte when
// the other side said it sleeps, for bytes to read or for room to write. Its end is the
// peer's end. Frames, ticks and everything above them are the same as over a socket:
// Transport reads and writes a RingCarrier as it reads and writes a socket, and the I/O
// thread's busy-wait polls the ring without a system call.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "asio.hpp"
#include "shared_ring.hpp"

namespace spindle::dist {

class RingCarrier : public std::enable_shared_from_this<RingCarrier> {
 public:
  RingCarrier(local_stream::socket socket, SharedRing outgoing, SharedRing incoming);
  RingCarrier(const RingCarrier&) = delete;
  RingCarrier& operator=(const RingCarrier&) = delete;

  /// Starts listening for the peer's wake-ups and its end (once owned by a shared_ptr).
  void start();
  asio::any_io_executor executor() { return socket_.get_executor(); }

  /// What the peer's ring holds, up to `into`'s size, without waiting: the count, with
  /// `ec` would_block when there was nothing, eof when the peer is gone and nothing is
  /// left. Throws std::runtime_error when the peer broke the ring.
  std::size_t read_now(asio::mutable_buffer into, error_code& ec);
  /// At least one byte, waiting for it; throws boost::system::system_error (eof) once the
  /// peer is gone and its ring is empty.
  asio::awaitable<std::size_t> read_some(asio::mutable_buffer into);
  /// Exactly `into`'s size.
  asio::awaitable<std::size_t> read(asio::mutable_buffer into);

  /// What our ring has room for of `bytes`, without waiting: the count, with `ec`
  /// would_block when not all of it fit, broken_pipe when the peer is gone, or
  /// protocol_error when the peer broke the ring (fault() says how).
  std::size_t write_now(asio::const_buffer bytes, error_code& ec);
  /// All of `buffers`, in order, waiting for room as the peer reads.
  template <class Buffers>
  asio::awaitable<std::size_t> write(const Buffers& buffers) {
    std::size_t total = 0;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      const asio::const_buffer piece(*it);
      co_await write_all(piece);
      total += piece.size();
    }
    co_return total;
  }

  /// Why the ring was refused, after write_now's protocol_error.
  const std::string& fault() const noexcept { return fault_; }

  /// Closes the socket: the peer sees our end, waits here end.
  void close() noexcept;

 private:
  asio::awaitable<void> write_all(asio::const_buffer bytes);
  // `self` keeps the carrier alive while it listens.
  asio::awaitable<void> listen(std::shared_ptr<RingCarrier> self);
  // One byte over the socket, without waiting: a full socket already holds wake-ups.
  void wake_peer() noexcept;
  // Sleeps until the peer's next wake-up or end (or a close here).
  asio::awaitable<void> sleep(asio::steady_timer& alarm);

  local_stream::socket socket_;
  SharedRing out_;
  SharedRing in_;
  asio::steady_timer reader_alarm_;
  asio::steady_timer writer_alarm_;
  bool ended_ = false;  // the peer's end, or our close
  std::string fault_;
};

/// After the handshake over a local socket, both nodes call this at once. Each offers
/// `mine`, the ring for the bytes it sends (none: offers none), and takes the peer's
/// offer. A started carrier, owning `socket`, when both offered; nullptr when either did
/// not (the socket then carries the frames itself). Throws std::runtime_error on anything
/// but a well-formed offer (what was wrong in it), boost::system::system_error on I/O.
asio::awaitable<std::shared_ptr<RingCarrier>> share_rings(local_stream::socket& socket, std::optional<SharedRing> mine);

}  // namespace spindle::dist
