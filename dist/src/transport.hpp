#pragma once
// What a connection's bytes travel over: a TCP socket, or TLS over one (OTP's
// inet_tls_dist: TCP, then TLS, then the distribution handshake and frames inside it).
// Reads and writes are awaitables either way; one read and one write may be in flight
// at once, on the I/O thread.

#include <string>
#include <variant>

#include "asio.hpp"

namespace spindle::dist {

class Transport {
 public:
  using TlsStream = ssl::stream<tcp::socket>;

  /// Plain TCP.
  explicit Transport(tcp::socket socket) : stream_(std::in_place_type<tcp::socket>, std::move(socket)) {}
  /// TLS over `socket` with `tls`'s certificates and checks; `handshake` starts it.
  Transport(tcp::socket socket, ssl::context& tls) : stream_(std::in_place_type<TlsStream>, std::move(socket), tls) {}

  bool is_tls() const noexcept { return std::holds_alternative<TlsStream>(stream_); }
  /// The TCP socket underneath (options, addresses, closing).
  tcp::socket& socket() noexcept {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) return tls->next_layer();
    return std::get<tcp::socket>(stream_);
  }
  const tcp::socket& socket() const noexcept { return const_cast<Transport*>(this)->socket(); }

  /// The TLS handshake; nothing for plain TCP. As the client, with verification on,
  /// the server's certificate must name `host` (the host part of its node name), as
  /// OTP checks it. Throws boost::system::system_error (OpenSSL's reason in it).
  asio::awaitable<void> start(bool client, const std::string& host);

  template <class Buffers>
  asio::awaitable<std::size_t> read_some(const Buffers& buffers) {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) co_return co_await tls->async_read_some(buffers, asio::use_awaitable);
    co_return co_await std::get<tcp::socket>(stream_).async_read_some(buffers, asio::use_awaitable);
  }
  /// Reads until `buffers` are full.
  template <class Buffers>
  asio::awaitable<void> read(const Buffers& buffers) {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) {
      co_await asio::async_read(*tls, buffers, asio::use_awaitable);
    } else {
      co_await asio::async_read(std::get<tcp::socket>(stream_), buffers, asio::use_awaitable);
    }
  }
  /// Writes all of `buffers` (a gather write on TCP).
  template <class Buffers>
  asio::awaitable<void> write(const Buffers& buffers) {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) {
      co_await asio::async_write(*tls, buffers, asio::use_awaitable);
    } else {
      co_await asio::async_write(std::get<tcp::socket>(stream_), buffers, asio::use_awaitable);
    }
  }

  /// Reads what the socket holds into `into` without waiting (plain TCP; TLS reads
  /// nothing this way): the count read, with `ec` set to would_block when there was
  /// nothing, to eof at the end of the stream, or to the error.
  std::size_t read_now(asio::mutable_buffer into, error_code& ec) {
    tcp::socket* tcp_socket = non_blocking_tcp(ec);
    return tcp_socket == nullptr || ec ? 0 : tcp_socket->read_some(into, ec);
  }

  /// Writes what the socket takes of `bytes` without waiting (plain TCP; TLS takes
  /// nothing this way): the count written, with `ec` set to would_block when the socket
  /// took less than all of it, or to the error.
  std::size_t write_now(asio::const_buffer bytes, error_code& ec) {
    tcp::socket* tcp_socket = non_blocking_tcp(ec);
    std::size_t written = 0;
    while (tcp_socket != nullptr && !ec && written < bytes.size()) written += tcp_socket->write_some(bytes + written, ec);
    return written;
  }

  /// Asks the kernel to report the socket readable only once it holds `bytes` (plain
  /// TCP; nothing under TLS). A read that does not wait takes what there is either way.
  void set_low_water(int bytes) noexcept {
    error_code ignored;
    if (auto* tcp_socket = std::get_if<tcp::socket>(&stream_))
      tcp_socket->set_option(asio::socket_base::receive_low_watermark(bytes), ignored);
  }

  /// Closes the socket (no TLS close_notify: a peer that stopped reading must not hold
  /// us up); operations in flight end with an error.
  void close() noexcept {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  // The TCP socket for a read or write that must not wait, in non-blocking mode (asio's
  // own operations do not mind); null, with `ec` would_block, under TLS.
  tcp::socket* non_blocking_tcp(error_code& ec) {
    auto* tcp_socket = std::get_if<tcp::socket>(&stream_);
    if (tcp_socket == nullptr) {
      ec = asio::error::would_block;
    } else if (!tcp_socket->non_blocking()) {
      tcp_socket->non_blocking(true, ec);
    }
    return tcp_socket;
  }

  std::variant<tcp::socket, TlsStream> stream_;
};

}  // namespace spindle::dist
