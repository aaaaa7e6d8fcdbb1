#pragma once
// Sockets that stay in this process. Asio opens them without FD_CLOEXEC, so a child
// process the application starts (fork and exec) would inherit every connection, the
// listener and the EPMD registration, and hold them open after we close them: EPMD
// would keep our name registered, and peers would not see us go. Every socket the
// distribution opens or accepts goes through here.

#include <string>

#include "asio.hpp"

namespace spindle::dist {

/// "ADDRESS:PORT" of the other end of `socket` ("?" when it is gone), for the log.
std::string peer_address(const tcp::socket& socket);

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

/// Accepts the next connection on `acceptor`, close-on-exec.
asio::awaitable<tcp::socket> accept_from(tcp::acceptor& acceptor, error_code& ec);

}  // namespace spindle::dist
