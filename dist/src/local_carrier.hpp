#pragma once
// The local carrier. Two Spindle nodes on one machine need not talk through TCP over
// loopback: a Unix domain socket carries the same handshake and frames with about half
// the kernel's work per byte (no TCP segments, checksums or ACKs), which is what bounds
// bulk transfers between nodes; and after the handshake the two normally move their
// frames through shared-memory rings instead (ring_carrier.hpp). Each node listens on one, in Linux's abstract namespace,
// and advertises its name in the Extra field of its EPMD registration, which EPMD keeps
// and returns in PORT2_RESP and OTP's nodes ignore. A Spindle node that finds such an
// Extra, for a node whose host is this machine, connects there first, and over TCP when
// that fails (the advertising node is in another network namespace, say). BEAM nodes see
// an ordinary node that listens on TCP.

#include <optional>
#include <string>
#include <string_view>

#include "asio.hpp"

namespace spindle::dist::local_carrier {

/// The Extra field that advertises `endpoint`, a name in the abstract namespace.
std::string advertise(const local_stream::endpoint& endpoint);

/// The endpoint an EPMD Extra field advertises; none for any other Extra (OTP registers
/// an empty one).
std::optional<local_stream::endpoint> advertised(std::string_view extra);

/// Whether a node on `host`, which resolved to `addresses`, runs on this machine as far
/// as the names tell: a loopback address, or the host of this node's own name.
bool on_this_machine(const tcp::resolver::results_type& addresses, std::string_view host, std::string_view own_host);

}  // namespace spindle::dist::local_carrier
