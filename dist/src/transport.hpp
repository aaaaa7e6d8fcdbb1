#pragma once
// What a connection's bytes travel over: a TCP socket, TLS over one (OTP's inet_tls_dist:
// TCP, then TLS, then the distribution handshake and frames inside it), or a Unix domain
// socket (the local carrier between Spindle nodes on one machine, local_carrier.hpp).
// Reads and writes are awaitables either way; one read and one write may be in flight at
// once, on the I/O thread.

#include <string>
#include <type_traits>
#include <variant>

#include "asio.hpp"

namespace spindle::dist {

class Transport {
 public:
  using TlsStream = ssl::stream<tcp::socket>;
  using LocalSocket = local_stream::socket;

  /// Plain TCP.
  explicit Transport(tcp::socket socket) : stream_(std::in_place_type<tcp::socket>, std::move(socket)) {}
  /// TLS over `socket` with `tls`'s certificates and checks; `handshake` starts it.
  Transport(tcp::socket socket, ssl::context& tls) : stream_(std::in_place_type<TlsStream>, std::move(socket), tls) {}
  /// A Unix domain socket.
  explicit Transport(LocalSocket socket) : stream_(std::in_place_type<LocalSocket>, std::move(socket)) {}

  bool is_tls() const noexcept { return std::holds_alternative<TlsStream>(stream_); }
  bool is_local() const noexcept { return std::holds_alternative<LocalSocket>(stream_); }
  asio::any_io_executor executor() {
    return std::visit([](auto& stream) -> asio::any_io_executor { return stream.get_executor(); }, stream_);
  }
  /// "ADDRESS:PORT" of the other end ("?" when it is gone), or "local socket", for the log.
  std::string peer_address() const;
  /// TCP_NODELAY on a TCP socket (with or without TLS); nothing on a local one.
  void set_no_delay() noexcept;

  /// The TLS handshake; nothing for plain TCP or a local socket. As the client, with
  /// verification on, the server's certificate must name `host` (the host part of its
  /// node name), as OTP checks it. Throws boost::system::system_error (OpenSSL's reason
  /// in it).
  asio::awaitable<void> start(bool client, const std::string& host);

  template <class Buffers>
  asio::awaitable<std::size_t> read_some(const Buffers& buffers) {
    return std::visit([&](auto& stream) { return stream.async_read_some(buffers, asio::use_awaitable); }, stream_);
  }
  /// Reads until `buffers` are full.
  template <class Buffers>
  asio::awaitable<std::size_t> read(const Buffers& buffers) {
    return std::visit([&](auto& stream) { return asio::async_read(stream, buffers, asio::use_awaitable); }, stream_);
  }
  /// Writes all of `buffers` (a gather write on a plain socket).
  template <class Buffers>
  asio::awaitable<std::size_t> write(const Buffers& buffers) {
    return std::visit([&](auto& stream) { return asio::async_write(stream, buffers, asio::use_awaitable); }, stream_);
  }

  /// Reads what the socket holds into `into` without waiting (a plain socket; TLS reads
  /// nothing this way): the count read, with `ec` set to would_block when there was
  /// nothing, to eof at the end of the stream, or to the error.
  std::size_t read_now(asio::mutable_buffer into, error_code& ec) {
    return with_plain_socket(ec, [&](auto& socket) { return socket.read_some(into, ec); });
  }

  /// Writes what the socket takes of `bytes` without waiting (a plain socket; TLS takes
  /// nothing this way): the count written, with `ec` set to would_block when the socket
  /// took less than all of it, or to the error.
  std::size_t write_now(asio::const_buffer bytes, error_code& ec) {
    return with_plain_socket(ec, [&](auto& socket) {
      std::size_t written = 0;
      while (!ec && written < bytes.size()) written += socket.write_some(bytes + written, ec);
      return written;
    });
  }

  /// Asks the kernel to report the socket readable only once it holds `bytes` (a plain
  /// socket; nothing under TLS). A read that does not wait takes what there is either way.
  void set_low_water(int bytes) noexcept {
    error_code ignored;
    (void)with_plain_socket(ignored, [&](auto& socket) {
      socket.set_option(asio::socket_base::receive_low_watermark(bytes), ignored);
      return std::size_t{0};
    });
  }

  /// Closes the socket (no TLS close_notify: a peer that stopped reading must not hold
  /// us up); operations in flight end with an error.
  void close() noexcept {
    std::visit(
        [](auto& stream) {
          error_code ignored;
          auto& socket = stream.lowest_layer();
          socket.shutdown(asio::socket_base::shutdown_both, ignored);
          socket.close(ignored);
        },
        stream_);
  }

 private:
  // Runs `f` on the socket of a plain (TCP or local) transport, in non-blocking mode
  // (asio's own operations do not mind); under TLS, returns 0 with `ec` would_block.
  template <class F>
  std::size_t with_plain_socket(error_code& ec, F&& f) {
    return std::visit(
        [&](auto& stream) -> std::size_t {
          if constexpr (std::is_same_v<std::decay_t<decltype(stream)>, TlsStream>) {
            ec = asio::error::would_block;
            return 0;
          } else {
            if (!stream.non_blocking()) stream.non_blocking(true, ec);
            return ec ? 0 : f(stream);
          }
        },
        stream_);
  }

  std::variant<tcp::socket, TlsStream, LocalSocket> stream_;
};

}  // namespace spindle::dist
