#pragma once
// What a connection's bytes travel over: a TCP socket, TLS over one (OTP's inet_tls_dist:
// TCP, then TLS, then the distribution handshake and frames inside it), a Unix domain
// socket (the local carrier between Spindle nodes on one machine, local_carrier.hpp), or
// shared-memory rings that such a socket was upgraded to (ring_carrier.hpp). Reads and
// writes are awaitables either way; one read and one write may be in flight at once, on
// the I/O thread.

#include <memory>
#include <string>
#include <type_traits>
#include <variant>

#include "asio.hpp"
#include "ring_carrier.hpp"

namespace spindle::dist {

class Transport {
 private:
  // The carrier, closed when the Transport goes (its wake-up listener would keep it).
  struct Rings {
    explicit Rings(std::shared_ptr<RingCarrier> c) noexcept : carrier(std::move(c)) {}
    Rings(Rings&&) noexcept = default;
    Rings& operator=(Rings&& other) noexcept {
      if (this != &other) {
        close();
        carrier = std::move(other.carrier);
      }
      return *this;
    }
    Rings(const Rings&) = delete;
    Rings& operator=(const Rings&) = delete;
    ~Rings() { close(); }
    void close() noexcept {
      if (carrier) carrier->close();
    }
    std::shared_ptr<RingCarrier> carrier;
  };
  template <class Stream>
  static constexpr bool is_rings = std::is_same_v<std::decay_t<Stream>, Rings>;

  // One operation on whatever carries the bytes: `on_rings` with the shared-memory
  // carrier, `on_socket` with a socket or TLS stream (asio's interface on each).
  template <class OnRings, class OnSocket>
  decltype(auto) dispatch(OnRings&& on_rings, OnSocket&& on_socket) {
    return std::visit(
        [&](auto& stream) -> decltype(auto) {
          if constexpr (is_rings<decltype(stream)>) {
            return on_rings(*stream.carrier);
          } else {
            return on_socket(stream);
          }
        },
        stream_);
  }

 public:
  using TlsStream = ssl::stream<tcp::socket>;
  using LocalSocket = local_stream::socket;

  /// Plain TCP.
  explicit Transport(tcp::socket socket) : stream_(std::in_place_type<tcp::socket>, std::move(socket)) {}
  /// TLS over `socket` with `tls`'s certificates and checks; `handshake` starts it.
  Transport(tcp::socket socket, ssl::context& tls) : stream_(std::in_place_type<TlsStream>, std::move(socket), tls) {}
  /// A Unix domain socket.
  explicit Transport(LocalSocket socket) : stream_(std::in_place_type<LocalSocket>, std::move(socket)) {}
  /// Shared-memory rings (a started carrier).
  explicit Transport(std::shared_ptr<RingCarrier> rings) : stream_(std::in_place_type<Rings>, std::move(rings)) {}

  bool is_tls() const noexcept { return std::holds_alternative<TlsStream>(stream_); }
  /// A Unix domain socket, not (yet) upgraded to rings.
  bool is_local() const noexcept { return std::holds_alternative<LocalSocket>(stream_); }
  bool is_shared_memory() const noexcept { return std::holds_alternative<Rings>(stream_); }
  /// The Unix domain socket, for the upgrade to rings; nullptr for any other carrier.
  LocalSocket* local_socket() noexcept { return std::get_if<LocalSocket>(&stream_); }
  /// Whether a socket's low-water mark lets reads gather (a plain socket, not TLS or rings).
  bool can_gather() const noexcept { return !is_tls() && !is_shared_memory(); }
  asio::any_io_executor executor() {
    return dispatch([](RingCarrier& rings) { return rings.executor(); },
                    [](auto& stream) -> asio::any_io_executor { return stream.get_executor(); });
  }
  /// "ADDRESS:PORT" of the other end ("?" when it is gone), "local socket" or "shared
  /// memory", for the log.
  std::string peer_address() const;
  /// TCP_NODELAY on a TCP socket (with or without TLS); nothing on a local one.
  void set_no_delay() noexcept;

  /// The TLS handshake; nothing for plain TCP or a local socket. As the client, with
  /// verification on, the server's certificate must name `host` (the host part of its
  /// node name), as OTP checks it. Throws boost::system::system_error (OpenSSL's reason
  /// in it).
  asio::awaitable<void> start(bool client, const std::string& host);

  asio::awaitable<std::size_t> read_some(asio::mutable_buffer into) {
    return dispatch([&](RingCarrier& rings) { return rings.read_some(into); },
                    [&](auto& stream) { return stream.async_read_some(into, asio::use_awaitable); });
  }
  /// Reads until `into` is full.
  asio::awaitable<std::size_t> read(asio::mutable_buffer into) {
    return dispatch([&](RingCarrier& rings) { return rings.read(into); },
                    [&](auto& stream) { return asio::async_read(stream, into, asio::use_awaitable); });
  }
  /// Writes all of `buffers` (a gather write on a plain socket).
  template <class Buffers>
  asio::awaitable<std::size_t> write(const Buffers& buffers) {
    return dispatch([&](RingCarrier& rings) { return rings.write(buffers); },
                    [&](auto& stream) { return asio::async_write(stream, buffers, asio::use_awaitable); });
  }

  /// Reads what the socket holds into `into` without waiting (a plain socket; TLS reads
  /// nothing this way): the count read, with `ec` set to would_block when there was
  /// nothing, to eof at the end of the stream, or to the error.
  std::size_t read_now(asio::mutable_buffer into, error_code& ec) {
    if (auto* rings = std::get_if<Rings>(&stream_)) return rings->carrier->read_now(into, ec);
    return with_plain_socket(ec, [&](auto& socket) { return socket.read_some(into, ec); });
  }

  /// Writes what the socket takes of `bytes` without waiting (a plain socket; TLS takes
  /// nothing this way): the count written, with `ec` set to would_block when the socket
  /// took less than all of it, or to the error.
  std::size_t write_now(asio::const_buffer bytes, error_code& ec) {
    if (auto* rings = std::get_if<Rings>(&stream_)) return rings->carrier->write_now(bytes, ec);
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
    dispatch([](RingCarrier& rings) { rings.close(); },
             [](auto& stream) {
               error_code ignored;
               auto& socket = stream.lowest_layer();
               socket.shutdown(asio::socket_base::shutdown_both, ignored);
               socket.close(ignored);
             });
  }

 private:
  // Runs `f` on the socket of a plain (TCP or local) transport, in non-blocking mode
  // (asio's own operations do not mind); under TLS or rings, returns 0 with `ec` would_block.
  template <class F>
  std::size_t with_plain_socket(error_code& ec, F&& f) {
    return std::visit(
        [&](auto& stream) -> std::size_t {
          if constexpr (std::is_same_v<std::decay_t<decltype(stream)>, TlsStream> || is_rings<decltype(stream)>) {
            ec = asio::error::would_block;
            return 0;
          } else {
            if (!stream.non_blocking()) stream.non_blocking(true, ec);
            return ec ? 0 : f(stream);
          }
        },
        stream_);
  }

  std::variant<tcp::socket, TlsStream, LocalSocket, Rings> stream_;
};

}  // namespace spindle::dist
