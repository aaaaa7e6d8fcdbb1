#include "spindle/dist/handshake.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "spindle/dist/flags.hpp"
#include "wire.hpp"

namespace spindle::dist {
namespace {

std::uint32_t random_challenge() {
  std::uint32_t value = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&value), sizeof value) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: no challenge for the handshake");
  return value;
}

std::string status_text(HandshakeStatus status) {
  switch (status) {
    case HandshakeStatus::ok: return "ok";
    case HandshakeStatus::ok_simultaneous: return "ok_simultaneous";
    case HandshakeStatus::nok: return "nok";
    case HandshakeStatus::not_allowed: return "not_allowed";
    case HandshakeStatus::alive: return "alive";
  }
  return "not_allowed";
}

Packet status_packet(std::string_view text) {
  Packet p;
  detail::WireWriter w(p);
  w.u8('s');
  w.bytes(text);
  return p;
}

[[noreturn]] void malformed(const std::string& what) { throw HandshakeError(HandshakeError::Reason::malformed, what); }

}  // namespace

bool valid_node_name(std::string_view name) noexcept {
  const std::size_t at = name.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < name.size() && name.find('@', at + 1) == std::string_view::npos;
}

std::array<std::uint8_t, 16> Handshake::digest(std::uint32_t challenge, const std::string& cookie) {
  const std::string text = cookie + std::to_string(challenge);
  std::array<std::uint8_t, 16> out{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), out.data(), &length, EVP_md5(), nullptr) != 1 || length != 16)
    throw std::runtime_error("OpenSSL MD5 failed");
  return out;
}

Handshake::Handshake(HandshakeConfig config, ChallengeSource challenges)
    : config_(std::move(config)), challenges_(challenges ? std::move(challenges) : ChallengeSource(random_challenge)) {}

Handshake Handshake::initiate(HandshakeConfig config, std::string expected_peer, ChallengeSource challenges) {
  Handshake h(std::move(config), std::move(challenges));
  h.initiator_ = true;
  h.expected_peer_ = std::move(expected_peer);
  return h;
}

Handshake Handshake::accept(HandshakeConfig config, Decide decide, ChallengeSource challenges) {
  Handshake h(std::move(config), std::move(challenges));
  h.decide_ = std::move(decide);
  h.state_ = State::await_name;
  return h;
}

Packet Handshake::name_packet() const {
  Packet p;
  detail::WireWriter w(p);
  w.u8('N');
  w.u64(config_.flags);
  w.u32(config_.creation);
  w.u16(static_cast<std::uint16_t>(config_.name.size()));
  w.bytes(config_.name);
  return p;
}

Packet Handshake::challenge_packet() {
  our_challenge_ = challenges_();
  Packet p;
  detail::WireWriter w(p);
  w.u8('N');
  w.u64(config_.flags);
  w.u32(our_challenge_);
  w.u32(config_.creation);
  w.u16(static_cast<std::uint16_t>(config_.name.size()));
  w.bytes(config_.name);
  return p;
}

std::vector<Packet> Handshake::start() {
  if (state_ != State::initial) return {};
  state_ = State::await_status;
  return {name_packet()};
}

std::vector<Packet> Handshake::receive(std::span<const std::uint8_t> packet) {
  try {
    return dispatch(packet);
  } catch (const detail::WireError& e) {
    malformed(std::string("malformed handshake message: ") + e.what());
  }
}

std::vector<Packet> Handshake::dispatch(std::span<const std::uint8_t> packet) {
  if (packet.empty()) malformed("empty handshake packet");
  switch (state_) {
    case State::await_status: return on_status(packet);
    case State::await_challenge: return on_challenge(packet);
    case State::await_ack: return on_ack(packet);
    case State::await_name: return on_name(packet);
    case State::await_alive_reply: return on_alive_reply(packet);
    case State::await_complement: return on_complement(packet);
    case State::await_reply: return on_reply(packet);
    case State::initial:
    case State::done:
    case State::refused: break;
  }
  malformed("handshake packet after the handshake ended");
}

void Handshake::check_peer_flags() {
  // OTP 25 accepts DFLAG_MANDATORY_25_DIGEST as shorthand for the whole mandatory set.
  if (peer_.flags & flags::mandatory_25_digest) peer_.flags |= flags::mandatory_25;
  const std::uint64_t missing = flags::mandatory_25 & ~peer_.flags;
  if (missing != 0) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(missing));
    throw HandshakeError(HandshakeError::Reason::missing_flags,
                         "node " + peer_.name + " lacks mandatory distribution flags " + hex);
  }
}

void Handshake::check_digest(std::span<const std::uint8_t> got, std::uint32_t challenge, const char* what) const {
  const auto expected = digest(challenge, config_.cookie);
  if (got.size() != expected.size() || CRYPTO_memcmp(got.data(), expected.data(), expected.size()) != 0)
    throw HandshakeError(HandshakeError::Reason::bad_cookie,
                         std::string(what) + " from node " + peer_.name + " has a wrong digest (different cookie)");
}

// ----- initiator -----

std::vector<Packet> Handshake::on_status(std::span<const std::uint8_t> p) {
  detail::WireReader r(p, "status");
  if (r.u8() != 's') malformed("expected a status message ('s')");
  const std::string status(r.rest_as_text());
  if (status == "ok" || status == "ok_simultaneous") {
    state_ = State::await_challenge;
    return {};
  }
  if (status == "alive") {
    // We only connect when we have no connection to this node: any old one is stale.
    replaces_existing_ = true;
    state_ = State::await_challenge;
    return {status_packet("true")};
  }
  if (status == "nok")
    throw HandshakeError(HandshakeError::Reason::lost_race,
                         "the node is connecting to us at the same time, and its attempt goes on (nok)");
  if (status == "not_allowed")
    throw HandshakeError(HandshakeError::Reason::refused, "node refused the connection: not_allowed");
  malformed("unknown handshake status \"" + status.substr(0, 40) + "\"");
}

