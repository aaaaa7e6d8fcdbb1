#include "handshake_io.hpp"

#include "epmd_client.hpp"
#include "spindle/detail/big_endian.hpp"

namespace spindle::dist {
namespace {

// Handshake packets are a few dozen bytes (a name is at most 255 characters). A larger
// length is not a handshake at all: refuse it at once rather than wait for the bytes.
constexpr std::size_t kLargestPacket = 2048;

asio::awaitable<void> write_packets(tcp::socket& socket, const std::vector<Packet>& packets) {
  if (packets.empty()) co_return;
  std::vector<std::uint8_t> bytes;
  for (const Packet& p : packets) {
    const std::size_t at = bytes.size();
    bytes.resize(at + 2);
    spindle::detail::store_be16(bytes.data() + at, static_cast<std::uint16_t>(p.size()));
    bytes.insert(bytes.end(), p.begin(), p.end());
  }
  co_await asio::async_write(socket, asio::buffer(bytes), asio::use_awaitable);
}

}  // namespace

asio::awaitable<void> run_handshake(tcp::socket& socket, Handshake& handshake, std::chrono::milliseconds timeout) {
  detail::Deadline deadline(socket.get_executor(), timeout, [&socket] {
    error_code ignored;
    socket.close(ignored);
  });
  try {
    co_await write_packets(socket, handshake.start());
    while (!handshake.done()) {
      std::uint8_t length[2];
      co_await asio::async_read(socket, asio::buffer(length), asio::use_awaitable);
      const std::size_t size = spindle::detail::load_be16(length);
      if (size == 0 || size > kLargestPacket)
        throw HandshakeError(HandshakeError::Reason::malformed,
                             "a handshake packet of " + std::to_string(size) + " bytes: not the distribution protocol");
      Packet packet(size);
      co_await asio::async_read(socket, asio::buffer(packet), asio::use_awaitable);
      co_await write_packets(socket, handshake.receive(packet));
      if (handshake.refusal()) throw *handshake.refusal();
    }
  } catch (const boost::system::system_error& e) {
    if (deadline.expired())
      throw std::runtime_error("the handshake took longer than " + std::to_string(timeout.count()) + " ms");
    if (e.code() == asio::error::eof) throw std::runtime_error("the peer closed the connection during the handshake");
    throw std::runtime_error(std::string("handshake I/O failed: ") + e.what());
  }
}

}  // namespace spindle::dist
