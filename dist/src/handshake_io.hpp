#pragma once
// Runs a Handshake over a socket: its packets carry a 2-byte length, and the whole
// exchange must finish within a deadline (a peer that goes quiet mid-handshake loses
// the connection instead of holding it).

#include <chrono>

#include "asio.hpp"
#include "spindle/dist/handshake.hpp"

namespace spindle::dist {

/// Drives `handshake` to its end. Throws HandshakeError for a refused or malformed
/// handshake (after sending the refusal), std::runtime_error for a timeout or I/O error.
asio::awaitable<void> run_handshake(tcp::socket& socket, Handshake& handshake, std::chrono::milliseconds timeout);

}  // namespace spindle::dist
