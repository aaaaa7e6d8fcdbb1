#include <gtest/gtest.h>

#include <cstdlib>

#include "spindle/dist/epmd.hpp"

namespace spindle::dist::epmd {
namespace {

std::span<const std::uint8_t> body(const Bytes& request) { return std::span(request).subspan(2); }

TEST(Epmd, Alive2RequestRoundTrips) {
  const NodeEntry entry{"spin", 40123, 72, 0, 6, 5, "x"};
  const Bytes request = alive2_request(entry);
  EXPECT_EQ((request[0] << 8) | request[1], static_cast<int>(request.size() - 2));
  EXPECT_EQ(request[2], 120);
  const Request parsed = parse_request(body(request));
  EXPECT_EQ(parsed.kind, Request::Kind::alive2);
  EXPECT_EQ(parsed.entry.name, "spin");
  EXPECT_EQ(parsed.entry.port, 40123);
  EXPECT_EQ(parsed.entry.node_type, 72);
  EXPECT_EQ(parsed.entry.lowest_version, 5);
  EXPECT_EQ(parsed.entry.extra, "x");
}

TEST(Epmd, Alive2ResponsesOldAndNew) {
  const Alive2Response x = parse_alive2_response(alive2_response(0, 0xDEADBEEF));
  EXPECT_EQ(x.result, 0);
  EXPECT_EQ(x.creation, 0xDEADBEEFu);
  const Bytes old = {121, 0, 0x12, 0x34};
  EXPECT_EQ(parse_alive2_response(old).creation, 0x1234u);
  EXPECT_THROW(parse_alive2_response(Bytes{118, 0, 1}), EpmdError);
  EXPECT_THROW(parse_alive2_response(Bytes{99, 0}), EpmdError);
}

TEST(Epmd, PortPleaseAndItsAnswers) {
  const Request parsed = parse_request(body(port_please2_request("erl")));
  EXPECT_EQ(parsed.kind, Request::Kind::port_please2);
  EXPECT_EQ(parsed.name, "erl");
  const NodeEntry entry{"erl", 40000, 77, 0, 6, 5, ""};
  const auto found = parse_port2_response(port2_response(&entry));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->port, 40000);
  EXPECT_EQ(found->node_type, 77);
  EXPECT_FALSE(parse_port2_response(port2_response(nullptr)).has_value());
  EXPECT_THROW(parse_port2_response(Bytes{119, 0, 1}), EpmdError);
}

TEST(Epmd, NamesAsEpmdWritesThem) {
  const NodeEntry nodes[] = {{"a", 1000, 77, 0, 6, 5, ""}, {"b_2", 65535, 72, 0, 6, 6, ""}};
  const auto names = parse_names_response(names_response(4369, nodes));
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], (std::pair<std::string, std::uint16_t>{"a", 1000}));
  EXPECT_EQ(names[1], (std::pair<std::string, std::uint16_t>{"b_2", 65535}));
  EXPECT_EQ(parse_request(body(names_request())).kind, Request::Kind::names);
}

TEST(Epmd, MalformedRequestsAreErrors) {
  EXPECT_THROW(parse_request(Bytes{}), EpmdError);
  EXPECT_THROW(parse_request(Bytes{200}), EpmdError);
  EXPECT_THROW(parse_request(Bytes{120, 0}), EpmdError);  // truncated ALIVE2
  Bytes empty_name = alive2_request({"", 1, 77, 0, 6, 5, ""});
  EXPECT_THROW(parse_request(body(empty_name)), EpmdError);
  const Bytes full = alive2_request({"node", 1, 77, 0, 6, 5, "extra"});
  for (std::size_t n = 3; n < full.size(); ++n) {
    const Bytes prefix(full.begin() + 2, full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(parse_request(prefix), EpmdError) << n;
  }
}

TEST(Epmd, PortFromEnvironment) {
  ::unsetenv("ERL_EPMD_PORT");
  EXPECT_EQ(port_from_environment(), 4369);
  ::setenv("ERL_EPMD_PORT", "4400", 1);
  EXPECT_EQ(port_from_environment(), 4400);
  ::setenv("ERL_EPMD_PORT", "junk", 1);
  EXPECT_EQ(port_from_environment(), 4369);
  ::setenv("ERL_EPMD_PORT", "70000", 1);
  EXPECT_EQ(port_from_environment(), 4369);
  ::unsetenv("ERL_EPMD_PORT");
}

}  // namespace
}  // namespace spindle::dist::epmd
