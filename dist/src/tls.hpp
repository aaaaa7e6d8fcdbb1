#pragma once
// The TLS set-up of a node: one OpenSSL context, for the connections it makes and those
// it accepts alike, from the PEM files of TlsOptions.

#include <memory>

#include "asio.hpp"
#include "spindle/dist/distribution.hpp"

namespace spindle::dist {

/// TLS 1.2 or later, this node's certificate and key, the authorities it trusts and,
/// with `verify`, peer verification (a server then requires a client certificate).
/// Throws std::runtime_error naming the file and OpenSSL's reason when one cannot be used.
std::unique_ptr<ssl::context> make_tls_context(const TlsOptions& options);

}  // namespace spindle::dist
