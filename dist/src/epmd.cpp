#include "spindle/dist/epmd.hpp"

#include <charconv>
#include <cstdlib>

#include "wire.hpp"

namespace spindle::dist::epmd {
namespace {

constexpr std::uint8_t kAlive2Req = 120;
constexpr std::uint8_t kAlive2XResp = 118;
constexpr std::uint8_t kAlive2Resp = 121;
constexpr std::uint8_t kPortPlease2Req = 122;
constexpr std::uint8_t kPort2Resp = 119;
constexpr std::uint8_t kNamesReq = 110;
constexpr std::uint8_t kDumpReq = 100;
constexpr std::uint8_t kKillReq = 107;
constexpr std::uint8_t kStopReq = 115;

// A request: 2-byte length, then the body `fill` writes (the length patched in after).
template <class Fill>
Bytes framed(Fill&& fill) {
  Bytes out;
  detail::WireWriter w(out);
  w.u16(0);
  fill(w);
  if (out.size() - 2 > 0xFFFF) throw EpmdError("EPMD request longer than 65535 bytes");
  w.patch16(0, static_cast<std::uint16_t>(out.size() - 2));
  return out;
}

void write_entry_fields(detail::WireWriter& w, const NodeEntry& e) {
  w.u16(e.port);
  w.u8(e.node_type);
  w.u8(e.protocol);
  w.u16(e.highest_version);
  w.u16(e.lowest_version);
  w.u16(static_cast<std::uint16_t>(e.name.size()));
  w.bytes(e.name);
  w.u16(static_cast<std::uint16_t>(e.extra.size()));
  w.bytes(e.extra);
}

NodeEntry read_entry_fields(detail::WireReader& r) {
  NodeEntry e;
  e.port = r.u16();
  e.node_type = r.u8();
  e.protocol = r.u8();
  e.highest_version = r.u16();
  e.lowest_version = r.u16();
  e.name = std::string(r.text(r.u16()));
  e.extra = std::string(r.text(r.u16()));
  return e;
}

template <class Parse>
auto guarded(const char* what, Parse&& parse) {
  try {
    return parse();
  } catch (const detail::WireError& e) {
    throw EpmdError(std::string("malformed ") + what + ": " + e.what());
  }
}

}  // namespace

std::uint16_t port_from_environment() {
  const char* value = std::getenv("ERL_EPMD_PORT");
  if (value == nullptr) return kDefaultPort;
  unsigned port = 0;
  const std::string_view text(value);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) return kDefaultPort;
  return static_cast<std::uint16_t>(port);
}

Bytes alive2_request(const NodeEntry& entry) {
  return framed([&](detail::WireWriter& w) {
    w.u8(kAlive2Req);
    write_entry_fields(w, entry);
  });
}

Bytes port_please2_request(std::string_view name) {
  return framed([&](detail::WireWriter& w) {
    w.u8(kPortPlease2Req);
    w.bytes(name);
  });
}

Bytes names_request() {
  return framed([](detail::WireWriter& w) { w.u8(kNamesReq); });
}

Alive2Response parse_alive2_response(std::span<const std::uint8_t> bytes) {
  return guarded("ALIVE2 response", [&] {
    detail::WireReader r(bytes, "ALIVE2 response");
    const std::uint8_t tag = r.u8();
    Alive2Response response;
    response.result = r.u8();
    if (tag == kAlive2XResp) {
      response.creation = r.u32();
    } else if (tag == kAlive2Resp) {
      response.creation = r.u16();
    } else {
      throw EpmdError("EPMD answered ALIVE2 with message " + std::to_string(tag));
    }
    r.expect_end();
    return response;
  });
}

std::optional<NodeEntry> parse_port2_response(std::span<const std::uint8_t> bytes) {
  return guarded("PORT2 response", [&]() -> std::optional<NodeEntry> {
    detail::WireReader r(bytes, "PORT2 response");
    if (r.u8() != kPort2Resp) throw EpmdError("EPMD answered PORT_PLEASE2 with another message");
    if (r.u8() != 0) return std::nullopt;
    NodeEntry e = read_entry_fields(r);
    r.expect_end();
    return e;
  });
}

std::vector<std::pair<std::string, std::uint16_t>> parse_names_response(std::span<const std::uint8_t> bytes) {
  return guarded("NAMES response", [&] {
    detail::WireReader r(bytes, "NAMES response");
    r.u32();  // EPMD's own port
    const std::string_view text = r.rest_as_text();
    std::vector<std::pair<std::string, std::uint16_t>> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      std::size_t eol = text.find('\n', pos);
      if (eol == std::string_view::npos) eol = text.size();
      const std::string_view line = text.substr(pos, eol - pos);
      pos = eol + 1;
      // "name NAME at port PORT"
      constexpr std::string_view prefix = "name ";
      const std::size_t at = line.rfind(" at port ");
      if (!line.starts_with(prefix) || at == std::string_view::npos || at < prefix.size()) continue;
      unsigned port = 0;
      const std::string_view digits = line.substr(at + 9);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
      if (ec != std::errc() || port > 65535) continue;
      out.emplace_back(std::string(line.substr(prefix.size(), at - prefix.size())), static_cast<std::uint16_t>(port));
    }
    return out;
  });
}

Request parse_request(std::span<const std::uint8_t> body) {
  return guarded("EPMD request", [&] {
    detail::WireReader r(body, "EPMD request");
    Request request{};
    switch (r.u8()) {
      case kAlive2Req:
        request.kind = Request::Kind::alive2;
        request.entry = read_entry_fields(r);
        r.expect_end();
        if (request.entry.name.empty()) throw EpmdError("ALIVE2 request with an empty name");
        break;
      case kPortPlease2Req:
        request.kind = Request::Kind::port_please2;
        request.name = std::string(r.rest_as_text());
        break;
      case kNamesReq:
        request.kind = Request::Kind::names;
        break;
      case kDumpReq:
        request.kind = Request::Kind::dump;
        break;
      case kKillReq:
        request.kind = Request::Kind::kill;
        break;
      case kStopReq:
        request.kind = Request::Kind::stop;
        request.name = std::string(r.rest_as_text());
        break;
      default:
        throw EpmdError("unknown EPMD request " + std::to_string(body[0]));
    }
    return request;
  });
}

Bytes alive2_response(std::uint8_t result, std::uint32_t creation) {
  Bytes out;
  detail::WireWriter w(out);
  w.u8(kAlive2XResp);
  w.u8(result);
  w.u32(creation);
  return out;
}

Bytes port2_response(const NodeEntry* entry) {
  Bytes out;
  detail::WireWriter w(out);
  w.u8(kPort2Resp);
  if (entry == nullptr) {
    w.u8(1);
    return out;
  }
  w.u8(0);
  write_entry_fields(w, *entry);
  return out;
}

Bytes names_response(std::uint16_t epmd_port, std::span<const NodeEntry> nodes) {
  Bytes out;
  detail::WireWriter w(out);
  w.u32(epmd_port);
  for (const NodeEntry& e : nodes) w.bytes("name " + e.name + " at port " + std::to_string(e.port) + "\n");
  return out;
}

}  // namespace spindle::dist::epmd
