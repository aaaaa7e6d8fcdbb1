#pragma once
// Spindle's embedded EPMD: when no EPMD answers on the node's host, the node serves the
// EPMD protocol itself, to Spindle nodes and to real BEAM nodes (erl, iex) alike, the way
// OTP's epmd does (erts/epmd/src/epmd_srv.c):
//
//   ALIVE2_REQ        registers a node for as long as its connection stays open; answers
//                     ALIVE2_X_RESP with a fresh 32-bit creation, or a non-zero result when
//                     the name is taken or invalid. Accepted from local peers only. Always the
//                     32-bit form (epmd answers nodes older than OTP 23 with the 16-bit
//                     ALIVE2_RESP): OTP 25 and Spindle require OTP 23's handshake anyway.
//                     Bytes a registered node sends afterwards are ignored.
//   PORT_PLEASE2_REQ  answers PORT2_RESP and closes.
//   NAMES_REQ         answers NAMES_RESP ("name N at port P\n" per node) and closes.
//   DUMP_REQ          answers as epmd does (local peers only) and closes.
//   KILL_REQ          answers "NO" and closes: an embedded EPMD lives and dies with its node.
//   STOP_REQ          closes without an answer, as epmd does without -relaxed_command_check.
//
// A client that sends garbage, a truncated or oversized request, or nothing within
// EpmdServerOptions::request_timeout loses its own connection (logged at warn); every other
// client and registration carries on.
//
// Threads: the server lives on its io_context, run by one thread. Call start() from anywhere;
// call close() and destroy the server on that thread, or once the io_context has stopped.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "asio.hpp"

namespace spindle::dist {

struct EpmdServerOptions {
  /// A client that has not registered must send its request and take the answer within this.
  std::chrono::milliseconds request_timeout{10000};
  /// Connections open at once, registered nodes included; beyond it new ones are closed at once.
  std::size_t max_connections = 1024;
};

class EpmdServer {
 public:
  /// Binds `endpoint` and listens. Throws std::system_error when it cannot (the port is taken:
  /// std::errc::address_in_use; then another EPMD is probably there and the node is its client).
  EpmdServer(asio::io_context& io, const tcp::endpoint& endpoint, EpmdServerOptions options = {});
  EpmdServer(const EpmdServer&) = delete;
  EpmdServer& operator=(const EpmdServer&) = delete;
  ~EpmdServer();  // close()

  /// Begins accepting clients. Once only.
  void start();
  /// The port it listens on (the one the OS chose when the endpoint's port was 0).
  std::uint16_t port() const noexcept;
  /// Stops accepting and closes every client connection, which unregisters every node. Idempotent.
  void close() noexcept;

  struct State;  // shared with the coroutines serving clients, which may outlive this object

 private:
  std::shared_ptr<State> state_;
};

}  // namespace spindle::dist
