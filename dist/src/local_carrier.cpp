#include "local_carrier.hpp"

#include <sys/un.h>

#include <cstdint>

namespace spindle::dist::local_carrier {
namespace {

// The protocol's version is in the prefix: "2" says that right after the handshake both
// sides exchange shared-memory ring offers (ring_carrier.hpp). A node of the first
// version (plain "spindle-local:", no offers) and one of this version do not recognise
// each other's advertisement, so they meet over TCP rather than misread each other.
constexpr std::string_view kPrefix = "spindle-local2:";
constexpr std::string_view kHexDigits = "0123456789abcdef";
// sun_path without the NUL that marks the abstract namespace.
constexpr std::size_t kLongestName = sizeof(sockaddr_un::sun_path) - 1;

int hex_value(char c) {
  const std::size_t at = kHexDigits.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

// The name is hex-encoded: abstract names are bytes, and EPMD's Extra is best kept text.
std::string advertise(const local_stream::endpoint& endpoint) {
  const std::string path = endpoint.path();  // a NUL, then the name
  std::string extra(kPrefix);
  for (std::size_t i = 1; i < path.size(); ++i) {
    const auto byte = static_cast<std::uint8_t>(path[i]);
    extra += kHexDigits[byte >> 4];
    extra += kHexDigits[byte & 15];
  }
  return extra;
}

std::optional<local_stream::endpoint> advertised(std::string_view extra) {
  if (!extra.starts_with(kPrefix)) return std::nullopt;
  const std::string_view hex = extra.substr(kPrefix.size());
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() / 2 > kLongestName) return std::nullopt;
  std::string path(1, '\0');
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int high = hex_value(hex[i]);
    const int low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    path += static_cast<char>(high << 4 | low);
  }
  return local_stream::endpoint(path);
}

bool on_this_machine(const tcp::resolver::results_type& addresses, std::string_view host, std::string_view own_host) {
  if (host == own_host) return true;
  for (const auto& entry : addresses)
    if (entry.endpoint().address().is_loopback()) return true;
  return false;
}

}  // namespace spindle::dist::local_carrier