std::vector<Packet> Handshake::on_challenge(std::span<const std::uint8_t> p) {
  detail::WireReader r(p, "challenge");
  if (r.u8() != 'N') malformed("expected a version 6 challenge ('N')");
  peer_.flags = r.u64();
  const std::uint32_t their_challenge = r.u32();
  peer_.creation = r.u32();
  const std::uint16_t length = r.u16();
  peer_.name = std::string(r.text(length));  // anything after the name is ignored
  if (!valid_node_name(peer_.name)) throw HandshakeError(HandshakeError::Reason::bad_name, "bad node name " + peer_.name);
  if (!expected_peer_.empty() && peer_.name != expected_peer_)
    throw HandshakeError(HandshakeError::Reason::bad_name, "connected to " + peer_.name + ", wanted " + expected_peer_);
  check_peer_flags();
  our_challenge_ = challenges_();
  Packet reply;
  detail::WireWriter w(reply);
  w.u8('r');
  w.u32(our_challenge_);
  const auto d = digest(their_challenge, config_.cookie);
  w.bytes(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  state_ = State::await_ack;
  return {reply};
}

std::vector<Packet> Handshake::on_ack(std::span<const std::uint8_t> p) {
  detail::WireReader r(p, "challenge ack");
  if (r.u8() != 'a') malformed("expected a challenge ack ('a')");
  check_digest(r.bytes(16), our_challenge_, "challenge ack");
  r.expect_end();
  state_ = State::done;
  return {};
}

// ----- acceptor -----

std::vector<Packet> Handshake::on_name(std::span<const std::uint8_t> p) {
  detail::WireReader r(p, "name");
  const std::uint8_t tag = r.u8();
  if (tag == 'N') {
    peer_.flags = r.u64();
    peer_.creation = r.u32();
    const std::uint16_t length = r.u16();
    peer_.name = std::string(r.text(length));
  } else if (tag == 'n') {
    // Version 5 form: 16-bit version, 32-bit flags, then the name. An OTP 23/24 node
    // that speaks version 6 says so in its flags and sends the rest in a complement.
    r.u16();
    peer_.flags = r.u32();
    peer_.name = std::string(r.rest_as_text());
    complement_follows_ = (peer_.flags & flags::handshake_23) != 0;
  } else {
    malformed("expected a name message ('N' or 'n')");
  }
  if (!valid_node_name(peer_.name)) throw HandshakeError(HandshakeError::Reason::bad_name, "bad node name " + peer_.name);
  if (!complement_follows_) check_peer_flags();

  const HandshakeStatus status = decide_ ? decide_(peer_) : HandshakeStatus::ok;
  std::vector<Packet> out{status_packet(status_text(status))};
  switch (status) {
    case HandshakeStatus::ok:
    case HandshakeStatus::ok_simultaneous:
      break;
    case HandshakeStatus::alive:
      state_ = State::await_alive_reply;
      return out;
    case HandshakeStatus::nok:
    case HandshakeStatus::not_allowed:
      // The status goes out, then the connection closes.
      refusal_.emplace(status == HandshakeStatus::nok ? HandshakeError::Reason::lost_race : HandshakeError::Reason::refused,
                       "refused node " + peer_.name + ": " + status_text(status));
      state_ = State::refused;
      return out;
  }
  for (Packet& next : after_status()) out.push_back(std::move(next));
  return out;
}

// After our status (ok, or alive confirmed by the peer): a version 5 peer that announced
// version 6 sends its complement first; otherwise our challenge goes out now.
std::vector<Packet> Handshake::after_status() {
  if (complement_follows_) {
    state_ = State::await_complement;
    return {};
  }
  state_ = State::await_reply;
  return {challenge_packet()};
}

std::vector<Packet> Handshake::on_alive_reply(std::span<const std::uint8_t> p) {
  detail::WireReader r(p, "status reply");
  if (r.u8() != 's') malformed("expected a status reply ('s')");
  const std::string reply(r.rest_as_text());
  if (reply == "false")
    throw HandshakeError(HandshakeError::Reason::refused, "node " + peer_.name + " kept its existing connection");
  if (reply != "true") malformed("expected status true or false, got \"" + reply.substr(0, 40) + "\"");
  replaces_existing_ = true;
  return after_status();
}

std::vector<Packet> Handshake::on_complement(std::span<const std::uint8_t> p) {
  detail::WireReader r(p, "complement");
  if (r.u8() != 'c') malformed("expected a complement message ('c')");
  peer_.flags |= std::uint64_t{r.u32()} << 32;
  peer_.creation = r.u32();
  check_peer_flags();
  state_ = State::await_reply;
  return {challenge_packet()};
}

std::vector<Packet> Handshake::on_reply(std::span<const std::uint8_t> p) {
  detail::WireReader r(p, "challenge reply");
  if (r.u8() != 'r') malformed("expected a challenge reply ('r')");
  const std::uint32_t their_challenge = r.u32();
  check_digest(r.bytes(16), our_challenge_, "challenge reply");
  r.expect_end();
  Packet ack;
  detail::WireWriter w(ack);
  w.u8('a');
  const auto d = digest(their_challenge, config_.cookie);
  w.bytes(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  state_ = State::done;
  return {ack};
}

}  // namespace spindle::dist
