// Fuzz target: the EPMD message parsers (spindle/dist/epmd.hpp).
//
// Input: one byte choosing the parser (its value mod 4: a request as the embedded EPMD
// reads it, without its 2-byte length; the ALIVE2 response; the PORT2 response; the
// NAMES response), then the message. An EpmdError is a rejected message. What parses
// must be written again by the matching writer and parse back the same.

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "spindle/dist/epmd.hpp"

namespace {

using namespace spindle::dist;
using epmd::Bytes;
using epmd::NodeEntry;

bool same(const NodeEntry& a, const NodeEntry& b) {
  return a.name == b.name && a.port == b.port && a.node_type == b.node_type && a.protocol == b.protocol &&
         a.highest_version == b.highest_version && a.lowest_version == b.lowest_version && a.extra == b.extra;
}

// A request as written, without its 2-byte length (which must be right).
std::span<const std::uint8_t> body(const Bytes& request) {
  SPINDLE_FUZZ_CHECK(request.size() >= 2 && ((std::size_t{request[0]} << 8) | request[1]) == request.size() - 2);
  return std::span<const std::uint8_t>(request).subspan(2);
}

void request(std::span<const std::uint8_t> message) {
  using Kind = epmd::Request::Kind;
  const epmd::Request r = epmd::parse_request(message);
  switch (r.kind) {
    case Kind::alive2: {
      if (r.entry.name.size() + r.entry.extra.size() > 0xFFFF - 13) return;  // too long for one request
      const epmd::Request again = epmd::parse_request(body(epmd::alive2_request(r.entry)));
      SPINDLE_FUZZ_CHECK(again.kind == Kind::alive2 && same(again.entry, r.entry));
      return;
    }
    case Kind::port_please2: {
      const epmd::Request again = epmd::parse_request(body(epmd::port_please2_request(r.name)));
      SPINDLE_FUZZ_CHECK(again.kind == Kind::port_please2 && again.name == r.name);
      return;
    }
    case Kind::names:
      SPINDLE_FUZZ_CHECK(epmd::parse_request(body(epmd::names_request())).kind == Kind::names);
      return;
    case Kind::dump:
    case Kind::kill:
    case Kind::stop:
      return;
  }
}

void alive2_response(std::span<const std::uint8_t> message) {
  const epmd::Alive2Response r = epmd::parse_alive2_response(message);
  const epmd::Alive2Response again = epmd::parse_alive2_response(epmd::alive2_response(r.result, r.creation));
  SPINDLE_FUZZ_CHECK(again.result == r.result && again.creation == r.creation);
}

void port2_response(std::span<const std::uint8_t> message) {
  const auto entry = epmd::parse_port2_response(message);
  const auto again = epmd::parse_port2_response(epmd::port2_response(entry ? &*entry : nullptr));
  SPINDLE_FUZZ_CHECK(again.has_value() == entry.has_value());
  SPINDLE_FUZZ_CHECK(!entry || same(*again, *entry));
}

void names_response(std::span<const std::uint8_t> message) {
  const auto names = epmd::parse_names_response(message);
  std::vector<NodeEntry> nodes;
  for (const auto& [name, port] : names) nodes.push_back({.name = name, .port = port});
  SPINDLE_FUZZ_CHECK(epmd::parse_names_response(epmd::names_response(4369, nodes)) == names);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> message(data + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: request(message); break;
      case 1: alive2_response(message); break;
      case 2: port2_response(message); break;
      case 3: names_response(message); break;
    }
  } catch (const epmd::EpmdError&) {
  }
  return 0;
}
