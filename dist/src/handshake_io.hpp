#pragma once
// Runs a Handshake over a socket: its packets carry a 2-byte length, and the whole
// exchange must finish within a deadline (a peer that goes quiet mid-handshake loses
// the connection instead of holding it).

#include <chrono>

#include <string>

#include "asio.hpp"
#include "transport.hpp"
#include "spindle/dist/handshake.hpp"

namespace spindle::dist {

/// Drives `handshake` to its end over `transport`, starting TLS first when it is a TLS
/// transport (as the client when `handshake` initiates, checking the certificate names
/// `host`). Throws HandshakeError for a refused or malformed handshake (after sending
/// the refusal), std::runtime_error for a TLS failure, a timeout or an I/O error.
asio::awaitable<void> run_handshake(Transport& transport, Handshake& handshake, std::chrono::milliseconds timeout,
                                    const std::string& host = {});

}  // namespace spindle::dist
