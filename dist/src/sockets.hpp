#pragma once
// Sockets that stay in this process. Asio opens them without FD_CLOEXEC, so a child
// process the application starts (fork and exec) would inherit every connection, the
// listener and the EPMD registration, and hold them open after we close them: EPMD
// would keep our name registered, and peers would not see us go. Every socket the
// distribution opens or accepts goes through here.

#include <string>

#include "asio.hpp"

namespace spindle::dist {

/// Sets FD_CLOEXEC on an open socket or acceptor.
void close_on_exec(int native_handle) noexcept;
template <class Socket>
void close_on_exec(Socket& socket) noexcept {
  if (socket.is_open()) close_on_exec(socket.native_handle());
}

/// Opens `acceptor` close-on-exec, with SO_REUSEADDR (a restarted node listens again at
/// once while connections of its previous life linger in TIME_WAIT; a port another
/// program listens on still fails), bound to `endpoint` and listening.
void listen_on(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, error_code& ec);

/// Connects `socket` to the first of `endpoints` that accepts, opening it close-on-exec.
/// Sets `ec` to the last failure when none does; a cancelled attempt (the socket closed
/// by a deadline) ends the search with operation_aborted.
asio::awaitable<void> connect_to(tcp::socket& socket, const tcp::resolver::results_type& endpoints, error_code& ec);

/// Opens `acceptor` close-on-exec on a Unix domain socket in Linux's abstract namespace,
/// under a name the kernel picks (autobind: unique, and gone with the socket, so nothing
/// is left in the file system), and listening.
void listen_locally(local_stream::acceptor& acceptor, error_code& ec);

/// Connects `socket` to the Unix domain socket at `endpoint`, opening it close-on-exec.
asio::awaitable<void> connect_locally(local_stream::socket& socket, const local_stream::endpoint& endpoint,
                                      error_code& ec);

/// Accepts the next connection on `acceptor` (TCP or local), close-on-exec.
template <class Acceptor>
asio::awaitable<typename Acceptor::protocol_type::socket> accept_from(Acceptor& acceptor, error_code& ec) {
  auto socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) close_on_exec(socket);
  co_return socket;
}

}  // namespace spindle::dist
