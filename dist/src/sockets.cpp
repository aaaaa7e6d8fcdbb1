#include "sockets.hpp"

#include <fcntl.h>

namespace spindle::dist {

void close_on_exec(int native_handle) noexcept {
  const int flags = ::fcntl(native_handle, F_GETFD);
  if (flags >= 0) ::fcntl(native_handle, F_SETFD, flags | FD_CLOEXEC);
}

void listen_on(tcp::acceptor& acceptor, const tcp::endpoint& endpoint, error_code& ec) {
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return;
  close_on_exec(acceptor);
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
}

asio::awaitable<void> connect_to(tcp::socket& socket, const tcp::resolver::results_type& endpoints, error_code& ec) {
  ec = asio::error::host_not_found;
  for (const auto& entry : endpoints) {
    error_code ignored;
    socket.close(ignored);
    socket.open(entry.endpoint().protocol(), ec);
    if (ec) continue;
    close_on_exec(socket);
    co_await socket.async_connect(entry.endpoint(), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec || ec == asio::error::operation_aborted) co_return;  // connected, or cancelled (a deadline)
  }
}

void listen_locally(local_stream::acceptor& acceptor, error_code& ec) {
  acceptor.open(local_stream(), ec);
  if (ec) return;
  close_on_exec(acceptor);
  // An endpoint with an empty path is only the address family: bind() then autobinds.
  acceptor.bind(local_stream::endpoint(), ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
}

asio::awaitable<void> connect_locally(local_stream::socket& socket, const local_stream::endpoint& endpoint,
                                      error_code& ec) {
  socket.open(local_stream(), ec);
  if (ec) co_return;
  close_on_exec(socket);
  co_await socket.async_connect(endpoint, asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace spindle::dist
