#include "handshake_io.hpp"

#include "epmd_client.hpp"
#include "spindle/detail/big_endian.hpp"

namespace spindle::dist {
namespace {

// Handshake packets are a few dozen bytes (a name is at most 255 characters). A larger
// length is not a handshake at all: refuse it at once rather than wait for the bytes.
constexpr std::size_t kLargestPacket = 2048;

// The bytes of a handshake packet's length: 2 over TCP, but 4 over TLS, where OTP's
// inet_tls_dist runs the whole connection, handshake included, with {packet, 4}.
std::size_t length_bytes(const Transport& transport) noexcept { return transport.is_tls() ? 4 : 2; }

asio::awaitable<void> write_packets(Transport& transport, const std::vector<Packet>& packets) {
  if (packets.empty()) co_return;
  const std::size_t prefix = length_bytes(transport);
  std::vector<std::uint8_t> bytes;
  for (const Packet& p : packets) {
    const std::size_t at = bytes.size();
    bytes.resize(at + prefix);
    if (prefix == 4) {
      spindle::detail::store_be32(bytes.data() + at, static_cast<std::uint32_t>(p.size()));
    } else {
      spindle::detail::store_be16(bytes.data() + at, static_cast<std::uint16_t>(p.size()));
    }
    bytes.insert(bytes.end(), p.begin(), p.end());
  }
  co_await transport.write(asio::buffer(bytes));
}

}  // namespace

asio::awaitable<void> run_handshake(Transport& transport, Handshake& handshake, std::chrono::milliseconds timeout,
                                    const std::string& host) {
  detail::Deadline deadline(transport.executor(), timeout, [&transport] { transport.close(); });
  try {
    if (transport.is_tls()) {
      try {
        co_await transport.start(handshake.initiates(), host);
      } catch (const boost::system::system_error& e) {
        if (deadline.expired()) throw;
        throw std::runtime_error("TLS handshake failed: " + e.code().message());
      }
    }
    co_await write_packets(transport, handshake.start());
    while (!handshake.done()) {
      std::uint8_t length[4];
      const std::size_t prefix = length_bytes(transport);
      co_await transport.read(asio::buffer(length, prefix));
      const std::size_t size = prefix == 4 ? spindle::detail::load_be32(length) : spindle::detail::load_be16(length);
      if (size == 0 || size > kLargestPacket)
        throw HandshakeError(HandshakeError::Reason::malformed,
                             "a handshake packet of " + std::to_string(size) + " bytes: not the distribution protocol");
      Packet packet(size);
      co_await transport.read(asio::buffer(packet));
      co_await write_packets(transport, handshake.receive(packet));
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
