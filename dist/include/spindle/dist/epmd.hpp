#pragma once
/// @file
/// The EPMD protocol (erl_dist_protocol, "EPMD Protocol"): requests and responses as
/// bytes, for the client and for Spindle's embedded EPMD. No I/O here.

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace spindle::dist::epmd {

inline constexpr std::uint16_t kDefaultPort = 4369;

/// ERL_EPMD_PORT when it holds a valid port, else 4369.
std::uint16_t port_from_environment();

/// A node as EPMD knows it (ALIVE2_REQ and PORT2_RESP carry the same fields).
struct NodeEntry {
  std::string name;                ///< the part of the node name before '@'
  std::uint16_t port = 0;          ///< the node's distribution listen port
  std::uint8_t node_type = 72;     ///< 77 visible node, 72 hidden node
  std::uint8_t protocol = 0;       ///< 0: TCP/IPv4
  std::uint16_t highest_version = 6;
  std::uint16_t lowest_version = 6;
  std::string extra;
};

/// A malformed EPMD message.
class EpmdError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Bytes = std::vector<std::uint8_t>;

// ----- client side: requests carry their 2-byte length prefix -----

Bytes alive2_request(const NodeEntry& entry);
Bytes port_please2_request(std::string_view name);
Bytes names_request();

struct Alive2Response {
  std::uint8_t result = 0;  ///< 0: registered
  std::uint32_t creation = 0;
};
/// ALIVE2_X_RESP (32-bit creation) or ALIVE2_RESP (16-bit). Exactly one response.
Alive2Response parse_alive2_response(std::span<const std::uint8_t> bytes);
/// PORT2_RESP: the node, or nothing when EPMD does not know it.
std::optional<NodeEntry> parse_port2_response(std::span<const std::uint8_t> bytes);
/// NAMES_RESP: (name, port) of each registered node.
std::vector<std::pair<std::string, std::uint16_t>> parse_names_response(std::span<const std::uint8_t> bytes);

// ----- server side -----

struct Request {
  enum class Kind { alive2, port_please2, names, dump, kill, stop } kind;
  NodeEntry entry;   ///< alive2
  std::string name;  ///< port_please2, stop
};
/// A request without its 2-byte length prefix.
Request parse_request(std::span<const std::uint8_t> body);

Bytes alive2_response(std::uint8_t result, std::uint32_t creation);
/// PORT2_RESP for `entry`, or the error form when null.
Bytes port2_response(const NodeEntry* entry);
/// NAMES_RESP: the EPMD port, then "name N at port P\n" per node.
Bytes names_response(std::uint16_t epmd_port, std::span<const NodeEntry> nodes);

}  // namespace spindle::dist::epmd
